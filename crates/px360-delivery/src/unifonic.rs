//! Unifonic SMS (Saudi Arabia), chosen over Taqnyat because its REST API, response shape
//! and error codes are publicly documented.
//!
//! Send: `POST {base}/rest/SMS/messages`, form-encoded `AppSid`, `SenderID`, `Recipient`
//! (international digits without `+` or `00`), `Body`, `responseType=JSON`,
//! `CorrelationID`, `async=false`; answer `{"success": true, "errorCode": "ER-00",
//! "data": {"MessageID": …, "CorrelationID": …, "Status": "Sent", …}}` or
//! `{"success": false, "message": "…", "errorCode": "ER-04", "data": {}}`
//! (https://docs.unifonic.com/reference/sms-api,
//! https://docs.unifonic.com/docs/sending-your-first-sms-via-unifonic-api).
//! Error codes: https://docs.unifonic.com/docs/understanding-reasons-of-sms-non-delivery.
//! `MessageType=3` ("Services") classifies the traffic for KSA compliance.

use chrono::Utc;
use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::config::ConfigError;
use crate::http::{self, HttpTimeouts};
use crate::message::{Channel, OutboundMessage};
use crate::provider::{Provider, Receipt, SendError};

fn default_base() -> Url {
    Url::parse("https://el.cloud.unifonic.com").expect("static URL")
}

fn default_max_segments() -> usize {
    4
}

fn default_message_type() -> u8 {
    3
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnifonicConfig {
    pub app_sid: SecretString,
    /// The registered sender name.
    pub sender_id: String,
    #[serde(default = "default_base")]
    pub base_url: Url,
    #[serde(default)]
    pub timeouts: HttpTimeouts,
    #[serde(default = "default_max_segments")]
    pub max_segments: usize,
    /// KSA message classification: 3 = services (survey invitations are service traffic).
    #[serde(default = "default_message_type")]
    pub message_type: u8,
}

pub struct UnifonicSms {
    config: UnifonicConfig,
    url: Url,
    client: reqwest::Client,
}

/// `success` is a JSON boolean on the single-send endpoint and the string "true" on the
/// bulk one; accept both.
#[derive(Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    Text(String),
}

impl Flag {
    fn is_true(&self) -> bool {
        match self {
            Self::Bool(b) => *b,
            Self::Text(s) => s.eq_ignore_ascii_case("true"),
        }
    }
}

#[derive(Deserialize)]
struct Answer {
    success: Flag,
    #[serde(default)]
    message: Option<String>,
    #[serde(rename = "errorCode", default)]
    error_code: Option<String>,
    #[serde(default)]
    data: Option<AnswerData>,
}

#[derive(Deserialize)]
struct AnswerData {
    #[serde(rename = "MessageID")]
    message_id: Option<serde_json::Value>,
}

impl UnifonicSms {
    pub fn new(config: UnifonicConfig) -> Result<Self, ConfigError> {
        if config.sender_id.trim().is_empty() {
            return Err(ConfigError::Invalid("unifonic.sender_id is empty"));
        }
        if config.max_segments == 0 {
            return Err(ConfigError::Invalid(
                "unifonic.max_segments must be at least 1",
            ));
        }
        let url = config
            .base_url
            .join("rest/SMS/messages")
            .map_err(|_| ConfigError::Invalid("unifonic.base_url cannot be a base URL"))?;
        let client = http::client(config.timeouts)?;
        Ok(Self {
            config,
            url,
            client,
        })
    }

    async fn send_inner(&self, message: &OutboundMessage) -> Result<Receipt, SendError> {
        message.validate(Utc::now(), self.config.max_segments)?;
        let to = message.phone()?;
        let body = message.sms_text()?;
        let correlation = message.idempotency_key.to_string();
        let message_type = self.config.message_type.to_string();
        let form = [
            ("AppSid", self.config.app_sid.expose_secret()),
            ("SenderID", self.config.sender_id.as_str()),
            ("Recipient", to.digits()),
            ("Body", body),
            ("responseType", "JSON"),
            ("CorrelationID", correlation.as_str()),
            ("async", "false"),
            ("MessageType", message_type.as_str()),
        ];
        let resp = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| http::transport_error(&e))?;
        let status = resp.status().as_u16();
        let retry_after = http::retry_after_header(resp.headers());
        let bytes = http::read_body(resp).await?;
        if let Some(e) = http::generic_status(status, retry_after) {
            return Err(e);
        }
        let answer: Answer = match serde_json::from_slice(&bytes) {
            Ok(a) => a,
            Err(_) if status == 401 || status == 403 => {
                return Err(SendError::Configuration {
                    code: format!("http-{status}"),
                    reason: "Unifonic refused the AppSid".into(),
                });
            }
            Err(_) => {
                return Err(SendError::Permanent {
                    code: format!("http-{status}"),
                    reason: "Unifonic answered without its JSON envelope".into(),
                });
            }
        };
        if answer.success.is_true() {
            let id = answer
                .data
                .and_then(|d| d.message_id)
                .and_then(|v| match v {
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    serde_json::Value::String(s) if !s.is_empty() => Some(s),
                    _ => None,
                })
                .ok_or_else(|| {
                    SendError::transient("Unifonic reported success without a MessageID")
                })?;
            return Ok(Receipt {
                provider_message_id: id,
            });
        }
        Err(classify(
            answer.error_code.as_deref().unwrap_or(""),
            answer
                .message
                .unwrap_or_else(|| "Unifonic refused the message".into()),
            status,
        ))
    }
}

fn classify(code: &str, reason: String, status: u16) -> SendError {
    match code {
        "ER-02" | "ER-03" | "ER-04" | "ER-05" => SendError::InvalidRecipient { code: code.into() },
        // ER-01 no rate or insufficient funds; ER-08 SenderID not registered: fixing them
        // is the operator's job, and retrying each message would only fail again.
        "ER-01" | "ER-08" => SendError::Configuration {
            code: code.into(),
            reason,
        },
        _ if status == 401 || status == 403 => SendError::Configuration {
            code: if code.is_empty() {
                format!("http-{status}")
            } else {
                code.into()
            },
            reason,
        },
        "" => SendError::Permanent {
            code: format!("http-{status}"),
            reason,
        },
        // ER-06 empty body, ER-07 filtered by the operator, ER-09 duplicate, and the rest.
        _ => SendError::Permanent {
            code: code.into(),
            reason,
        },
    }
}

impl Provider for UnifonicSms {
    fn channel(&self) -> Channel {
        Channel::Sms
    }
    fn name(&self) -> &'static str {
        "unifonic"
    }
    fn send<'a>(
        &'a self,
        message: &'a OutboundMessage,
    ) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(self.send_inner(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        assert_eq!(
            classify("ER-04", "short".into(), 200),
            SendError::InvalidRecipient {
                code: "ER-04".into()
            }
        );
        assert!(matches!(
            classify("ER-01", "funds".into(), 200),
            SendError::Configuration { .. }
        ));
        assert!(
            matches!(classify("ER-07", "filtered".into(), 200), SendError::Permanent { code, .. } if code == "ER-07")
        );
        assert!(matches!(
            classify("", "x".into(), 401),
            SendError::Configuration { .. }
        ));
    }
}
