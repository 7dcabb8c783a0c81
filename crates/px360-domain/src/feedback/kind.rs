//! Feedback kinds, and their counts as a mergeable analytics accumulator.

use crate::analytics::Merge;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackKind {
    Compliment,
    Suggestion,
    Concern,
}

impl FeedbackKind {
    pub const ALL: [FeedbackKind; 3] = [
        FeedbackKind::Compliment,
        FeedbackKind::Suggestion,
        FeedbackKind::Concern,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackKind::Compliment => "compliment",
            FeedbackKind::Suggestion => "suggestion",
            FeedbackKind::Concern => "concern",
        }
    }

    pub fn parse(s: &str) -> Option<FeedbackKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Feedback received per kind, and how many were triaged into cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FeedbackCounts {
    pub compliments: u64,
    pub suggestions: u64,
    pub concerns: u64,
    pub to_complaint: u64,
    pub to_action: u64,
}

impl FeedbackCounts {
    pub fn add(&mut self, kind: FeedbackKind) {
        match kind {
            FeedbackKind::Compliment => self.compliments += 1,
            FeedbackKind::Suggestion => self.suggestions += 1,
            FeedbackKind::Concern => self.concerns += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.compliments + self.suggestions + self.concerns
    }
}

impl Merge for FeedbackCounts {
    fn merge(&mut self, o: &Self) {
        self.compliments += o.compliments;
        self.suggestions += o.suggestions;
        self.concerns += o.concerns;
        self.to_complaint += o.to_complaint;
        self.to_action += o.to_action;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_counts_merge() {
        for k in FeedbackKind::ALL {
            assert_eq!(FeedbackKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(FeedbackKind::parse("rant"), None);
        let mut a = FeedbackCounts::default();
        a.add(FeedbackKind::Concern);
        let mut b = FeedbackCounts::default();
        b.add(FeedbackKind::Compliment);
        b.to_action = 1;
        a.merge(&b);
        assert_eq!(
            (a.total(), a.concerns, a.compliments, a.to_action),
            (2, 1, 1, 1)
        );
    }
}
