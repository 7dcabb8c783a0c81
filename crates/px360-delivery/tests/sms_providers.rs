//! Twilio and Unifonic adapters against loopback servers that speak each provider's
//! documented request and response shapes, including their error answers.

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use px360_delivery::twilio::{TwilioConfig, TwilioSms};
use px360_delivery::unifonic::{UnifonicConfig, UnifonicSms};
use px360_delivery::{HttpTimeouts, Language, OutboundMessage, PhoneNumber, Provider, SendError};
use secrecy::SecretString;
use serde_json::json;
use support::{FakeProvider, Recorded, Reply};
use uuid::Uuid;

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "twilio-auth-token";
const KEY: &str = "0190f1c2-0000-7000-8000-00000000b001";

fn msg(to: &str, text: &str) -> OutboundMessage {
    OutboundMessage::sms(
        Uuid::parse_str(KEY).expect("uuid"),
        Language::Ar,
        PhoneNumber::parse(to).expect("phone"),
        text,
    )
}

fn timeouts() -> HttpTimeouts {
    HttpTimeouts {
        connect: Duration::from_secs(2),
        request: Duration::from_millis(800),
    }
}

fn twilio_error(status: u16, code: u32, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status}),
    )
}

/// Twilio's Messages API as documented: basic auth with the Account SID, form fields,
/// 201 with the Message resource; error JSON otherwise. The scenario follows `To`
/// (Twilio's magic test numbers where they exist: +15005550001 invalid, +15005550004
/// blocked/opted out).
fn twilio_answer(rec: &Recorded) -> Reply {
    static N: AtomicU32 = AtomicU32::new(0);
    if rec.method != "POST" || rec.path != format!("/2010-04-01/Accounts/{SID}/Messages.json") {
        return twilio_error(404, 20404, "The requested resource was not found");
    }
    if support::basic_auth(rec) != Some((SID.to_owned(), TOKEN.to_owned())) {
        return twilio_error(401, 20003, "Authenticate");
    }
    if !rec
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        return twilio_error(400, 20001, "Invalid content type");
    }
    let form = rec.form();
    let Some(to) = form.get("To") else {
        return twilio_error(400, 21604, "A 'To' phone number is required.");
    };
    if !form.contains_key("From") && !form.contains_key("MessagingServiceSid") {
        return twilio_error(400, 21603, "A 'From' phone number is required.");
    }
    if form.get("Body").is_none_or(String::is_empty) {
        return twilio_error(400, 21602, "Message body is required.");
    }
    match to.as_str() {
        "+15005550001" => twilio_error(
            400,
            21211,
            "The 'To' number +15005550001 is not a valid phone number.",
        ),
        "+15005550004" => twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"),
        "+966500000429" => {
            twilio_error(429, 20429, "Too Many Requests").with_header("retry-after", "7")
        }
        "+966500000500" => twilio_error(500, 20500, "An internal server error has occurred"),
        "+966500000999" => Reply {
            delay: Some(Duration::from_secs(30)),
            ..twilio_error(500, 20500, "late")
        },
        _ => {
            let n = N.fetch_add(1, Ordering::Relaxed);
            Reply::json(
                201,
                json!({
                    "account_sid": SID, "api_version": "2010-04-01", "body": form["Body"],
                    "date_created": "Sun, 06 Dec 2026 10:00:00 +0000", "direction": "outbound-api",
                    "error_code": null, "error_message": null, "from": form.get("From"),
                    "messaging_service_sid": form.get("MessagingServiceSid"), "num_segments": "1",
                    "sid": format!("SM{n:032x}"), "status": "queued", "to": to,
                    "uri": format!("/2010-04-01/Accounts/{SID}/Messages/SM{n:032x}.json")
                }),
            )
        }
    }
}

fn twilio(fake: &FakeProvider) -> TwilioSms {
    TwilioSms::new(TwilioConfig {
        account_sid: SID.into(),
        auth_token: SecretString::from(TOKEN),
        from: Some("+15005550006".into()),
        messaging_service_sid: None,
        status_callback_url: Some(
            url::Url::parse("https://px360.example.org/callbacks/twilio/status").expect("url"),
        ),
        base_url: fake.base_url(),
        timeouts: timeouts(),
        max_segments: 4,
    })
    .expect("twilio")
}

#[tokio::test]
async fn twilio_sends_the_documented_request() {
    let fake = FakeProvider::start(twilio_answer).await;
    let t = twilio(&fake);
    let text = "شكراً لزيارتكم. شاركنا رأيك: https://px.example/s/tok";
    let receipt = t.send(&msg("+966501234567", text)).await.expect("sent");
    assert!(receipt.provider_message_id.starts_with("SM"), "{receipt:?}");
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    let form = reqs[0].form();
    assert_eq!(form["To"], "+966501234567");
    assert_eq!(form["From"], "+15005550006");
    assert_eq!(form["Body"], text);
    assert_eq!(
        form["StatusCallback"],
        format!("https://px360.example.org/callbacks/twilio/status?ref={KEY}")
    );
    assert_eq!(
        support::basic_auth(&reqs[0]),
        Some((SID.into(), TOKEN.into()))
    );
}

#[tokio::test]
async fn twilio_errors_are_classified() {
    let fake = FakeProvider::start(twilio_answer).await;
    let t = twilio(&fake);
    let send = |to: &'static str| {
        let t = &t;
        async move { t.send(&msg(to, "hello")).await.expect_err("error") }
    };
    assert_eq!(
        send("+15005550001").await,
        SendError::InvalidRecipient {
            code: "21211".into()
        }
    );
    assert_eq!(
        send("+15005550004").await,
        SendError::OptedOut {
            code: "21610".into()
        }
    );
    assert_eq!(
        send("+966500000429").await,
        SendError::RateLimited {
            retry_after: Some(Duration::from_secs(7))
        }
    );
    let e = send("+966500000500").await;
    assert!(matches!(e, SendError::Transient { .. }), "{e:?}");

    let wrong = TwilioSms::new(TwilioConfig {
        auth_token: SecretString::from("wrong"),
        ..twilio_config_of(&fake)
    })
    .expect("twilio");
    let e = wrong
        .send(&msg("+966501234567", "hello"))
        .await
        .expect_err("401");
    assert!(
        matches!(&e, SendError::Configuration { code, .. } if code == "20003"),
        "{e:?}"
    );
}

fn twilio_config_of(fake: &FakeProvider) -> TwilioConfig {
    TwilioConfig {
        account_sid: SID.into(),
        auth_token: SecretString::from(TOKEN),
        from: None,
        messaging_service_sid: Some("MG0123456789abcdef0123456789abcdef".into()),
        status_callback_url: None,
        base_url: fake.base_url(),
        timeouts: timeouts(),
        max_segments: 4,
    }
}

#[tokio::test]
async fn twilio_hang_times_out_and_refused_connection_is_transient() {
    let fake = FakeProvider::start(twilio_answer).await;
    let t = twilio(&fake);
    let started = std::time::Instant::now();
    let e = t
        .send(&msg("+966500000999", "hello"))
        .await
        .expect_err("timeout");
    assert!(
        matches!(&e, SendError::Transient { reason, .. } if reason.contains("timed out")),
        "{e:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    let mut c = twilio_config_of(&fake);
    c.base_url =
        url::Url::parse(&format!("http://127.0.0.1:{}/", support::refused_port())).expect("url");
    let e = TwilioSms::new(c)
        .expect("twilio")
        .send(&msg("+966501234567", "hello"))
        .await
        .expect_err("refused");
    assert!(
        matches!(&e, SendError::Transient { reason, .. } if reason.contains("connect")),
        "{e:?}"
    );
}

#[tokio::test]
async fn too_many_segments_never_reach_the_provider() {
    let fake = FakeProvider::start(twilio_answer).await;
    let e = twilio(&fake)
        .send(&msg("+966501234567", &"ب".repeat(300)))
        .await
        .expect_err("refused");
    assert!(matches!(e, SendError::Refused(_)), "{e:?}");
    assert!(fake.requests().is_empty());
}

const APP_SID: &str = "unifonic-app-sid";

/// Unifonic's `POST /rest/SMS/messages`: form fields, JSON envelope with `success`,
/// `errorCode` and `data.MessageID`; HTTP 200 even for refused messages.
fn unifonic_answer(rec: &Recorded) -> Reply {
    if rec.method != "POST" || rec.path != "/rest/SMS/messages" {
        return Reply::json(
            404,
            json!({"success": false, "message": "Not found", "errorCode": "", "data": {}}),
        );
    }
    let form = rec.form();
    if form.get("AppSid").map(String::as_str) != Some(APP_SID) {
        return Reply::json(
            401,
            json!({"success": false, "message": "Invalid AppSid", "errorCode": "", "data": {}}),
        );
    }
    let Some(recipient) = form.get("Recipient") else {
        return Reply::json(
            200,
            json!({"success": false, "message": "Missing parameter Recipient", "errorCode": "ER-02", "data": {}}),
        );
    };
    match recipient.as_str() {
        "96650000004" => Reply::json(
            200,
            json!({"success": false, "message": "Dest num is too short", "errorCode": "ER-04", "data": {}}),
        ),
        "96650000001" => Reply::json(
            200,
            json!({"success": false, "message": "No rate found or insufficient funds", "errorCode": "ER-01", "data": {}}),
        ),
        "966500000429" => Reply::json(
            429,
            json!({"success": false, "message": "Too many requests", "errorCode": "", "data": {}}),
        )
        .with_header("retry-after", "3"),
        "966500000500" => Reply {
            status: 502,
            headers: vec![],
            body: "<html>Bad gateway</html>".into(),
            delay: None,
        },
        _ => Reply::json(
            200,
            json!({"success": true, "message": "", "errorCode": "ER-00", "data": {
                "MessageID": 42000348806924u64, "CorrelationID": form.get("CorrelationID"), "Status": "Sent",
                "NumberOfUnits": 1, "Cost": 0.05, "Balance": 100, "Recipient": recipient,
                "TimeCreated": "2026-12-06 10:00:00.000", "CurrencyCode": "SAR"}}),
        ),
    }
}

fn unifonic(fake: &FakeProvider, app_sid: &str) -> UnifonicSms {
    UnifonicSms::new(UnifonicConfig {
        app_sid: SecretString::from(app_sid),
        sender_id: "KFH-PX".into(),
        base_url: fake.base_url(),
        timeouts: timeouts(),
        max_segments: 4,
        message_type: 3,
    })
    .expect("unifonic")
}

#[tokio::test]
async fn unifonic_sends_the_documented_request() {
    let fake = FakeProvider::start(unifonic_answer).await;
    let text = "شكراً لزيارتكم";
    let receipt = unifonic(&fake, APP_SID)
        .send(&msg("+966501234567", text))
        .await
        .expect("sent");
    assert_eq!(receipt.provider_message_id, "42000348806924");
    let reqs = fake.requests();
    let form = reqs[0].form();
    assert_eq!(form["AppSid"], APP_SID);
    assert_eq!(form["SenderID"], "KFH-PX");
    assert_eq!(
        form["Recipient"], "966501234567",
        "international digits without + or 00"
    );
    assert_eq!(form["Body"], text);
    assert_eq!(form["CorrelationID"], KEY);
    assert_eq!(form["responseType"], "JSON");
    assert_eq!(form["MessageType"], "3");
}

#[tokio::test]
async fn unifonic_errors_are_classified() {
    let fake = FakeProvider::start(unifonic_answer).await;
    let u = unifonic(&fake, APP_SID);
    assert_eq!(
        u.send(&msg("+96650000004", "x")).await,
        Err(SendError::InvalidRecipient {
            code: "ER-04".into()
        })
    );
    let e = u.send(&msg("+96650000001", "x")).await.expect_err("funds");
    assert!(
        matches!(&e, SendError::Configuration { code, .. } if code == "ER-01"),
        "{e:?}"
    );
    assert_eq!(
        u.send(&msg("+966500000429", "x")).await,
        Err(SendError::RateLimited {
            retry_after: Some(Duration::from_secs(3))
        })
    );
    let e = u.send(&msg("+966500000500", "x")).await.expect_err("502");
    assert!(matches!(e, SendError::Transient { .. }), "{e:?}");
    let e = unifonic(&fake, "wrong")
        .send(&msg("+966501234567", "x"))
        .await
        .expect_err("401");
    assert!(matches!(e, SendError::Configuration { .. }), "{e:?}");
}
