//! Operations surface: health, metrics, OpenAPI/Swagger served from the binary, rate limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{ADMIN_PASSWORD, Kind, ServerOpts, TestDb, TestServer, event, event_id};
use serde_json::{Value, json};

async fn health_metrics_docs(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (rgh, _) = s.hospital(&admin, "RGH").await;
    let key = s.api_key(&admin, &rgh, &["EPIC"]).await;
    let r = s
        .send_event(
            &key,
            &event("OP_BOOKED", "ENC-M", "RGH-CARD-0003", "CARD", "GMC121"),
        )
        .await;
    let id = event_id(r).await;
    s.wait_event(&admin, &id, "processed").await;

    // The beat runs its first slot at start.
    let mut h: Value = Value::Null;
    for _ in 0..50 {
        h = s
            .http
            .get(s.url("/health/"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if h["checks"]["scheduler"]["status"] == "ok" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(h["status"], "ok", "{h}");
    for c in ["database", "queue", "scheduler"] {
        assert_eq!(h["checks"][c]["status"], "ok", "{c}: {h}");
    }

    // The web UI is served by the same process: `/` leads a signed-out browser to the login form.
    let ui = s.http.get(s.url("/")).send().await.unwrap();
    assert_eq!(
        ui.url().path(),
        "/ui/login",
        "redirect chain ends at the login form"
    );
    assert!(ui.status().is_success());
    let page = ui.text().await.unwrap();
    assert!(
        page.contains("<form") && page.contains("password"),
        "{page}"
    );

    let m = s
        .http
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "px360_http_requests_total",
        "px360_http_request_duration_seconds_bucket",
        "px360_events_received_total",
        "px360_events_processed_total",
        "px360_event_processing_lag_seconds_bucket",
    ] {
        assert!(m.contains(name), "missing {name}");
    }
    assert!(
        m.contains("route=\"/api/integrations/events/{id}\""),
        "routes are templated, never raw ids"
    );

    let spec: Value = s
        .http
        .get(s.url("/api-docs/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/api/integrations/events/",
        "/api/auth/login",
        "/api/patients/{id}",
        "/api/employees",
        "/api/employees/{id}",
        "/api/journey-templates",
        "/api/journey-templates/{id}",
        "/api/journey-templates/{id}/stages/{stage_id}",
        "/api/users/{id}",
        "/api/hospitals/{id}",
        "/api/departments/{id}",
        "/api/physicians/{id}",
        "/health/",
    ] {
        assert!(spec["paths"].get(p).is_some(), "spec lacks {p}");
    }
    // The event contract is a typed schema, not a generic object.
    let body = &spec["components"]["schemas"]["EventBody"];
    for f in [
        "source_system",
        "event_code",
        "encounter_id",
        "patient_identifier",
    ] {
        assert!(
            body["required"].as_array().unwrap().iter().any(|r| r == f),
            "EventBody requires {f}"
        );
    }
    // The payload under either name (exactly one is sent), with examples of both.
    for f in ["payload", "payload_json"] {
        assert!(body["properties"].get(f).is_some(), "EventBody lacks {f}");
    }
    let examples = body["examples"].to_string();
    assert!(
        examples.contains("payload_json") && examples.contains("\"payload\""),
        "{examples}"
    );
    let payload = &spec["components"]["schemas"]["EventBodyPayload"]["properties"];
    for f in [
        "physician_licence",
        "department_code",
        "timestamp",
        "custom_fields",
    ] {
        assert!(payload.get(f).is_some(), "EventBodyPayload lacks {f}");
    }
    // ISO 8601, offset optional (the hospital's zone): not RFC 3339 `date-time`.
    assert!(
        payload["timestamp"]["description"]
            .as_str()
            .unwrap()
            .contains("hospital")
    );
    assert!(
        payload["timestamp"].get("example").is_some()
            || payload["timestamp"].get("examples").is_some()
    );
    assert!(
        spec["components"]["schemas"]["FieldError"]["properties"]
            .get("field")
            .is_some()
    );
    let docs = s.http.get(s.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
    let js = s
        .http
        .get(s.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        js.status(),
        200,
        "Swagger UI assets are served from the binary"
    );

    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(health_metrics_docs);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_rate_limit() {
    let tdb = TestDb::new(Kind::Sqlite).await;
    let s = TestServer::start(
        &tdb.url,
        ServerOpts {
            login_burst: 3,
            ..Default::default()
        },
    )
    .await;
    let mut codes = Vec::new();
    for _ in 0..5 {
        let r = s
            .http
            .post(s.url("/api/auth/login"))
            .json(&json!({"username": "admin", "password": "wrong"}))
            .send()
            .await
            .unwrap();
        codes.push(r.status().as_u16());
    }
    assert_eq!(codes, [401, 401, 401, 429, 429]);
    // Other endpoints are not affected by the login limiter.
    assert_eq!(
        s.http.get(s.url("/health/")).send().await.unwrap().status(),
        200
    );
    s.stop().await;
}
