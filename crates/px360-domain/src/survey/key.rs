//! Stable machine keys for questions and answer options.
//!
//! Keys name HTML form inputs, JSON fields and analytics columns, so they are restricted to
//! `[a-z0-9_]{1,40}`: safe in every one of those places without escaping, and stable across
//! template versions so that answers to "the same question" can be compared over time.

use serde::{Deserialize, Serialize};
use std::fmt;

pub const MAX_KEY_LEN: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Key(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("key is empty")]
    Empty,
    #[error("key is longer than {MAX_KEY_LEN} characters")]
    TooLong,
    #[error("key may contain only a-z, 0-9 and _")]
    BadCharacter,
}

impl Key {
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        if s.is_empty() {
            return Err(KeyError::Empty);
        }
        if s.len() > MAX_KEY_LEN {
            return Err(KeyError::TooLong);
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(KeyError::BadCharacter);
        }
        Ok(Key(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Key {
    type Error = KeyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Key::parse(&s)
    }
}

impl From<Key> for String {
    fn from(k: Key) -> String {
        k.0
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_documented_alphabet_only() {
        assert!(Key::parse("nps_overall_2").is_ok());
        assert_eq!(Key::parse(""), Err(KeyError::Empty));
        assert_eq!(Key::parse(&"a".repeat(41)), Err(KeyError::TooLong));
        assert!(Key::parse(&"a".repeat(40)).is_ok());
        for bad in ["Nps", "a-b", "a b", "ن", "a.b"] {
            assert_eq!(Key::parse(bad), Err(KeyError::BadCharacter), "{bad}");
        }
        assert!(serde_json::from_str::<Key>("\"BAD\"").is_err());
        assert_eq!(
            serde_json::to_string(&Key::parse("ok").unwrap()).unwrap(),
            "\"ok\""
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_accepts_exactly_the_pattern(s in ".{0,60}") {
            let ok = !s.is_empty() && s.len() <= 40
                && s.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'));
            prop_assert_eq!(Key::parse(&s).is_ok(), ok);
        }
    }
}
