//! Complaints from other systems with the hospital's API key, over HTTP against the real server
//! on both engines: 401 without a key, problem+json naming each bad field, the key's hospital
//! only, the idempotency key (a retried POST, and concurrent twins, create one complaint), the
//! audit record with the key as actor, the action raised by the hospital's rules with its owner
//! notified in the app and by email (local outbox), configurable rules per category and
//! severity, and the caller's email language.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{ADMIN_PASSWORD, Kind, ServerOpts, TestDb, TestServer, field_names};
use serde_json::{Value, json};
use std::time::Duration;

async fn user(
    s: &TestServer,
    admin: &str,
    name: &str,
    role: &str,
    h: &str,
    d: Option<&str>,
) -> (String, String) {
    let r = s.post(admin, "/api/users", json!({"username": name, "display_name": name, "email": format!("{name}@hospital.example.sa"), "password": "correct horse battery", "role": role, "hospital_id": h, "department_id": d})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, s.token(name, "correct horse battery").await)
}

async fn file(s: &TestServer, key: &str, body: &Value, idem: Option<&str>) -> (u16, Value) {
    let mut req = s
        .http
        .post(s.url("/api/integrations/complaints"))
        .header("X-API-Key", key)
        .json(body);
    if let Some(k) = idem {
        req = req.header("Idempotency-Key", k);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    if status == 422 {
        assert!(ct.starts_with("application/problem+json"), "{ct}");
    }
    (status, v)
}

/// Wait until `sql` (a count) reaches `want`.
async fn wait_count(s: &TestServer, sql: &str, want: i64) {
    let mut n = 0;
    for _ in 0..100 {
        n = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
        if n == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{sql}: {n}, wanted {want}");
}

async fn scenario(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (h, depts) = s.hospital(&admin, "RGH").await;
    let (h_b, _) = s.hospital(&admin, "NPH").await;
    let card = depts["CARD"].clone();
    let (mgr_id, mgr) = user(&s, &admin, "mgr", "department_manager", &h, Some(&card)).await;
    let (coord_id, _) = user(&s, &admin, "coord", "px_coordinator", &h, None).await;
    let (_, nurse) = user(&s, &admin, "nurse", "nurse", &h, Some(&card)).await;
    let key = s.api_key(&admin, &h, &["CALLCENTRE"]).await;
    let key_b = s.api_key(&admin, &h_b, &["*"]).await;

    // The manager reads Arabic.
    let r = s
        .send(
            &mgr,
            reqwest::Method::PUT,
            "/api/me/language",
            Some(json!({"language": "xx"})),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        field_names(&r.json::<Value>().await.unwrap()),
        vec!["language"]
    );
    let r = s
        .send(
            &mgr,
            reqwest::Method::PUT,
            "/api/me/language",
            Some(json!({"language": "ar"})),
        )
        .await;
    assert_eq!(r.status(), 204);

    let good = json!({"source_system": "CALLCENTRE", "external_ref": "CC-1", "source_channel": "call_centre",
        "department_code": "CARD", "category_code": "waiting_time", "severity": "high",
        "subject": "Long wait", "description": "Waited four hours", "language": "ar"});

    // No key, a wrong key: 401.
    let r = s
        .http
        .post(s.url("/api/integrations/complaints"))
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(file(&s, "px360_nope_nope", &good, None).await.0, 401);

    // Bad fields, each named.
    let mut bad = good.clone();
    bad["source_system"] = json!("HIS");
    bad["source_channel"] = json!("staff");
    bad["external_ref"] = Value::Null;
    bad["department_code"] = json!("NOPE");
    let (st, v) = file(&s, &key, &bad, None).await;
    assert_eq!(st, 422, "{v}");
    let names = field_names(&v);
    for f in [
        "source_system",
        "source_channel",
        "external_ref",
        "department_code",
    ] {
        assert!(names.iter().any(|n| n == f), "{f} in {names:?}");
    }
    let mut bad = good.clone();
    bad["category_code"] = json!("nope");
    bad["severity"] = json!("urgent");
    bad["subject"] = json!("");
    let (st, v) = file(&s, &key, &bad, None).await;
    assert_eq!(st, 422, "{v}");
    let names = field_names(&v);
    for f in ["category_code", "severity", "subject"] {
        assert!(names.iter().any(|n| n == f), "{f} in {names:?}");
    }
    // Another hospital's department is unknown to this key.
    let mut other = good.clone();
    other["department_code"] = Value::Null;
    other["department_id"] = json!(card);
    other["source_system"] = json!("X");
    let (st, v) = file(&s, &key_b, &other, None).await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(field_names(&v), vec!["department_id"]);

    // Filed; a retry answers 200 with the same complaint.
    let (st, first) = file(&s, &key, &good, None).await;
    assert_eq!(st, 201, "{first}");
    assert_eq!(first["duplicate"], false);
    assert_eq!(first["status"], "new");
    let id = first["complaint_id"].as_str().unwrap().to_owned();
    let (st, again) = file(&s, &key, &good, None).await;
    assert_eq!(st, 200);
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["complaint_id"], id.as_str());
    assert_eq!(again["reference"], first["reference"]);
    // The Idempotency-Key header stands in for external_ref.
    let mut by_header = good.clone();
    by_header["external_ref"] = Value::Null;
    by_header["severity"] = json!("low");
    let (st, h1) = file(&s, &key, &by_header, Some("CC-H")).await;
    assert_eq!(st, 201, "{h1}");
    let (st, h2) = file(&s, &key, &by_header, Some("CC-H")).await;
    assert_eq!((st, &h2["complaint_id"]), (200, &h1["complaint_id"]));
    // Concurrent twins: one complaint.
    let mut twin = good.clone();
    twin["external_ref"] = json!("CC-RACE");
    twin["severity"] = json!("low");
    let (a, b, c, d) = tokio::join!(
        file(&s, &key, &twin, None),
        file(&s, &key, &twin, None),
        file(&s, &key, &twin, None),
        file(&s, &key, &twin, None)
    );
    let all = [a, b, c, d];
    let created = all.iter().filter(|(st, _)| *st == 201).count();
    assert_eq!(created, 1, "{all:?}");
    assert!(
        all.iter()
            .all(|(st, v)| (*st == 201 || *st == 200)
                && v["complaint_id"] == all[0].1["complaint_id"])
    );
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM complaints WHERE external_ref = 'CC-RACE'")
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    assert_eq!(n, 1);

    // Staff see it as sent: the channel, the system, the hospital.
    let c: Value = s
        .get(&nurse, &format!("/api/complaints/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let c = if c.get("complaint").is_some() {
        c["complaint"].clone()
    } else {
        c
    };
    assert_eq!(c["source_channel"], "call_centre");
    assert_eq!(c["source_system"], "CALLCENTRE");
    assert_eq!(c["hospital_id"], h.as_str());
    assert_eq!(c["department_id"], card.as_str());
    // Audited with the key as the actor.
    let audits: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'complaint.create' AND actor_type = 'api_key' AND object_id = $1",
    )
    .bind(&id)
    .fetch_one(&s.db.pool)
    .await
    .unwrap();
    assert_eq!(audits, 1);

    // High: the default rules raise an action owned by the department's manager, who is
    // notified in the app and by email (the local outbox here), in Arabic.
    let board: Value = s
        .get(&mgr, "/api/actions?board=mine")
        .await
        .json()
        .await
        .unwrap();
    let action = board
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["origin_id"] == id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{board}"));
    assert_eq!(action["owner_id"], mgr_id.as_str());
    assert!(action["due_at"].is_string());
    let notes: Value = s
        .get(&mgr, "/api/notifications")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "action_assigned" && n["item_id"] == action["id"]),
        "{notes}"
    );
    wait_count(
        &s,
        &format!("SELECT COUNT(*) FROM notification_local_outbox WHERE user_id = '{mgr_id}'"),
        1,
    )
    .await;
    let (subject, lang): (String, String) = sqlx::query_as(
        "SELECT subject, language FROM notification_local_outbox WHERE user_id = $1",
    )
    .bind(&mgr_id)
    .fetch_one(&s.db.pool)
    .await
    .unwrap();
    assert_eq!(lang, "ar");
    assert!(subject.starts_with("إجراء جديد"), "{subject}");

    // Rules per hospital: only billing complaints (any severity) raise one, owned by the PX
    // coordinator. A nurse may not change them; bad rules are a 422 naming the part.
    let rules = json!({"negative_survey": null, "complaints": [{"category": "billing", "min_severity": "low"}],
        "owner": {"kind": "hospital_role", "role": "px_coordinator"}});
    let path = format!("/api/hospitals/{h}/action-rules");
    let r = s
        .send(&nurse, reqwest::Method::PUT, &path, Some(rules.clone()))
        .await;
    assert!(r.status() == 403 || r.status() == 404, "{}", r.status());
    let r = s
        .send(&admin, reqwest::Method::PUT, &path, Some(json!({"negative_survey": "urgent", "complaints": [], "owner": {"kind": "department_manager"}})))
        .await;
    assert_eq!(r.status(), 422);
    let r = s
        .send(&admin, reqwest::Method::PUT, &path, Some(rules.clone()))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let got: Value = s.get(&admin, &path).await.json().await.unwrap();
    assert_eq!(got["complaints"][0]["category"], "billing");
    assert_eq!(got["owner"]["role"], "px_coordinator");
    let mut billing = good.clone();
    billing["external_ref"] = json!("CC-BILL");
    billing["category_code"] = json!("billing");
    billing["severity"] = json!("low");
    let (st, b) = file(&s, &key, &billing, None).await;
    assert_eq!(st, 201);
    let mut high = good.clone();
    high["external_ref"] = json!("CC-HIGH");
    let (st, hi) = file(&s, &key, &high, None).await;
    assert_eq!(st, 201);
    let owner_of = |cid: Value| {
        let db = s.db.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT owner_id FROM px_actions WHERE origin_kind = 'complaint' AND origin_id = $1",
            )
            .bind(cid.as_str().unwrap().to_owned())
            .fetch_optional(&db.pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(owner_of(b["complaint_id"].clone()).await, Some(coord_id));
    assert_eq!(owner_of(hi["complaint_id"].clone()).await, None);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn complaint_intake_sqlite() {
    scenario(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn complaint_intake_postgres() {
    scenario(Kind::Postgres).await;
}
