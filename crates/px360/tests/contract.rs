//! Issue 14 on SQLite and PostgreSQL: the design's event contract (`payload_json`, offset-less
//! timestamps in the hospital's zone), clinical times on journeys and stages next to the
//! recorded times, deletes with dependents (409 naming them, or the deliberate cascades), and
//! self-service (own display name and password; self-deactivation 409).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{ADMIN_PASSWORD, Kind, ServerOpts, TestDb, TestServer, event_id, field_names};
use serde_json::{Value, json};

fn design_event(code: &str, encounter: &str, payload_json: Value) -> Value {
    json!({"source_system": "HIS", "event_code": code, "encounter_id": encounter,
           "patient_identifier": "RGH-CARD-0001", "payload_json": payload_json})
}

async fn journey(s: &TestServer, tok: &str, encounter: &str) -> Value {
    let js: Value = s
        .get(tok, "/api/journeys?limit=200")
        .await
        .json()
        .await
        .unwrap();
    js.as_array()
        .unwrap()
        .iter()
        .find(|j| j["encounter_id"] == encounter)
        .cloned()
        .unwrap_or_else(|| panic!("journey {encounter}"))
}

async fn event_contract_and_clinical_times(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (rgh, _) = s.hospital(&admin, "RGH").await;
    let key = s.api_key(&admin, &rgh, &["HIS"]).await;

    // The design's form: payload_json as a string, an offset-less timestamp (Asia/Riyadh, +03:00).
    let first = design_event(
        "OP_BOOKED",
        "CT-1",
        Value::String(
            json!({"department_code": "CARD", "physician_licence": "GMC121", "timestamp": "2026-01-31T12:30:00"})
                .to_string(),
        ),
    );
    let r = s.send_event(&key, &first).await;
    assert_eq!(r.status(), 202);
    let id = event_id(r).await;
    let e = s.wait_event(&admin, &id, "processed").await;
    assert_eq!(e["warnings"], json!([]), "{e}");
    // The rest of the visit: payload_json as an object, other accepted timestamp forms; each
    // processed before the next is sent, so existing journeys are updated and completed.
    for (code, ts) in [
        ("OP_CHECKIN", "2026-01-31 12:45:00"),
        ("OP_SEEN", "2026-01-31T10:00:00.250Z"),
        ("OP_CHECKOUT", "2026-01-31T14:10:00+03:00"),
    ] {
        let body = design_event(
            code,
            "CT-1",
            json!({"department_code": "CARD", "timestamp": ts}),
        );
        let r = s.send_event(&key, &body).await;
        assert_eq!(r.status(), 202, "{code}");
        s.wait_event(&admin, &event_id(r).await, "processed").await;
    }
    let j = journey(&s, &admin, "CT-1").await;
    assert_eq!(j["status"], "completed");
    assert_eq!(j["hospital_timezone"], "Asia/Riyadh");
    assert_eq!(j["started_at"], "2026-01-31T09:30:00.000000Z", "{j}");
    assert_eq!(j["completed_at"], "2026-01-31T11:10:00.000000Z", "{j}");
    // Recorded (processing) times are kept separately: they are now, not January 2026.
    for f in ["started_recorded_at", "completed_recorded_at"] {
        let rec = j[f].as_str().unwrap_or_else(|| panic!("{f} in {j}"));
        assert!(rec > "2026-02", "{f} = {rec}");
    }
    let stages: Vec<(&str, &str)> = j["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| {
            assert!(st["completed_recorded_at"].is_string(), "{st}");
            (
                st["completing_event_code"].as_str().unwrap(),
                st["completed_at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stages,
        [
            ("OP_BOOKED", "2026-01-31T09:30:00.000000Z"),
            ("OP_CHECKIN", "2026-01-31T09:45:00.000000Z"),
            ("OP_SEEN", "2026-01-31T10:00:00.250000Z"),
            ("OP_CHECKOUT", "2026-01-31T11:10:00.000000Z"),
        ]
    );
    // A single event that starts and completes nothing else: `payload` still works, with `Z`.
    let r = s
        .send_event(
            &key,
            &json!({"source_system": "HIS", "event_code": "ED_ARRIVAL", "encounter_id": "CT-2",
                    "patient_identifier": "RGH-CARD-0002",
                    "payload": {"timestamp": "2026-02-01T00:05:00Z"}}),
        )
        .await;
    assert_eq!(r.status(), 202);
    s.wait_event(&admin, &event_id(r).await, "processed").await;
    let j = journey(&s, &admin, "CT-2").await;
    assert_eq!(j["started_at"], "2026-02-01T00:05:00.000000Z");
    assert!(j["completed_at"].is_null() && j["completed_recorded_at"].is_null());

    // Contract errors name the member the client sent.
    for (body, field) in [
        (
            design_event("OP_BOOKED", "CT-3", json!("[1, 2]")),
            "payload_json",
        ),
        (
            design_event("OP_BOOKED", "CT-3", json!("{broken")),
            "payload_json",
        ),
        (
            design_event(
                "OP_BOOKED",
                "CT-3",
                json!({"timestamp": "31/01/2026 12:30"}),
            ),
            "payload_json.timestamp",
        ),
        (
            json!({"source_system": "HIS", "event_code": "OP_BOOKED", "encounter_id": "CT-3",
                   "patient_identifier": "X"}),
            "payload",
        ),
    ] {
        let r = s.send_event(&key, &body).await;
        assert_eq!(r.status(), 422, "{body}");
        assert_eq!(field_names(&r.json().await.unwrap()), [field], "{body}");
    }
    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(event_contract_and_clinical_times);

async fn deletes_with_dependents(kind: Kind) {
    use reqwest::Method;
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;

    // POST validates the time zone as PATCH does.
    let r = s
        .post(
            &admin,
            "/api/hospitals",
            json!({"code": "BAD", "name": "Bad", "timezone": "Mars/Olympus"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(field_names(&r.json().await.unwrap()), ["timezone"]);

    let r = s
        .post(
            &admin,
            "/api/hospitals",
            json!({"code": "DEL", "name": "Doomed", "timezone": "Asia/Riyadh"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let h = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .post(
            &admin,
            "/api/departments",
            json!({"hospital_id": h, "code": "D1", "name": "D1"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let d = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .post(
            &admin,
            "/api/users",
            json!({"username": "dnurse", "display_name": "N", "password": "nurse password 123",
        "role": "nurse", "hospital_id": h, "department_id": d}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let nurse_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let nurse = s.login("dnurse", "nurse password 123").await;
    let nurse_tok = nurse["access_token"].as_str().unwrap().to_owned();
    let r = s
        .post(
            &admin,
            "/api/patients",
            json!({"mrn": "DEL-1", "department_id": d}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let patient = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(s.get(&nurse_tok, "/api/patients").await.status(), 200);
    let key = s.api_key(&admin, &h, &["HIS"]).await;
    let ev = json!({"source_system": "HIS", "event_code": "OP_BOOKED", "encounter_id": "DEL-E1",
                    "patient_identifier": "DEL-1", "payload": {"timestamp": "2026-01-31T12:30:00"}});
    assert_eq!(s.send_event(&key, &ev).await.status(), 202);

    // Refusals name the live dependents; nothing changes.
    let r = s
        .send(&admin, Method::DELETE, &format!("/api/hospitals/{h}"), None)
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    assert_eq!(
        p["dependents"],
        json!({"departments": 1, "patients": 1, "users": 1}),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().contains("1 patients"), "{p}");
    let r = s
        .send(
            &admin,
            Method::DELETE,
            &format!("/api/departments/{d}"),
            None,
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().await.unwrap()["dependents"],
        json!({"patients": 1})
    );
    let depts: Value = s
        .get(&admin, "/api/departments")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        depts
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == d.as_str()),
        "not deleted"
    );

    // Department: once empty of patients, its deletion deactivates its accounts.
    let r = s
        .send(
            &admin,
            Method::DELETE,
            &format!("/api/patients/{patient}"),
            None,
        )
        .await;
    assert_eq!(r.status(), 204);
    let r = s
        .send(
            &admin,
            Method::DELETE,
            &format!("/api/departments/{d}"),
            None,
        )
        .await;
    assert_eq!(r.status(), 204);
    let r = s
        .http
        .post(s.url("/api/auth/login"))
        .json(&json!({"username": "dnurse", "password": "nurse password 123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a deleted department's user cannot log in");
    let r = s
        .http
        .post(s.url("/api/auth/refresh"))
        .json(&json!({"refresh_token": nurse["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "nor refresh a session");

    // Hospital: still refused while the (deactivated) account exists; then keys revoked at once.
    let r = s
        .send(&admin, Method::DELETE, &format!("/api/hospitals/{h}"), None)
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().await.unwrap()["dependents"],
        json!({"users": 1})
    );
    let r = s
        .send(
            &admin,
            Method::DELETE,
            &format!("/api/users/{nurse_id}"),
            None,
        )
        .await;
    assert_eq!(r.status(), 204);
    let r = s
        .send(&admin, Method::DELETE, &format!("/api/hospitals/{h}"), None)
        .await;
    assert_eq!(r.status(), 204);
    let ev2 = json!({"source_system": "HIS", "event_code": "OP_BOOKED", "encounter_id": "DEL-E2",
                     "patient_identifier": "DEL-1", "payload": {"timestamp": "2026-01-31T12:30:00"}});
    assert_eq!(
        s.send_event(&key, &ev2).await.status(),
        401,
        "a deleted hospital's key stops at once"
    );
    let keys: Value = s.get(&admin, "/api/api-keys").await.json().await.unwrap();
    assert!(
        keys.as_array()
            .unwrap()
            .iter()
            .filter(|k| k["hospital_id"] == h.as_str())
            .all(|k| k["revoked_at"].is_string())
    );

    // Audited with what cascaded.
    let audit: Value = s
        .get(&admin, "/api/audit?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    let find = |ty: &str, id: &str| {
        audit
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["action"] == "delete" && a["object_type"] == ty && a["object_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("delete {ty} audited"))
    };
    assert!(find("department", &d).to_string().contains(&nurse_id));
    assert!(
        find("hospital", &h)
            .to_string()
            .contains("api_keys_revoked")
    );
    s.db.verify_audit_chain().await.unwrap();
    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(deletes_with_dependents);

async fn self_service(kind: Kind) {
    use reqwest::Method;
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (rgh, rd) = s.hospital(&admin, "RGH").await;
    let r = s
        .post(
            &admin,
            "/api/users",
            json!({"username": "selfie", "display_name": "Old", "password": "first password 123",
        "role": "viewer", "hospital_id": rgh, "department_id": rd["CARD"]}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let me_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other_session = s.login("selfie", "first password 123").await;
    let session = s.login("selfie", "first password 123").await;
    let tok = session["access_token"].as_str().unwrap().to_owned();

    // Display name: a Viewer (lowest role) changes their own.
    let r = s
        .send(
            &tok,
            Method::PATCH,
            "/api/me",
            Some(json!({"display_name": "  New Name "})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let u: Value = r.json().await.unwrap();
    assert_eq!(u["display_name"], "New Name");
    assert!(u.get("password_hash").is_none());
    let r = s
        .send(
            &tok,
            Method::PATCH,
            "/api/me",
            Some(json!({"display_name": " "})),
        )
        .await;
    assert_eq!(field_names(&r.json().await.unwrap()), ["display_name"]);

    // Password: the current one is required, the new one must be long enough.
    for (body, field) in [
        (
            json!({"current_password": "wrong password 1", "new_password": "second password 123"}),
            "current_password",
        ),
        (
            json!({"current_password": "first password 123", "new_password": "short"}),
            "new_password",
        ),
    ] {
        let r = s
            .send(&tok, Method::POST, "/api/me/password", Some(body))
            .await;
        assert_eq!(r.status(), 422);
        assert_eq!(field_names(&r.json().await.unwrap()), [field]);
    }
    let r = s.send(&tok, Method::POST, "/api/me/password",
        Some(json!({"current_password": "first password 123", "new_password": "second password 123"}))).await;
    assert_eq!(r.status(), 200);
    let fresh: Value = r.json().await.unwrap();
    let refresh = |t: Value| {
        let s = &s;
        async move {
            s.http
                .post(s.url("/api/auth/refresh"))
                .json(&json!({"refresh_token": t}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        refresh(other_session["refresh_token"].clone()).await,
        401,
        "other sessions end"
    );
    assert_eq!(
        refresh(fresh["refresh_token"].clone()).await,
        200,
        "this session continues"
    );
    let r = s
        .http
        .post(s.url("/api/auth/login"))
        .json(&json!({"username": "selfie", "password": "first password 123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    s.login("selfie", "second password 123").await;

    // Deactivating or deleting oneself: 409, whatever the role (a Viewer may not manage users).
    let r = s
        .send(
            &tok,
            Method::PATCH,
            &format!("/api/users/{me_id}"),
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!(r.status(), 409);
    let admin_id = s
        .get(&admin, "/api/me")
        .await
        .json::<Value>()
        .await
        .unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .send(
            &admin,
            Method::PATCH,
            &format!("/api/users/{admin_id}"),
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!(r.status(), 409);
    let r = s
        .send(
            &admin,
            Method::DELETE,
            &format!("/api/users/{admin_id}"),
            None,
        )
        .await;
    assert_eq!(r.status(), 409);

    // Audited as changes of the account, without the passwords.
    let audit: Value = s
        .get(&admin, "/api/audit?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    let text = audit.to_string();
    assert!(!text.contains("second password 123") && !text.contains("first password 123"));
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "update"
                && a["object_id"] == me_id.as_str()
                && a["changes"].to_string().contains("password"))
    );
    s.db.verify_audit_chain().await.unwrap();
    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(self_service);

/// Body limits are problem+json: 256 KiB for an ordinary call (announced or found while a
/// chunked body streams), the social import's documented 5 MiB for a batch of mentions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_limits() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tdb = TestDb::new(Kind::Sqlite).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (rgh, _) = s.hospital(&admin, "RGH").await;
    let key = s.api_key(&admin, &rgh, &["HIS"]).await;

    // Announced: refused before the body is read.
    let big = design_event(
        "OP_BOOKED",
        "ENC-BIG",
        json!({"note": "x".repeat(300 * 1024)}),
    );
    let r = s
        .http
        .post(s.url("/api/integrations/events/"))
        .header("X-API-Key", &key)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let p: Value = r.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().contains("262144"), "{p}");

    // Chunked, no length announced: cut off while streaming, still problem+json.
    let addr = s.base.trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/integrations/events/ HTTP/1.1\r\nHost: {addr}\r\nX-API-Key: {key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..5 {
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if tcp.write_all(&frame).await.is_err() {
            break; // the server may answer and close before the rest is sent
        }
    }
    let _ = tcp.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");

    // A 1 MB batch of mentions is within the import's limit.
    let feed: Vec<Value> = (0..250)
        .map(|i| json!({"source": "google_reviews", "id": format!("big-{i}"), "text": "w".repeat(4000), "time": "2026-03-01T10:00:00Z"}))
        .collect();
    let body = serde_json::to_string(&feed).unwrap();
    assert!(body.len() > 1_000_000);
    let r = s
        .http
        .post(s.url(&format!("/api/social/mentions/import?hospital_id={rgh}")))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let rep: Value = r.json().await.unwrap();
    assert_eq!(rep["created"], 250, "{rep}");
    s.stop().await;
    tdb.drop_db().await;
}
