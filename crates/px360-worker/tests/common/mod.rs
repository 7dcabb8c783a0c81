//! Shared by the survey worker tests: a loopback server speaking Twilio's Messages API, a real
//! SMTP server (aiosmtpd) with STARTTLS on loopback, the seeded database and event helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use chrono::Utc;
use px360_domain::event::{EventPayload, InboundEvent};
use px360_store::events::{Caller, Intake};
use px360_store::{Backend, Db};
use px360_worker::surveys::{SurveyConfig, SurveyWorker};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use uuid::Uuid;

pub const SID: &str = "AC0123456789abcdef0123456789abcdef";
/// Twilio answers 21211 (invalid 'To') for this number.
pub const INVALID_NUMBER: &str = "+15005550001";

// ---------------------------------------------------------------- loopback Twilio

pub type Form = Vec<(String, String)>;

#[derive(Clone, Default)]
pub struct Twilio {
    /// (path, form) of every request.
    pub got: Arc<Mutex<Vec<(String, Form)>>>,
}

impl Twilio {
    pub fn forms(&self) -> Vec<Vec<(String, String)>> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, f)| f.clone())
            .collect()
    }
}

pub async fn twilio_messages(
    State(t): State<Twilio>,
    uri: Uri,
    body: Bytes,
) -> (StatusCode, String) {
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let n = {
        let mut g = t.got.lock().unwrap();
        g.push((uri.path().to_owned(), form.clone()));
        g.len()
    };
    if uri.path() != format!("/2010-04-01/Accounts/{SID}/Messages.json") {
        return (
            StatusCode::NOT_FOUND,
            json!({"code": 20404, "message": "not found", "status": 404}).to_string(),
        );
    }
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    // Twilio's documented magic number for "invalid 'To'" (error 21211).
    if get("To").as_deref() == Some(INVALID_NUMBER) {
        return (
            StatusCode::BAD_REQUEST,
            json!({"code": 21211, "message": "The 'To' number is not a valid phone number.",
                   "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400})
            .to_string(),
        );
    }
    if get("To").is_none() || get("Body").is_none() {
        return (
            StatusCode::BAD_REQUEST,
            json!({"code": 21604, "message": "To and Body are required", "status": 400})
                .to_string(),
        );
    }
    (
        StatusCode::CREATED,
        json!({"sid": format!("SM{n:032x}"), "status": "queued", "to": get("To"), "account_sid": SID}).to_string(),
    )
}

pub async fn start_twilio() -> (Twilio, String) {
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

pub struct Smtp {
    _child: tokio::process::Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Smtp {
    pub fn received(&self) -> Vec<String> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("mail"))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        v.sort();
        v.iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

pub fn certs(dir: &Path) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        SanType,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "px360-worker test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), leaf_cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), leaf_key.serialize_pem()).unwrap();
}

/// aiosmtpd is installed by .ci/run; without it the test fails (it is the point of the test).
pub async fn start_smtp() -> Smtp {
    let dir = tempfile::tempdir().unwrap();
    certs(dir.path());
    std::fs::create_dir(dir.path().join("mail")).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../px360-delivery/tests/support/smtp_server.py");
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
    tokio::time::timeout(
        Duration::from_secs(20),
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line),
    )
    .await
    .expect("aiosmtpd started")
    .unwrap();
    let port = line
        .trim()
        .strip_prefix("PORT=")
        .and_then(|p| p.parse().ok())
        .expect("PORT=n (is aiosmtpd installed?)");
    Smtp {
        _child: child,
        port,
        dir,
    }
}

// ---------------------------------------------------------------- helpers

pub async fn setting_up(kind: Backend) -> (px360_testkit::TestDb, Db, Caller) {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let tdb = px360_testkit::TestDb::new(kind).await;
    let db = tdb.seeded().await;
    let hospital: String = sqlx::query_scalar("SELECT id FROM hospitals WHERE code = 'RGH'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let key = db
        .create_api_key(&hospital, "t", &["*".into()], None)
        .await
        .unwrap();
    let caller = Caller {
        api_key_id: key.key.id.to_string(),
        hospital_id: hospital,
        ip: None,
        user_agent: None,
    };
    (tdb, db, caller)
}

pub fn ev(source: &str, code: &str, encounter: &str, mrn: &str) -> InboundEvent {
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
pub async fn emergency_visit(db: &Db, caller: &Caller, encounter: &str, mrn: &str) {
    let events: Vec<InboundEvent> = ["ED_ARRIVAL", "ED_TRIAGE", "ED_SEEN", "ED_DEPARTURE"]
        .iter()
        .map(|c| ev("EPIC", c, encounter, mrn))
        .collect();
    apply(db, caller, &events).await;
}

pub async fn apply(db: &Db, caller: &Caller, events: &[InboundEvent]) {
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

pub async fn set_contacts(db: &Db, mrn: &str, channels: &str) -> Uuid {
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

pub fn config(smtp: &Smtp, twilio_url: &str) -> SurveyConfig {
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
pub async fn drain(w: &SurveyWorker) {
    for _ in 0..20 {
        let r = w.round().await.unwrap();
        if r == Default::default() {
            return;
        }
    }
    panic!("the survey worker kept finding work");
}

pub fn token_in(text: &str) -> String {
    let i = text.find("/s/").expect("a survey link") + 3;
    text[i..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect()
}

pub async fn phone_of(db: &Db, mrn: &str) -> String {
    let p: String = sqlx::query_scalar("SELECT phone FROM patients WHERE mrn = $1")
        .bind(mrn)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    p
}
