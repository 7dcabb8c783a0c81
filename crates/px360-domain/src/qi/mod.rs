//! Quality-improvement projects without I/O: the project and its measures ([`project`]), PDSA
//! cycles as a status machine ([`pdsa`]), run-chart analysis of a measure series
//! ([`run_chart`], limits for the runs rule from [`runs_limits`]) and the status line for the
//! executive summary ([`summary`]).

pub mod pdsa;
pub mod project;
pub mod run_chart;
pub mod runs_limits;
pub mod summary;

/// Free-text fields (aim, milestone titles) are bounded.
pub const MAX_TEXT: usize = 2_000;
