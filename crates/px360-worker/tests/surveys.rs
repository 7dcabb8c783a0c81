//! The survey chain against the real parts, on SQLite and on PostgreSQL: integration events
//! complete the demo emergency journey's last stage → the worker records the send decision →
//! the outbox → an email delivered over STARTTLS to a real SMTP server on loopback (Python
//! aiosmtpd) and an SMS to a loopback HTTP server speaking Twilio's Messages API. Then: the
//! patient answers through the token (a negative answer records its domain event), a duplicate
//! completion sends nothing more, an opt-out is honoured, and a dispatcher killed between claim
//! and send neither loses nor duplicates its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use chrono::Utc;
use px360_domain::event::{EventPayload, InboundEvent};
use px360_domain::survey::response::Submission;
use px360_store::events::{Caller, Intake};
use px360_store::surveys::TokenError;
use px360_store::surveys::optouts::OptOutSource;
use px360_store::surveys::outbox::OutboxStatus;
use px360_store::surveys::{Actor, Channel};
use px360_store::{Backend, Db};
use px360_worker::surveys::{SurveyConfig, SurveyWorker};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use uuid::Uuid;

const SID: &str = "AC0123456789abcdef0123456789abcdef";

// ---------------------------------------------------------------- loopback Twilio

#[derive(Clone, Default)]
struct Twilio {
    got: Arc<Mutex<Vec<(String, Vec<(String, String)>)>>>,
}

impl Twilio {
    fn forms(&self) -> Vec<Vec<(String, String)>> {
        self.got.lock().unwrap().iter().map(|(_, f)| f.clone()).collect()
    }
}

async fn twilio_messages(State(t): State<Twilio>, uri: Uri, body: Bytes) -> (StatusCode, String) {
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let n = {
        let mut g = t.got.lock().unwrap();
        g.push((uri.path().to_owned(), form.clone()));
        g.len()
    };
    if uri.path() != format!("/2010-04-01/Accounts/{SID}/Messages.json") {
        return (StatusCode::NOT_FOUND, json!({"code": 20404, "message": "not found", "status": 404}).to_string());
    }
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if get("To").is_none() || get("Body").is_none() {
        return (StatusCode::BAD_REQUEST, json!({"code": 21604, "message": "To and Body are required", "status": 400}).to_string());
    }
    (
        StatusCode::CREATED,
        json!({"sid": format!("SM{n:032x}"), "status": "queued", "to": get("To"), "account_sid": SID}).to_string(),
    )
}

async fn start_twilio() -> (Twilio, String) {
    let t = Twilio::default();
    let app = axum::Router::new()
        .fallback(axum::routing::post(twilio_messages))
        .with_state(t.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (t, format!("http://{addr}/"))
}

// ---------------------------------------------------------------- loopback SMTP (aiosmtpd)

struct Smtp {
    _child: tokio::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Smtp {
    fn received(&self) -> Vec<String> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("mail"))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        v.sort();
        v.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }
}

fn certs(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "px360-worker test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    leaf.subject_alt_names.push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), leaf_cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), leaf_key.serialize_pem()).unwrap();
}

/// aiosmtpd is installed by .ci/run; without it the test fails (it is the point of the test).
async fn start_smtp() -> Smtp {
    let dir = tempfile::tempdir().unwrap();
    certs(dir.path());
    std::fs::create_dir(dir.path().join("mail")).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../px360-delivery/tests/support/smtp_server.py");
    let mut child = tokio::process::Command::new("python3")
        .arg(script)
        .arg(dir.path().join("server.pem"))
        .arg(dir.path().join("server.key"))
        .arg(dir.path().join("mail"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 with aiosmtpd (pip install aiosmtpd)");
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(20), BufReader::new(child.stdout.take().unwrap()).read_line(&mut line))
        .await
        .expect("aiosmtpd started")
        .unwrap();
    let port = line.trim().strip_prefix("PORT=").and_then(|p| p.parse().ok()).expect("PORT=n (is aiosmtpd installed?)");
    Smtp { _child: child, port, dir }
}

// ---------------------------------------------------------------- helpers

async fn setting_up(kind: Backend) -> (px360_testkit::TestDb, Db, Caller) {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let tdb = px360_testkit::TestDb::new(kind).await;
    let db = tdb.seeded().await;
    let hospital: String = sqlx::query_scalar("SELECT id FROM hospitals WHERE code = 'RGH'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let key = db.create_api_key(&hospital, "t", &["*".into()], None).await.unwrap();
    let caller = Caller {
        api_key_id: key.key.id.to_string(),
        hospital_id: hospital,
        ip: None,
        user_agent: None,
    };
    (tdb, db, caller)
}

fn ev(source: &str, code: &str, encounter: &str, mrn: &str) -> InboundEvent {
    InboundEvent {
        source_system: source.into(),
        event_code: code.into(),
        encounter_id: encounter.into(),
        patient_identifier: mrn.into(),
        payload: EventPayload {
            physician_licence: None,
            department_code: Some("ED".into()),
            timestamp: Utc::now(),
            custom_fields: Default::default(),
        },
    }
}

/// Post an emergency visit's four events for `mrn` and apply them.
async fn emergency_visit(db: &Db, caller: &Caller, encounter: &str, mrn: &str) {
    let events: Vec<InboundEvent> = ["ED_ARRIVAL", "ED_TRIAGE", "ED_SEEN", "ED_DEPARTURE"]
        .iter()
        .map(|c| ev("EPIC", c, encounter, mrn))
        .collect();
    apply(db, caller, &events).await;
}

async fn apply(db: &Db, caller: &Caller, events: &[InboundEvent]) {
    let items: Vec<_> = events.iter().map(|e| (caller, e)).collect();
    let ids: Vec<String> = db
        .intake_many(&items)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|i| match i {
            Intake::Accepted(id) => Some(id),
            Intake::Duplicate(_) => None,
        })
        .collect();
    db.process_events("test", &ids, None).await.unwrap();
}

async fn set_contacts(db: &Db, mrn: &str, channels: &str) -> Uuid {
    let id: String = sqlx::query_scalar("SELECT id FROM patients WHERE mrn = $1")
        .bind(mrn)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE patients SET contact_channels = $2 WHERE id = $1")
        .bind(&id)
        .bind(channels)
        .execute(&db.writer)
        .await
        .unwrap();
    Uuid::parse_str(&id).unwrap()
}

fn config(smtp: &Smtp, twilio_url: &str) -> SurveyConfig {
    let delivery = serde_json::from_value(json!({
        "email": {"provider": "smtp", "host": "localhost", "port": smtp.port,
                  "extra_root_ca_pem": smtp.dir.path().join("ca.pem"),
                  "from": "PX360 Surveys <surveys@hospital.example.sa>", "timeout_secs": 10},
        "sms": {"provider": "twilio", "account_sid": SID, "auth_token": "twilio-auth-token",
                "from": "+15005550006", "base_url": twilio_url},
    }))
    .unwrap();
    SurveyConfig {
        public_base_url: "https://px.example.org".into(),
        delivery,
        ..SurveyConfig::default()
    }
}

/// Rounds until one does nothing.
async fn drain(w: &SurveyWorker) {
    for _ in 0..20 {
        let r = w.round().await.unwrap();
        if r == Default::default() {
            return;
        }
    }
    panic!("the survey worker kept finding work");
}

fn token_in(text: &str) -> String {
    let i = text.find("/s/").expect("a survey link") + 3;
    text[i..].chars().take_while(|c| c.is_ascii_hexdigit()).collect()
}

// ---------------------------------------------------------------- the chain

async fn chain(kind: Backend) {
    let (tdb, db, caller) = setting_up(kind).await;
    let smtp = start_smtp().await;
    let (twilio, twilio_url) = start_twilio().await;
    // 0001 (English) prefers SMS; 0002 (Arabic) listed email only; 0003 SMS only, opted out.
    set_contacts(&db, "RGH-ED-0001", r#"["sms","email"]"#).await;
    set_contacts(&db, "RGH-ED-0002", r#"["email"]"#).await;
    let p3 = set_contacts(&db, "RGH-ED-0003", r#"["sms"]"#).await;
    assert!(db.survey_opt_out(&Actor::system("test"), p3, Channel::Sms, OptOutSource::Staff).await.unwrap());

    emergency_visit(&db, &caller, "enc-1", "RGH-ED-0001").await;
    emergency_visit(&db, &caller, "enc-2", "RGH-ED-0002").await;
    emergency_visit(&db, &caller, "enc-3", "RGH-ED-0003").await;
    let w = SurveyWorker::new(db.clone(), "w1", config(&smtp, &twilio_url)).unwrap();
    drain(&w).await;

    // Decisions, with their reasons.
    let page = db.survey_invitations(None, None, None, 50, true).await.unwrap();
    let skips: Vec<&str> = page
        .rows
        .iter()
        .filter(|l| l.invitation.decision == "skip")
        .map(|l| l.invitation.reason.as_str())
        .collect();
    assert_eq!(skips, vec!["opted_out"]);
    let mut sent: Vec<Channel> = page
        .rows
        .iter()
        .filter(|l| l.invitation.decision == "send")
        .filter_map(|l| l.invitation.channel)
        .collect();
    sent.sort();
    assert_eq!(sent, vec![Channel::Sms, Channel::Email]);
    // Addresses in clear for this reader, masked otherwise.
    let masked = db.survey_invitations(None, None, None, 50, false).await.unwrap();
    assert!(masked.rows.iter().filter_map(|l| l.address.as_deref()).all(|a| a.contains('…')));

    // SMS to the loopback Twilio, once, to the patient's number, with the link.
    let sms = twilio.forms();
    assert_eq!(sms.len(), 1, "one SMS");
    let get = |f: &Vec<(String, String)>, k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(get(&sms[0], "To"), phone_of(&db, "RGH-ED-0001").await);
    let sms_body = get(&sms[0], "Body");
    assert!(sms_body.contains("https://px.example.org/s/"), "{sms_body}");

    // Email over STARTTLS to the real SMTP server, once, in Arabic.
    let mails = smtp.received();
    assert_eq!(mails.len(), 1, "one email");
    assert!(mails[0].contains("X-Was-TLS: True"));
    assert!(mails[0].contains("X-Rcpt: demo.rgh.ed.2@example.org"), "{}", &mails[0][..200]);

    // The patient answers through the SMS link: partial, then a negative submission.
    let token = token_in(&sms_body);
    assert_eq!(token.len(), 64);
    let link = db.survey_by_token(&token).await.unwrap();
    assert_eq!(link.version.version, 1);
    let missing = db
        .survey_save_partial(&token, &Submission::from_pairs([("recommend", "3")]).unwrap())
        .await
        .unwrap();
    assert!(missing.contains(&"overall".to_owned()), "{missing:?}");
    let bad = db
        .survey_submit(&token, &Submission::from_pairs([("recommend", "3")]).unwrap())
        .await;
    assert!(matches!(bad, Err(px360_store::surveys::responses::AnswerError::Invalid(_))));
    let done = db
        .survey_submit(
            &token,
            &Submission::from_pairs([("recommend", "3"), ("improve", "waiting"), ("overall", "2"), ("listened", "usually")]).unwrap(),
        )
        .await
        .unwrap();
    assert!(done.negative);
    assert_eq!(done.scores.nps, Some(3));
    let again = db
        .survey_submit(&token, &Submission::from_pairs([("recommend", "9")]).unwrap())
        .await;
    assert!(matches!(again, Err(px360_store::surveys::responses::AnswerError::Token(TokenError::Used))));
    assert!(matches!(db.survey_by_token(&"0".repeat(64)).await, Err(TokenError::Unknown)));
    let events = db.survey_events(None, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].response_id, done.response_id);
    let r = db.survey_response(done.response_id).await.unwrap();
    assert!(!r.is_partial && r.is_negative && r.scores.is_some());
    // The answer stopped the reminder of that invitation.
    let inv = db.survey_invitation(link.invitation.id).await.unwrap();
    let rows = db.survey_outbox_rows(inv.id).await.unwrap();
    assert!(rows.iter().skip(1).all(|m| m.status == OutboxStatus::Cancelled), "{rows:?}");

    // A duplicate completion (the departure event again, from another source system) and a
    // replayed scan decide and send nothing more.
    apply(&db, &caller, &[ev("CERNER", "ED_DEPARTURE", "enc-1", "RGH-ED-0001")]).await;
    drain(&w).await;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM survey_invitations").fetch_one(&db.pool).await.unwrap();
    assert_eq!(n, 3);
    assert_eq!(twilio.forms().len(), 1);
    assert_eq!(smtp.received().len(), 1);

    // The unsubscribe link opts the patient out of SMS; a new visit is then skipped... by the
    // recontact window first, so check the opt-out itself.
    assert_eq!(db.survey_unsubscribe(&token).await.unwrap(), Channel::Sms);
    let p1 = link.invitation.patient_id.unwrap();
    assert_eq!(db.survey_opt_outs(p1).await.unwrap().len(), 1);

    // Every decision and opt-out is in the audit log.
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action IN ('survey.decision', 'survey.opt_out')",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(audited, 3 + 2);

    db.pool.close().await;
    db.writer.close().await;
    tdb.drop_db().await;
}

async fn phone_of(db: &Db, mrn: &str) -> String {
    let p: String = sqlx::query_scalar("SELECT phone FROM patients WHERE mrn = $1")
        .bind(mrn)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_on_sqlite() {
    chain(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_on_postgres() {
    chain(Backend::Postgres).await;
}

// ---------------------------------------------------------------- killed mid-send

/// A dispatcher that claimed a message and died before sending it: the message is sent exactly
/// once, by the next dispatcher, after the lease.
async fn killed_mid_send(kind: Backend) {
    let (tdb, db, caller) = setting_up(kind).await;
    let smtp = start_smtp().await;
    let (twilio, twilio_url) = start_twilio().await;
    set_contacts(&db, "RGH-ED-0001", r#"["sms"]"#).await;
    emergency_visit(&db, &caller, "enc-k", "RGH-ED-0001").await;
    let mut cfg = config(&smtp, &twilio_url);
    cfg.lease = Duration::from_secs(5);
    cfg.hold = Some(Duration::from_secs(30));
    let doomed = Arc::new(SurveyWorker::new(db.clone(), "doomed", cfg.clone()).unwrap());
    let task = {
        let w = doomed.clone();
        tokio::spawn(async move { w.round().await })
    };
    // Wait until it holds the claim, then kill it.
    for _ in 0..100 {
        let sending = db
            .survey_outbox_counts()
            .await
            .unwrap()
            .iter()
            .any(|(s, n)| *s == OutboxStatus::Sending && *n == 1);
        if sending {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    task.abort();
    let _ = task.await;
    assert!(twilio.forms().is_empty());
    cfg.hold = None;
    let next = SurveyWorker::new(db.clone(), "next", cfg).unwrap();
    // Within the lease nothing is taken over; after it, the message goes out once.
    drain(&next).await;
    assert!(twilio.forms().is_empty(), "taken over before the lease expired");
    tokio::time::sleep(Duration::from_millis(5200)).await;
    drain(&next).await;
    assert_eq!(twilio.forms().len(), 1);
    drain(&next).await;
    assert_eq!(twilio.forms().len(), 1);
    db.pool.close().await;
    db.writer.close().await;
    tdb.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_send_on_sqlite() {
    killed_mid_send(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_send_on_postgres() {
    killed_mid_send(Backend::Postgres).await;
}
