//! Twilio Programmable Messaging: the SMS adapter and its status / inbound callbacks.
//!
//! Send: `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded
//! `To`, `From` (or `MessagingServiceSid`), `Body`, `StatusCallback`, HTTP basic auth
//! with the Account SID and Auth Token; `201` with the Message resource (`sid`)
//! (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource).
//! Errors: JSON `{"code", "message", "more_info", "status"}`
//! (https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions),
//! codes in https://www.twilio.com/docs/api/errors.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::address::PhoneNumber;
use crate::config::ConfigError;
use crate::http::{self, HttpTimeouts};
use crate::message::{Channel, OutboundMessage};
use crate::provider::{Provider, Receipt, SendError};
use crate::signature::{self, SignatureError};
use crate::status::{DeliveryStatus, OptOut, StatusUpdate, is_opt_out_keyword};

fn default_base() -> Url {
    Url::parse("https://api.twilio.com").expect("static URL")
}

fn default_max_segments() -> usize {
    4
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioConfig {
    pub account_sid: String,
    pub auth_token: SecretString,
    /// A Twilio number or an approved alphanumeric sender id; or set
    /// `messaging_service_sid` instead.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
    /// Our public status-callback URL; the invitation id is added as `?ref=<uuid>`.
    #[serde(default)]
    pub status_callback_url: Option<Url>,
    #[serde(default = "default_base")]
    pub base_url: Url,
    #[serde(default)]
    pub timeouts: HttpTimeouts,
    #[serde(default = "default_max_segments")]
    pub max_segments: usize,
}

pub struct TwilioSms {
    config: TwilioConfig,
    messages_url: Url,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct MessageResource {
    sid: String,
}

#[derive(Deserialize)]
struct TwilioErrorBody {
    code: Option<u32>,
    message: Option<String>,
}

impl TwilioSms {
    pub fn new(config: TwilioConfig) -> Result<Self, ConfigError> {
        if !config.account_sid.starts_with("AC")
            || !config
                .account_sid
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        {
            return Err(ConfigError::Invalid(
                "twilio.account_sid must be the AC… Account SID",
            ));
        }
        if config.from.is_none() == config.messaging_service_sid.is_none() {
            return Err(ConfigError::Invalid(
                "twilio needs exactly one of `from` and `messaging_service_sid`",
            ));
        }
        if config.max_segments == 0 {
            return Err(ConfigError::Invalid(
                "twilio.max_segments must be at least 1",
            ));
        }
        let messages_url = config
            .base_url
            .join(&format!(
                "2010-04-01/Accounts/{}/Messages.json",
                config.account_sid
            ))
            .map_err(|_| ConfigError::Invalid("twilio.base_url cannot be a base URL"))?;
        let client = http::client(config.timeouts)?;
        Ok(Self {
            config,
            messages_url,
            client,
        })
    }

    async fn send_inner(&self, message: &OutboundMessage) -> Result<Receipt, SendError> {
        message.validate(Utc::now(), self.config.max_segments)?;
        let to = message.phone()?;
        let body = message.sms_text()?;
        let mut form: Vec<(&str, String)> =
            vec![("To", to.expose().to_owned()), ("Body", body.to_owned())];
        if let Some(from) = &self.config.from {
            form.push(("From", from.clone()));
        }
        if let Some(sid) = &self.config.messaging_service_sid {
            form.push(("MessagingServiceSid", sid.clone()));
        }
        if let Some(cb) = &self.config.status_callback_url {
            let mut cb = cb.clone();
            cb.query_pairs_mut()
                .append_pair("ref", &message.idempotency_key.to_string());
            form.push(("StatusCallback", cb.into()));
        }
        let resp = self
            .client
            .post(self.messages_url.clone())
            .basic_auth(
                &self.config.account_sid,
                Some(self.config.auth_token.expose_secret()),
            )
            .form(&form)
            .send()
            .await
            .map_err(|e| http::transport_error(&e))?;
        let status = resp.status().as_u16();
        let retry_after = http::retry_after_header(resp.headers());
        let bytes = http::read_body(resp).await?;
        if (200..300).contains(&status) {
            let m: MessageResource = serde_json::from_slice(&bytes).map_err(|_| {
                SendError::transient("Twilio accepted the message but its answer had no sid")
            })?;
            return Ok(Receipt {
                provider_message_id: m.sid,
            });
        }
        let err: Option<TwilioErrorBody> = serde_json::from_slice(&bytes).ok();
        Err(classify(
            status,
            err.as_ref().and_then(|e| e.code),
            err.and_then(|e| e.message),
            retry_after,
        ))
    }
}

/// Twilio's error codes, mapped for the worker.
fn classify(
    status: u16,
    code: Option<u32>,
    message: Option<String>,
    retry_after: Option<std::time::Duration>,
) -> SendError {
    let reason = message.unwrap_or_else(|| format!("Twilio answered HTTP {status}"));
    match code {
        Some(20429) => return SendError::RateLimited { retry_after },
        // 21211 invalid 'To'; 21614 not a mobile number; 21612 cannot route to this
        // number; 21408 region not enabled for this number's country.
        Some(c @ (21211 | 21614 | 21612 | 21408)) => {
            return SendError::InvalidRecipient {
                code: c.to_string(),
            };
        }
        // 21610: the recipient replied STOP to this sender.
        Some(21610) => {
            return SendError::OptedOut {
                code: "21610".into(),
            };
        }
        // 20003 authentication; 20404 unknown account; 21212 / 21606 / 21659 bad 'From';
        // 21703 / 21704 messaging service unusable.
        Some(c @ (20003 | 20404 | 21212 | 21606 | 21659 | 21704 | 21703)) => {
            return SendError::Configuration {
                code: c.to_string(),
                reason,
            };
        }
        _ => {}
    }
    if let Some(e) = http::generic_status(status, retry_after) {
        return e;
    }
    if status == 401 || status == 403 {
        return SendError::Configuration {
            code: code.map_or(status.to_string(), |c| c.to_string()),
            reason,
        };
    }
    SendError::Permanent {
        code: code.map_or(format!("http-{status}"), |c| c.to_string()),
        reason,
    }
}

impl Provider for TwilioSms {
    fn channel(&self) -> Channel {
        Channel::Sms
    }
    fn name(&self) -> &'static str {
        "twilio"
    }
    fn send<'a>(
        &'a self,
        message: &'a OutboundMessage,
    ) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(self.send_inner(message))
    }
}

/// Errors of the Twilio callbacks, to answer with a clear 4xx.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("signature check failed: {0}")]
    Signature(#[from] SignatureError),
    #[error("the callback lacks the `{0}` parameter")]
    MissingParam(&'static str),
    #[error("the callback has too many parameters")]
    TooManyParams,
}

/// Form bodies larger than this are not Twilio callbacks.
pub const MAX_CALLBACK_PARAMS: usize = 200;

/// Decodes an `application/x-www-form-urlencoded` callback body.
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, CallbackError> {
    let mut out = Vec::new();
    for (k, v) in form_urlencoded::parse(body) {
        if out.len() == MAX_CALLBACK_PARAMS {
            return Err(CallbackError::TooManyParams);
        }
        out.push((k.into_owned(), v.into_owned()));
    }
    Ok(out)
}

fn param<'a>(params: &'a [(String, String)], name: &'static str) -> Result<&'a str, CallbackError> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
        .ok_or(CallbackError::MissingParam(name))
}

/// Verifies and parses a `StatusCallback` request. `url` must be the full public URL
/// Twilio called, query string included, exactly as configured (behind a proxy, build it
/// from the configured callback URL, not from the Host header). `Ok(None)` for statuses
/// that are not news to the invitation (`queued`, `accepted`, `sending`, `scheduled`).
pub fn status_callback(
    auth_token: &SecretString,
    url: &str,
    body: &[u8],
    signature_header: Option<&str>,
    received_at: DateTime<Utc>,
) -> Result<Option<StatusUpdate>, CallbackError> {
    let params = parse_form(body)?;
    signature::verify_twilio(
        auth_token.expose_secret().as_bytes(),
        url,
        &params,
        signature_header,
    )?;
    let sid = param(&params, "MessageSid")?;
    let status = match param(&params, "MessageStatus")? {
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        s @ ("failed" | "undelivered" | "canceled") => DeliveryStatus::Failed {
            code: param(&params, "ErrorCode").unwrap_or(s).to_owned(),
        },
        _ => return Ok(None),
    };
    Ok(Some(StatusUpdate {
        provider_message_id: sid.to_owned(),
        status,
        at: received_at,
    }))
}

/// Verifies and reads an inbound-message webhook; `Some` when the reply is an opt-out
/// keyword. Twilio also blocks the number itself on STOP (error 21610 afterwards); this
/// records the patient's choice on our side so no other provider is tried either.
pub fn inbound_opt_out(
    auth_token: &SecretString,
    url: &str,
    body: &[u8],
    signature_header: Option<&str>,
) -> Result<Option<OptOut>, CallbackError> {
    let params = parse_form(body)?;
    signature::verify_twilio(
        auth_token.expose_secret().as_bytes(),
        url,
        &params,
        signature_header,
    )?;
    let from = param(&params, "From")?;
    let text = param(&params, "Body").unwrap_or("");
    if !is_opt_out_keyword(text) {
        return Ok(None);
    }
    let (channel, number) = match from.strip_prefix("whatsapp:") {
        Some(n) => (Channel::WhatsApp, n),
        None => (Channel::Sms, from),
    };
    // A short code or alphanumeric sender cannot opt out a patient's number.
    let Ok(address) = PhoneNumber::parse(number) else {
        return Ok(None);
    };
    Ok(Some(OptOut { channel, address }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        use std::time::Duration;
        let ra = Some(Duration::from_secs(3));
        assert_eq!(
            classify(429, Some(20429), None, ra),
            SendError::RateLimited { retry_after: ra }
        );
        assert_eq!(
            classify(429, None, None, None),
            SendError::RateLimited { retry_after: None }
        );
        assert_eq!(
            classify(400, Some(21211), None, None),
            SendError::InvalidRecipient {
                code: "21211".into()
            }
        );
        assert_eq!(
            classify(400, Some(21610), None, None),
            SendError::OptedOut {
                code: "21610".into()
            }
        );
        assert!(matches!(
            classify(401, Some(20003), None, None),
            SendError::Configuration { .. }
        ));
        assert!(matches!(
            classify(503, None, None, None),
            SendError::Transient { .. }
        ));
        assert!(
            matches!(classify(400, Some(21617), None, None), SendError::Permanent { code, .. } if code == "21617")
        );
    }

    fn token() -> SecretString {
        SecretString::from("12345")
    }

    #[test]
    fn status_callback_verified_and_parsed() {
        let url = "https://px360.example.org/callbacks/twilio/status?ref=abc";
        let params: Vec<(String, String)> = [
            ("MessageSid", "SM0123"),
            ("MessageStatus", "undelivered"),
            ("ErrorCode", "30003"),
            ("AccountSid", "AC1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish();
        let sig = signature::sign_twilio(b"12345", url, &params);
        let now = Utc::now();
        let upd = status_callback(&token(), url, body.as_bytes(), Some(&sig), now)
            .unwrap()
            .unwrap();
        assert_eq!(upd.provider_message_id, "SM0123");
        assert_eq!(
            upd.status,
            DeliveryStatus::Failed {
                code: "30003".into()
            }
        );
        assert_eq!(
            status_callback(
                &token(),
                "https://evil.example/x",
                body.as_bytes(),
                Some(&sig),
                now
            ),
            Err(CallbackError::Signature(SignatureError::Mismatch))
        );
    }

    #[test]
    fn inbound_stop_in_arabic() {
        let url = "https://px360.example.org/callbacks/twilio/inbound";
        let params: Vec<(String, String)> = [
            ("From", "whatsapp:+966501234567"),
            ("Body", "إيقاف"),
            ("MessageSid", "SM1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish();
        let sig = signature::sign_twilio(b"12345", url, &params);
        let out = inbound_opt_out(&token(), url, body.as_bytes(), Some(&sig))
            .unwrap()
            .unwrap();
        assert_eq!(out.channel, Channel::WhatsApp);
        assert_eq!(out.address.expose(), "+966501234567");
    }
}
