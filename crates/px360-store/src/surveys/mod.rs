//! Surveys in storage: templates and their frozen versions ([`templates`]), the send decision
//! recorded per completed stage and the invitation's life ([`invitations`]), the patient's
//! reachable channels ([`contacts`]), the message outbox and the local outbox ([`outbox`]),
//! responses with scores and the negative-response event ([`responses`]), per-channel
//! opt-outs ([`optouts`]), and the move to the next channel when an address is unusable
//! ([`fallback`]).
//!
//! Every decision (what to send, whether a response is negative) is made by
//! `px360_domain::survey`; this module loads its inputs, stores its outputs and audits every
//! change in the same transaction. Rows are typed (`Uuid`, `DateTime<Utc>`, enums, `bool`).
//!
//! Tokens: the link a patient receives carries a 256-bit random token; only its SHA-256 is
//! stored (`survey_tokens`). Every message (invitation, reminder, retried send) mints its own
//! token, all of which lead to the same invitation.

pub mod contacts;
pub mod demo;
pub mod fallback;
pub mod invitations;
pub mod optouts;
pub mod outbox;
pub mod responses;
pub mod templates;

use crate::StoreError;
use crate::audit::AuditEntry;
use serde::{Deserialize, Serialize};

pub use px360_domain::survey::channel::Channel;

/// Who makes a change, for the audit record the store appends in the same transaction.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    /// `user`, `system` (worker), `patient` (token page), `provider` (callbacks).
    pub actor_type: &'static str,
    pub actor_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Actor {
    pub fn system(worker: &str) -> Self {
        Actor {
            actor_type: "system",
            actor_id: Some(worker.to_owned()),
            ..Default::default()
        }
    }

    pub fn patient() -> Self {
        Actor {
            actor_type: "patient",
            ..Default::default()
        }
    }

    pub fn provider(name: &str) -> Self {
        Actor {
            actor_type: "provider",
            actor_id: Some(name.to_owned()),
            ..Default::default()
        }
    }

    pub(crate) fn entry(
        &self,
        action: &str,
        object_type: &'static str,
        object_id: &str,
        hospital_id: Option<&str>,
        changes: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            actor_type: self.actor_type,
            actor_id: self.actor_id.clone(),
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            action: action.to_owned(),
            object_type: Some(object_type),
            object_id: Some(object_id.to_owned()),
            hospital_id: hospital_id.map(str::to_owned),
            changes: Some(changes),
        }
    }
}

/// Why a token link cannot be used. The patient page answers each with its own page in the
/// patient's language; none of them is an error of the server.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// No invitation has this token (mistyped, forged, or from another installation).
    #[error("unknown survey link")]
    Unknown,
    #[error("survey link expired")]
    Expired,
    /// The survey was already submitted.
    #[error("survey already answered")]
    Used,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TokenError {
    fn from(e: sqlx::Error) -> Self {
        TokenError::Store(e.into())
    }
}

/// A fresh link token (256 bits, hex) and the hash that is stored.
pub fn mint_token() -> (String, String) {
    let token = crate::auth::random_secret();
    let hash = hash_token(&token);
    (token, hash)
}

/// SHA-256 (hex) of a token as received. Anything that is not 64 lowercase hex characters
/// cannot be a token: hashing it anyway keeps the lookup's timing independent of the input.
pub fn hash_token(token: &str) -> String {
    crate::auth::sha256_hex(token.trim())
}

/// The patient's language for messages and the survey page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    En,
    Ar,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Ar => "ar",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "en" => Some(Language::En),
            "ar" => Some(Language::Ar),
            _ => None,
        }
    }
    /// A stored preference: anything but Arabic reads as English.
    pub fn from_preference(s: &str) -> Self {
        if s.trim().to_ascii_lowercase().starts_with("ar") {
            Language::Ar
        } else {
            Language::En
        }
    }
}

pub(crate) fn json<T: Serialize + ?Sized>(v: &T) -> String {
    // Plain data structures of strings, numbers and enums always serialise.
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

pub(crate) fn invalid(what: &str) -> StoreError {
    StoreError::Invalid(what.to_owned())
}
