//! Response rate: answered invitations / invitations sent.
//!
//! Counted by the invitation's period (a cohort): an answer on 3 March to an invitation of
//! 28 February raises February's row. So a period's rate is a true share of its invitations
//! and never exceeds 100%, and the roll-up of the invitation's day is the one updated.

use super::Merge;
use super::ratio::Ratio;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawResponseRate")]
pub struct ResponseRateAcc {
    invitations: u64,
    answered: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResponseRate {
    invitations: u64,
    answered: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResponseRateError {
    #[error("more answered invitations than invitations")]
    MoreAnsweredThanSent,
}

impl TryFrom<RawResponseRate> for ResponseRateAcc {
    type Error = ResponseRateError;
    fn try_from(r: RawResponseRate) -> Result<Self, Self::Error> {
        ResponseRateAcc::new(r.invitations, r.answered)
    }
}

impl ResponseRateAcc {
    pub fn new(invitations: u64, answered: u64) -> Result<Self, ResponseRateError> {
        if answered > invitations {
            return Err(ResponseRateError::MoreAnsweredThanSent);
        }
        Ok(ResponseRateAcc {
            invitations,
            answered,
        })
    }

    pub fn invitations(&self) -> u64 {
        self.invitations
    }

    pub fn answered(&self) -> u64 {
        self.answered
    }

    /// An invitation was sent (answered or not yet).
    pub fn add_invitation(&mut self, answered: bool) {
        self.invitations = self.invitations.saturating_add(1);
        if answered {
            self.answered = self.answered.saturating_add(1);
        }
    }

    /// One of this cohort's invitations was answered later.
    pub fn mark_answered(&mut self) -> Result<(), ResponseRateError> {
        if self.answered >= self.invitations {
            return Err(ResponseRateError::MoreAnsweredThanSent);
        }
        self.answered += 1;
        Ok(())
    }

    /// `None` without invitations.
    pub fn rate(&self) -> Option<Ratio> {
        Ratio::percent(self.answered, self.invitations)
    }
}

impl Merge for ResponseRateAcc {
    fn merge(&mut self, o: &Self) {
        self.invitations = self.invitations.saturating_add(o.invitations);
        self.answered = self.answered.saturating_add(o.answered);
    }
}
