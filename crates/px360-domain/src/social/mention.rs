//! A social mention or review, parsed from the loose fields an import row or webhook carries.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const MAX_TEXT: usize = 5_000;
pub const MAX_HANDLE: usize = 100;
pub const MAX_LINK: usize = 2_048;
pub const MAX_EXTERNAL_ID: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    X,
    Facebook,
    Instagram,
    GoogleReviews,
    Tiktok,
    Other,
}

impl Source {
    pub const ALL: [Source; 6] = [
        Source::X,
        Source::Facebook,
        Source::Instagram,
        Source::GoogleReviews,
        Source::Tiktok,
        Source::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::X => "x",
            Source::Facebook => "facebook",
            Source::Instagram => "instagram",
            Source::GoogleReviews => "google_reviews",
            Source::Tiktok => "tiktok",
            Source::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        let s = s.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A review's star rating, 1–5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Rating(u8);

impl Rating {
    pub fn new(v: u8) -> Option<Rating> {
        (1..=5).contains(&v).then_some(Rating(v))
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mention {
    pub source: Source,
    /// The platform's own id of the post, when the sender gives one: with `source`, the key
    /// that de-duplicates re-imports and redelivered webhooks.
    pub external_id: Option<String>,
    /// Without a leading `@`.
    pub author_handle: String,
    pub text: String,
    pub rating: Option<Rating>,
    pub link: Option<String>,
    pub posted_at: DateTime<Utc>,
}

/// The unchecked fields, as JSON, CSV or a webhook carries them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MentionInput {
    pub source: String,
    /// The platform's id of the post (optional).
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub author: String,
    pub text: String,
    #[serde(default)]
    pub rating: Option<String>,
    #[serde(default)]
    pub link: Option<String>,
    pub time: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum MentionError {
    #[error("social.mention.unknown_source")]
    UnknownSource,
    #[error("social.mention.bad_handle")]
    BadHandle,
    #[error("social.mention.text_required")]
    TextRequired,
    #[error("social.mention.text_too_long")]
    TextTooLong,
    #[error("social.mention.bad_rating")]
    BadRating,
    #[error("social.mention.bad_link")]
    BadLink,
    #[error("social.mention.bad_time")]
    BadTime,
    #[error("social.mention.bad_id")]
    BadId,
}

impl MentionError {
    pub fn code(self) -> &'static str {
        match self {
            MentionError::UnknownSource => "social.mention.unknown_source",
            MentionError::BadHandle => "social.mention.bad_handle",
            MentionError::TextRequired => "social.mention.text_required",
            MentionError::TextTooLong => "social.mention.text_too_long",
            MentionError::BadRating => "social.mention.bad_rating",
            MentionError::BadLink => "social.mention.bad_link",
            MentionError::BadTime => "social.mention.bad_time",
            MentionError::BadId => "social.mention.bad_id",
        }
    }
}

impl TryFrom<MentionInput> for Mention {
    type Error = MentionError;

    fn try_from(i: MentionInput) -> Result<Mention, MentionError> {
        let source = Source::parse(&i.source).ok_or(MentionError::UnknownSource)?;
        let external_id = match i.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) if s.chars().count() <= MAX_EXTERNAL_ID && !s.chars().any(char::is_control) => {
                Some(s.to_string())
            }
            Some(_) => return Err(MentionError::BadId),
        };
        let handle = i.author.trim().trim_start_matches('@');
        if handle.chars().count() > MAX_HANDLE || handle.chars().any(char::is_whitespace) {
            return Err(MentionError::BadHandle);
        }
        let text = i.text.trim();
        if text.is_empty() {
            return Err(MentionError::TextRequired);
        }
        if text.chars().count() > MAX_TEXT {
            return Err(MentionError::TextTooLong);
        }
        let rating = match i.rating.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            None => None,
            Some(r) => Some(
                r.parse::<u8>()
                    .ok()
                    .and_then(Rating::new)
                    .ok_or(MentionError::BadRating)?,
            ),
        };
        let link = match i.link.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            None => None,
            Some(l) => {
                // Only links that open in a browser, never javascript: or data: URLs that the
                // UI would render as an anchor.
                let ok = (l.starts_with("https://") || l.starts_with("http://"))
                    && l.len() <= MAX_LINK
                    && !l.chars().any(|c| c.is_whitespace() || c.is_control());
                Some(ok.then(|| l.to_string()).ok_or(MentionError::BadLink)?)
            }
        };
        let posted_at = DateTime::parse_from_rfc3339(i.time.trim())
            .map_err(|_| MentionError::BadTime)?
            .with_timezone(&Utc);
        Ok(Mention {
            source,
            external_id,
            author_handle: handle.to_string(),
            text: text.to_string(),
            rating,
            link,
            posted_at,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    pub(crate) fn input() -> MentionInput {
        MentionInput {
            source: "google_reviews".into(),
            id: Some("rev-1".into()),
            author: "@sara_k".into(),
            text: "Long wait at the ER".into(),
            rating: Some("2".into()),
            link: Some("https://maps.example/review/1".into()),
            time: "2026-03-01T10:00:00+03:00".into(),
        }
    }

    #[test]
    fn a_good_row_parses() {
        let m = Mention::try_from(input()).unwrap();
        assert_eq!(m.source, Source::GoogleReviews);
        assert_eq!(m.author_handle, "sara_k");
        assert_eq!(m.rating.unwrap().get(), 2);
        assert_eq!(m.posted_at.to_rfc3339(), "2026-03-01T07:00:00+00:00");
    }

    #[test]
    fn each_bad_field_has_its_code() {
        type Change = fn(&mut MentionInput);
        let cases: [(Change, MentionError); 6] = [
            (|i| i.source = "myspace".into(), MentionError::UnknownSource),
            (|i| i.author = "a b".into(), MentionError::BadHandle),
            (|i| i.text = "  ".into(), MentionError::TextRequired),
            (|i| i.rating = Some("6".into()), MentionError::BadRating),
            (
                |i| i.link = Some("javascript:alert(1)".into()),
                MentionError::BadLink,
            ),
            (|i| i.time = "yesterday".into(), MentionError::BadTime),
        ];
        for (change, want) in cases {
            let mut i = input();
            change(&mut i);
            assert_eq!(Mention::try_from(i), Err(want));
        }
        let mut i = input();
        i.text = "x".repeat(MAX_TEXT + 1);
        assert_eq!(
            Mention::try_from(i).unwrap_err().code(),
            "social.mention.text_too_long"
        );
    }
}
