//! Trend of a KPI against the previous period.
//!
//! Small samples swing widely, so a trend is only shown when both periods have at least
//! `min_sample` observations, and a change within `flat_within` points is shown as flat.
//! Direction says which way the number moved; whether that is good depends on the KPI (NPS up
//! is good, overdue rate up is bad) and is the dashboard's call.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrendRule {
    pub min_sample: u64,
    /// Points (on the KPI's own scale) within which the change counts as flat.
    pub flat_within: f64,
}

impl Default for TrendRule {
    fn default() -> Self {
        TrendRule {
            min_sample: 30,
            flat_within: 1.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
    Flat,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trend {
    /// A period without a value, or with fewer than `min_sample` observations.
    InsufficientData,
    Change {
        direction: Direction,
        delta: f64,
    },
}

/// A KPI value with the number of observations behind it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub value: Option<f64>,
    pub n: u64,
}

impl TrendRule {
    pub fn trend(&self, current: Sample, previous: Sample) -> Trend {
        let (Some(c), Some(p)) = (current.value, previous.value) else {
            return Trend::InsufficientData;
        };
        if current.n < self.min_sample || previous.n < self.min_sample || !(c - p).is_finite() {
            return Trend::InsufficientData;
        }
        let delta = c - p;
        let direction = if delta.abs() <= self.flat_within {
            Direction::Flat
        } else if delta > 0.0 {
            Direction::Up
        } else {
            Direction::Down
        };
        Trend::Change { direction, delta }
    }
}
