//! Tests that span several survey modules, on the sample survey of `content::tests`.
#![allow(clippy::unwrap_used)]

mod negative;
mod response;
mod scoring;
mod trigger;

use super::content::tests::sample;
use super::publish::PublishedSurvey;
use super::response::Submission;
use uuid::Uuid;

pub fn published() -> PublishedSurvey {
    PublishedSurvey::publish(Uuid::from_u128(7), Some(Uuid::from_u128(9)), 3, sample()).unwrap()
}

pub fn form(pairs: &[(&str, &str)]) -> Submission {
    Submission::from_pairs(pairs.iter().map(|(k, v)| (*k, *v))).unwrap()
}
