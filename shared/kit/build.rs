//! `sqlx::migrate!` embeds the migrations at compile time but cannot tell
//! cargo to watch the folder (that needs a nightly compiler): a new or edited
//! migration must rebuild the crate, or the service would run without it.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
