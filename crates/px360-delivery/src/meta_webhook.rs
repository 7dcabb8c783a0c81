//! WhatsApp Cloud API webhooks: the GET verification handshake, the
//! `X-Hub-Signature-256` check, and the `messages` field payload (delivery statuses and
//! inbound replies).
//!
//! Handshake: Meta calls `GET <callback>?hub.mode=subscribe&hub.verify_token=<ours>&
//! hub.challenge=<n>` and expects the challenge echoed with 200
//! (https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests).
//! Payload: `{"object": "whatsapp_business_account", "entry": [{"id", "changes": [{"field":
//! "messages", "value": {"statuses": [{"id", "status", "timestamp", "recipient_id",
//! "errors": [{"code"}]}], "messages": [{"from", "type", "text": {"body"}}]}}]}]}`
//! (https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status/).

use aws_lc_rs::constant_time::verify_slices_are_equal;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::address::PhoneNumber;
use crate::message::Channel;
use crate::signature::{self, SignatureError};
use crate::status::{DeliveryStatus, OptOut, StatusUpdate, is_opt_out_keyword};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("signature check failed: {0}")]
    Signature(#[from] SignatureError),
    #[error("verification request is not a subscribe request")]
    NotSubscribe,
    #[error("verification token does not match")]
    BadVerifyToken,
    #[error("verification request has no usable hub.challenge")]
    BadChallenge,
    #[error("the payload is not a WhatsApp Business webhook: {0}")]
    BadPayload(String),
    #[error("the payload is larger than {0} bytes")]
    TooLarge(usize),
}

/// Meta batches at most 1000 updates per delivery; a body beyond this is not Meta's.
pub const MAX_WEBHOOK_BYTES: usize = 3 * 1024 * 1024;

/// Answers the GET handshake: returns the challenge to echo (with 200), or the error to
/// answer with 403. `query` is the decoded query string pairs.
pub fn verify_subscription<'q>(
    verify_token: &SecretString,
    query: &'q [(String, String)],
) -> Result<&'q str, WebhookError> {
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("hub.mode") != Some("subscribe") {
        return Err(WebhookError::NotSubscribe);
    }
    let given = get("hub.verify_token").ok_or(WebhookError::BadVerifyToken)?;
    verify_slices_are_equal(given.as_bytes(), verify_token.expose_secret().as_bytes())
        .map_err(|_| WebhookError::BadVerifyToken)?;
    let challenge = get("hub.challenge").ok_or(WebhookError::BadChallenge)?;
    // Echoed into our response body: keep it to what Meta sends (digits), so the endpoint
    // cannot be used to reflect arbitrary content.
    if challenge.is_empty()
        || challenge.len() > 64
        || !challenge
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(WebhookError::BadChallenge);
    }
    Ok(challenge)
}

/// What one webhook delivery told us.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WebhookEvents {
    pub statuses: Vec<StatusUpdate>,
    /// The invitation id we sent as `biz_opaque_callback_data`, per status, when present.
    pub status_refs: Vec<Option<String>>,
    pub opt_outs: Vec<OptOut>,
}

#[derive(Deserialize)]
struct Payload {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    field: String,
    value: Value,
}

#[derive(Deserialize)]
struct Value {
    #[serde(default)]
    statuses: Vec<Status>,
    #[serde(default)]
    messages: Vec<Inbound>,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    status: String,
    timestamp: String,
    #[serde(default)]
    errors: Vec<ErrorItem>,
    #[serde(default)]
    biz_opaque_callback_data: Option<String>,
}

#[derive(Deserialize)]
struct ErrorItem {
    code: i64,
}

#[derive(Deserialize)]
struct Inbound {
    from: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<TextBody>,
    #[serde(default)]
    button: Option<ButtonBody>,
}

#[derive(Deserialize)]
struct TextBody {
    body: String,
}

#[derive(Deserialize)]
struct ButtonBody {
    text: String,
}

/// Verifies the signature over the raw body, then parses it. Unknown fields, other
/// `field`s and status values we do not track are skipped, so Meta adding to the format
/// does not break delivery tracking.
pub fn parse_webhook(
    app_secret: &SecretString,
    raw_body: &[u8],
    signature_header: Option<&str>,
) -> Result<WebhookEvents, WebhookError> {
    if raw_body.len() > MAX_WEBHOOK_BYTES {
        return Err(WebhookError::TooLarge(MAX_WEBHOOK_BYTES));
    }
    signature::verify_meta(
        app_secret.expose_secret().as_bytes(),
        raw_body,
        signature_header,
    )?;
    let payload: Payload = serde_json::from_slice(raw_body).map_err(|e| {
        // serde's message names the field and position, never the values we care about.
        WebhookError::BadPayload(format!("JSON: {}", e.classify_message()))
    })?;
    if payload.object != "whatsapp_business_account" {
        return Err(WebhookError::BadPayload(format!(
            "object is `{}`",
            truncate(&payload.object)
        )));
    }
    let mut out = WebhookEvents::default();
    for change in payload.entry.into_iter().flat_map(|e| e.changes) {
        if change.field != "messages" {
            continue;
        }
        for s in change.value.statuses {
            let status = match s.status.as_str() {
                "sent" => DeliveryStatus::Sent,
                "delivered" => DeliveryStatus::Delivered,
                "read" => DeliveryStatus::Read,
                "failed" => DeliveryStatus::Failed {
                    code: s
                        .errors
                        .first()
                        .map_or_else(|| "failed".to_owned(), |e| e.code.to_string()),
                },
                _ => continue,
            };
            let at = s
                .timestamp
                .parse::<i64>()
                .ok()
                .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
                .ok_or_else(|| {
                    WebhookError::BadPayload("status timestamp is not Unix seconds".into())
                })?;
            out.statuses.push(StatusUpdate {
                provider_message_id: s.id,
                status,
                at,
            });
            out.status_refs.push(s.biz_opaque_callback_data);
        }
        for m in change.value.messages {
            let text = match (m.kind.as_str(), &m.text, &m.button) {
                ("text", Some(t), _) => t.body.as_str(),
                ("button", _, Some(b)) => b.text.as_str(),
                _ => continue,
            };
            if !is_opt_out_keyword(text) {
                continue;
            }
            // `from` is the wa_id: the number's digits without `+`.
            if let Ok(address) = PhoneNumber::parse(&format!("+{}", m.from)) {
                out.opt_outs.push(OptOut {
                    channel: Channel::WhatsApp,
                    address,
                });
            }
        }
    }
    Ok(out)
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Keeps only serde's description of a JSON error, which says what is wrong and where.
trait ClassifyMessage {
    fn classify_message(&self) -> String;
}

impl ClassifyMessage for serde_json::Error {
    fn classify_message(&self) -> String {
        format!(
            "{:?} error at line {} column {}",
            self.classify(),
            self.line(),
            self.column()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn handshake() {
        let token = SecretString::from("s3cret");
        let ok = q(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", "s3cret"),
            ("hub.challenge", "1158201444"),
        ]);
        assert_eq!(verify_subscription(&token, &ok), Ok("1158201444"));
        let bad = q(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", "nope"),
            ("hub.challenge", "1"),
        ]);
        assert_eq!(
            verify_subscription(&token, &bad),
            Err(WebhookError::BadVerifyToken)
        );
        let html = q(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", "s3cret"),
            ("hub.challenge", "<script>"),
        ]);
        assert_eq!(
            verify_subscription(&token, &html),
            Err(WebhookError::BadChallenge)
        );
        assert_eq!(
            verify_subscription(&token, &q(&[])),
            Err(WebhookError::NotSubscribe)
        );
    }

    const SAMPLE: &str = r#"{
      "object": "whatsapp_business_account",
      "entry": [{
        "id": "102290129340398",
        "changes": [{
          "field": "messages",
          "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "statuses": [
              {"id": "wamid.A", "status": "delivered", "timestamp": "1750263773", "recipient_id": "966501234567",
               "biz_opaque_callback_data": "0190f1c2-0000-7000-8000-000000000001",
               "pricing": {"billable": true, "pricing_model": "PMP", "category": "utility"}},
              {"id": "wamid.B", "status": "failed", "timestamp": "1750263774", "recipient_id": "966501234568",
               "errors": [{"code": 131026, "title": "Message undeliverable", "error_data": {"details": "x"}}]},
              {"id": "wamid.C", "status": "deleted", "timestamp": "1750263775", "recipient_id": "966501234569"}
            ],
            "contacts": [{"profile": {"name": "x"}, "wa_id": "966501234567"}],
            "messages": [
              {"from": "966501234567", "id": "wamid.D", "timestamp": "1750263776", "type": "text", "text": {"body": "إيقاف"}},
              {"from": "966501234568", "id": "wamid.E", "timestamp": "1750263777", "type": "text", "text": {"body": "thank you"}},
              {"from": "966501234569", "id": "wamid.F", "timestamp": "1750263778", "type": "button", "button": {"text": "STOP", "payload": "stop"}}
            ]
          }
        }]
      }]
    }"#;

    #[test]
    fn parses_statuses_and_opt_outs() {
        let secret = SecretString::from("app-secret");
        let sig = signature::sign_meta(b"app-secret", SAMPLE.as_bytes());
        let ev = parse_webhook(&secret, SAMPLE.as_bytes(), Some(&sig)).unwrap();
        assert_eq!(ev.statuses.len(), 2);
        assert_eq!(ev.statuses[0].status, DeliveryStatus::Delivered);
        assert_eq!(ev.statuses[0].at.timestamp(), 1_750_263_773);
        assert_eq!(
            ev.status_refs[0].as_deref(),
            Some("0190f1c2-0000-7000-8000-000000000001")
        );
        assert_eq!(
            ev.statuses[1].status,
            DeliveryStatus::Failed {
                code: "131026".into()
            }
        );
        let who: Vec<&str> = ev.opt_outs.iter().map(|o| o.address.expose()).collect();
        assert_eq!(who, ["+966501234567", "+966501234569"]);

        let tampered = SAMPLE.replace("delivered", "read");
        assert_eq!(
            parse_webhook(&secret, tampered.as_bytes(), Some(&sig)),
            Err(WebhookError::Signature(SignatureError::Mismatch))
        );
        let junk = b"not json";
        let sig = signature::sign_meta(b"app-secret", junk);
        assert!(matches!(
            parse_webhook(&secret, junk, Some(&sig)),
            Err(WebhookError::BadPayload(_))
        ));
    }
}
