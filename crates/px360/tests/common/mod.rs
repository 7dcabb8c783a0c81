//! Test harness: a real database per test (SQLite in a temp dir, or a uniquely named PostgreSQL
//! database on 127.0.0.1:5432 dropped afterwards) and the real server on a random loopback port.
#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used)]

use px360_store::Db;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::oneshot;

pub use px360_testkit::http::{Api, event_id, field_names};
pub use px360_testkit::{ADMIN_PASSWORD, Kind, TestDb};

pub struct TestServer {
    pub base: String,
    pub db: Db,
    /// The server's job queue (tests run extra workers and the sweeper on it).
    pub jobs: px360_worker::queue::JobQueue,
    pub http: reqwest::Client,
    /// JSON request helpers (bearer token, test `User-Agent`).
    pub api: Api,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub struct ServerOpts {
    pub worker: bool,
    pub beat: bool,
    pub login_burst: u32,
    /// `--trusted-proxies` (comma-separated CIDRs; empty: none).
    pub trusted_proxies: String,
    /// Survey provider callback secrets and public URL (default: callbacks off).
    pub surveys: px360_api::survey_callbacks::SurveyCallbackConfig,
}

impl Default for ServerOpts {
    fn default() -> Self {
        Self {
            worker: true,
            beat: true,
            login_burst: 10_000,
            trusted_proxies: String::new(),
            surveys: Default::default(),
        }
    }
}

impl TestServer {
    pub async fn start(url: &str, o: ServerOpts) -> Self {
        service_kit::crypto::install_default_provider();
        let db = Db::connect(url).await.unwrap();
        db.seed_demo(Some(ADMIN_PASSWORD)).await.unwrap();
        let mut opts = px360::Options::new("test");
        opts.run_beat = o.beat;
        opts.worker_concurrency = Some(if o.worker { 2 } else { 0 });
        opts.api.login_burst = o.login_burst;
        opts.api.login_period = Duration::from_secs(60);
        opts.api.trusted_proxies =
            px360_api::client_ip::TrustedProxies::parse(&o.trusted_proxies).unwrap();
        opts.api.surveys = o.surveys.clone();
        let jobs = px360::open_jobs(url, &opts).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(px360::serve(
            db.clone(),
            jobs.clone(),
            opts,
            listener,
            async move {
                let _ = rx.await;
            },
        ));
        TestServer {
            api: Api::new(base.clone()),
            base,
            db,
            jobs,
            http: reqwest::Client::new(),
            stop: Some(tx),
            task: Some(task),
        }
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
        self.db.pool.close().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn login(&self, user: &str, password: &str) -> Value {
        self.api.login(user, password).await
    }

    pub async fn token(&self, user: &str, password: &str) -> String {
        self.api.token(user, password).await
    }

    pub async fn send(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: impl Into<Option<Value>>,
    ) -> reqwest::Response {
        self.api.send(token, method, path, body).await
    }

    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.api.get(token, path).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> reqwest::Response {
        self.api.post(token, path, body).await
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> reqwest::Response {
        self.api.patch(token, path, body).await
    }

    pub async fn delete(&self, token: &str, path: &str) -> reqwest::Response {
        self.api.delete(token, path).await
    }

    /// Hospital id, and department ids by code, of a seeded hospital.
    pub async fn hospital(
        &self,
        admin: &str,
        code: &str,
    ) -> (String, std::collections::HashMap<String, String>) {
        let hs: Value = self
            .get(admin, "/api/hospitals")
            .await
            .json()
            .await
            .unwrap();
        let h = hs
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["code"] == code)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let ds: Value = self
            .get(admin, "/api/departments")
            .await
            .json()
            .await
            .unwrap();
        let depts = ds
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["hospital_id"] == h.as_str())
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_owned(),
                    d["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        (h, depts)
    }

    pub async fn api_key(&self, admin: &str, hospital: &str, systems: &[&str]) -> String {
        let r = self
            .post(
                admin,
                "/api/api-keys",
                json!({"hospital_id": hospital, "name": "test feed", "source_systems": systems}),
            )
            .await;
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["api_key"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn send_event(&self, key: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url("/api/integrations/events/"))
            .header("X-API-Key", key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Poll an event's status until it leaves `received` (or time out).
    pub async fn wait_event(&self, token: &str, id: &str, want: &str) -> Value {
        for _ in 0..300 {
            let e: Value = self
                .get(token, &format!("/api/integrations/events/{id}"))
                .await
                .json()
                .await
                .unwrap();
            if e["status"] == want {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("event {id} did not reach {want}");
    }
}

pub fn event(code: &str, encounter: &str, mrn: &str, dept: &str, licence: &str) -> Value {
    json!({
        "source_system": "EPIC", "event_code": code, "encounter_id": encounter, "patient_identifier": mrn,
        "payload": {"physician_licence": licence, "department_code": dept, "timestamp": "2025-03-01T10:00:00Z",
                    "custom_fields": {"clinic": "A"}}
    })
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
