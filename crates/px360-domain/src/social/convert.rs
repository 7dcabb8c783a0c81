//! Whether a mention can become a complaint or an action, and which one to suggest.
//!
//! Only a mention located at exactly one hospital, not our own post and not already converted,
//! can be converted. Negative voice (a rating of 1–2 or negative sentiment) may become either,
//! and a complaint is suggested; neutral voice may become an action (an improvement idea);
//! positive voice is not a case (it is counted in analytics instead).

use super::matching::Location;
use super::mention::Mention;
use serde::Serialize;
use uuid::Uuid;

/// Sentiment polarity as the sentiment engine reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    Negative,
    Neutral,
    Positive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Complaint,
    Action,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotConvertible {
    Unmatched,
    Ambiguous,
    OwnPost,
    AlreadyConverted,
    Positive,
}

impl NotConvertible {
    pub fn code(self) -> &'static str {
        match self {
            NotConvertible::Unmatched => "social.convert.unmatched",
            NotConvertible::Ambiguous => "social.convert.ambiguous",
            NotConvertible::OwnPost => "social.convert.own_post",
            NotConvertible::AlreadyConverted => "social.convert.already_converted",
            NotConvertible::Positive => "social.convert.positive",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Convertible {
    pub hospital_id: Uuid,
    pub allowed: Vec<Target>,
    pub suggested: Target,
}

pub fn decide(
    mention: &Mention,
    location: &Location,
    sentiment: Option<Polarity>,
    already_converted: bool,
) -> Result<Convertible, NotConvertible> {
    let hospital_id = match location {
        Location::Hospital { hospital_id } => *hospital_id,
        Location::Ambiguous { .. } => return Err(NotConvertible::Ambiguous),
        Location::Unmatched => return Err(NotConvertible::Unmatched),
        Location::OwnPost { .. } => return Err(NotConvertible::OwnPost),
    };
    if already_converted {
        return Err(NotConvertible::AlreadyConverted);
    }
    // A star rating is the author's own verdict, so it outranks the model's guess.
    let polarity = match mention.rating.map(|r| r.get()) {
        Some(1 | 2) => Polarity::Negative,
        Some(3) => sentiment.unwrap_or(Polarity::Neutral),
        Some(_) => Polarity::Positive,
        None => sentiment.unwrap_or(Polarity::Neutral),
    };
    match polarity {
        Polarity::Negative => Ok(Convertible {
            hospital_id,
            allowed: vec![Target::Complaint, Target::Action],
            suggested: Target::Complaint,
        }),
        Polarity::Neutral => Ok(Convertible {
            hospital_id,
            allowed: vec![Target::Action],
            suggested: Target::Action,
        }),
        Polarity::Positive => Err(NotConvertible::Positive),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::social::mention::{Rating, Source};
    use chrono::Utc;

    const H: Uuid = Uuid::from_u128(9);

    fn m(rating: Option<u8>) -> Mention {
        Mention {
            external_id: None,
            source: Source::GoogleReviews,
            author_handle: "p".into(),
            text: "t".into(),
            rating: rating.and_then(Rating::new),
            link: None,
            posted_at: Utc::now(),
        }
    }

    fn at() -> Location {
        Location::Hospital { hospital_id: H }
    }

    #[test]
    fn low_rating_suggests_a_complaint_even_if_the_model_says_positive() {
        let c = decide(&m(Some(1)), &at(), Some(Polarity::Positive), false).unwrap();
        assert_eq!(c.suggested, Target::Complaint);
        assert_eq!(c.allowed, [Target::Complaint, Target::Action]);
    }

    #[test]
    fn neutral_becomes_an_action_only_and_positive_nothing() {
        let c = decide(&m(None), &at(), None, false).unwrap();
        assert_eq!(c.allowed, [Target::Action]);
        assert_eq!(
            decide(&m(Some(5)), &at(), Some(Polarity::Negative), false),
            Err(NotConvertible::Positive)
        );
        assert_eq!(
            decide(&m(Some(3)), &at(), Some(Polarity::Negative), false)
                .unwrap()
                .suggested,
            Target::Complaint
        );
    }

    #[test]
    fn location_and_history_gate_conversion() {
        let neg = Some(Polarity::Negative);
        assert_eq!(
            decide(&m(None), &Location::Unmatched, neg, false),
            Err(NotConvertible::Unmatched)
        );
        assert_eq!(
            decide(
                &m(None),
                &Location::Ambiguous {
                    hospital_ids: vec![H, Uuid::nil()]
                },
                neg,
                false
            ),
            Err(NotConvertible::Ambiguous)
        );
        assert_eq!(
            decide(&m(None), &Location::OwnPost { hospital_id: H }, neg, false),
            Err(NotConvertible::OwnPost)
        );
        assert_eq!(
            decide(&m(None), &at(), neg, true).unwrap_err().code(),
            "social.convert.already_converted"
        );
    }
}
