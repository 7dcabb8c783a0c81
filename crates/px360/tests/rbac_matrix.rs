//! Endpoint × role × scope matrix. Every role (one account each, department roles in hospital
//! A / department D1) calls every object endpoint against objects in its own department, a
//! sibling department of the same hospital and another hospital, and every list endpoint.
//! The expected outcome comes from the design table written out below, independently of the
//! implementation's permission table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{ADMIN_PASSWORD, Kind, ServerOpts, TestDb, TestServer, event};
use serde_json::{Value, json};

const ROLES: [(&str, u8); 8] = [
    ("px_admin", 100),
    ("hospital_admin", 80),
    ("department_manager", 60),
    ("px_coordinator", 50),
    ("physician", 40),
    ("nurse", 30),
    ("staff", 20),
    ("viewer", 10),
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    OwnDept,
    SiblingDept,
    OtherHospital,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Level {
    Dept,
    Hospital,
}

fn scope_kind(role: &str) -> &'static str {
    match role {
        "px_admin" => "group",
        "hospital_admin" | "px_coordinator" => "hospital",
        _ => "department",
    }
}

/// The design: may `role` reach an object at `level` in `target`?
fn in_scope(role: &str, target: Target, level: Level) -> bool {
    match scope_kind(role) {
        "group" => true,
        "hospital" => target != Target::OtherHospital,
        _ => target == Target::OwnDept && level == Level::Dept,
    }
}

struct Fixture {
    h_a: String,
    h_b: String,
    d: [String; 3], // own, sibling, other-hospital department
    patient: [String; 3],
    journey: [String; 3],
    event: [String; 3],
}

fn idx(t: Target) -> usize {
    match t {
        Target::OwnDept => 0,
        Target::SiblingDept => 1,
        Target::OtherHospital => 2,
    }
}

async fn matrix(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (h_a, da) = s.hospital(&admin, "RGH").await;
    let (h_b, db) = s.hospital(&admin, "NPH").await;
    let d = [da["CARD"].clone(), da["ORTH"].clone(), db["CARD"].clone()];

    // Journeys and events in each target, through the real intake and worker.
    let key_a = s.api_key(&admin, &h_a, &["EPIC"]).await;
    let key_b = s.api_key(&admin, &h_b, &["EPIC"]).await;
    let mut journey = Vec::new();
    let mut events = Vec::new();
    for (key, mrn, dept) in [
        (&key_a, "RGH-CARD-0001", "CARD"),
        (&key_a, "RGH-ORTH-0001", "ORTH"),
        (&key_b, "NPH-CARD-0001", "CARD"),
    ] {
        let r = s
            .send_event(
                key,
                &event("OP_CHECKIN", &format!("M-{mrn}"), mrn, dept, "GMC121"),
            )
            .await;
        let id = r.json::<Value>().await.unwrap()["event_id"]
            .as_str()
            .unwrap()
            .to_owned();
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
            .find(|j| j["encounter_id"] == format!("M-{mrn}").as_str())
            .unwrap();
        journey.push(j["id"].as_str().unwrap().to_owned());
        events.push(id);
    }
    let pts: Value = s
        .get(&admin, "/api/patients?limit=500")
        .await
        .json()
        .await
        .unwrap();
    let pid = |mrn: &str| {
        pts.as_array()
            .unwrap()
            .iter()
            .find(|p| p["mrn"] == mrn)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let fx = Fixture {
        h_a: h_a.clone(),
        h_b: h_b.clone(),
        patient: [
            pid("RGH-CARD-0002"),
            pid("RGH-ORTH-0002"),
            pid("NPH-CARD-0002"),
        ],
        journey: journey.try_into().unwrap(),
        event: events.try_into().unwrap(),
        d: d.clone(),
    };

    // One account per role.
    let mut tokens = Vec::new();
    for (role, _) in ROLES {
        let token = if role == "px_admin" {
            admin.clone()
        } else {
            let (hid, did) = match scope_kind(role) {
                "hospital" => (Some(h_a.clone()), None),
                _ => (Some(h_a.clone()), Some(d[0].clone())),
            };
            let u = format!("u_{role}");
            let r = s.post(&admin, "/api/users", json!({"username": u, "display_name": role, "password": "correct horse battery", "role": role, "hospital_id": hid, "department_id": did})).await;
            assert_eq!(
                r.status(),
                201,
                "create {role}: {}",
                r.text().await.unwrap()
            );
            s.token(&u, "correct horse battery").await
        };
        tokens.push(token);
    }

    let mut checked = 0;
    let mut failures = Vec::new();
    for (ri, (role, level)) in ROLES.iter().enumerate() {
        let tok = &tokens[ri];
        for t in [Target::OwnDept, Target::SiblingDept, Target::OtherHospital] {
            let i = idx(t);
            let hosp = if t == Target::OtherHospital {
                &fx.h_b
            } else {
                &fx.h_a
            };
            // A fresh patient for the delete probe, so earlier deletes do not change the outcome.
            let fresh: Value = s
                .post(
                    &admin,
                    "/api/patients",
                    json!({"mrn": format!("DEL-{role}-{i}"), "department_id": fx.d[i]}),
                )
                .await
                .json()
                .await
                .unwrap();
            let fresh = fresh["id"].as_str().unwrap().to_owned();
            let probes: Vec<(&str, u8, Level, reqwest::RequestBuilder)> = vec![
                ("GET patient", 20, Level::Dept, s.http.get(s.url(&format!("/api/patients/{}", fx.patient[i])))),
                ("PATCH patient", 30, Level::Dept, s.http.patch(s.url(&format!("/api/patients/{}", fx.patient[i]))).json(&json!({"preferred_language": "cy"}))),
                ("DELETE patient", 60, Level::Dept, s.http.delete(s.url(&format!("/api/patients/{fresh}")))),
                ("POST patient", 30, Level::Dept, s.http.post(s.url("/api/patients")).json(&json!({"mrn": format!("NEW-{role}-{i}"), "department_id": fx.d[i]}))),
                ("GET journey", 20, Level::Dept, s.http.get(s.url(&format!("/api/journeys/{}", fx.journey[i])))),
                ("POST physician", 60, Level::Dept, s.http.post(s.url("/api/physicians")).json(&json!({"department_id": fx.d[i], "licence_number": format!("L-{role}-{i}"), "given_name": "A", "family_name": "B"}))),
                ("POST user(viewer)", 60, Level::Dept, s.http.post(s.url("/api/users")).json(&json!({"username": format!("v-{role}-{i}"), "display_name": "v", "password": "another long password", "role": "viewer", "hospital_id": hosp, "department_id": fx.d[i]}))),
                ("POST department", 80, Level::Hospital, s.http.post(s.url("/api/departments")).json(&json!({"hospital_id": hosp, "code": format!("N{ri}{i}"), "name": "New"}))),
                ("GET event", 50, Level::Hospital, s.http.get(s.url(&format!("/api/integrations/events/{}", fx.event[i])))),
                ("POST api-key", 80, Level::Hospital, s.http.post(s.url("/api/api-keys")).json(&json!({"hospital_id": hosp, "name": "k", "source_systems": ["X"]}))),
                // Everyone may read their own hospital's record; not another hospital's.
                ("GET hospital", 10, Level::Dept, s.http.get(s.url(&format!("/api/hospitals/{hosp}")))),
            ];
            for (name, min, lvl, req) in probes {
                let status = req.bearer_auth(tok).send().await.unwrap().status();
                let scope_ok = if name == "GET hospital" {
                    in_scope(role, t, Level::Hospital)
                        || (scope_kind(role) == "department" && t != Target::OtherHospital)
                } else {
                    in_scope(role, t, lvl)
                };
                let expect_allow = *level >= min && scope_ok;
                let allowed = status.is_success();
                if allowed != expect_allow || (!allowed && status != 403 && status != 404) {
                    failures.push(format!(
                        "{role} {name} {t:?}: got {status}, expected {}",
                        if expect_allow { "allow" } else { "deny" }
                    ));
                }
                checked += 1;
            }
        }

        // List endpoints: allowed roles only ever see rows inside their scope.
        let lists: [(&str, u8); 9] = [
            ("/api/hospitals", 10),
            ("/api/departments", 10),
            ("/api/physicians", 20),
            ("/api/patients?limit=500", 20),
            ("/api/journeys?limit=200", 20),
            ("/api/users", 60),
            ("/api/integrations/events", 50),
            ("/api/api-keys", 80),
            ("/api/audit?limit=1000", 80),
        ];
        for (path, min) in lists {
            let r = s.get(tok, path).await;
            let status = r.status();
            // Events, API keys and the audit log are hospital-level: department roles never list them.
            let hospital_level = [
                "/api/integrations/events",
                "/api/api-keys",
                "/api/audit?limit=1000",
            ]
            .contains(&path);
            let expect_allow =
                *level >= min && !(hospital_level && scope_kind(role) == "department");
            if status.is_success() != expect_allow {
                failures.push(format!("{role} GET {path}: got {status}"));
                continue;
            }
            checked += 1;
            if !expect_allow {
                continue;
            }
            let rows: Value = r.json().await.unwrap();
            for row in rows.as_array().unwrap() {
                let h = row.get("hospital_id").and_then(Value::as_str).or_else(|| {
                    if path == "/api/hospitals" {
                        row["id"].as_str()
                    } else {
                        None
                    }
                });
                let dpt = row
                    .get("department_id")
                    .and_then(Value::as_str)
                    .or_else(|| {
                        if path == "/api/departments" {
                            row["id"].as_str()
                        } else {
                            None
                        }
                    });
                let ok = match scope_kind(role) {
                    "group" => true,
                    "hospital" => h == Some(fx.h_a.as_str()),
                    _ => {
                        h == Some(fx.h_a.as_str())
                            && (path == "/api/hospitals" || dpt == Some(fx.d[0].as_str()))
                    }
                };
                if !ok {
                    failures.push(format!(
                        "{role} GET {path} leaked a row outside its scope: {row}"
                    ));
                    break;
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 8 * (11 * 3 + 9));

    // Denials are audited.
    let audit: Value = s
        .get(&admin, "/api/audit?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    let denials = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "permission.denied")
        .count();
    assert!(denials > 50, "denials audited: {denials}");
    s.db.verify_audit_chain().await.unwrap();

    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(matrix);
