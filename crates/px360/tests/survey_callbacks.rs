//! The survey provider callbacks and the unsubscribe link over real HTTP, on SQLite and
//! PostgreSQL (issue 15, item 3's callbacks): Twilio status callbacks and inbound STOP with a
//! valid, a wrong and a missing `X-Twilio-Signature`; Meta's webhook verification handshake and
//! POSTs with a valid and a wrong `X-Hub-Signature-256` (statuses failed → delivered → read,
//! inbound "STOP" and "إيقاف"); the unsubscribe link through the API and the patient's page.
//!
//! The signatures are computed here from the providers' documented algorithms with aws-lc-rs
//! directly, not with the code under test: Twilio, base64(HMAC-SHA1(auth token, URL + sorted
//! name+value pairs)); Meta, "sha256=" + hex(HMAC-SHA256(app secret, raw body)).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use aws_lc_rs::hmac;
use base64::Engine;
use common::{ADMIN_PASSWORD, Kind, ServerOpts, TestDb, TestServer};
use px360_api::survey_callbacks::SurveyCallbackConfig;
use serde_json::{Value, json};

const PUBLIC: &str = "https://px.example.org";
const TWILIO_TOKEN: &str = "twilio-auth-token-for-tests";
const META_SECRET: &str = "meta-app-secret-for-tests";
const META_VERIFY: &str = "meta-verify-token-for-tests";

fn twilio_signature(url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params.to_vec();
    sorted.sort();
    let mut data = url.to_owned();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, TWILIO_TOKEN.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(hmac::sign(&key, data.as_bytes()).as_ref())
}

fn meta_signature(body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, META_SECRET.as_bytes());
    format!("sha256={}", hex::encode(hmac::sign(&key, body).as_ref()))
}

fn form(params: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// POST a Twilio callback to `path`, signed (`Some(true)`), wrongly signed (`Some(false)`) or
/// unsigned (`None`).
async fn twilio(s: &TestServer, path: &str, params: &[(&str, &str)], sign: Option<bool>) -> u16 {
    let mut req = s
        .http
        .post(s.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(params));
    match sign {
        Some(true) => {
            req = req.header(
                "x-twilio-signature",
                twilio_signature(&format!("{PUBLIC}{path}"), params),
            )
        }
        // Signed for another URL: a replay against the wrong endpoint.
        Some(false) => {
            req = req.header(
                "x-twilio-signature",
                twilio_signature("https://evil.example/x", params),
            )
        }
        None => {}
    }
    req.send().await.unwrap().status().as_u16()
}

async fn meta(s: &TestServer, body: &Value, valid: bool) -> u16 {
    let raw = serde_json::to_vec(body).unwrap();
    let sig = if valid {
        meta_signature(&raw)
    } else {
        meta_signature(b"another body")
    };
    s.http
        .post(s.url("/api/survey-callbacks/whatsapp"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(raw)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn wa_status(id: &str, status: &str) -> Value {
    let mut st = json!({"id": id, "status": status, "timestamp": "1767225600", "recipient_id": "966500000000"});
    if status == "failed" {
        st["errors"] = json!([{"code": 131026, "title": "Message undeliverable"}]);
    }
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550000000", "phone_number_id": "1"},
                  "statuses": [st]}}]}]})
}

fn wa_text(from: &str, text: &str) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550000000", "phone_number_id": "1"},
                  "contacts": [{"wa_id": from, "profile": {"name": "P"}}],
                  "messages": [{"from": from, "id": "wamid.in1", "timestamp": "1767225600", "type": "text", "text": {"body": text}}]}}]}]})
}

async fn one(s: &TestServer, sql: &str, bind: &str) -> String {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(bind.to_owned())
        .fetch_one(&s.db.pool)
        .await
        .unwrap()
}

async fn status_of(s: &TestServer, invitation: &str) -> String {
    one(
        s,
        "SELECT status FROM survey_invitations WHERE id = $1",
        invitation,
    )
    .await
}

async fn opted_out(s: &TestServer, patient: &str) -> Vec<String> {
    let mut v: Vec<String> =
        sqlx::query_scalar("SELECT channel FROM survey_optouts WHERE patient_id = $1")
            .bind(patient)
            .fetch_all(&s.db.pool)
            .await
            .unwrap();
    v.sort();
    v
}

/// Post an emergency visit for `mrn` and wait until its invitation was delivered to the local
/// outbox. Returns (invitation id, patient id, link token).
async fn visit(
    s: &TestServer,
    key: &str,
    admin: &str,
    mrn: &str,
    enc: &str,
) -> (String, String, String) {
    let now = chrono::Utc::now().to_rfc3339();
    for code in ["ED_ARRIVAL", "ED_TRIAGE", "ED_SEEN", "ED_DEPARTURE"] {
        let r = s
            .send_event(key, &json!({"source_system": "EPIC", "event_code": code, "encounter_id": enc,
                "patient_identifier": mrn, "payload": {"physician_licence": null, "department_code": "ED",
                "timestamp": now, "custom_fields": {}}}))
            .await;
        assert_eq!(r.status(), 202, "{code}");
    }
    let patient = one(s, "SELECT id FROM patients WHERE mrn = $1", mrn).await;
    for _ in 0..300 {
        let list: Value = s
            .get(admin, "/api/survey-invitations")
            .await
            .json()
            .await
            .unwrap();
        if let Some(i) = list
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["patient_id"] == patient.as_str() && i["status"] == "sent")
        {
            let id = i["id"].as_str().unwrap().to_owned();
            let link = one(s, "SELECT l.link FROM survey_local_outbox l JOIN survey_outbox o ON o.id = l.outbox_id WHERE o.invitation_id = $1", &id).await;
            let token = link.rsplit('/').next().unwrap().to_owned();
            return (id, patient, token);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no invitation sent for {mrn}");
}

/// As if the provider had accepted the message: its id is what the callbacks name.
async fn provider_id(s: &TestServer, invitation: &str, provider: &str, id: &str) {
    sqlx::query("UPDATE survey_outbox SET provider = $2, provider_message_id = $3 WHERE invitation_id = $1 AND seq = 0")
        .bind(invitation)
        .bind(provider)
        .bind(id)
        .execute(&s.db.writer)
        .await
        .unwrap();
}

async fn callbacks(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(
        &tdb.url,
        ServerOpts {
            beat: false,
            surveys: SurveyCallbackConfig {
                public_base_url: PUBLIC.into(),
                twilio_auth_token: Some(TWILIO_TOKEN.to_owned().into()),
                meta_app_secret: Some(META_SECRET.to_owned().into()),
                meta_verify_token: Some(META_VERIFY.to_owned().into()),
            },
            ..Default::default()
        },
    )
    .await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (rgh, _) = s.hospital(&admin, "RGH").await;
    let key = s.api_key(&admin, &rgh, &["EPIC"]).await;
    for (mrn, channels) in [
        ("RGH-ED-0001", r#"["sms"]"#),
        ("RGH-ED-0002", r#"["whatsapp"]"#),
    ] {
        sqlx::query("UPDATE patients SET contact_channels = $2 WHERE mrn = $1")
            .bind(mrn)
            .bind(channels)
            .execute(&s.db.writer)
            .await
            .unwrap();
    }
    let (inv1, p1, _) = visit(&s, &key, &admin, "RGH-ED-0001", "enc-cb-1").await;
    let (inv2, p2, token2) = visit(&s, &key, &admin, "RGH-ED-0002", "enc-cb-2").await;
    let sid = "SM0123456789abcdef0123456789abcdef";
    let wamid = "wamid.HBgMOTY2NTAwMDAwMDAwFQIAERgSQUFBQUFBQUFBQUFBQUFBQQA=";
    provider_id(&s, &inv1, "twilio", sid).await;
    provider_id(&s, &inv2, "whatsapp_cloud", wamid).await;

    // ---- Item 8: the address each invitation went to, masked below PX Coordinator.
    let (_, depts) = s.hospital(&admin, "RGH").await;
    for (u, role, dept) in [
        ("cb_staff", "staff", Some(depts["ED"].clone())),
        ("cb_coord", "px_coordinator", None),
    ] {
        let r = s
            .post(
                &admin,
                "/api/users",
                json!({"username": u, "display_name": u, "password": "correct horse battery",
                "role": role, "hospital_id": rgh, "department_id": dept}),
            )
            .await;
        assert_eq!(r.status(), 201, "{u}");
        let tok = s.token(u, "correct horse battery").await;
        let list: Value = s
            .get(&tok, "/api/survey-invitations")
            .await
            .json()
            .await
            .unwrap();
        let addresses: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i["address"].as_str())
            .collect();
        assert_eq!(addresses.len(), 2, "{u}: {list}");
        assert!(
            addresses
                .iter()
                .all(|a| a.contains('…') == (role == "staff")),
            "{u}: {addresses:?}"
        );
        // The local outbox (live links) is PX Coordinator and up.
        let outbox = s.get(&tok, "/api/survey-local-outbox").await.status();
        assert_eq!(outbox.as_u16(), if role == "staff" { 403 } else { 200 });
    }

    // ---- Twilio status callbacks
    const STATUS: &str = "/api/survey-callbacks/twilio/status";
    let delivered = [
        ("AccountSid", "AC0123"),
        ("MessageSid", sid),
        ("MessageStatus", "delivered"),
    ];
    assert_eq!(twilio(&s, STATUS, &delivered, Some(false)).await, 403);
    assert_eq!(twilio(&s, STATUS, &delivered, None).await, 403);
    assert_eq!(
        status_of(&s, &inv1).await,
        "sent",
        "a refused callback changes nothing"
    );
    assert_eq!(twilio(&s, STATUS, &delivered, Some(true)).await, 204);
    assert_eq!(status_of(&s, &inv1).await, "delivered");
    let read = [
        ("AccountSid", "AC0123"),
        ("MessageSid", sid),
        ("MessageStatus", "read"),
    ];
    assert_eq!(twilio(&s, STATUS, &read, Some(true)).await, 204);
    assert_eq!(status_of(&s, &inv1).await, "read");
    // Statuses only move forward: a late failure after "read" changes nothing.
    let failed = [
        ("AccountSid", "AC0123"),
        ("ErrorCode", "30003"),
        ("MessageSid", sid),
        ("MessageStatus", "failed"),
    ];
    assert_eq!(twilio(&s, STATUS, &failed, Some(true)).await, 204);
    assert_eq!(status_of(&s, &inv1).await, "read");

    // ---- Twilio inbound STOP
    const INBOUND: &str = "/api/survey-callbacks/twilio/inbound";
    let phone1 = one(&s, "SELECT phone FROM patients WHERE id = $1", &p1).await;
    let stop = [
        ("Body", "STOP"),
        ("From", phone1.as_str()),
        ("MessageSid", "SMin1"),
        ("To", "+15005550006"),
    ];
    assert_eq!(twilio(&s, INBOUND, &stop, Some(false)).await, 403);
    assert!(
        opted_out(&s, &p1).await.is_empty(),
        "a forged STOP opts nobody out"
    );
    let hello = [
        ("Body", "thanks!"),
        ("From", phone1.as_str()),
        ("MessageSid", "SMin0"),
        ("To", "+15005550006"),
    ];
    assert_eq!(twilio(&s, INBOUND, &hello, Some(true)).await, 204);
    assert!(opted_out(&s, &p1).await.is_empty(), "not a keyword");
    assert_eq!(twilio(&s, INBOUND, &stop, Some(true)).await, 204);
    assert_eq!(opted_out(&s, &p1).await, ["sms"]);

    // ---- Meta: subscription handshake
    let verify = |token: &str| {
        s.url(&format!("/api/survey-callbacks/whatsapp?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"))
    };
    let r = s.http.get(verify(META_VERIFY)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "1158201444");
    let r = s.http.get(verify("wrong-token")).send().await.unwrap();
    assert_eq!(r.status(), 403);

    // ---- Meta: statuses
    assert_eq!(meta(&s, &wa_status(wamid, "delivered"), false).await, 403);
    assert_eq!(status_of(&s, &inv2).await, "sent");
    assert_eq!(meta(&s, &wa_status(wamid, "failed"), true).await, 204);
    assert_eq!(status_of(&s, &inv2).await, "failed");
    // A delivery report after a failure report wins (the failure was about an attempt).
    assert_eq!(meta(&s, &wa_status(wamid, "delivered"), true).await, 204);
    assert_eq!(status_of(&s, &inv2).await, "delivered");
    assert_eq!(meta(&s, &wa_status(wamid, "read"), true).await, 204);
    assert_eq!(status_of(&s, &inv2).await, "read");

    // ---- Meta: inbound STOP in Arabic and English (WhatsApp sends numbers without "+")
    let phone2 = one(&s, "SELECT phone FROM patients WHERE id = $1", &p2).await;
    let digits2: String = phone2.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(meta(&s, &wa_text(&digits2, "إيقاف"), false).await, 403);
    assert!(opted_out(&s, &p2).await.is_empty());
    assert_eq!(meta(&s, &wa_text(&digits2, "إيقاف"), true).await, 204);
    assert_eq!(opted_out(&s, &p2).await, ["whatsapp"]);
    let digits1: String = phone1.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(meta(&s, &wa_text(&digits1, "STOP"), true).await, 204);
    assert_eq!(opted_out(&s, &p1).await, ["sms", "whatsapp"]);

    // ---- The unsubscribe link: API, then the patient's page (no JavaScript, same-origin POST)
    let r = s
        .http
        .post(s.url(&format!("/api/survey-links/{}/unsubscribe", "0".repeat(64))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    sqlx::query("DELETE FROM survey_optouts WHERE patient_id = $1")
        .bind(&p2)
        .execute(&s.db.writer)
        .await
        .unwrap();
    let page = s
        .http
        .get(s.url(&format!("/s/{token2}/unsubscribe")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("action=\"/s/{token2}/unsubscribe\"")),
        "{html}"
    );
    assert!(opted_out(&s, &p2).await.is_empty(), "a GET changes nothing");
    // Cross-site POST: refused, nothing recorded.
    let r = s
        .http
        .post(s.url(&format!("/s/{token2}/unsubscribe")))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(opted_out(&s, &p2).await.is_empty());
    let r = s
        .http
        .post(s.url(&format!("/s/{token2}/unsubscribe")))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(opted_out(&s, &p2).await, ["whatsapp"]);
    let r = s
        .http
        .post(s.url(&format!("/api/survey-links/{token2}/unsubscribe")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["channel"], "whatsapp");
    let r = s
        .http
        .get(s.url(&format!("/s/{}/unsubscribe", "f".repeat(64))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Every opt-out is audited, with who asked.
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT actor_type, changes FROM audit_log WHERE action = 'survey.opt_out' ORDER BY seq",
    )
    .fetch_all(&s.db.pool)
    .await
    .unwrap();
    let opt_outs: Vec<(String, String)> = rows
        .into_iter()
        .map(|(actor, changes)| {
            let c: Value = serde_json::from_str(&changes).unwrap();
            (actor, c["source"].as_str().unwrap_or("").to_owned())
        })
        .collect();
    assert!(
        opt_outs.contains(&("provider".into(), "stop_reply".into())),
        "{opt_outs:?}"
    );
    assert!(
        opt_outs.contains(&("patient".into(), "unsubscribe_link".into())),
        "{opt_outs:?}"
    );
    assert_eq!(opt_outs.len(), 4, "{opt_outs:?}");
    s.db.verify_audit_chain().await.unwrap();

    // The link pages share the survey page's per-address limit: a burst, then 429 with a page.
    let mut limited = false;
    for _ in 0..80 {
        let r = s
            .http
            .get(s.url(&format!("/s/{token2}/unsubscribe")))
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "the unsubscribe page is rate-limited");

    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(callbacks);
