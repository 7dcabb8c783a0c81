//! Hand-computed values for every KPI formula, periods and physician ranking, and proptest
//! properties of the accumulators.
#![allow(clippy::unwrap_used)]

mod cases;
mod kpis;
mod period;
mod physician;
mod props;

use crate::survey::answer::Answers;
use crate::survey::content::tests::sample;
use crate::survey::key::Key;
use crate::survey::publish::PublishedSurvey;
use crate::survey::response::{Submission, validate};
use uuid::Uuid;

pub fn k(s: &str) -> Key {
    Key::parse(s).unwrap()
}

/// The survey module's sample: nps, why, rating, er (yes/no), er_wait, doctor_listened
/// (frequency, about the physician), comment.
pub fn published() -> PublishedSurvey {
    PublishedSurvey::publish(Uuid::from_u128(7), Some(Uuid::from_u128(9)), 3, sample()).unwrap()
}

pub fn answers(p: &PublishedSurvey, pairs: &[(&str, &str)]) -> Answers {
    let s = Submission::from_pairs(pairs.iter().map(|(k, v)| (*k, *v))).unwrap();
    validate(p, &s).unwrap().answers().clone()
}
