//! Test harness: a real database per test (SQLite in a temp dir, or a uniquely named PostgreSQL
//! database on 127.0.0.1:5432, dropped afterwards), the API and UI routers merged as the px360
//! binary serves them, on a random loopback port, and a plain HTTP client that does not follow
//! redirects (so cookies and `Location` can be checked).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use px360_api::{ApiConfig, AppState};
use px360_store::Db;
use px360_store::auth::{NewUser, hash_password, insert_user};
use px360_store::events::{Caller, Intake};
use px360_worker::queue::JobQueue;
use px360_worker::{QueueConfig, WorkerConfig};
use reqwest::header::{HeaderMap, SET_COOKIE};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

pub use px360_testkit::{ADMIN_PASSWORD, Kind, TestDb};
pub const PASSWORD: &str = "user-password-for-tests";

pub struct Opts {
    pub login_burst: u32,
}

impl Default for Opts {
    fn default() -> Self {
        Self { login_burst: 1000 }
    }
}

pub struct Ui {
    pub base: String,
    pub host: String,
    pub db: Db,
    pub jobs: JobQueue,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _tdb: TestDb,
}

/// Cookies as a browser would send them back (`name=value; …`).
#[derive(Debug, Clone, Default)]
pub struct Jar(pub HashMap<String, String>);

impl Jar {
    /// Apply a response's `Set-Cookie` headers (Max-Age=0 deletes).
    pub fn update(&mut self, h: &HeaderMap) {
        for v in h.get_all(SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (kv, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.0.remove(k.trim());
            } else {
                self.0.insert(k.trim().to_owned(), val.trim().to_owned());
            }
        }
    }

    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn without(&self, name: &str) -> Jar {
        let mut j = self.clone();
        j.0.remove(name);
        j
    }
}

impl Ui {
    pub async fn start(kind: Kind) -> Self {
        Self::start_with(kind, Opts::default()).await
    }

    /// A server whose database also holds `count` synthetic invitations (about 70 % answered)
    /// over the last `days` days, as `px360 analytics generate` writes them, with the roll-ups
    /// refreshed.
    pub async fn with_responses(kind: Kind, count: u64, days: u32, seed: u64) -> Self {
        let ui = Self::start(kind).await;
        ui.db
            .analytics_generate(&px360_store::analytics::generate::GenerateSpec {
                count,
                days,
                seed,
                end: chrono::Utc::now(),
                // The batch size only sets the transaction size, not the data.
                batch: 500,
            })
            .await
            .unwrap();
        ui.db.analytics_refresh().await.unwrap();
        ui
    }

    pub async fn start_with(kind: Kind, o: Opts) -> Self {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let tdb = TestDb::new(kind).await;
        let db = tdb.seeded().await;
        let cfg = ApiConfig {
            login_burst: o.login_burst,
            login_period: Duration::from_secs(60),
            ..ApiConfig::default()
        };
        let jobs = JobQueue::open(&tdb.url, None, QueueConfig::default())
            .await
            .unwrap();
        let st = AppState::new(db.clone(), cfg, jobs.clone()).await.unwrap();
        let app = px360_api::router(st.clone()).merge(px360_web::router(st));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Ui {
            base: format!("http://{addr}"),
            host: addr.to_string(),
            db,
            jobs,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            stop: Some(tx),
            task: Some(task),
            _tdb: tdb,
        }
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap();
        }
        self.db.pool.close().await;
        self.db.writer.close().await;
    }

    /// Run the event worker (as `px360 serve` does) until the returned sender is dropped or set.
    pub fn start_worker(&self) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(px360_worker::run(
            self.db.clone(),
            self.jobs.clone(),
            WorkerConfig::new("ui-test", self.db.backend),
            rx,
        ));
        (tx, task)
    }

    /// Poll an event until it has `want` status (or fail after ~15 s).
    pub async fn wait_status(&self, id: &str, want: &str) -> (String, i64) {
        for _ in 0..300 {
            let s = self.status(id).await;
            if s.0 == want {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "event {id} did not reach {want}: {:?}",
            self.status(id).await
        );
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The `Origin` a browser sends for a page of this server.
    pub fn origin(&self) -> String {
        self.base.clone()
    }

    pub async fn get(&self, jar: &Jar, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .header("cookie", jar.header())
            .send()
            .await
            .unwrap()
    }

    pub async fn page(&self, jar: &Jar, path: &str) -> String {
        let r = self.get(jar, path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.text().await.unwrap()
    }

    /// A form POST as a browser sends it from one of our pages.
    pub async fn post(&self, jar: &Jar, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .header("cookie", jar.header())
            .header("origin", self.origin())
            .header("sec-fetch-site", "same-origin")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, user: &str, password: &str) -> Jar {
        let r = self
            .post(
                &Jar::default(),
                "/ui/login",
                &[("username", user), ("password", password), ("next", "/ui/")],
            )
            .await;
        assert_eq!(r.status(), 303, "login {user}");
        let mut jar = Jar::default();
        jar.update(r.headers());
        assert!(jar.0.contains_key("px360_session"), "no session cookie");
        jar
    }

    pub async fn admin(&self) -> Jar {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Hospital id by code and department id by (hospital code, department code).
    pub async fn ids(&self, hospital: &str, dept: Option<&str>) -> (String, Option<String>) {
        let h: String = sqlx::query_scalar("SELECT id FROM hospitals WHERE code = $1")
            .bind(hospital)
            .fetch_one(&self.db.pool)
            .await
            .unwrap();
        let d = match dept {
            Some(d) => Some(
                sqlx::query_scalar(
                    "SELECT id FROM departments WHERE hospital_id = $1 AND code = $2",
                )
                .bind(&h)
                .bind(d)
                .fetch_one(&self.db.pool)
                .await
                .unwrap(),
            ),
            None => None,
        };
        (h, d)
    }

    /// Create an account (password [`PASSWORD`]) and return its id.
    pub async fn user(
        &self,
        username: &str,
        role: &str,
        hospital: Option<&str>,
        dept: Option<&str>,
        email: Option<&str>,
    ) -> String {
        let (h, d) = match hospital {
            Some(code) => {
                let (h, d) = self.ids(code, dept).await;
                (Some(h), d)
            }
            None => (None, None),
        };
        let u = insert_user(
            &self.db.writer,
            &NewUser {
                username: username.into(),
                display_name: format!("{username} display"),
                email: email.map(str::to_owned),
                role: px360_domain::rbac::Role::parse(role).expect("role"),
                hospital_id: h.map(|h| h.parse().expect("uuid")),
                department_id: d.map(|d| d.parse().expect("uuid")),
            },
            &hash_password(PASSWORD).unwrap(),
        )
        .await
        .unwrap();
        u.id.to_string()
    }

    /// Store an integration event for a hospital (as the intake endpoint does) and return its id.
    pub async fn event(&self, hospital: &str, code: &str, encounter: &str, mrn: &str) -> String {
        let (h, _) = self.ids(hospital, None).await;
        let key = self
            .db
            .create_api_key(&h, &format!("feed {encounter}"), &["*".into()], None)
            .await
            .unwrap();
        let ev = px360_domain::event::validate(&json!({
            "source_system": "EPIC", "event_code": code, "encounter_id": encounter, "patient_identifier": mrn,
            "payload": {"physician_licence": "GMC121", "department_code": "CARD",
                        "timestamp": "2025-03-01T10:00:00Z", "custom_fields": {"note": "custom-secret-value"}}
        }), chrono_tz::Tz::UTC)
        .unwrap();
        let caller = Caller {
            api_key_id: key.key.id.to_string(),
            hospital_id: h,
            ip: None,
            user_agent: None,
        };
        match self.db.intake_event(&caller, &ev).await.unwrap() {
            Intake::Accepted(id) => id,
            Intake::Duplicate(id) => panic!("duplicate {id}"),
        }
    }

    /// Store an event with its own payload through one API key (`key_id`, from
    /// `create_api_key`), as the intake endpoint does, and return its id.
    pub async fn event_with(
        &self,
        key_id: &str,
        hospital_id: &str,
        code: &str,
        encounter: &str,
        mut payload: serde_json::Value,
    ) -> String {
        // The contract requires the clinical time.
        if let Some(o) = payload.as_object_mut() {
            o.entry("timestamp")
                .or_insert(json!("2025-03-01T10:00:00Z"));
        }
        let ev = px360_domain::event::validate(
            &json!({"source_system": "EPIC", "event_code": code, "encounter_id": encounter,
                    "patient_identifier": "RGH-CARD-0001", "payload": payload}),
            chrono_tz::Tz::UTC,
        )
        .unwrap();
        let caller = Caller {
            api_key_id: key_id.to_owned(),
            hospital_id: hospital_id.to_owned(),
            ip: None,
            user_agent: None,
        };
        match self.db.intake_event(&caller, &ev).await.unwrap() {
            Intake::Accepted(id) => id,
            Intake::Duplicate(id) => panic!("duplicate {id}"),
        }
    }

    /// Put an event in the state the worker leaves it in after its last failed attempt.
    pub async fn park(&self, id: &str) {
        sqlx::query("UPDATE inbound_events SET status = 'parked', attempts = 5, last_error = 'stored payload: boom', next_attempt_at = NULL WHERE id = $1")
            .bind(id)
            .execute(&self.db.writer)
            .await
            .unwrap();
    }

    pub async fn status(&self, id: &str) -> (String, i64) {
        sqlx::query_as("SELECT status, attempts FROM inbound_events WHERE id = $1")
            .bind(id)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    /// Audit records with this action (and, when given, this object).
    pub async fn audits(&self, action: &str, object: Option<&str>) -> i64 {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND ($2 IS NULL OR object_id = $2)",
        )
        .bind(action)
        .bind(object)
        .fetch_one(&self.db.pool)
        .await
        .unwrap()
    }

    /// A journey instance of the OUTPATIENT_VISIT template with the given stage statuses.
    pub async fn journey(&self, hospital: &str, dept: &str, encounter: &str, statuses: &[&str]) {
        let (h, d) = self.ids(hospital, Some(dept)).await;
        let t: String =
            sqlx::query_scalar("SELECT id FROM journey_templates WHERE code = 'OUTPATIENT_VISIT'")
                .fetch_one(&self.db.pool)
                .await
                .unwrap();
        let stages: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT id, position, completing_event_code FROM stage_templates WHERE journey_template_id = $1 ORDER BY position",
        )
        .bind(&t)
        .fetch_all(&self.db.pool)
        .await
        .unwrap();
        let now = px360_store::now_ts();
        let j = px360_store::new_id();
        let done = statuses.iter().all(|s| *s != "pending");
        sqlx::query("INSERT INTO journey_instances (id, hospital_id, department_id, patient_id, patient_identifier, journey_template_id, encounter_id, status, started_at, completed_at, created_at, updated_at) VALUES ($1, $2, $3, NULL, 'RGH-CARD-0001', $4, $5, $6, $7, $8, $7, $7)")
            .bind(&j).bind(&h).bind(&d).bind(&t).bind(encounter)
            .bind(if done { "completed" } else { "active" })
            .bind(&now)
            .bind(if done { Some(now.clone()) } else { None })
            .execute(&self.db.writer).await.unwrap();
        for ((sid, pos, code), status) in stages.iter().zip(statuses) {
            sqlx::query("INSERT INTO stage_instances (id, journey_instance_id, stage_template_id, position, completing_event_code, status, completed_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
                .bind(px360_store::new_id()).bind(&j).bind(sid).bind(pos).bind(code).bind(*status)
                .bind(if *status == "completed" { Some(now.clone()) } else { None })
                .bind(&now)
                .execute(&self.db.writer).await.unwrap();
        }
    }
}

/// Every `Set-Cookie` header of a response.
pub fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The `Set-Cookie` value for cookie `name` (fails the test when absent).
pub fn cookie_named<'a>(all: &'a [String], name: &str) -> &'a str {
    all.iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {all:?}"))
}

/// `src`, `href` and `action` values of a page.
pub fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\"", "action=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].to_owned());
                rest = &rest[end..];
            }
        }
    }
    out
}

/// Does a link leave this server (absolute or protocol-relative URL)?
pub fn external(link: &str) -> bool {
    let l = link.trim().to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://") || l.starts_with("//")
}

/// Generate one `#[tokio::test]` per backend for a scenario `async fn(Kind)`.
#[macro_export]
macro_rules! both_backends {
    ($scenario:ident) => {
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario(super::common::Kind::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$scenario(super::common::Kind::Postgres).await;
            }
        }
    };
}
