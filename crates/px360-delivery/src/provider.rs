//! The adapter contract: send one message, get the provider's id back or an error already
//! classified for the worker's retry-or-fail decision.

use std::time::Duration;

use futures::future::BoxFuture;

use crate::message::{Channel, MessageError, OutboundMessage};

/// The provider accepted the message. The id is what its status callbacks will name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub provider_message_id: String,
}

/// A failed send, classified. Reasons are the provider's own error text, which describes
/// the failure and (for the providers here) does not echo message bodies; adapters never
/// put the recipient or the body into them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying: timeouts, refused connections, 5xx, provider hiccups.
    /// Note: a timeout after the request was written may still have been delivered.
    #[error("transient failure: {reason}")]
    Transient {
        retry_after: Option<Duration>,
        reason: String,
    },
    /// The provider throttled us; wait at least `retry_after` when it said so.
    #[error("rate limited by the provider")]
    RateLimited { retry_after: Option<Duration> },
    /// This message will never go through as it is.
    #[error("permanent failure {code}: {reason}")]
    Permanent { code: String, reason: String },
    /// The address does not exist or cannot receive this channel: try another channel.
    #[error("invalid recipient ({code})")]
    InvalidRecipient { code: String },
    /// The recipient has opted out at the provider (STOP): record the opt-out.
    #[error("recipient has opted out ({code})")]
    OptedOut { code: String },
    /// Our side is wrong (credentials, sender id, template, TLS): every message on this
    /// channel will fail until an operator fixes the configuration.
    #[error("provider configuration error {code}: {reason}")]
    Configuration { code: String, reason: String },
    /// Refused before calling the provider.
    #[error("message refused: {0}")]
    Refused(#[from] MessageError),
}

impl SendError {
    /// Whether the worker should try the same message again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient { .. } | Self::RateLimited { .. })
    }

    /// The wait the provider asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Transient { retry_after, .. } | Self::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// A short stable label for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Transient { .. } => "transient",
            Self::RateLimited { .. } => "rate_limited",
            Self::Permanent { .. } => "permanent",
            Self::InvalidRecipient { .. } => "invalid_recipient",
            Self::OptedOut { .. } => "opted_out",
            Self::Configuration { .. } => "configuration",
            Self::Refused(_) => "refused",
        }
    }

    pub(crate) fn transient(reason: impl Into<String>) -> Self {
        Self::Transient {
            retry_after: None,
            reason: reason.into(),
        }
    }
}

/// One delivery provider. Boxed futures keep the trait object-safe, so the worker can
/// hold `Box<dyn Provider>` chosen by configuration.
pub trait Provider: Send + Sync {
    fn channel(&self) -> Channel;
    /// A short name for logs and metrics (`twilio`, `unifonic`, `whatsapp_cloud`, `smtp`).
    fn name(&self) -> &'static str;
    fn send<'a>(
        &'a self,
        message: &'a OutboundMessage,
    ) -> BoxFuture<'a, Result<Receipt, SendError>>;
}
