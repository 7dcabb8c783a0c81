//! Net Promoter Score: % promoters (9–10) − % detractors (0–6), from −100 to 100. The categories
//! are [`NpsCategory::of`], the survey scoring's definition.

use super::Merge;
use super::ratio::Ratio;
use crate::survey::scoring::NpsCategory;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NpsAcc {
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an NPS answer is 0 to 10")]
pub struct NpsOutOfRange;

impl NpsAcc {
    pub fn add(&mut self, answer: u8) -> Result<(), NpsOutOfRange> {
        self.add_category(NpsCategory::of(answer).ok_or(NpsOutOfRange)?);
        Ok(())
    }

    pub fn add_category(&mut self, c: NpsCategory) {
        let slot = match c {
            NpsCategory::Promoter => &mut self.promoters,
            NpsCategory::Passive => &mut self.passives,
            NpsCategory::Detractor => &mut self.detractors,
        };
        *slot = slot.saturating_add(1);
    }

    pub fn n(&self) -> u64 {
        self.promoters
            .saturating_add(self.passives)
            .saturating_add(self.detractors)
    }

    /// `None` without answers.
    pub fn nps(&self) -> Option<Ratio> {
        let d = i128::from(self.promoters) - i128::from(self.detractors);
        Ratio::new(100 * d, i128::from(self.n()))
    }

    pub fn promoter_percent(&self) -> Option<Ratio> {
        Ratio::percent(self.promoters, self.n())
    }

    pub fn detractor_percent(&self) -> Option<Ratio> {
        Ratio::percent(self.detractors, self.n())
    }
}

impl Merge for NpsAcc {
    fn merge(&mut self, o: &Self) {
        self.promoters = self.promoters.saturating_add(o.promoters);
        self.passives = self.passives.saturating_add(o.passives);
        self.detractors = self.detractors.saturating_add(o.detractors);
    }
}
