//! WhatsApp Cloud API adapter against a loopback server speaking the Graph API's
//! documented request and response shapes, including its error envelope.

mod support;

use std::time::Duration;

use chrono::Utc;
use px360_delivery::whatsapp::{WhatsAppCloud, WhatsAppConfig};
use px360_delivery::{
    HttpTimeouts, Language, MessageError, OutboundMessage, PhoneNumber, Provider, SendError,
    WhatsAppContent,
};
use secrecy::SecretString;
use serde_json::json;
use support::{FakeProvider, Recorded, Reply};
use uuid::Uuid;

const PHONE_ID: &str = "106540352242922";
const TOKEN: &str = "EAAG-test-token";
const KEY: &str = "0190f1c2-0000-7000-8000-00000000c001";

fn graph_error(status: u16, code: i64, message: &str, details: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": {"message": message, "type": "OAuthException", "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "AbCdEfGhIjK"}}),
    )
}

fn answer(rec: &Recorded) -> Reply {
    if rec.method != "POST" || rec.path != format!("/v23.0/{PHONE_ID}/messages") {
        return graph_error(400, 100, "Unsupported post request.", "");
    }
    if rec.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
        return Reply::json(
            401,
            json!({"error": {"message": "Error validating access token: Session has expired.",
                "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "AbC"}}),
        );
    }
    let body = rec.json();
    if body["messaging_product"] != "whatsapp" || !body["to"].is_string() {
        return graph_error(
            400,
            100,
            "(#100) Invalid parameter",
            "messaging_product and to are required",
        );
    }
    match body["type"].as_str() {
        Some("template") => {
            if !body["template"]["name"].is_string()
                || !body["template"]["language"]["code"].is_string()
            {
                return graph_error(
                    400,
                    131008,
                    "(#131008) Required parameter is missing",
                    "template name and language",
                );
            }
            if body["template"]["name"] == "no_such_template" {
                return graph_error(
                    404,
                    132001,
                    "(#132001) Template name does not exist in the translation",
                    "template name (no_such_template) does not exist in ar",
                );
            }
        }
        Some("text") => {
            if !body["text"]["body"].is_string() {
                return graph_error(
                    400,
                    131008,
                    "(#131008) Required parameter is missing",
                    "text.body",
                );
            }
        }
        _ => {
            return graph_error(
                400,
                131009,
                "(#131009) Parameter value is not valid",
                "type",
            );
        }
    }
    let to = body["to"].as_str().unwrap_or_default();
    match to {
        "966500131026" => graph_error(
            400,
            131026,
            "(#131026) Message undeliverable",
            "Message Undeliverable.",
        ),
        "966500131047" => graph_error(
            400,
            131047,
            "(#131047) Re-engagement message",
            "More than 24 hours have passed since the recipient last replied to the sender number.",
        ),
        "966500130429" => graph_error(
            400,
            130429,
            "(#130429) Rate limit hit",
            "Cloud API message throughput has been reached.",
        ),
        "966500000500" => graph_error(
            500,
            131000,
            "(#131000) Something went wrong",
            "Something went wrong",
        ),
        "966500000999" => Reply {
            delay: Some(Duration::from_secs(30)),
            ..graph_error(500, 1, "late", "")
        },
        _ => Reply::json(
            200,
            json!({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": "wamid.HBgMOTY2NTAxMjM0NTY3FQIAERgSQjQ5OUZDRkY2RkU3OEM2NzE1AA==", "message_status": "accepted"}]}),
        ),
    }
}

fn adapter(fake: &FakeProvider, token: &str) -> WhatsAppCloud {
    WhatsAppCloud::new(WhatsAppConfig {
        phone_number_id: PHONE_ID.into(),
        access_token: SecretString::from(token),
        api_version: "v23.0".into(),
        base_url: fake.base_url(),
        timeouts: HttpTimeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_millis(800),
        },
    })
    .expect("whatsapp")
}

fn template(to: &str, name: &str) -> OutboundMessage {
    OutboundMessage::whatsapp(
        Uuid::parse_str(KEY).expect("uuid"),
        Language::Ar,
        PhoneNumber::parse(to).expect("phone"),
        WhatsAppContent::Template {
            name: name.into(),
            language_code: "ar".into(),
            body_parameters: vec!["سارة".into(), "https://px.example/s/tok".into()],
        },
    )
}

#[tokio::test]
async fn template_message_is_the_documented_request() {
    let fake = FakeProvider::start(answer).await;
    let receipt = adapter(&fake, TOKEN)
        .send(&template("+966501234567", "survey_invite"))
        .await
        .expect("sent");
    assert!(receipt.provider_message_id.starts_with("wamid."));
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(
        reqs[0]
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    assert_eq!(
        reqs[0].json(),
        json!({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": "966501234567",
            "type": "template",
            "template": {"name": "survey_invite", "language": {"code": "ar"},
                "components": [{"type": "body", "parameters": [
                    {"type": "text", "text": "سارة"}, {"type": "text", "text": "https://px.example/s/tok"}]}]},
            "biz_opaque_callback_data": KEY
        })
    );
}

#[tokio::test]
async fn free_text_only_inside_the_service_window() {
    let fake = FakeProvider::start(answer).await;
    let wa = adapter(&fake, TOKEN);
    let text = |last| {
        OutboundMessage::whatsapp(
            Uuid::parse_str(KEY).expect("uuid"),
            Language::En,
            PhoneNumber::parse("+966501234567").expect("phone"),
            WhatsAppContent::Text {
                body: "Thanks for your reply".into(),
                last_inbound_at: last,
            },
        )
    };
    let e = wa.send(&text(None)).await.expect_err("outside");
    assert_eq!(e, SendError::Refused(MessageError::OutsideServiceWindow));
    let e = wa
        .send(&text(Some(Utc::now() - chrono::Duration::hours(25))))
        .await
        .expect_err("outside");
    assert_eq!(e, SendError::Refused(MessageError::OutsideServiceWindow));
    assert!(fake.requests().is_empty(), "refused before calling Meta");

    wa.send(&text(Some(Utc::now() - chrono::Duration::hours(2))))
        .await
        .expect("inside the window");
    let body = fake.requests()[0].json();
    assert_eq!(body["type"], "text");
    assert_eq!(body["text"]["body"], "Thanks for your reply");
}

#[tokio::test]
async fn graph_errors_are_classified() {
    let fake = FakeProvider::start(answer).await;
    let wa = adapter(&fake, TOKEN);
    let send = |to: &'static str| {
        let wa = &wa;
        async move {
            wa.send(&template(to, "survey_invite"))
                .await
                .expect_err("error")
        }
    };
    assert_eq!(
        send("+966500131026").await,
        SendError::InvalidRecipient {
            code: "131026".into()
        }
    );
    let e = send("+966500131047").await;
    assert!(
        matches!(&e, SendError::Permanent { code, .. } if code == "131047"),
        "{e:?}"
    );
    assert_eq!(
        send("+966500130429").await,
        SendError::RateLimited { retry_after: None }
    );
    let e = send("+966500000500").await;
    assert!(matches!(e, SendError::Transient { .. }), "{e:?}");

    let e = wa
        .send(&template("+966501234567", "no_such_template"))
        .await
        .expect_err("404");
    assert!(
        matches!(&e, SendError::Configuration { code, .. } if code == "132001"),
        "{e:?}"
    );
    let e = adapter(&fake, "expired")
        .send(&template("+966501234567", "survey_invite"))
        .await
        .expect_err("401");
    assert!(
        matches!(&e, SendError::Configuration { code, .. } if code == "190"),
        "{e:?}"
    );
}

#[tokio::test]
async fn hang_times_out_and_refused_connection_is_transient() {
    let fake = FakeProvider::start(answer).await;
    let started = std::time::Instant::now();
    let e = adapter(&fake, TOKEN)
        .send(&template("+966500000999", "survey_invite"))
        .await
        .expect_err("timeout");
    assert!(
        matches!(&e, SendError::Transient { reason, .. } if reason.contains("timed out")),
        "{e:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    let wa = WhatsAppCloud::new(WhatsAppConfig {
        phone_number_id: PHONE_ID.into(),
        access_token: SecretString::from(TOKEN),
        api_version: "v23.0".into(),
        base_url: url::Url::parse(&format!("http://127.0.0.1:{}/", support::refused_port()))
            .expect("url"),
        timeouts: HttpTimeouts::default(),
    })
    .expect("whatsapp");
    let e = wa
        .send(&template("+966501234567", "survey_invite"))
        .await
        .expect_err("refused");
    assert!(matches!(e, SendError::Transient { .. }), "{e:?}");
}
