//! Organisation administration on SQLite and PostgreSQL: hospital-owned journey templates drive
//! the worker, field errors come back as problem+json, updates and soft deletes are audited, and
//! account changes end sessions and cannot escalate privileges.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{ADMIN_PASSWORD, Kind, ServerOpts, TestDb, TestServer, event, event_id, field_names};
use serde_json::{Value, json};

async fn templates_and_validation(kind: Kind) {
    use reqwest::Method;
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (rgh, rd) = s.hospital(&admin, "RGH").await;
    let (nph, _) = s.hospital(&admin, "NPH").await;

    // A Hospital Admin of RGH creates RGH's own outpatient template.
    let r = s.post(&admin, "/api/users", json!({"username": "ha", "display_name": "HA", "password": "hospital admin pw", "role": "hospital_admin", "hospital_id": rgh})).await;
    assert_eq!(r.status(), 201);
    let ha = s.token("ha", "hospital admin pw").await;
    let r = s.send(&ha, Method::POST, "/api/journey-templates", json!({"code": "RGH_OP", "name": "RGH outpatient", "stages": [
        {"code": "CHECKIN", "name": "Checked in", "completing_event_code": "OP_CHECKIN"},
        {"code": "SEEN", "name": "Seen", "completing_event_code": "OP_SEEN"}]})).await;
    assert_eq!(r.status(), 201);
    let t: Value = r.json().await.unwrap();
    assert_eq!(
        t["hospital_id"],
        rgh.as_str(),
        "defaults to the caller's hospital"
    );
    assert_eq!(t["stages"][1]["position"], 2);

    // Bad input: each bad field named.
    let r = s
        .send(
            &ha,
            Method::POST,
            "/api/journey-templates",
            json!({"code": "bad code", "name": "", "stages": [
        {"code": "A", "name": "A", "completing_event_code": "X1"},
        {"code": "B", "name": "B", "completing_event_code": "X1"}]}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    assert_eq!(
        field_names(&p),
        ["code", "name", "stages[1].completing_event_code"]
    );
    let r = s
        .send(
            &admin,
            Method::PATCH,
            &format!("/api/hospitals/{rgh}"),
            json!({"timezone": "Mars/Olympus"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(field_names(&r.json().await.unwrap()), ["timezone"]);
    let r = s.send(&admin, Method::POST, "/api/employees", json!({"department_id": rd["CARD"], "employee_number": "E1", "given_name": " ", "family_name": "X"})).await;
    assert_eq!(r.status(), 422);
    assert_eq!(field_names(&r.json().await.unwrap()), ["given_name"]);
    let r = s.send(&admin, Method::POST, "/api/employees", json!({"department_id": "nope", "employee_number": "E1", "given_name": "A", "family_name": "X"})).await;
    assert_eq!(field_names(&r.json().await.unwrap()), ["department_id"]);
    // Duplicate template code: 409.
    let r = s.send(&ha, Method::POST, "/api/journey-templates", json!({"code": "RGH_OP", "name": "again", "stages": [{"code": "A", "name": "A", "completing_event_code": "Z1"}]})).await;
    assert_eq!(r.status(), 409);

    // The worker prefers the hospital's own template; another hospital keeps the group one.
    let key_a = s.api_key(&admin, &rgh, &["EPIC"]).await;
    let key_b = s.api_key(&admin, &nph, &["EPIC"]).await;
    for (key, enc, mrn, want) in [
        (&key_a, "ADM-1", "RGH-CARD-0001", "RGH_OP"),
        (&key_b, "ADM-2", "NPH-CARD-0001", "OUTPATIENT_VISIT"),
    ] {
        let r = s
            .send_event(key, &event("OP_CHECKIN", enc, mrn, "CARD", "GMC121"))
            .await;
        let id = event_id(r).await;
        s.wait_event(&admin, &id, "processed").await;
        let js: Value = s
            .get(&admin, "/api/journeys?limit=200")
            .await
            .json()
            .await
            .unwrap();
        let j = js
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["encounter_id"] == enc)
            .unwrap();
        assert_eq!(j["template_code"], want, "{enc}");
    }

    // Stage edits are audited with actor, IP, user agent, object and change.
    let stage = t["stages"][0]["id"].as_str().unwrap();
    let tid = t["id"].as_str().unwrap();
    let r = s
        .send(
            &ha,
            Method::PATCH,
            &format!("/api/journey-templates/{tid}/stages/{stage}"),
            json!({"name": "Arrived"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["name"], "Arrived");
    let got: Value = s
        .get(&ha, &format!("/api/journey-templates/{tid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["stages"][0]["name"], "Arrived");
    let audit: Value = s
        .get(&admin, "/api/audit?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    let rec = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "update" && a["object_id"] == stage)
        .expect("stage update audited");
    assert_eq!(rec["object_type"], "stage_template");
    assert_eq!(rec["user_agent"], px360_testkit::http::USER_AGENT);
    assert!(rec["ip"].as_str().unwrap().starts_with("127.0.0.1"));
    assert!(rec["actor_id"].is_string());
    assert!(rec["changes"].as_str().unwrap().contains("Arrived"));
    s.db.verify_audit_chain().await.unwrap();
    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(templates_and_validation);

async fn updates_and_soft_deletes(kind: Kind) {
    use reqwest::Method;
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (rgh, rd) = s.hospital(&admin, "RGH").await;

    // Employee lifecycle.
    let r = s.send(&admin, Method::POST, "/api/employees", json!({"department_id": rd["CARD"], "employee_number": "E-900", "given_name": "Ann", "family_name": "Lee", "job_title": "Porter"})).await;
    assert_eq!(r.status(), 201);
    let e: Value = r.json().await.unwrap();
    let eid = e["id"].as_str().unwrap();
    assert_eq!(e["hospital_id"], rgh.as_str());
    let r = s
        .send(
            &admin,
            Method::PATCH,
            &format!("/api/employees/{eid}"),
            json!({"department_id": rd["ORTH"], "job_title": "Senior porter"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let e: Value = r.json().await.unwrap();
    assert_eq!(
        (
            e["department_id"].as_str().unwrap(),
            e["job_title"].as_str().unwrap()
        ),
        (rd["ORTH"].as_str(), "Senior porter")
    );
    assert_eq!(
        s.send(
            &admin,
            Method::DELETE,
            &format!("/api/employees/{eid}"),
            json!(null)
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        s.get(&admin, &format!("/api/employees/{eid}"))
            .await
            .status(),
        404
    );
    let list: Value = s.get(&admin, "/api/employees").await.json().await.unwrap();
    assert!(list.as_array().unwrap().iter().all(|x| x["id"] != eid));
    assert_eq!(
        s.send(
            &admin,
            Method::DELETE,
            &format!("/api/employees/{eid}"),
            json!(null)
        )
        .await
        .status(),
        404,
        "deleted once"
    );

    // Department and physician updates; physicians cannot move to another hospital.
    let (_, nd) = s.hospital(&admin, "NPH").await;
    let phys: Value = s.get(&admin, "/api/physicians").await.json().await.unwrap();
    let ph = phys
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["department_id"] == rd["CARD"].as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .send(
            &admin,
            Method::PATCH,
            &format!("/api/physicians/{ph}"),
            json!({"department_id": nd["CARD"]}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(field_names(&r.json().await.unwrap()), ["department_id"]);
    let r = s
        .send(
            &admin,
            Method::PATCH,
            &format!("/api/physicians/{ph}"),
            json!({"specialty": "Cardiology"}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["specialty"], "Cardiology");
    let r = s
        .send(
            &admin,
            Method::PATCH,
            &format!("/api/departments/{}", rd["GMED"]),
            json!({"name": "General medicine"}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["name"], "General medicine");

    // Accounts: a Hospital Admin cannot raise a nurse to its own level, can change lower roles.
    let r = s.post(&admin, "/api/users", json!({"username": "ha", "display_name": "HA", "password": "hospital admin pw", "role": "hospital_admin", "hospital_id": rgh})).await;
    assert_eq!(r.status(), 201);
    let ha = s.token("ha", "hospital admin pw").await;
    let r = s.post(&ha, "/api/users", json!({"username": "nurse1", "display_name": "N", "password": "nurse password 1", "role": "nurse", "hospital_id": rgh, "department_id": rd["CARD"]})).await;
    let nurse: Value = r.json().await.unwrap();
    let nid = nurse["id"].as_str().unwrap().to_owned();
    let r = s
        .send(
            &ha,
            Method::PATCH,
            &format!("/api/users/{nid}"),
            json!({"role": "hospital_admin", "hospital_id": rgh}),
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = s
        .send(
            &ha,
            Method::PATCH,
            &format!("/api/users/{nid}"),
            json!({"role": "nurse", "hospital_id": rgh}),
        )
        .await;
    assert_eq!(r.status(), 422, "a department role needs a department");
    assert_eq!(field_names(&r.json().await.unwrap()), ["role"]);
    let r = s
        .send(
            &ha,
            Method::PATCH,
            &format!("/api/users/{nid}"),
            json!({"role": "department_manager", "hospital_id": rgh, "department_id": rd["CARD"]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["role"],
        "department_manager"
    );

    // Deactivation ends sessions: refresh and login both fail.
    let sess = s.login("nurse1", "nurse password 1").await;
    let r = s
        .send(
            &ha,
            Method::PATCH,
            &format!("/api/users/{nid}"),
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = s
        .http
        .post(s.url("/api/auth/refresh"))
        .json(&json!({"refresh_token": sess["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = s
        .http
        .post(s.url("/api/auth/login"))
        .json(&json!({"username": "nurse1", "password": "nurse password 1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Soft delete; the PX Admin cannot delete itself.
    assert_eq!(
        s.send(
            &ha,
            Method::DELETE,
            &format!("/api/users/{nid}"),
            json!(null)
        )
        .await
        .status(),
        204
    );
    let users: Value = s.get(&admin, "/api/users").await.json().await.unwrap();
    assert!(
        users
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["id"] != nid.as_str())
    );
    let me: Value = s.get(&admin, "/api/me").await.json().await.unwrap();
    let me_id = me["user_id"].as_str().or(me["id"].as_str()).unwrap();
    assert_eq!(
        s.send(
            &admin,
            Method::DELETE,
            &format!("/api/users/{me_id}"),
            json!(null)
        )
        .await
        .status(),
        409
    );

    // Every change above is in the audit log; user changes record field names, not passwords.
    let audit: Value = s
        .get(&admin, "/api/audit?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    let has = |action: &str, ty: &str, id: &str| {
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == action && a["object_type"] == ty && a["object_id"] == id)
    };
    assert!(
        has("create", "employee", eid)
            && has("update", "employee", eid)
            && has("delete", "employee", eid)
    );
    assert!(has("update", "physician", &ph));
    assert!(has("update", "department", &rd["GMED"]));
    assert!(has("update", "user", &nid) && has("delete", "user", &nid));
    assert!(!audit.to_string().contains("nurse password 1"));
    s.db.verify_audit_chain().await.unwrap();
    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(updates_and_soft_deletes);
