//! What the worker hands to an adapter: one message to one recipient on one channel.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::address::{Address, EmailAddress, PhoneNumber};
use crate::sms_encoding::{SegmentCount, count_segments};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
    WhatsApp,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
            Self::WhatsApp => "whatsapp",
        }
    }
}

/// The patient's language. Arabic text is right-to-left and forces UCS-2 SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    En,
    Ar,
}

impl Language {
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ar => "ar",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailContent {
    pub subject: String,
    pub html: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsContent {
    pub text: String,
}

/// WhatsApp Business messages that open a conversation must be pre-approved templates;
/// free-form text is only allowed inside the 24-hour customer-service window that a
/// message from the patient opens
/// (https://developers.facebook.com/docs/whatsapp/pricing#customer-service-windows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WhatsAppContent {
    Template {
        name: String,
        /// Meta's template language code as approved (`en`, `en_US`, `ar`).
        language_code: String,
        /// Values for `{{1}}`, `{{2}}`, … of the template body, in order.
        body_parameters: Vec<String>,
    },
    Text {
        body: String,
        /// When the patient last wrote to us on WhatsApp; `None` means never.
        last_inbound_at: Option<DateTime<Utc>>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Content {
    Email(EmailContent),
    Sms(SmsContent),
    WhatsApp(WhatsAppContent),
}

/// One message. `idempotency_key` is the invitation id: adapters pass it where the
/// provider supports a correlation or idempotency field, so that status callbacks and
/// provider-side duplicates can be traced back to the invitation. Serialisable, so the
/// worker's outbox row can hold it; `Debug` shows neither the address nor the content
/// (bodies carry the survey link's token).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundMessage {
    pub idempotency_key: Uuid,
    pub language: Language,
    pub to: Address,
    pub content: Content,
}

impl std::fmt::Debug for OutboundMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundMessage")
            .field("idempotency_key", &self.idempotency_key)
            .field("language", &self.language)
            .field("channel", &self.channel())
            .finish_non_exhaustive()
    }
}

/// A message that cannot go out as it stands, decided before any provider is called.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("the {channel} channel needs a {expected} address")]
    WrongAddressKind {
        channel: &'static str,
        expected: &'static str,
    },
    #[error(
        "free-form WhatsApp text is only allowed within 24 hours of the patient's last message; send an approved template instead"
    )]
    OutsideServiceWindow,
    #[error("the {0} is empty")]
    Empty(&'static str),
    #[error("the SMS needs {segments} segments; the limit is {limit}")]
    TooManySegments { segments: usize, limit: usize },
    #[error("{field} is longer than {limit} characters")]
    TooLong { field: &'static str, limit: usize },
    #[error("the subject contains a line break")]
    SubjectLineBreak,
    #[error("this provider does not serve the {0} channel")]
    WrongChannel(&'static str),
}

/// The customer-service window length.
pub const SERVICE_WINDOW: Duration = Duration::hours(24);

/// Whether free-form text may be sent now. Pure: the caller passes the clock.
pub fn within_service_window(last_inbound_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_inbound_at.is_some_and(|t| t <= now && now - t < SERVICE_WINDOW)
}

impl OutboundMessage {
    pub fn channel(&self) -> Channel {
        match self.content {
            Content::Email(_) => Channel::Email,
            Content::Sms(_) => Channel::Sms,
            Content::WhatsApp(_) => Channel::WhatsApp,
        }
    }

    pub fn email(key: Uuid, language: Language, to: EmailAddress, content: EmailContent) -> Self {
        Self {
            idempotency_key: key,
            language,
            to: Address::Email(to),
            content: Content::Email(content),
        }
    }

    pub fn sms(key: Uuid, language: Language, to: PhoneNumber, text: impl Into<String>) -> Self {
        Self {
            idempotency_key: key,
            language,
            to: Address::Phone(to),
            content: Content::Sms(SmsContent { text: text.into() }),
        }
    }

    pub fn whatsapp(
        key: Uuid,
        language: Language,
        to: PhoneNumber,
        content: WhatsAppContent,
    ) -> Self {
        Self {
            idempotency_key: key,
            language,
            to: Address::Phone(to),
            content: Content::WhatsApp(content),
        }
    }

    pub fn phone(&self) -> Result<&PhoneNumber, MessageError> {
        match &self.to {
            Address::Phone(p) => Ok(p),
            Address::Email(_) => Err(MessageError::WrongAddressKind {
                channel: self.channel().as_str(),
                expected: "phone",
            }),
        }
    }

    pub fn email_address(&self) -> Result<&EmailAddress, MessageError> {
        match &self.to {
            Address::Email(e) => Ok(e),
            Address::Phone(_) => Err(MessageError::WrongAddressKind {
                channel: self.channel().as_str(),
                expected: "email",
            }),
        }
    }

    /// Checks everything that does not need the provider. `max_sms_segments` bounds the
    /// cost of one SMS; `now` decides the WhatsApp window.
    pub fn validate(
        &self,
        now: DateTime<Utc>,
        max_sms_segments: usize,
    ) -> Result<(), MessageError> {
        match &self.content {
            Content::Email(c) => {
                self.email_address()?;
                if c.subject.trim().is_empty() {
                    return Err(MessageError::Empty("subject"));
                }
                if c.subject.contains(['\r', '\n']) {
                    return Err(MessageError::SubjectLineBreak);
                }
                if c.subject.chars().count() > 250 {
                    return Err(MessageError::TooLong {
                        field: "subject",
                        limit: 250,
                    });
                }
                if c.text.trim().is_empty() {
                    return Err(MessageError::Empty("text part"));
                }
                if c.html.trim().is_empty() {
                    return Err(MessageError::Empty("HTML part"));
                }
            }
            Content::Sms(c) => {
                self.phone()?;
                if c.text.trim().is_empty() {
                    return Err(MessageError::Empty("SMS text"));
                }
                let SegmentCount { segments, .. } = count_segments(&c.text);
                if segments > max_sms_segments {
                    return Err(MessageError::TooManySegments {
                        segments,
                        limit: max_sms_segments,
                    });
                }
            }
            Content::WhatsApp(c) => {
                self.phone()?;
                match c {
                    WhatsAppContent::Template {
                        name,
                        language_code,
                        body_parameters,
                    } => {
                        if name.trim().is_empty() {
                            return Err(MessageError::Empty("template name"));
                        }
                        if language_code.trim().is_empty() {
                            return Err(MessageError::Empty("template language code"));
                        }
                        // Meta's limit for a template body text parameter.
                        if body_parameters.iter().any(|p| p.chars().count() > 1024) {
                            return Err(MessageError::TooLong {
                                field: "template parameter",
                                limit: 1024,
                            });
                        }
                    }
                    WhatsAppContent::Text {
                        body,
                        last_inbound_at,
                    } => {
                        if body.trim().is_empty() {
                            return Err(MessageError::Empty("WhatsApp text"));
                        }
                        // Cloud API limit for a text message body.
                        if body.chars().count() > 4096 {
                            return Err(MessageError::TooLong {
                                field: "WhatsApp text",
                                limit: 4096,
                            });
                        }
                        if !within_service_window(*last_inbound_at, now) {
                            return Err(MessageError::OutsideServiceWindow);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// SMS text, or the channel error.
    pub(crate) fn sms_text(&self) -> Result<&str, MessageError> {
        match &self.content {
            Content::Sms(c) => Ok(&c.text),
            _ => Err(MessageError::WrongChannel(self.channel().as_str())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone() -> PhoneNumber {
        PhoneNumber::parse("+966501234567").unwrap()
    }

    #[test]
    fn free_text_only_inside_the_window() {
        let now = Utc::now();
        let text = |last| {
            OutboundMessage::whatsapp(
                Uuid::nil(),
                Language::Ar,
                phone(),
                WhatsAppContent::Text {
                    body: "شكراً".into(),
                    last_inbound_at: last,
                },
            )
        };
        assert_eq!(
            text(None).validate(now, 3),
            Err(MessageError::OutsideServiceWindow)
        );
        assert_eq!(
            text(Some(now - Duration::hours(24))).validate(now, 3),
            Err(MessageError::OutsideServiceWindow)
        );
        assert_eq!(
            text(Some(now - Duration::hours(23))).validate(now, 3),
            Ok(())
        );
        // A timestamp in the future is not trusted to open the window.
        assert_eq!(
            text(Some(now + Duration::hours(1))).validate(now, 3),
            Err(MessageError::OutsideServiceWindow)
        );
    }

    #[test]
    fn sms_segment_limit_and_address_kind() {
        let now = Utc::now();
        let m = OutboundMessage::sms(Uuid::nil(), Language::Ar, phone(), "ب".repeat(135));
        assert_eq!(
            m.validate(now, 2),
            Err(MessageError::TooManySegments {
                segments: 3,
                limit: 2
            })
        );
        let wrong = OutboundMessage {
            to: Address::Email(EmailAddress::parse("a@example.org").unwrap()),
            ..m
        };
        assert!(matches!(
            wrong.validate(now, 5),
            Err(MessageError::WrongAddressKind { .. })
        ));
    }

    #[test]
    fn outbox_json_round_trip_and_quiet_debug() {
        let m = OutboundMessage::whatsapp(
            Uuid::nil(),
            Language::Ar,
            phone(),
            WhatsAppContent::Template {
                name: "survey_invite".into(),
                language_code: "ar".into(),
                body_parameters: vec!["https://px.example/s/secret-token".into()],
            },
        );
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<OutboundMessage>(&json).unwrap(), m);
        let e = OutboundMessage::email(
            Uuid::nil(),
            Language::En,
            EmailAddress::parse("a@example.org").unwrap(),
            EmailContent {
                subject: "s".into(),
                html: "<p>h</p>".into(),
                text: "t".into(),
            },
        );
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<OutboundMessage>(&json).unwrap(), e);
        let dbg = format!("{m:?}");
        assert!(
            !dbg.contains("secret-token") && !dbg.contains("966"),
            "{dbg}"
        );
    }

    #[test]
    fn email_subject_header_injection_refused() {
        let m = OutboundMessage::email(
            Uuid::nil(),
            Language::En,
            EmailAddress::parse("a@example.org").unwrap(),
            EmailContent {
                subject: "Hi\r\nBcc: x@y.org".into(),
                html: "<p>x</p>".into(),
                text: "x".into(),
            },
        );
        assert_eq!(
            m.validate(Utc::now(), 1),
            Err(MessageError::SubjectLineBreak)
        );
    }
}
