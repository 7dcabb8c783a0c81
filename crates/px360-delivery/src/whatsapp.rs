//! WhatsApp Business Cloud API adapter.
//!
//! Send: `POST {base}/{version}/{phone_number_id}/messages` with `Authorization: Bearer
//! <token>` and JSON `{"messaging_product": "whatsapp", "recipient_type": "individual",
//! "to": …, "type": "template", "template": {"name", "language": {"code"}, "components":
//! [{"type": "body", "parameters": [{"type": "text", "text": …}]}]}}`; `200` with
//! `{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid…"}]}`
//! (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages,
//! https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates).
//! `biz_opaque_callback_data` carries the invitation id; Meta echoes it in status webhooks.
//! Errors: Graph API `{"error": {"message", "type", "code", "error_subcode", "error_data":
//! {"messaging_product", "details"}, "fbtrace_id"}}`
//! (https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/).

use chrono::Utc;
use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use url::Url;

use crate::config::ConfigError;
use crate::http::{self, HttpTimeouts};
use crate::message::{Channel, Content, MessageError, OutboundMessage, WhatsAppContent};
use crate::provider::{Provider, Receipt, SendError};

fn default_base() -> Url {
    Url::parse("https://graph.facebook.com").expect("static URL")
}

fn default_version() -> String {
    "v23.0".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppConfig {
    /// The business phone number's id (not the number itself).
    pub phone_number_id: String,
    /// A system-user access token with `whatsapp_business_messaging`.
    pub access_token: SecretString,
    /// Graph API version, e.g. `v23.0`.
    #[serde(default = "default_version")]
    pub api_version: String,
    #[serde(default = "default_base")]
    pub base_url: Url,
    #[serde(default)]
    pub timeouts: HttpTimeouts,
}

pub struct WhatsAppCloud {
    config: WhatsAppConfig,
    url: Url,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct SendAnswer {
    messages: Vec<SentMessage>,
}

#[derive(Deserialize)]
struct SentMessage {
    id: String,
}

#[derive(Deserialize)]
struct GraphErrorEnvelope {
    error: GraphError,
}

#[derive(Deserialize)]
struct GraphError {
    code: Option<i64>,
    message: Option<String>,
    error_data: Option<GraphErrorData>,
}

#[derive(Deserialize)]
struct GraphErrorData {
    details: Option<String>,
}

impl WhatsAppCloud {
    pub fn new(config: WhatsAppConfig) -> Result<Self, ConfigError> {
        if config.phone_number_id.is_empty()
            || !config.phone_number_id.chars().all(|c| c.is_ascii_digit())
        {
            return Err(ConfigError::Invalid(
                "whatsapp.phone_number_id must be the numeric phone number id",
            ));
        }
        let v = &config.api_version;
        if !(v.starts_with('v')
            && v.len() > 1
            && v[1..].chars().all(|c| c.is_ascii_digit() || c == '.'))
        {
            return Err(ConfigError::Invalid(
                "whatsapp.api_version must look like v23.0",
            ));
        }
        let url = config
            .base_url
            .join(&format!(
                "{}/{}/messages",
                config.api_version, config.phone_number_id
            ))
            .map_err(|_| ConfigError::Invalid("whatsapp.base_url cannot be a base URL"))?;
        let client = http::client(config.timeouts)?;
        Ok(Self {
            config,
            url,
            client,
        })
    }

    fn payload(message: &OutboundMessage) -> Result<serde_json::Value, SendError> {
        let to = message.phone()?.digits();
        let Content::WhatsApp(content) = &message.content else {
            return Err(MessageError::WrongChannel(message.channel().as_str()).into());
        };
        let opaque = message.idempotency_key.to_string();
        Ok(match content {
            WhatsAppContent::Template {
                name,
                language_code,
                body_parameters,
            } => {
                let mut template = json!({ "name": name, "language": { "code": language_code } });
                if !body_parameters.is_empty() {
                    let params: Vec<_> = body_parameters
                        .iter()
                        .map(|p| json!({ "type": "text", "text": p }))
                        .collect();
                    template["components"] = json!([{ "type": "body", "parameters": params }]);
                }
                json!({
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": to,
                    "type": "template",
                    "template": template,
                    "biz_opaque_callback_data": opaque,
                })
            }
            WhatsAppContent::Text { body, .. } => json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                "type": "text",
                "text": { "preview_url": false, "body": body },
                "biz_opaque_callback_data": opaque,
            }),
        })
    }

    async fn send_inner(&self, message: &OutboundMessage) -> Result<Receipt, SendError> {
        message.validate(Utc::now(), 1)?;
        let payload = Self::payload(message)?;
        let resp = self
            .client
            .post(self.url.clone())
            .bearer_auth(self.config.access_token.expose_secret())
            .json(&payload)
            .send()
            .await
            .map_err(|e| http::transport_error(&e))?;
        let status = resp.status().as_u16();
        let retry_after = http::retry_after_header(resp.headers());
        let bytes = http::read_body(resp).await?;
        if (200..300).contains(&status) {
            let answer: SendAnswer = serde_json::from_slice(&bytes).map_err(|_| {
                SendError::transient(
                    "WhatsApp accepted the message but its answer had no message id",
                )
            })?;
            let id = answer
                .messages
                .into_iter()
                .next()
                .map(|m| m.id)
                .ok_or_else(|| SendError::transient("WhatsApp answer listed no message"))?;
            return Ok(Receipt {
                provider_message_id: id,
            });
        }
        let err = serde_json::from_slice::<GraphErrorEnvelope>(&bytes)
            .ok()
            .map(|e| e.error);
        let code = err.as_ref().and_then(|e| e.code);
        let reason = err
            .and_then(|e| e.error_data.and_then(|d| d.details).or(e.message))
            .unwrap_or_else(|| format!("WhatsApp answered HTTP {status}"));
        Err(classify(status, code, reason, retry_after))
    }
}

/// Meta's codes, mapped for the worker.
pub(crate) fn classify(
    status: u16,
    code: Option<i64>,
    reason: String,
    retry_after: Option<std::time::Duration>,
) -> SendError {
    match code {
        // 130429 throughput, 131056 pair rate limit, 80007 WABA rate limit, 4 app rate limit.
        Some(130429 | 131056 | 80007 | 4) => SendError::RateLimited { retry_after },
        // 131026 undeliverable: not on WhatsApp, old client, or has not accepted terms.
        Some(c @ 131026) => SendError::InvalidRecipient {
            code: c.to_string(),
        },
        // 131050: the user stopped marketing messages from this business.
        Some(c @ 131050) => SendError::OptedOut {
            code: c.to_string(),
        },
        // 190 expired/invalid token, 0 auth, 3 capability, 10 / 200-299 permission,
        // 131031 account locked, 131042 payment, 132000 parameter count, 132001 template
        // missing, 132005 / 132007 / 132012 / 132015 / 132016 template not usable, 133010
        // number not registered: all operator fixes.
        Some(
            c @ (190
            | 0
            | 3
            | 10
            | 200..=299
            | 131031
            | 131042
            | 132000
            | 132001
            | 132005
            | 132007
            | 132012
            | 132015
            | 132016
            | 133010),
        ) => SendError::Configuration {
            code: c.to_string(),
            reason,
        },
        // 1 / 2 / 131000 / 131016 / 133004: Meta-side trouble, try again.
        Some(1 | 2 | 131000 | 131016 | 133004) => SendError::Transient {
            retry_after,
            reason,
        },
        // 131047 re-engagement (outside the 24 h window), 131049 ecosystem limit, 131051
        // unsupported type, 131053 media, and anything else: this message will not go.
        Some(c) => http::generic_status(status, retry_after)
            .filter(|_| status >= 500 || status == 429)
            .unwrap_or(SendError::Permanent {
                code: c.to_string(),
                reason,
            }),
        None => http::generic_status(status, retry_after).unwrap_or(SendError::Permanent {
            code: format!("http-{status}"),
            reason,
        }),
    }
}

impl Provider for WhatsAppCloud {
    fn channel(&self) -> Channel {
        Channel::WhatsApp
    }
    fn name(&self) -> &'static str {
        "whatsapp_cloud"
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
        let r = || "x".to_string();
        assert_eq!(
            classify(400, Some(130429), r(), None),
            SendError::RateLimited { retry_after: None }
        );
        assert_eq!(
            classify(400, Some(131026), r(), None),
            SendError::InvalidRecipient {
                code: "131026".into()
            }
        );
        assert!(
            matches!(classify(401, Some(190), r(), None), SendError::Configuration { code, .. } if code == "190")
        );
        assert!(
            matches!(classify(400, Some(131047), r(), None), SendError::Permanent { code, .. } if code == "131047")
        );
        assert!(matches!(
            classify(500, Some(131000), r(), None),
            SendError::Transient { .. }
        ));
        assert!(matches!(
            classify(503, None, r(), None),
            SendError::Transient { .. }
        ));
        assert!(matches!(
            classify(502, Some(999_999), r(), None),
            SendError::Transient { .. }
        ));
        assert_eq!(
            classify(429, Some(999_999), r(), None),
            SendError::RateLimited { retry_after: None }
        );
    }
}
