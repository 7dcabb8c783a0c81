//! CSAT, top-two-box: the % of 1–5 ratings answered 4 or 5 ([`csat_top_two_box`]). Every rating
//! answer counts once, so a response with three ratings weighs three times.

use super::Merge;
use super::ratio::Ratio;
use crate::survey::scoring::csat_top_two_box;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsatAcc {
    pub satisfied: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a rating is 1 to 5")]
pub struct RatingOutOfRange;

impl CsatAcc {
    pub fn add(&mut self, rating: u8) -> Result<(), RatingOutOfRange> {
        if !(1..=5).contains(&rating) {
            return Err(RatingOutOfRange);
        }
        self.total = self.total.saturating_add(1);
        self.satisfied = self
            .satisfied
            .saturating_add(u64::from(csat_top_two_box(rating)));
        Ok(())
    }

    /// `None` without answers.
    pub fn csat(&self) -> Option<Ratio> {
        Ratio::percent(self.satisfied.min(self.total), self.total)
    }
}

impl Merge for CsatAcc {
    fn merge(&mut self, o: &Self) {
        self.satisfied = self.satisfied.saturating_add(o.satisfied);
        self.total = self.total.saturating_add(o.total);
    }
}
