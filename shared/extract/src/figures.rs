//! Reading one figure in its sentence: what a project count counts (new,
//! adjusted, running total...), what an amount measures (new, added, total
//! or target capital) and whose money it is (foreign, domestic, all), from
//! the cue words around it and from its neighbours in the sentence.

use crate::counts::CountMention;
use crate::cues::{Cue, CueIndex};
use crate::money::MoneyMention;
use crate::text::fold;
use crate::{CountKind, Metric, Scope};
use regex::Regex;
use std::sync::LazyLock;

/// Clause delimiters: a cue rarely reaches across them to a figure.
static DELIMITERS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r",\s|;\s|:\s|\(|\)| and | và | og | und | sowie | while | whereas | mens | còn | – | - | but | men | aber | nhưng | cùng ",
    )
    .expect("delimiter regex")
});

pub(crate) fn clause_start(text: &str, lo: usize, pos: usize) -> usize {
    let Some(slice) = text.get(lo..pos) else {
        return lo;
    };
    DELIMITERS.find_iter(slice).last().map_or(lo, |m| lo + m.end()).min(pos)
}

/// The years (1900-2099) written in `text[start..end]`, with their offsets.
fn years_in(text: &str, start: usize, end: usize) -> Vec<(usize, u32)> {
    let bytes = text.as_bytes();
    let end = end.min(bytes.len());
    let mut years = Vec::new();
    let mut i = start;
    while i + 4 <= end {
        let w = &bytes[i..i + 4];
        let bounded =
            (i == 0 || !bytes[i - 1].is_ascii_digit()) && bytes.get(i + 4).is_none_or(|b| !b.is_ascii_digit());
        if bounded && w.iter().all(u8::is_ascii_digit) && (w[..2] == *b"19" || w[..2] == *b"20") {
            let year = w.iter().fold(0u32, |y, d| y * 10 + u32::from(d - b'0'));
            years.push((i, year));
            i += 4;
        } else {
            i += 1;
        }
    }
    years
}

/// The offset after the `n` words that follow `pos` in `text`.
fn words_after(text: &str, pos: usize, n: usize) -> usize {
    let Some(rest) = text.get(pos..) else {
        return pos;
    };
    let mut seen = 0;
    let mut in_word = false;
    for (i, ch) in rest.char_indices() {
        if ch.is_whitespace() {
            if in_word {
                seen += 1;
                if seen == n {
                    return pos + i;
                }
            }
            in_word = false;
        } else {
            in_word = true;
        }
    }
    text.len()
}

pub(crate) fn clause_end(text: &str, pos: usize, hi: usize) -> usize {
    let Some(slice) = text.get(pos..hi) else {
        return hi;
    };
    DELIMITERS.find(slice).map_or(hi, |m| pos + m.start())
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum FigureRef {
    Money(usize),
    Count(usize),
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Figure {
    pub start: usize,
    pub end: usize,
    pub phrase_end: usize,
    pub what: FigureRef,
}

/// What was decided about a figure, for inheritance by its neighbours.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reading {
    /// For money; counts map their kind onto new/added.
    pub metric: Option<Metric>,
    pub scope: Scope,
    pub scope_explicit: bool,
    /// A count of projects terminated, revoked or that cut their capital:
    /// the amount right after it is theirs, no statistic.
    pub withdrawn: bool,
}

pub(crate) fn kind_to_metric(kind: CountKind) -> Option<Metric> {
    match kind {
        CountKind::NewProjects => Some(Metric::NewCapital),
        CountKind::AdjustedProjects => Some(Metric::AddedCapital),
        _ => None,
    }
}

pub(crate) fn scope_of(cue: Cue) -> Scope {
    match cue {
        Cue::Foreign => Scope::Fdi,
        Cue::Domestic => Scope::Ddi,
        _ => Scope::All,
    }
}

pub(crate) const SCOPE_CUES: &[Cue] = &[Cue::Foreign, Cue::Domestic];

/// Everything about a sentence that the reading of its figures depends on.
pub(crate) struct SentenceContext<'a> {
    /// The whole article.
    pub text: &'a str,
    pub cues: &'a CueIndex,
    /// Money and count mentions of the sentence, in text order.
    pub figures: &'a [Figure],
    pub counts: &'a [CountMention],
    pub money: &'a [MoneyMention],
    /// Byte range of the sentence in `text`.
    pub start: usize,
    pub end: usize,
    /// The sentence reports running totals ("as of", "home to").
    pub stock: bool,
    /// The sentence pairs a USD amount with a VND amount.
    pub paired: bool,
    /// Scope when nothing else decides (see `analyse`).
    pub default_scope: Scope,
    /// The article pairs USD with foreign and VND with domestic investment
    /// (as Vietnamese park boards report): amounts with no scope of their
    /// own take their currency's.
    pub currency_scopes: bool,
    /// Unambiguous scope of the previous sentence in the same paragraph.
    pub inherited_sentence_scope: Option<Scope>,
    /// The sentence opens with "of which", "trong đó", "davon"...
    pub starts_with_subset: bool,
    /// (kind, scope, scope stated) of the previous sentence's counts.
    pub previous_counts: &'a [(CountKind, Scope, bool)],
}

/// Where a figure stands in its sentence.
#[derive(Clone, Copy)]
struct Frame {
    /// From the end of the previous figure's phrase (or the sentence start)...
    left_start: usize,
    /// ...to the start of the next figure (or the sentence end).
    right_end: usize,
    /// Start of the clause the figure stands in.
    l_seg_start: usize,
    /// End of that clause after the figure's phrase.
    r_seg_end: usize,
    /// Reading of the figure just before, if any.
    previous: Option<Reading>,
}

/// The kind of project count a cue word marks.
fn kind_of(cue: Cue) -> CountKind {
    match cue {
        Cue::New | Cue::Licensed | Cue::NewWeak => CountKind::NewProjects,
        Cue::Added => CountKind::AdjustedProjects,
        _ => CountKind::Other,
    }
}

impl SentenceContext<'_> {
    /// The stretch of the sentence around figure `fi` whose cues may
    /// describe it: up to the neighbouring figures, and within them the
    /// figure's own clause.
    fn frame(&self, fi: usize, readings: &[Reading]) -> Frame {
        let fig = self.figures[fi];
        let left_start = if fi == 0 {
            self.start
        } else {
            self.figures[fi - 1].phrase_end.min(fig.start)
        };
        let right_end = self.figures.get(fi + 1).map_or(self.end, |n| n.start);
        Frame {
            left_start,
            right_end,
            l_seg_start: clause_start(self.text, left_start, fig.start),
            r_seg_end: clause_end(self.text, fig.phrase_end, right_end.max(fig.phrase_end)),
            previous: if fi == 0 { None } else { readings.get(fi - 1).copied() },
        }
    }

    /// Kind and reading of count `ci`, figure `fi` of the sentence, given
    /// the readings (and count kinds) of the figures before it.
    pub fn read_count(
        &self,
        fi: usize,
        ci: usize,
        readings: &[Reading],
        count_kinds: &[CountKind],
    ) -> (CountKind, Reading) {
        let frame = self.frame(fi, readings);
        let c = &self.counts[ci];
        let previous_count = (0..fi)
            .rev()
            .find(|&j| matches!(self.figures[j].what, FigureRef::Count(_)))
            .and_then(|j| readings.get(j).map(|r| (j, *r)));
        let kind = self.count_kind(fi, c, &frame, previous_count, count_kinds);
        let (scope, explicit) = self.count_scope(c, &frame, previous_count);
        (
            kind,
            Reading {
                metric: kind_to_metric(kind),
                scope,
                scope_explicit: explicit,
                withdrawn: kind == CountKind::Other && self.withdrawn_count(c, &frame),
            },
        )
    }

    /// What count `c` counts, read as a clause frame: running totals in a
    /// stock sentence; "other" for withdrawn, per-country and contribution
    /// counts; else what its noun phrase says, then the verb class of its
    /// clause (after it, then before it); else the kind implied by the
    /// amount just before it, by the previous count, or, for a breakdown
    /// of an earlier count, by that count.
    fn count_kind(
        &self,
        fi: usize,
        c: &CountMention,
        frame: &Frame,
        previous_count: Option<(usize, Reading)>,
        count_kinds: &[CountKind],
    ) -> CountKind {
        if self.stock {
            return CountKind::TotalProjects;
        }
        if self.withdrawn_count(c, frame) || self.per_country_or_contribution(c, frame) {
            return CountKind::Other;
        }
        if let Some(kind) = self.noun_phrase_kind(c, frame).or_else(|| self.verb_kind(c, frame)) {
            return kind;
        }
        if let Some(kind) = self.kind_after_money(fi, frame.previous) {
            return kind;
        }
        if let Some((j, _)) = previous_count {
            return match self.figures[j].what {
                FigureRef::Count(pj) => count_kinds[pj],
                FigureRef::Money(_) => CountKind::Other,
            };
        }
        if c.elliptical || self.starts_with_subset {
            return self.previous_counts.last().map_or(CountKind::Other, |p| p.0);
        }
        CountKind::Other
    }

    /// Projects terminated, revoked or that cut their capital: the cue in
    /// the count's clause, or after it up to the clause of the next count
    /// ("12 projects, registered at $18 million, were terminated"; not
    /// "17 projects adjusted and 5 terminated").
    fn withdrawn_count(&self, c: &CountMention, frame: &Frame) -> bool {
        let predicate_end = self
            .counts
            .iter()
            .map(|n| n.start)
            .find(|&s| s > c.start)
            .map_or(self.end, |next| clause_start(self.text, c.end, next));
        self.cues.any(frame.l_seg_start, c.start, Cue::Withdrawn) || self.cues.any(c.end, predicate_end, Cue::Withdrawn)
    }

    fn per_country_or_contribution(&self, c: &CountMention, frame: &Frame) -> bool {
        let (l, r) = (frame.l_seg_start, frame.r_seg_end);
        self.cues.any(l, c.start, Cue::Country)
            || self.cues.any(c.end, r, Cue::Country)
            || self.cues.any(c.end, r, Cue::Contribution)
            || self.cues.any(l, c.start, Cue::Contribution)
    }

    /// The kind the count's own noun phrase states, with the few words
    /// right after its noun: "new" / "added" (both: a mixed batch),
    /// "existing" (projects that added capital), "in operation" (a
    /// running total).
    fn noun_phrase_kind(&self, c: &CountMention, frame: &Frame) -> Option<CountKind> {
        let near_end = words_after(self.text, c.phrase_end, 4).min(frame.r_seg_end.max(c.phrase_end));
        let np_new = self.cues.any(c.end, c.phrase_end, Cue::New);
        let np_added = self.cues.any(c.end, c.phrase_end, Cue::Added);
        // "15 new projects started production": no longer a licence count.
        let operating = self.cues.any(c.end, frame.r_seg_end, Cue::Operating);
        if (np_new && np_added) || operating {
            Some(CountKind::Other)
        } else if np_new {
            Some(CountKind::NewProjects)
        } else if np_added || self.cues.any(c.end, near_end, Cue::Existing) {
            Some(CountKind::AdjustedProjects)
        } else if self.cues.any(c.end, near_end, Cue::InOperation) {
            Some(CountKind::TotalProjects)
        } else {
            None
        }
    }

    /// The verb class of the count's clause: a cue after the count, else
    /// one before it. New and added before it together are a mixed batch;
    /// adding capital outranks the licence it is written on ("amended the
    /// certificates of 121 projects"); licences handed out at a ceremony
    /// may mix new and adjusted projects.
    fn verb_kind(&self, c: &CountMention, frame: &Frame) -> Option<CountKind> {
        let (left_start, l_seg_start) = (frame.left_start, frame.l_seg_start);
        let strong = [Cue::New, Cue::Added, Cue::Operating];
        if let Some(h) = self.cues.first_of(c.phrase_end, frame.r_seg_end, &strong) {
            return Some(kind_of(h.cue));
        }
        if self.cues.any(left_start, c.start, Cue::Added) && self.cues.any(left_start, c.start, Cue::New) {
            return Some(CountKind::Other);
        }
        if let Some(h) = self.cues.last_of(l_seg_start, c.start, &strong) {
            return Some(kind_of(h.cue));
        }
        let licensed = self.cues.any(c.phrase_end, frame.r_seg_end, Cue::Licensed)
            || self.cues.any(l_seg_start, c.start, Cue::Licensed);
        let attracted = self.cues.any(l_seg_start, c.start, Cue::NewWeak);
        if licensed && self.cues.any(self.start, self.end, Cue::Ceremony) {
            Some(CountKind::Other)
        } else if licensed || attracted {
            Some(CountKind::NewProjects)
        } else {
            None
        }
    }

    /// "newly registered capital of $800 million for 120 projects": a count
    /// right after new (added) capital counts new (adjusted) projects.
    fn kind_after_money(&self, fi: usize, previous: Option<Reading>) -> Option<CountKind> {
        if !matches!(
            fi.checked_sub(1).map(|j| self.figures[j].what),
            Some(FigureRef::Money(_))
        ) {
            return None;
        }
        match previous?.metric? {
            Metric::NewCapital => Some(CountKind::NewProjects),
            Metric::AddedCapital => Some(CountKind::AdjustedProjects),
            _ => None,
        }
    }

    /// Scope of count `c` and whether the text states it: the noun phrase
    /// and what follows, then what precedes, then the previous count's, then
    /// the sentence's and the article's defaults.
    fn count_scope(&self, c: &CountMention, frame: &Frame, previous_count: Option<(usize, Reading)>) -> (Scope, bool) {
        let Frame {
            left_start,
            l_seg_start,
            ..
        } = *frame;
        let both_in_noun_phrase =
            self.cues.any(c.end, c.phrase_end, Cue::Foreign) && self.cues.any(c.end, c.phrase_end, Cue::Domestic);
        if both_in_noun_phrase {
            // "116 domestic and foreign-invested projects"
            (Scope::All, true)
        } else if let Some(h) = self.cues.first_of(c.end, self.appositive_end(frame), SCOPE_CUES) {
            (scope_of(h.cue), true)
        } else if let Some(h) = self.cues.last_of(l_seg_start, c.start, SCOPE_CUES) {
            (scope_of(h.cue), true)
        } else if self.cues.any(left_start, c.start, Cue::Superset) {
            (Scope::All, false)
        } else if let Some((_, r)) = previous_count.filter(|(_, r)| r.scope_explicit) {
            (r.scope, true)
        } else if let Some(h) = self.cues.last_of(left_start, c.start, SCOPE_CUES) {
            // "Về đầu tư trong nước, tỉnh chấp thuận ... cho 35 dự án"
            (scope_of(h.cue), true)
        } else if c.elliptical && previous_count.is_none() {
            self.previous_counts
                .last()
                .map_or((self.default_scope, false), |p| (p.1, p.2))
        } else if let Some(s) = self.inherited_sentence_scope.filter(|_| self.starts_with_subset) {
            // "Of this, ... 85 new projects": the subset of an FDI total.
            (s, false)
        } else {
            (self.default_scope, false)
        }
    }

    /// End of a count's description: its clause, extended over a short
    /// appositive restating the projects ("3 dự án, đều là dự án FDI").
    fn appositive_end(&self, frame: &Frame) -> usize {
        let (r_seg_end, right_end) = (frame.r_seg_end, frame.right_end);
        let next_end = clause_end(
            self.text,
            (r_seg_end + 1).min(right_end.max(r_seg_end)),
            right_end.max(r_seg_end),
        );
        let clause = self.text.get(r_seg_end..next_end).unwrap_or("");
        let folded_clause = fold(clause);
        let names_projects = ["du an", "project", "prosjekt", "projekt", "vorhaben"]
            .iter()
            .any(|n| folded_clause.contains(n));
        if names_projects && clause.split_whitespace().count() <= 6 {
            next_end
        } else {
            r_seg_end
        }
    }

    /// Reading of money mention `mi`, figure `fi` of the sentence.
    pub fn read_money(&self, fi: usize, mi: usize, readings: &[Reading]) -> Reading {
        let frame = self.frame(fi, readings);
        let m = &self.money[mi];
        let right_words = self
            .text
            .get(m.end..frame.right_end.max(m.end))
            .map_or(99, |s| s.split_whitespace().count());
        // "$943.7 million came from 186 newly licensed FDI projects": the
        // amount belongs to the projects counted right after it.
        let next_count = self.linked_next_count(fi, m, &frame).filter(|_| right_words <= 3);
        let metric = self.money_metric(fi, m, &frame, next_count, readings);
        let (scope, explicit) = self.money_scope(m, &self.frame_over_new_and_added(m, frame), next_count);
        Reading {
            metric: (!self.not_a_province_metric(m, &frame)).then_some(metric),
            scope,
            scope_explicit: explicit,
            withdrawn: false,
        }
    }

    /// Amounts with no province metric: capital contributions (unless
    /// listed with new and added capital as parts of a total), per-country
    /// amounts, money that is not investment (revenue, exports, budget,
    /// donations, enterprises' capital), and the capital of withdrawn
    /// projects.
    fn not_a_province_metric(&self, m: &MoneyMention, frame: &Frame) -> bool {
        let (l, r) = (frame.l_seg_start, frame.r_seg_end.max(m.end));
        let total_of_parts =
            self.cues.any(frame.left_start, m.start, Cue::New) && self.cues.any(frame.left_start, m.start, Cue::Added);
        let contribution = self.cues.any(l, m.start, Cue::Contribution) || self.cues.any(m.end, r, Cue::Contribution);
        (contribution && !total_of_parts)
            || self.cues.any(l, m.start, Cue::Country)
            || self.cues.any(l, r, Cue::NotInvestment)
            || self
                .cues
                .any(frame.left_start, frame.right_end.max(m.end), Cue::Withdrawn)
            || frame.previous.is_some_and(|p| p.withdrawn)
    }

    /// "2.96 billion USD of new and additional foreign capital": the
    /// amount's clause reaches over "new and additional" (whose "and" would
    /// otherwise end it) to the words that describe it.
    fn frame_over_new_and_added(&self, m: &MoneyMention, frame: Frame) -> Frame {
        let right_end = frame.right_end.max(m.end);
        match self.cues.first_of(m.end, right_end, &[Cue::NewAndAdded]) {
            Some(h) if h.start <= frame.r_seg_end + 1 => Frame {
                r_seg_end: clause_end(self.text, h.end, right_end),
                ..frame
            },
            _ => frame,
        }
    }

    /// The count right after amount `m` (figure `fi`) when a linking word
    /// ("from", "for", "cho", "aus"...) stands between them.
    fn linked_next_count(&self, fi: usize, m: &MoneyMention, frame: &Frame) -> Option<&CountMention> {
        let Some(FigureRef::Count(nc)) = self.figures.get(fi + 1).map(|n| n.what) else {
            return None;
        };
        let between = fold(self.text.get(m.end..frame.right_end.max(m.end)).unwrap_or(""));
        let linked = between.split_whitespace().any(|w| {
            matches!(
                w,
                "from"
                    | "auf"
                    | "pa"
                    | "vao"
                    | "cho"
                    | "among"
                    | "across"
                    | "tu"
                    | "cua"
                    | "fra"
                    | "aus"
                    | "von"
                    | "by"
                    | "in"
                    | "i"
                    | "for"
            )
        });
        linked.then(|| &self.counts[nc])
    }

    /// What amount `m` measures: total capital in a stock sentence; else the
    /// nearest metric cue before it (both new and added: the total), then
    /// after it; else the kind of the count it is linked to (`next_count`),
    /// the previous figure's metric, or total capital.
    fn money_metric(
        &self,
        fi: usize,
        m: &MoneyMention,
        frame: &Frame,
        next_count: Option<&CountMention>,
        readings: &[Reading],
    ) -> Metric {
        if self.stock {
            return Metric::TotalCapital;
        }
        self.metric_said_for(fi, m, frame)
            .or_else(|| next_count.and_then(|n| self.noun_phrase_metric(n)))
            .or_else(|| self.metric_from_counts(fi, m, frame, readings))
            .unwrap_or(Metric::TotalCapital)
    }

    /// The metric the words around amount `m` state: a target anywhere
    /// since the previous figure; new and added together, the total; else
    /// the cue of its own clause (before it, then after it), then one
    /// earlier since the previous figure. Words after a count's noun
    /// describe the count ("2 dự án đầu tư mở rộng, tổng vốn ...").
    fn metric_said_for(&self, fi: usize, m: &MoneyMention, frame: &Frame) -> Option<Metric> {
        let after_count = fi > 0 && matches!(self.figures[fi - 1].what, FigureRef::Count(_));
        let left_start = if after_count {
            frame.l_seg_start
        } else {
            frame.left_start
        };
        let metric_cues = [Cue::New, Cue::Added, Cue::AddedMoneyOnly, Cue::Target];
        let earlier = self.cues.last_of(left_start, m.start, &metric_cues);
        let before = |cue| self.cues.any(left_start, m.start, cue);
        let both = before(Cue::New) && (before(Cue::Added) || before(Cue::AddedMoneyOnly))
            || self.cues.any(left_start, frame.right_end.max(m.end), Cue::NewAndAdded);
        if earlier.is_some_and(|h| h.cue == Cue::Target) {
            return Some(Metric::TargetCapital);
        }
        if both {
            return Some(Metric::TotalCapital);
        }
        let own_left = self
            .cues
            .last_of(frame.l_seg_start.max(left_start), m.start, &metric_cues);
        let own_right = self.cues.first_of(m.end, frame.r_seg_end, &metric_cues);
        own_left.or(own_right).or(earlier).map(|h| match h.cue {
            Cue::New => Metric::NewCapital,
            Cue::Target => Metric::TargetCapital,
            _ => Metric::AddedCapital,
        })
    }

    /// The metric a count's own noun phrase states ("186 newly licensed
    /// FDI projects").
    fn noun_phrase_metric(&self, n: &CountMention) -> Option<Metric> {
        if self.cues.any(n.end, n.phrase_end, Cue::New) {
            Some(Metric::NewCapital)
        } else if self.cues.any(n.end, n.phrase_end, Cue::Added) {
            Some(Metric::AddedCapital)
        } else {
            None
        }
    }

    /// An amount with no metric cue of its own measures what the counts
    /// before it count: new and adjusted projects together, their total
    /// ("4 new and 2 expanded projects ... 3,120 billion VND"); else the
    /// previous figure's metric; in a sentence without counts, the kind
    /// of the previous sentence's counts when they are all of one kind
    /// ("licensed 27 new projects. Their combined capital is ...").
    fn metric_from_counts(&self, fi: usize, m: &MoneyMention, frame: &Frame, readings: &[Reading]) -> Option<Metric> {
        let earlier_count_metrics: Vec<Option<Metric>> = (0..fi)
            .filter(|&j| matches!(self.figures[j].what, FigureRef::Count(_)))
            .filter_map(|j| readings.get(j).map(|r| r.metric))
            .collect();
        let has = |metric| earlier_count_metrics.contains(&Some(metric));
        if has(Metric::NewCapital) && has(Metric::AddedCapital) {
            return Some(Metric::TotalCapital);
        }
        // "aims at $5 billion this year, after $4.1 billion last year": a
        // target does not pass to an amount of another time.
        let previous_end = fi.checked_sub(1).map_or(m.start, |j| self.figures[j].end);
        let other_time = self.names_time(previous_end, frame.r_seg_end.max(m.end));
        if let Some(pm) = frame.previous.and_then(|p| p.metric) {
            return (pm != Metric::TargetCapital || !other_time).then_some(pm);
        }
        let (first, rest) = self.previous_counts.split_first()?;
        let one_kind = self.counts.is_empty()
            && rest.iter().all(|p| p.0 == first.0)
            && !self.cues.any(self.start, self.end, Cue::Overall);
        one_kind.then(|| kind_to_metric(first.0)).flatten()
    }

    /// Does `text[from..to]` name an earlier time than the rest of the
    /// sentence ("last year", "i fjor", "2023" where 2024 is named too)?
    fn names_time(&self, from: usize, to: usize) -> bool {
        let years = years_in(self.text, self.start, self.end);
        let earlier_year = years.iter().any(|&(at, y)| {
            (from..to).contains(&at) && years.iter().any(|&(other, y2)| !(from..to).contains(&other) && y < y2)
        });
        earlier_year || self.cues.any(from, to, Cue::Past)
    }

    /// Whose money amount `m` is, and whether the text states it:
    /// conversions are everyone's; a USD/VND pair splits into foreign and
    /// domestic; else the nearest scope cue in its clause, in the linked
    /// count's noun phrase, earlier between the figures; else inherited.
    fn money_scope(&self, m: &MoneyMention, frame: &Frame, next_count: Option<&CountMention>) -> (Scope, bool) {
        let Frame {
            left_start,
            l_seg_start,
            r_seg_end,
            previous,
            ..
        } = *frame;
        if m.converted {
            (Scope::All, false)
        } else if self.cues.any(l_seg_start, m.start, Cue::Converted)
            || self.cues.any(left_start, m.start, Cue::Converted)
        {
            (Scope::All, true)
        } else if self.paired && (m.currency == "USD" || m.currency == "VND") {
            (if m.currency == "USD" { Scope::Fdi } else { Scope::Ddi }, true)
        } else if let Some(h) = self.cues.last_of(l_seg_start, m.start, SCOPE_CUES) {
            (scope_of(h.cue), true)
        } else if let Some(h) = self.cues.first_of(m.end, r_seg_end, SCOPE_CUES) {
            (scope_of(h.cue), true)
        } else if let Some(h) = next_count.and_then(|n| self.cues.first_of(n.end, n.phrase_end, SCOPE_CUES)) {
            // "$943.7 million came from 186 newly licensed FDI projects"
            (scope_of(h.cue), true)
        } else if let Some(h) = self.cues.last_of(left_start, m.start, SCOPE_CUES) {
            (scope_of(h.cue), true)
        } else if let Some(p) = previous.filter(|p| p.scope_explicit) {
            (p.scope, true)
        } else if let Some(s) = self.currency_scope(m) {
            (s, false)
        } else if let Some(s) = self.inherited_sentence_scope {
            (s, false)
        } else {
            (self.default_scope, false)
        }
    }

    /// Foreign for USD and domestic for VND in an article that pairs them.
    fn currency_scope(&self, m: &MoneyMention) -> Option<Scope> {
        match m.currency {
            "USD" if self.currency_scopes => Some(Scope::Fdi),
            "VND" if self.currency_scopes => Some(Scope::Ddi),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_split_at_commas_and_conjunctions() {
        LazyLock::force(&DELIMITERS);
        let text = "with domestic investors 5 VND and foreign investors 6 USD";
        let six = text.find('6').unwrap_or(0);
        assert_eq!(&text[clause_start(text, 0, six)..six], "foreign investors ");
        let five = text.find('5').unwrap_or(0);
        assert_eq!(&text[five..clause_end(text, five, text.len())], "5 VND");
        // Thousands separators are not clause breaks.
        assert_eq!(clause_start("9,189.41 USD", 0, 9), 0);
    }
}
