//! The progress bar of the commands that move rows (`fdi import`, `fdi
//! export`): on standard error, and only when that is a terminal, so a file
//! or pipe that stderr goes to never gets its escape codes.

use std::{io::IsTerminal, time::Duration};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar counting rows against `total`, or a spinner counting them when the total is not known.
///
/// # Errors
/// A malformed template (never, for these).
pub(crate) fn rows(total: Option<u64>) -> anyhow::Result<ProgressBar> {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let template = if total.is_some() {
        "{spinner} {elapsed_precise} [{wide_bar}] {human_pos}/{human_len} rows  {per_sec}  ETA {eta}  {msg}"
    } else {
        "{spinner} {elapsed_precise} {human_pos} rows  {per_sec}  {msg}"
    };
    let bar = ProgressBar::with_draw_target(total, target);
    bar.set_style(ProgressStyle::with_template(template)?.progress_chars("=> "));
    bar.enable_steady_tick(Duration::from_millis(200));
    Ok(bar)
}
