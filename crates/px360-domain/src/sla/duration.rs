//! Bounded SLA durations: targets and amounts of business time.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

/// Longest accepted target (ten years). The bound keeps calendar arithmetic finite: a target
/// of `TimeDelta::MAX` over an 8-hour calendar would otherwise walk billions of weeks.
pub const MAX_SLA_DAYS: i64 = 3_660;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("an SLA duration cannot be negative")]
    Negative,
    #[error("an SLA duration cannot exceed {MAX_SLA_DAYS} days")]
    TooLong,
}

/// A duration in `0 ..= MAX_SLA_DAYS` days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct SlaDuration(TimeDelta);

impl SlaDuration {
    pub const ZERO: SlaDuration = SlaDuration(TimeDelta::zero());

    pub fn new(d: TimeDelta) -> Result<Self, DurationError> {
        if d < TimeDelta::zero() {
            Err(DurationError::Negative)
        } else if d > TimeDelta::days(MAX_SLA_DAYS) {
            Err(DurationError::TooLong)
        } else {
            Ok(SlaDuration(d))
        }
    }

    /// Zammad and Jira both store targets in minutes; so does our policy form.
    pub fn minutes(m: u32) -> Result<Self, DurationError> {
        Self::new(TimeDelta::minutes(i64::from(m)))
    }

    pub fn hours(h: u32) -> Result<Self, DurationError> {
        Self::new(TimeDelta::hours(i64::from(h)))
    }

    /// Clamps into range; for amounts derived from other bounded durations.
    pub fn saturating(d: TimeDelta) -> Self {
        SlaDuration(d.clamp(TimeDelta::zero(), TimeDelta::days(MAX_SLA_DAYS)))
    }

    pub fn get(self) -> TimeDelta {
        self.0
    }
}

impl TryFrom<i64> for SlaDuration {
    type Error = DurationError;
    /// Serialised as whole seconds.
    fn try_from(secs: i64) -> Result<Self, DurationError> {
        if secs < 0 {
            return Err(DurationError::Negative);
        }
        if secs > MAX_SLA_DAYS * 86_400 {
            return Err(DurationError::TooLong);
        }
        Self::new(TimeDelta::seconds(secs))
    }
}

impl From<SlaDuration> for i64 {
    fn from(d: SlaDuration) -> i64 {
        d.0.num_seconds()
    }
}
