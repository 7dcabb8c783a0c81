//! Test support: a loopback HTTP server that records every request and answers through a
//! provider-specific function, and the missing-tool rule (loud skip locally, failure
//! under CI=true).

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// What the fake provider received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn form(&self) -> HashMap<String, String> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

/// The fake provider's answer.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    /// Sleep before answering (a provider that hangs).
    pub delay: Option<Duration>,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_string(),
            delay: None,
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

type Answer = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

#[derive(Clone)]
struct AppState {
    log: Arc<Mutex<Vec<Recorded>>>,
    answer: Answer,
}

pub struct FakeProvider {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeProvider {
    pub async fn start(answer: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let log = Arc::new(Mutex::new(Vec::new()));
        let state = AppState {
            log: log.clone(),
            answer: Arc::new(answer),
        };
        let app = axum::Router::new().fallback(handle).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake provider serves");
        });
        Self { addr, log, task }
    }

    pub fn base_url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}/", self.addr)).expect("url")
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().expect("log").clone()
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rec = Recorded {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers: headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        body: body.to_vec(),
    };
    state.log.lock().expect("log").push(rec.clone());
    let reply = (state.answer)(&rec);
    if let Some(d) = reply.delay {
        tokio::time::sleep(d).await;
    }
    let mut resp = (
        StatusCode::from_u16(reply.status).expect("status"),
        reply.body,
    )
        .into_response();
    for (k, v) in reply.headers {
        resp.headers_mut()
            .insert(k, v.parse().expect("header value"));
    }
    resp
}

/// A loopback port with nothing listening on it.
pub fn refused_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    port
}

pub fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The missing-tool rule: fail under CI, skip loudly elsewhere. Returns whether to go on.
#[track_caller]
pub fn tool_available(tool: &str, available: bool) -> bool {
    if available {
        return true;
    }
    assert!(
        !on_ci(),
        "test tool `{tool}` is missing and CI=true: install it (see .ci/run)"
    );
    eprintln!(
        "\n\x1b[1;33m!!! SKIPPED: `{tool}` is not installed (pip install aiosmtpd, or run .ci/run) !!!\x1b[0m\n"
    );
    false
}

/// Decodes HTTP basic auth.
pub fn basic_auth(rec: &Recorded) -> Option<(String, String)> {
    use base64::Engine;
    let v = rec.header("authorization")?.strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD.decode(v).ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}
