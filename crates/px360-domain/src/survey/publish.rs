//! A published survey version: validated once, frozen, identified by (template, version) and a
//! content hash. Every response keeps the version (and hash) it answered.
//!
//! The only ways to obtain a [`PublishedSurvey`] are `publish` (from a draft) and `from_stored`
//! (which re-runs the same checks and verifies the hash), so code holding one may rely on it being
//! complete and consistent.

use super::content::{ContentError, Issue, MAX_DOCUMENT_BYTES, SurveyContent};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedSurvey {
    template_id: Uuid,
    hospital_id: Option<Uuid>,
    version: u32,
    content_hash: String,
    content: SurveyContent,
}

/// JSON storage form of a published version.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    template_id: Uuid,
    hospital_id: Option<Uuid>,
    version: u32,
    content_hash: String,
    content: SurveyContent,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("survey is not ready to publish ({} issues)", .0.len())]
    Invalid(Vec<Issue>),
    #[error("version must be at least 1")]
    BadVersion,
}

#[derive(Debug, thiserror::Error)]
pub enum StoredError {
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error("stored survey version no longer passes validation")]
    Invalid(Vec<Issue>),
    #[error("stored survey content does not match its hash")]
    HashMismatch,
}

/// Hex SHA-256 of the content's JSON form. The JSON form is deterministic (structs and vectors
/// only, no maps), so equal content always hashes equally.
pub fn content_hash(content: &SurveyContent) -> String {
    let digest = Sha256::digest(content.to_json().as_bytes());
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        s.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    s
}

impl PublishedSurvey {
    pub fn publish(
        template_id: Uuid,
        hospital_id: Option<Uuid>,
        version: u32,
        content: SurveyContent,
    ) -> Result<Self, PublishError> {
        if version == 0 {
            return Err(PublishError::BadVersion);
        }
        let issues = content.publish_issues();
        if !issues.is_empty() {
            return Err(PublishError::Invalid(issues));
        }
        Ok(PublishedSurvey {
            template_id,
            hospital_id,
            version,
            content_hash: content_hash(&content),
            content,
        })
    }

    pub fn to_stored_json(&self) -> String {
        let s = Stored {
            template_id: self.template_id,
            hospital_id: self.hospital_id,
            version: self.version,
            content_hash: self.content_hash.clone(),
            content: self.content.clone(),
        };
        serde_json::to_string(&s).unwrap_or_default()
    }

    pub fn from_stored_json(json: &str) -> Result<Self, StoredError> {
        if json.len() > MAX_DOCUMENT_BYTES + 1024 {
            return Err(ContentError::TooLarge.into());
        }
        let s: Stored = serde_json::from_str(json).map_err(ContentError::Json)?;
        let issues = s.content.publish_issues();
        if !issues.is_empty() || s.version == 0 {
            return Err(StoredError::Invalid(issues));
        }
        if content_hash(&s.content) != s.content_hash {
            return Err(StoredError::HashMismatch);
        }
        Ok(PublishedSurvey {
            template_id: s.template_id,
            hospital_id: s.hospital_id,
            version: s.version,
            content_hash: s.content_hash,
            content: s.content,
        })
    }

    pub fn template_id(&self) -> Uuid {
        self.template_id
    }
    /// `None` for a group-wide template.
    pub fn hospital_id(&self) -> Option<Uuid> {
        self.hospital_id
    }
    pub fn version(&self) -> u32 {
        self.version
    }
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }
    pub fn content(&self) -> &SurveyContent {
        &self.content
    }

    /// This version's negative-response rule applied to one of its complete responses.
    pub fn negative(
        &self,
        response: &super::response::CompleteResponse,
    ) -> Option<super::negative::Negative> {
        self.content.negative_rule.evaluate(self, response)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::content::tests::sample;
    use super::*;

    #[test]
    fn publishing_freezes_content_under_a_hash_that_storage_verifies() {
        let t = Uuid::new_v4();
        let p = PublishedSurvey::publish(t, None, 1, sample()).unwrap();
        assert_eq!(p.content_hash().len(), 64);
        assert_eq!(p.content_hash(), content_hash(&sample()));
        let json = p.to_stored_json();
        assert_eq!(PublishedSurvey::from_stored_json(&json).unwrap(), p);

        let tampered = json.replacen("Your visit", "Your stay", 1);
        assert!(matches!(
            PublishedSurvey::from_stored_json(&tampered),
            Err(StoredError::HashMismatch)
        ));
        let mut other = sample();
        other.title.en = "Other".into();
        assert_ne!(content_hash(&other), p.content_hash());
    }

    #[test]
    fn publishing_refuses_incomplete_content_and_version_zero() {
        let mut c = sample();
        c.questions[0].text.ar.clear();
        assert!(matches!(
            PublishedSurvey::publish(Uuid::nil(), None, 1, c),
            Err(PublishError::Invalid(v)) if v.len() == 1
        ));
        assert!(matches!(
            PublishedSurvey::publish(Uuid::nil(), None, 0, sample()),
            Err(PublishError::BadVersion)
        ));
    }
}
