//! When negative feedback should open an action: a threshold rule the action centre configures.

use serde::{Deserialize, Serialize};

use crate::{Analysis, Sentiment, Theme};

/// Acts on comments classed negative whose score is at or below `max_score`, optionally only
/// when one of `themes` was found (empty = any theme or none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub max_score: f32,
    #[serde(default)]
    pub themes: Vec<Theme>,
}

impl Rule {
    pub fn negative_at_most(max_score: f32) -> Rule {
        Rule {
            max_score,
            themes: Vec::new(),
        }
    }

    pub fn with_themes(mut self, themes: impl IntoIterator<Item = Theme>) -> Rule {
        self.themes.extend(themes);
        self
    }
}

pub fn is_actionable(a: &Analysis, rule: &Rule) -> bool {
    a.sentiment == Sentiment::Negative
        && a.score <= rule.max_score
        && (rule.themes.is_empty() || a.themes.iter().any(|t| rule.themes.contains(t)))
}
