//! Adding and removing stages of an existing journey template, over HTTP on SQLite and
//! PostgreSQL: positions renumbered without gaps, only live stages listed, a removed stage's
//! event code reusable, the last stage kept, field errors, audit records; journeys started before
//! a removal keep their full stage list and new journeys get the live stages; migration 0003 keeps
//! journeys started before it valid.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{ADMIN_PASSWORD, Kind, ServerOpts, TestDb, TestServer, event, event_id, field_names};
use reqwest::Method;
use serde_json::{Value, json};

/// Stage codes in list order, after checking the positions run 1..n in that order.
fn stage_codes(t: &Value) -> Vec<String> {
    let stages = t["stages"].as_array().unwrap();
    let positions: Vec<i64> = stages
        .iter()
        .map(|s| s["position"].as_i64().unwrap())
        .collect();
    let want: Vec<i64> = (1..=stages.len() as i64).collect();
    assert_eq!(positions, want, "positions of {t}");
    stages
        .iter()
        .map(|s| s["code"].as_str().unwrap().to_owned())
        .collect()
}

fn stage_id(t: &Value, code: &str) -> String {
    t["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == code)
        .unwrap_or_else(|| panic!("no stage {code} in {t}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A Hospital Admin of RGH (templates are edited at hospital level) and RGH's id.
async fn hospital_admin(s: &TestServer, admin: &str) -> (String, String) {
    let (rgh, _) = s.hospital(admin, "RGH").await;
    let r = s.post(admin, "/api/users", json!({"username": "ha", "display_name": "HA", "password": "hospital admin pw", "role": "hospital_admin", "hospital_id": rgh})).await;
    assert_eq!(r.status(), 201);
    (s.token("ha", "hospital admin pw").await, rgh)
}

/// Create an RGH template whose stages `codes` are completed by `<prefix>_<code>`.
async fn template(s: &TestServer, tok: &str, code: &str, prefix: &str, codes: &[&str]) -> Value {
    let stages: Vec<Value> = codes
        .iter()
        .map(|c| json!({"code": c, "name": format!("Stage {c}"), "completing_event_code": format!("{prefix}_{c}")}))
        .collect();
    let r = s
        .post(
            tok,
            "/api/journey-templates",
            json!({"code": code, "name": code, "stages": stages}),
        )
        .await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

/// The journey of an encounter, with its stages.
async fn journey(s: &TestServer, admin: &str, encounter: &str) -> Option<Value> {
    let js: Value = s
        .get(admin, "/api/journeys?limit=200")
        .await
        .json()
        .await
        .unwrap();
    let id = js
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["encounter_id"] == encounter)?["id"]
        .as_str()?
        .to_owned();
    Some(
        s.get(admin, &format!("/api/journeys/{id}"))
            .await
            .json()
            .await
            .unwrap(),
    )
}

fn journey_stages(j: &Value) -> Vec<(String, String)> {
    j["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["code"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// Send an event for an RGH encounter and wait until it is processed; returns the event.
async fn process(s: &TestServer, admin: &str, key: &str, code: &str, encounter: &str) -> Value {
    let r = s
        .send_event(
            key,
            &event(code, encounter, "RGH-CARD-0001", "CARD", "GMC121"),
        )
        .await;
    assert_eq!(r.status(), 202, "{code} {encounter}");
    let id = event_id(r).await;
    s.wait_event(admin, &id, "processed").await
}

async fn sqlite_foreign_key_check(s: &TestServer, kind: Kind) {
    if kind == Kind::Sqlite {
        let bad = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&s.db.pool)
            .await
            .unwrap();
        assert!(bad.is_empty(), "{} foreign key violations", bad.len());
    }
}

async fn add_and_remove(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (ha, rgh) = hospital_admin(&s, &admin).await;
    let t = template(&s, &ha, "EDIT_T", "ED", &["A", "B", "C"]).await;
    let tid = t["id"].as_str().unwrap().to_owned();
    let stages = format!("/api/journey-templates/{tid}/stages");

    // A stage's survey is a published survey template, by id: free text is refused.
    let r = s.send(&ha, Method::POST, &stages, json!({"code": "X", "name": "Stage X", "completing_event_code": "ED_X", "survey_template_ref": "survey:x", "position": 2})).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("survey_template_ref"));
    let surveys: Value = s.get(&ha, "/api/survey-templates").await.json().await.unwrap();
    let survey = surveys[0]["id"].as_str().unwrap().to_owned();
    // In the middle: the stages from there on move down one.
    let r = s.send(&ha, Method::POST, &stages, json!({"code": "X", "name": "Stage X", "completing_event_code": "ED_X", "survey_template_ref": survey, "position": 2})).await;
    assert_eq!(r.status(), 201);
    let t: Value = r.json().await.unwrap();
    assert_eq!(stage_codes(&t), ["A", "X", "B", "C"]);
    let x = &t["stages"][1];
    assert_eq!(x["completing_event_code"], "ED_X");
    assert_eq!(x["survey_template_ref"], survey.as_str());
    let x_id = stage_id(&t, "X");
    // No position: last. First position: everything moves.
    let r = s
        .send(
            &ha,
            Method::POST,
            &stages,
            json!({"code": "Y", "name": "Stage Y", "completing_event_code": "ED_Y"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        stage_codes(&r.json().await.unwrap()),
        ["A", "X", "B", "C", "Y"]
    );
    let r = s
        .send(
            &ha,
            Method::POST,
            &stages,
            json!({"code": "Z", "name": "Stage Z", "completing_event_code": "ED_Z", "position": 1}),
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        stage_codes(&r.json().await.unwrap()),
        ["Z", "A", "X", "B", "C", "Y"]
    );

    // Refusals name the field; nothing changes.
    let r = s
        .send(
            &ha,
            Method::POST,
            &stages,
            json!({"code": "D", "name": "Stage D", "completing_event_code": "ED_B"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    assert_eq!(field_names(&p), ["completing_event_code"]);
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("stage B"),
        "{p}"
    );
    let r = s
        .send(
            &ha,
            Method::POST,
            &stages,
            json!({"code": "D", "name": "Stage D", "completing_event_code": "ED_D", "position": 8}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(field_names(&p), ["position"]);
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("between 1 and 7"),
        "{p}"
    );
    let r = s.send(&ha,
        Method::POST,
        &stages,
        json!({"code": "bad code", "name": " ", "completing_event_code": "ed d", "position": 0}),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        field_names(&r.json().await.unwrap()),
        ["code", "name", "completing_event_code", "position"]
    );
    let r = s
        .send(
            &ha,
            Method::POST,
            "/api/journey-templates/no-such-template/stages",
            json!({"code": "D", "name": "Stage D", "completing_event_code": "ED_D"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    let got: Value = s
        .get(&ha, &format!("/api/journey-templates/{tid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stage_codes(&got), ["Z", "A", "X", "B", "C", "Y"]);

    // Remove from the middle: the gap closes, and only live stages are listed anywhere.
    let b_id = stage_id(&got, "B");
    let r = s.delete(&ha, &format!("{stages}/{b_id}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        stage_codes(&r.json().await.unwrap()),
        ["Z", "A", "X", "C", "Y"]
    );
    let got: Value = s
        .get(&ha, &format!("/api/journey-templates/{tid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stage_codes(&got), ["Z", "A", "X", "C", "Y"]);
    let all: Value = s
        .get(&ha, "/api/journey-templates")
        .await
        .json()
        .await
        .unwrap();
    let listed = all
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == tid.as_str())
        .unwrap();
    assert_eq!(stage_codes(listed), ["Z", "A", "X", "C", "Y"]);
    // Soft-deleted: the row stays for the journeys that reference it.
    let deleted_at: Option<String> =
        sqlx::query_scalar("SELECT deleted_at FROM stage_templates WHERE id = $1")
            .bind(&b_id)
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    assert!(deleted_at.is_some());
    // A removed stage is gone for edits too.
    assert_eq!(
        s.delete(&ha, &format!("{stages}/{b_id}")).await.status(),
        404
    );
    let r = s
        .send(
            &ha,
            Method::PATCH,
            &format!("{stages}/{b_id}"),
            json!({"name": "Back"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    // Its event code is free again (its position too: the new stage takes position 4).
    let r = s.send(&ha, Method::POST, &stages, json!({"code": "B2", "name": "Stage B again", "completing_event_code": "ED_B", "position": 4})).await;
    assert_eq!(r.status(), 201);
    let t: Value = r.json().await.unwrap();
    assert_eq!(stage_codes(&t), ["Z", "A", "X", "B2", "C", "Y"]);
    let b2_id = stage_id(&t, "B2");
    // Renaming a live stage's event code to another live stage's: a conflict naming the field.
    let r = s
        .send(
            &ha,
            Method::PATCH,
            &format!("{stages}/{x_id}"),
            json!({"completing_event_code": "ED_C"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert!(
        r.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("completing_event_code")
    );
    // Removing the last stages one by one: all but the last go.
    let t: Value = s
        .get(&ha, &format!("/api/journey-templates/{tid}"))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<String> = t["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    for id in &ids[1..] {
        assert_eq!(s.delete(&ha, &format!("{stages}/{id}")).await.status(), 200);
    }
    let r = s.delete(&ha, &format!("{stages}/{}", ids[0])).await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(field_names(&p), ["stages"]);
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at least one stage"),
        "{p}"
    );
    let got: Value = s
        .get(&ha, &format!("/api/journey-templates/{tid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stage_codes(&got), ["Z"]);

    // A template that already has the most stages allowed takes no more.
    let codes: Vec<String> = (1..=50).map(|n| format!("S{n}")).collect();
    let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
    let full = template(&s, &ha, "FULL_T", "FULL", &codes).await;
    let r = s
        .send(
            &ha,
            Method::POST,
            &format!(
                "/api/journey-templates/{}/stages",
                full["id"].as_str().unwrap()
            ),
            json!({"code": "S51", "name": "One too many", "completing_event_code": "FULL_S51"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(field_names(&r.json().await.unwrap()), ["stages"]);

    // Every add and remove is audited in its own record, with actor, client and change.
    let audit: Value = s
        .get(&admin, "/api/audit?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    let rec = |action: &str, id: &str| {
        audit
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["action"] == action && a["object_id"] == id)
            .unwrap_or_else(|| panic!("no {action} audit record for {id}"))
            .clone()
    };
    let added = rec("create", &x_id);
    assert_eq!(added["object_type"], "stage_template");
    assert_eq!(added["hospital_id"], rgh.as_str());
    assert_eq!(added["user_agent"], px360_testkit::http::USER_AGENT);
    assert!(added["actor_id"].is_string());
    let changes: Value = serde_json::from_str(added["changes"].as_str().unwrap()).unwrap();
    assert_eq!(changes["journey_template_id"], tid.as_str());
    assert_eq!(changes["completing_event_code"], "ED_X");
    assert_eq!(changes["position"], 2);
    let removed = rec("delete", &b_id);
    assert_eq!(removed["object_type"], "stage_template");
    let changes: Value = serde_json::from_str(removed["changes"].as_str().unwrap()).unwrap();
    assert_eq!(changes["completing_event_code"], "ED_B");
    rec("create", &b2_id);
    let edits = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["object_type"] == "stage_template"
                && (a["action"] == "create" || a["action"] == "delete")
        })
        .count();
    // 4 adds (X, Y, Z, B2) and 6 removals (B, then 5 of the 6 left); refusals leave no record.
    assert_eq!(edits, 10);
    s.db.verify_audit_chain().await.unwrap();

    // Both endpoints are in the OpenAPI document.
    let spec: Value = s
        .http
        .get(s.url("/api-docs/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["paths"]["/api/journey-templates/{id}/stages"]["post"].is_object());
    assert!(spec["paths"]["/api/journey-templates/{id}/stages/{stage_id}"]["delete"].is_object());
    assert!(spec["paths"]["/api/journey-templates/{id}/stages/{stage_id}"]["patch"].is_object());

    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(add_and_remove);

/// A journey started before a stage is removed keeps its full stage list, and the removed stage
/// can still be completed in it.
async fn running_journey_keeps_stages(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (ha, rgh) = hospital_admin(&s, &admin).await;
    let key = s.api_key(&admin, &rgh, &["EPIC"]).await;
    let t = template(&s, &ha, "RUN_T", "RUN", &["A", "B", "C"]).await;
    let tid = t["id"].as_str().unwrap();

    process(&s, &admin, &key, "RUN_A", "ENC-RUN-1").await;
    let j = journey(&s, &admin, "ENC-RUN-1")
        .await
        .expect("journey started");
    assert_eq!(j["template_code"], "RUN_T");
    assert_eq!(
        journey_stages(&j),
        pairs(&[("A", "completed"), ("B", "pending"), ("C", "pending")])
    );

    let r = s
        .delete(
            &ha,
            &format!("/api/journey-templates/{tid}/stages/{}", stage_id(&t, "B")),
        )
        .await;
    assert_eq!(r.status(), 200);
    let j = journey(&s, &admin, "ENC-RUN-1").await.unwrap();
    assert_eq!(
        journey_stages(&j),
        pairs(&[("A", "completed"), ("B", "pending"), ("C", "pending")])
    );

    let e = process(&s, &admin, &key, "RUN_B", "ENC-RUN-1").await;
    assert_eq!(e["warnings"], json!([]), "{e}");
    let j = journey(&s, &admin, "ENC-RUN-1").await.unwrap();
    assert_eq!(
        journey_stages(&j),
        pairs(&[("A", "completed"), ("B", "completed"), ("C", "pending")])
    );
    sqlite_foreign_key_check(&s, kind).await;

    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(running_journey_keeps_stages);

/// Journeys started after the edits get the live stages only, and a removed stage's event code no
/// longer starts a journey of the template. Needs the worker to read live stages only
/// (`stage_templates.deleted_at IS NULL` where it picks a template and copies its stages).
async fn new_journeys_get_live_stages(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (ha, rgh) = hospital_admin(&s, &admin).await;
    let key = s.api_key(&admin, &rgh, &["EPIC"]).await;
    let t = template(&s, &ha, "NEW_T", "NEW", &["A", "B", "C"]).await;
    let tid = t["id"].as_str().unwrap();
    let r = s
        .delete(
            &ha,
            &format!("/api/journey-templates/{tid}/stages/{}", stage_id(&t, "B")),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = s.send(&ha,
        Method::POST,
        &format!("/api/journey-templates/{tid}/stages"),
        json!({"code": "D", "name": "Stage D", "completing_event_code": "NEW_D", "position": 2}),
    )
    .await;
    assert_eq!(r.status(), 201);

    process(&s, &admin, &key, "NEW_A", "ENC-NEW-1").await;
    let j = journey(&s, &admin, "ENC-NEW-1")
        .await
        .expect("journey started");
    assert_eq!(j["template_code"], "NEW_T");
    assert_eq!(
        journey_stages(&j),
        pairs(&[("A", "completed"), ("D", "pending"), ("C", "pending")])
    );
    let positions: Vec<i64> = j["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2, 3]);

    let e = process(&s, &admin, &key, "NEW_B", "ENC-NEW-2").await;
    let codes: Vec<&str> = e["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["no_matching_stage"], "{e}");
    assert!(journey(&s, &admin, "ENC-NEW-2").await.is_none());
    sqlite_foreign_key_check(&s, kind).await;

    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(new_journeys_get_live_stages);

/// A database with a journey started before migration 0003 (rebuilds stage_templates on SQLite):
/// afterwards the journey's stage_instances still reference their stages, foreign keys check
/// clean, and the journey and its template keep working.
async fn migration_keeps_started_journeys(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    sqlx::any::install_default_drivers();
    let migrator = match kind {
        Kind::Sqlite => sqlx::migrate!("../px360-store/migrations/sqlite"),
        Kind::Postgres => sqlx::migrate!("../px360-store/migrations/postgres"),
    };
    assert!(
        migrator.iter().any(|m| m.version == 3),
        "0003 is in the migration set"
    );
    let url = match kind {
        Kind::Sqlite => format!("{}?mode=rwc", tdb.url),
        Kind::Postgres => tdb.url.clone(),
    };
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    migrator.run_to(2, &pool).await.unwrap();
    let t = "2025-01-01T00:00:00.000000Z";
    // Ids as the application makes them (UUIDs: scope checks parse hospital ids).
    let id = |n: u32| format!("00000000-0000-7000-8000-{n:012}");
    let (h, jt, j) = (id(1), id(2), id(3));
    let st = [id(11), id(12), id(13)];
    let si = [id(21), id(22), id(23)];
    let inserts = [
        format!(
            "INSERT INTO hospitals (id, code, name, created_at, updated_at) VALUES ('{h}', 'MIG', 'Migrated', $1, $1)"
        ),
        format!(
            "INSERT INTO journey_templates (id, hospital_id, code, name, created_at, updated_at) VALUES ('{jt}', '{h}', 'MIG_T', 'Migrated', $1, $1)"
        ),
        format!(
            "INSERT INTO stage_templates (id, journey_template_id, position, code, name, completing_event_code, created_at, updated_at) \
             VALUES ('{}', '{jt}', 1, 'A', 'Stage A', 'MIG_A', $1, $1), ('{}', '{jt}', 2, 'B', 'Stage B', 'MIG_B', $1, $1), \
             ('{}', '{jt}', 3, 'C', 'Stage C', 'MIG_C', $1, $1)",
            st[0], st[1], st[2]
        ),
        format!(
            "INSERT INTO journey_instances (id, hospital_id, patient_identifier, journey_template_id, encounter_id, status, started_at, created_at, updated_at) \
             VALUES ('{j}', '{h}', 'MIG-0001', '{jt}', 'ENC-MIG-1', 'active', $1, $1, $1)"
        ),
        format!(
            "INSERT INTO stage_instances (id, journey_instance_id, stage_template_id, position, completing_event_code, status, created_at, updated_at) \
             VALUES ('{}', '{j}', '{}', 1, 'MIG_A', 'pending', $1, $1), ('{}', '{j}', '{}', 2, 'MIG_B', 'pending', $1, $1), \
             ('{}', '{j}', '{}', 3, 'MIG_C', 'pending', $1, $1)",
            si[0], st[0], si[1], st[1], si[2], st[2]
        ),
    ];
    for sql in inserts {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(t)
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;

    // The server's own connect runs 0003 (on SQLite with foreign keys on, as in production).
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    sqlite_foreign_key_check(&s, kind).await;
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT si.id, st.code FROM stage_instances si JOIN stage_templates st ON st.id = si.stage_template_id \
         WHERE si.journey_instance_id = $1 ORDER BY si.position",
    )
    .bind(&j)
    .fetch_all(&s.db.pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            (si[0].clone(), "A".to_owned()),
            (si[1].clone(), "B".to_owned()),
            (si[2].clone(), "C".to_owned())
        ]
    );
    if kind == Kind::Sqlite {
        // The rebuilt table still enforces its foreign key and the live-only unique keys.
        let orphan = sqlx::query(
            "INSERT INTO stage_templates (id, journey_template_id, position, code, name, completing_event_code, created_at, updated_at) \
             VALUES ('st-x', 'no-such-template', 9, 'X', 'X', 'MIG_X', $1, $1)",
        )
        .bind(t)
        .execute(&s.db.writer)
        .await;
        assert!(orphan.is_err(), "foreign key on journey_template_id");
        let indexes: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'stage_templates' ORDER BY name")
            .fetch_all(&s.db.pool)
            .await
            .unwrap();
        assert!(
            indexes.contains(&"stage_templates_event".to_owned()),
            "{indexes:?}"
        );
    }
    let dup = sqlx::query(
        "INSERT INTO stage_templates (id, journey_template_id, position, code, name, completing_event_code, created_at, updated_at) \
         VALUES ('st-dup', $2, 1, 'D', 'D', 'MIG_D', $1, $1)",
    )
    .bind(t)
    .bind(&jt)
    .execute(&s.db.writer)
    .await;
    assert!(dup.is_err(), "live positions stay unique");

    // The migrated template can be edited; the journey keeps its stages and still progresses.
    let r = s
        .delete(
            &admin,
            &format!("/api/journey-templates/{jt}/stages/{}", st[1]),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(stage_codes(&r.json().await.unwrap()), ["A", "C"]);
    let key = s.api_key(&admin, &h, &["EPIC"]).await;
    let r = s
        .send_event(
            &key,
            &event("MIG_B", "ENC-MIG-1", "MIG-0001", "CARD", "GMC121"),
        )
        .await;
    let id = event_id(r).await;
    s.wait_event(&admin, &id, "processed").await;
    let got: Value = s
        .get(&admin, &format!("/api/journeys/{j}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        journey_stages(&got),
        pairs(&[("A", "skipped"), ("B", "completed"), ("C", "pending")])
    );
    sqlite_foreign_key_check(&s, kind).await;

    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(migration_keeps_started_journeys);
