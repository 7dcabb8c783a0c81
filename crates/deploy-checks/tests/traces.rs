//! Logs and traces of the real binaries, end to end: an OTLP collector stand-in on loopback (a
//! real HTTP server taking OTLP/HTTP protobuf `ExportTraceServiceRequest`s at `/v1/traces`),
//! `xhuma` in sandbox mode and `px360` on SQLite exporting to it, one request each; then:
//!
//! * the answer's `X-Request-ID` names the request's root span and the captured JSON log lines
//!   of that request, which carry the same trace id as the exported spans;
//! * one trace covers the request span and (Xhuma) every upstream call it made, each a
//!   descendant of the request span, continuing the caller's W3C `traceparent`;
//! * no patient data (NHS number, names, identifiers, bodies) is in span attributes or logs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message;
use serde_json::{Value, json};

/// One exported span, flattened.
#[derive(Debug, Clone)]
struct Exported {
    service: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    name: String,
    /// Every attribute, its value as text.
    attributes: HashMap<String, String>,
}

type Received = Arc<Mutex<Vec<Exported>>>;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn text(v: Option<&AnyValue>) -> String {
    match v {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        Some(AnyValue::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

/// `POST /v1/traces`: OTLP/HTTP with a protobuf body, as opentelemetry-otlp `http-proto` sends.
async fn collect(State(received): State<Received>, body: Bytes) -> impl IntoResponse {
    let Ok(req) = ExportTraceServiceRequest::decode(body) else {
        return (StatusCode::BAD_REQUEST, Vec::new()).into_response();
    };
    let mut out = received.lock().unwrap();
    for rs in req.resource_spans {
        let service = rs
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|a| a.key == "service.name")
            .map(|a| text(a.value.as_ref().and_then(|v| v.value.as_ref())))
            .unwrap_or_default();
        for ss in rs.scope_spans {
            for s in ss.spans {
                out.push(Exported {
                    service: service.clone(),
                    trace_id: hex(&s.trace_id),
                    span_id: hex(&s.span_id),
                    parent_span_id: hex(&s.parent_span_id),
                    name: s.name,
                    attributes: s
                        .attributes
                        .iter()
                        .map(|a| {
                            (
                                a.key.clone(),
                                text(a.value.as_ref().and_then(|v| v.value.as_ref())),
                            )
                        })
                        .collect(),
                });
            }
        }
    }
    (
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        ExportTraceServiceResponse::default().encode_to_vec(),
    )
        .into_response()
}

/// The collector stand-in on a loopback port; returns its `/v1/traces` URL.
async fn collector() -> (String, Received) {
    let received = Received::default();
    let app = axum::Router::new()
        .route("/v1/traces", axum::routing::post(collect))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/v1/traces"), received)
}

/// Kills the process when the test ends, whatever happens.
struct Proc(Child, &'static str);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// Runs `cmd` with its stdout (the JSON logs) going to `log`.
    fn spawn(name: &'static str, cmd: &mut Command, log: &Path) -> Self {
        let out = std::fs::File::create(log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::null())
            .env("RUST_LOG", "info")
            // Export within a fraction of a second instead of the default 5 s.
            .env("OTEL_BSP_SCHEDULE_DELAY", "200")
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc(child, name)
    }

    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.0.try_wait() {
            panic!("{} exited early: {status}", self.1);
        }
    }
}

async fn wait_http(http: &reqwest::Client, url: &str, proc: &mut Proc) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        proc.assert_running();
        if let Ok(r) = http.get(url).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "{url} never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the collector holds the root span of the request `request_id`, then until
/// `complete` says its trace is all there; returns the trace's spans.
async fn trace_of(
    received: &Received,
    request_id: &str,
    complete: impl Fn(&[Exported]) -> bool,
) -> (Exported, Vec<Exported>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let spans = received.lock().unwrap().clone();
        if let Some(root) = spans
            .iter()
            .find(|s| s.attributes.get("request_id").map(String::as_str) == Some(request_id))
        {
            let trace: Vec<Exported> = spans
                .iter()
                .filter(|s| s.trace_id == root.trace_id)
                .cloned()
                .collect();
            if complete(&trace) {
                return (root.clone(), trace);
            }
        }
        assert!(
            Instant::now() < deadline,
            "no complete trace for request {request_id}; spans received: {:#?}",
            spans
                .iter()
                .map(|s| (&s.service, &s.name, &s.trace_id, &s.attributes))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Whether `span` descends from `root` through parent links within `trace`.
fn descends(span: &Exported, root: &Exported, trace: &[Exported]) -> bool {
    let mut parent = span.parent_span_id.clone();
    for _ in 0..32 {
        if parent == root.span_id {
            return true;
        }
        match trace.iter().find(|s| s.span_id == parent) {
            Some(p) => parent = p.parent_span_id.clone(),
            None => return false,
        }
    }
    false
}

/// The JSON log lines of `log`; each must carry the indexed fields.
fn log_lines(log: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(log).unwrap();
    // Xhuma's sandbox quick-start banner (plain text, synthetic example data) is not a log line.
    text.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            for field in ["timestamp", "level", "target"] {
                assert!(v[field].is_string(), "no {field}: {l}");
            }
            v
        })
        .collect()
}

/// The lines logged inside the request: each carries the trace id too.
fn request_lines(lines: &[Value], request_id: &str, trace_id: &str) -> usize {
    let mine: Vec<&Value> = lines
        .iter()
        .filter(|l| l["request_id"] == request_id)
        .collect();
    assert!(!mine.is_empty(), "no log line names request {request_id}");
    for l in &mine {
        assert_eq!(l["trace_id"], trace_id, "{l}");
        assert!(l["span_id"].as_str().is_some_and(|s| s.len() == 16), "{l}");
        assert!(l["message"].is_string(), "{l}");
    }
    assert!(
        mine.iter().any(|l| l["message"] == "request finished"),
        "no access line"
    );
    mine.len()
}

/// None of `secrets` (case-insensitive) in the logs or any span attribute.
fn assert_no_patient_data(log: &Path, spans: &[Exported], secrets: &[&str]) {
    let logs = std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('{'))
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase();
    for s in secrets {
        let s = s.to_lowercase();
        assert!(!logs.contains(&s), "{s} is in the logs");
        for span in spans {
            for (k, v) in &span.attributes {
                assert!(
                    !v.to_lowercase().contains(&s),
                    "{s} in span {} attribute {k}",
                    span.name
                );
            }
            assert!(!span.name.to_lowercase().contains(&s), "{s} in span name");
        }
    }
    for span in spans {
        for (k, v) in &span.attributes {
            assert!(
                !v.contains('<'),
                "markup (a body?) in {} {k}: {v}",
                span.name
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xhuma_request_is_one_trace_over_its_upstream_calls() {
    let bin = common::workspace_binary("xhuma");
    let tmp = tempfile::tempdir().unwrap();
    let (endpoint, received) = collector().await;
    let port = common::free_port();
    let log = tmp.path().join("xhuma.log");
    let mut xhuma = Proc::spawn(
        "xhuma",
        Command::new(&bin)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .current_dir(tmp.path())
            .env("XHUMA_TELEMETRY__OTLP_ENDPOINT", &endpoint),
        &log,
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    wait_http(&http, &format!("{base}/health/ready"), &mut xhuma).await;

    // ITI-55 for an embedded synthetic patient: a PDS lookup (token + PDS) in the sandbox.
    let iti55 = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../xhuma/examples/iti55-request.xml"),
    )
    .unwrap();
    let request_id = format!("otel-test-{}", uuid::Uuid::new_v4());
    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let r = http
        .post(format!("{base}/SOAP/iti55"))
        .header("content-type", "application/soap+xml; charset=UTF-8")
        .header("x-request-id", &request_id)
        .header("traceparent", format!("00-{caller_trace}-{caller_span}-01"))
        .body(iti55)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], request_id.as_str());
    let body = r.text().await.unwrap();
    assert!(body.contains("9990000018"), "the sandbox patient: {body}");

    let (root, trace) = trace_of(&received, &request_id, |t| {
        t.iter()
            .any(|s| s.attributes.get("upstream").map(String::as_str) == Some("pds"))
    })
    .await;
    // The caller's trace continues: same trace id, the caller's span is the parent.
    assert_eq!(root.service, "xhuma");
    assert_eq!(root.trace_id, caller_trace);
    assert_eq!(root.parent_span_id, caller_span);
    assert_eq!(root.name, "POST /SOAP/iti55");
    let upstream: Vec<&Exported> = trace
        .iter()
        .filter(|s| s.attributes.contains_key("upstream"))
        .collect();
    assert!(!upstream.is_empty());
    for s in &upstream {
        assert!(descends(s, &root, &trace), "{s:?} is not under the request");
    }
    // Only this request's spans are in its trace.
    assert!(
        trace
            .iter()
            .all(|s| s.span_id == root.span_id || descends(s, &root, &trace)),
        "{trace:#?}"
    );

    let lines = log_lines(&log);
    request_lines(&lines, &request_id, caller_trace);
    let all = received.lock().unwrap().clone();
    assert_no_patient_data(
        &log,
        &all,
        &["9990000018", "PEMBERTON", "19480314", "Envelope"],
    );

    // An unusable caller id (digits only: it could be an NHS number) is replaced, and a
    // 404 and a SOAP Fault carry the header too.
    let r = http
        .get(format!("{base}/no/such/9990000018"))
        .header("x-request-id", "9990000018")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    let r = http
        .post(format!("{base}/SOAP/iti55"))
        .header("content-type", "application/soap+xml; charset=UTF-8")
        .body("<not-soap")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error() || r.status().is_server_error());
    assert!(r.headers().contains_key("x-request-id"));
    assert!(r.text().await.unwrap().contains("Fault"));
    xhuma.assert_running();
}

const ADMIN_PASSWORD: &str = "traces-test-admin-password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn px360_event_post_is_traced_and_logged_by_request_id() {
    let bin = common::workspace_binary("px360");
    let tmp = tempfile::tempdir().unwrap();
    let (endpoint, received) = collector().await;
    let port = common::free_port();
    let log = tmp.path().join("px360.log");
    let mut px360 = Proc::spawn(
        "px360",
        Command::new(&bin)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .current_dir(tmp.path())
            .env("PX360_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("PX360_OTLP_ENDPOINT", &endpoint),
        &log,
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    wait_http(&http, &format!("{base}/health/"), &mut px360).await;

    let login: Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().expect("token").to_owned();
    let hospitals: Value = http
        .get(format!("{base}/api/hospitals"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rgh = hospitals
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["code"] == "RGH")
        .expect("seeded RGH")["id"]
        .clone();
    let key: Value = http
        .post(format!("{base}/api/api-keys"))
        .bearer_auth(&token)
        .json(&json!({ "hospital_id": rgh, "name": "traces test", "source_systems": ["EPIC"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api_key = key["api_key"].as_str().expect("api key").to_owned();

    // No X-Request-ID and no traceparent from this caller: both are made here.
    let r = http
        .post(format!("{base}/api/integrations/events/"))
        .header("X-API-Key", &api_key)
        .json(&json!({
            "source_system": "EPIC", "event_code": "OP_CHECKIN", "encounter_id": "ENC-TRACE-77",
            "patient_identifier": "RGH-CARD-0001",
            "payload": { "physician_licence": "GMC121", "department_code": "CARD",
                         "timestamp": "2025-03-01T10:00:00Z" }
        }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(status, 202, "{}", r.text().await.unwrap_or_default());
    assert!(uuid::Uuid::parse_str(&request_id).is_ok(), "{request_id}");

    let (root, trace) = trace_of(&received, &request_id, |_| true).await;
    assert_eq!(root.service, "px360");
    assert_eq!(root.name, "POST /api/integrations/events/");
    assert_eq!(
        root.parent_span_id, "",
        "a root span: the caller sent no trace"
    );
    assert!(
        trace
            .iter()
            .all(|s| s.span_id == root.span_id || descends(s, &root, &trace))
    );
    let lines = log_lines(&log);
    request_lines(&lines, &request_id, &root.trace_id);

    // A web page, a problem+json error and an unknown path carry a request id too.
    for (path, want) in [
        ("/", None),
        ("/api/hospitals", Some(401)),
        ("/no/such/page", Some(404)),
    ] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        if let Some(code) = want {
            assert_eq!(r.status(), code, "{path}");
        }
        assert!(r.headers().contains_key("x-request-id"), "{path}");
    }
    // A caller's well-formed id is kept.
    let r = http
        .get(format!("{base}/health/live"))
        .header("x-request-id", "lb-0123456789abcdef")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "lb-0123456789abcdef");

    let all = received.lock().unwrap().clone();
    assert_no_patient_data(
        &log,
        &all,
        &[
            "RGH-CARD-0001",
            "ENC-TRACE-77",
            ADMIN_PASSWORD,
            api_key.as_str(),
            token.as_str(),
        ],
    );
    px360.assert_running();
}
