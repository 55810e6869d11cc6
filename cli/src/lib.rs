//! The parts of the `fdi` command line that tests call directly.

pub mod remote;
pub mod report;
