//! Template lifecycle: Draft → Published(version n) → Archived.
//!
//! Editing a published template opens draft version n+1; version n stays published (and keeps
//! serving invitations already sent) until n+1 is published. Archived templates are read-only.

use super::content::SurveyContent;
use super::publish::{PublishError, PublishedSurvey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Published,
    Archived,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Published => "published",
            Status::Archived => "archived",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Status::Draft, Status::Published, Status::Archived]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// The editable head of a template. `version` is the version the content has (or will have once
/// published); `published_version` the newest version patients can currently receive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub id: Uuid,
    /// `None` = group-wide.
    pub hospital_id: Option<Uuid>,
    pub status: Status,
    pub version: u32,
    pub published_version: Option<u32>,
    pub content: SurveyContent,
}

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("template is archived")]
    Archived,
    #[error("this version is already published; edit to start a new draft")]
    AlreadyPublished,
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl Template {
    pub fn new(id: Uuid, hospital_id: Option<Uuid>, content: SurveyContent) -> Self {
        Template {
            id,
            hospital_id,
            status: Status::Draft,
            version: 1,
            published_version: None,
            content,
        }
    }

    /// Replaces the draft content; on a published template this starts the next version.
    pub fn edit(&mut self, content: SurveyContent) -> Result<(), LifecycleError> {
        match self.status {
            Status::Archived => return Err(LifecycleError::Archived),
            Status::Published => {
                self.version += 1;
                self.status = Status::Draft;
            }
            Status::Draft => {}
        }
        self.content = content;
        Ok(())
    }

    /// Validates and freezes the draft. The returned version is what storage keeps immutably.
    pub fn publish(&mut self) -> Result<PublishedSurvey, LifecycleError> {
        match self.status {
            Status::Archived => Err(LifecycleError::Archived),
            Status::Published => Err(LifecycleError::AlreadyPublished),
            Status::Draft => {
                let p = PublishedSurvey::publish(
                    self.id,
                    self.hospital_id,
                    self.version,
                    self.content.clone(),
                )?;
                self.status = Status::Published;
                self.published_version = Some(self.version);
                Ok(p)
            }
        }
    }

    /// Stops new invitations; responses to links already sent are still accepted by the caller's
    /// choice (the published versions are not deleted).
    pub fn archive(&mut self) -> Result<(), LifecycleError> {
        if self.status == Status::Archived {
            return Err(LifecycleError::Archived);
        }
        self.status = Status::Archived;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::content::tests::sample;
    use super::*;

    #[test]
    fn draft_publish_edit_publish_archive() {
        let hospital = Some(Uuid::new_v4());
        let mut t = Template::new(Uuid::new_v4(), hospital, sample());
        let v1 = t.publish().unwrap();
        assert_eq!((v1.version(), v1.hospital_id()), (1, hospital));
        assert_eq!(t.status, Status::Published);
        assert!(matches!(t.publish(), Err(LifecycleError::AlreadyPublished)));

        let mut c = sample();
        c.title.en = "Your visit (v2)".into();
        t.edit(c).unwrap();
        assert_eq!(
            (t.status, t.version, t.published_version),
            (Status::Draft, 2, Some(1))
        );
        // A second edit of the same draft keeps the version.
        t.edit(sample()).unwrap();
        assert_eq!(t.version, 2);
        let v2 = t.publish().unwrap();
        assert_eq!(v2.version(), 2);
        assert_eq!(v1.content(), v2.content(), "v1 stayed as it was");

        t.archive().unwrap();
        assert!(matches!(t.edit(sample()), Err(LifecycleError::Archived)));
        assert!(matches!(t.publish(), Err(LifecycleError::Archived)));
        assert_eq!(Status::parse(t.status.as_str()), Some(Status::Archived));
    }

    #[test]
    fn a_failed_publish_leaves_the_draft_a_draft() {
        let mut c = sample();
        c.questions[0].text.ar.clear();
        let mut t = Template::new(Uuid::new_v4(), None, c);
        assert!(matches!(
            t.publish(),
            Err(LifecycleError::Publish(PublishError::Invalid(_)))
        ));
        assert_eq!((t.status, t.published_version), (Status::Draft, None));
    }
}
