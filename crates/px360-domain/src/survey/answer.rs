//! A typed answer to one question, and the answer set of one response.

use super::key::Key;
use super::question::Frequency;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Rating(u8),
    Nps(u8),
    YesNo(bool),
    Choice(Key),
    /// Sorted and without duplicates.
    Choices(Vec<Key>),
    Text(String),
    Frequency(Frequency),
}

impl Answer {
    /// The numeric value of a rating or NPS answer.
    pub fn number(&self) -> Option<u8> {
        match self {
            Answer::Rating(n) | Answer::Nps(n) => Some(*n),
            _ => None,
        }
    }

    /// Whether one of this answer's form values equals `value` (for a multiple-choice answer,
    /// whether that option was chosen). Free text never matches: conditions and rules do not
    /// look inside what a patient wrote.
    pub fn has_value(&self, value: &str) -> bool {
        match self {
            Answer::Rating(n) | Answer::Nps(n) => value.parse::<u8>().is_ok_and(|v| v == *n),
            Answer::YesNo(b) => value == if *b { "yes" } else { "no" },
            Answer::Choice(k) => k.as_str() == value,
            Answer::Choices(ks) => ks.iter().any(|k| k.as_str() == value),
            Answer::Text(_) => false,
            Answer::Frequency(f) => f.as_str() == value,
        }
    }
}

/// The validated answers of one response, by question key. Only questions that were shown are
/// present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Answers(BTreeMap<Key, Answer>);

impl Answers {
    pub fn get(&self, key: &Key) -> Option<&Answer> {
        self.0.get(key)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Answer)> {
        self.0.iter()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub(crate) fn insert(&mut self, key: Key, answer: Answer) {
        self.0.insert(key, answer);
    }
}
