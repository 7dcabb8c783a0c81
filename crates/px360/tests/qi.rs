//! QI projects over HTTP on both engines: creation validated by the domain and against the
//! references (owner, themes, actions) with specific 422s, RBAC (everyone in scope reads, PX
//! Coordinator and up runs a project, other hospitals 404), PDSA cycles through the domain's
//! machine (no skipping, a note per stage), and the run chart and executive-summary status of
//! the demo project, whose sixteen weeks of phone surveys shift after the change date.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{ADMIN_PASSWORD, Kind, ServerOpts, TestDb, TestServer, field_names};
use serde_json::{Value, json};

async fn user(
    s: &TestServer,
    admin: &str,
    name: &str,
    role: &str,
    h: &str,
    d: Option<&str>,
) -> (String, String) {
    let r = s.post(admin, "/api/users", json!({"username": name, "display_name": name, "password": "correct horse battery", "role": role, "hospital_id": h, "department_id": d})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, s.token(name, "correct horse battery").await)
}

async fn json_of(r: reqwest::Response, want: u16) -> Value {
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status.as_u16(), want, "{body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

async fn scenario(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (h, depts) = s.hospital(&admin, "RGH").await;
    let (h_b, depts_b) = s.hospital(&admin, "NPH").await;
    let ed = depts["ED"].clone();
    let (coord_id, coord) = user(&s, &admin, "coord", "px_coordinator", &h, None).await;
    let (viewer_id, viewer) = user(&s, &admin, "viewer", "viewer", &h, Some(&ed)).await;
    let (_, staff) = user(&s, &admin, "staff", "staff", &h, Some(&ed)).await;
    let (_, other) = user(&s, &admin, "other", "hospital_admin", &h_b, None).await;
    let action = json_of(s.post(&coord, "/api/actions", json!({"department_id": ed, "category_code": "waiting_time", "severity": "medium", "title": "Fast-track minor injuries", "owner_id": coord_id})).await, 201).await;
    let action_id = action["id"].as_str().unwrap().to_owned();
    let today = chrono::Utc::now().date_naive();
    let body = json!({"department_id": ed, "title": "Shorter ED waits", "aim": "Raise ED NPS from 10 to 30 by June",
        "status": "active", "granularity": "week", "baseline_from": (today - chrono::Duration::weeks(10)).to_string(),
        "change_date": (today - chrono::Duration::weeks(3)).to_string(),
        "measures": [{"kpi": "nps", "baseline": 10, "target": 30}, {"kpi": "complaints_received", "baseline": 8, "target": 4}],
        "milestones": [{"title": "Brief triage", "due": today.to_string(), "done": null}],
        "action_ids": [action_id], "themes": ["waiting_time"]});

    // Specific 422s: the domain's (aim, measure) and the references' (theme, owner, action).
    let mut bad = body.clone();
    bad["aim"] = json!(" ");
    bad["measures"][0]["target"] = json!(10);
    bad["themes"] = json!(["no_such_theme"]);
    bad["owner_id"] = json!(viewer_id);
    bad["action_ids"] = json!([uuid::Uuid::nil()]);
    let p = json_of(s.post(&coord, "/api/qi/projects", bad).await, 422).await;
    let names = field_names(&p);
    for f in ["themes[0]", "owner_id", "action_ids[0]"] {
        assert!(names.iter().any(|n| n == f), "{f} in {names:?}");
    }
    assert!(
        names.iter().any(|n| n == "aim" || n == "measures[0]"),
        "{names:?}"
    );
    let mut bad = body.clone();
    bad["measures"][0]["target"] = json!(10);
    assert_eq!(
        field_names(&json_of(s.post(&coord, "/api/qi/projects", bad).await, 422).await),
        ["measures[0]"]
    );
    let mut bad = body.clone();
    bad["change_date"] = json!((today - chrono::Duration::weeks(20)).to_string());
    assert_eq!(
        field_names(&json_of(s.post(&coord, "/api/qi/projects", bad).await, 422).await),
        ["change_date"]
    );
    // Staff follow projects but do not run them.
    assert_eq!(
        s.post(&staff, "/api/qi/projects", body.clone())
            .await
            .status(),
        403
    );
    let p = json_of(s.post(&coord, "/api/qi/projects", body.clone()).await, 201).await;
    let id = p["id"].as_str().unwrap().to_owned();
    assert_eq!(p["owner_id"], coord_id.as_str());
    assert_eq!(p["status"], "active");
    assert_eq!(p["measures"][1]["kpi"], "complaints_received");

    // Everyone in scope reads; another hospital does not see it.
    let list = json_of(s.get(&viewer, "/api/qi/projects").await, 200).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == id.as_str())
    );
    assert_eq!(
        s.get(&other, &format!("/api/qi/projects/{id}"))
            .await
            .status(),
        404
    );
    assert!(
        json_of(s.get(&other, "/api/qi/projects").await, 200)
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.send(
            &viewer,
            reqwest::Method::PUT,
            &format!("/api/qi/projects/{id}"),
            body.clone()
        )
        .await
        .status(),
        403
    );
    let mut edit = body.clone();
    edit["status"] = json!("on_hold");
    edit["themes"] = json!(["waiting_time", "communication"]);
    let p = json_of(
        s.send(
            &coord,
            reqwest::Method::PUT,
            &format!("/api/qi/projects/{id}"),
            edit,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(p["status"], "on_hold");
    assert_eq!(p["themes"], json!(["communication", "waiting_time"]));

    // PDSA: Plan → Do → Study → Act → closed, a note each time, no skipping.
    let c = json_of(
        s.post(
            &coord,
            &format!("/api/qi/projects/{id}/cycles"),
            json!({"title": "Nurse at the door"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        (c["seq"].as_i64(), c["stage"].as_str()),
        (Some(1), Some("plan"))
    );
    let cid = c["id"].as_str().unwrap().to_owned();
    let tr = |cmd: &str, note: &str, decision: Option<&str>| json!({"command": cmd, "note": note, "decision": decision});
    let path = format!("/api/qi/projects/{id}/cycles/{cid}/transitions");
    assert_eq!(
        s.post(&coord, &path, tr("start_study", "x", None))
            .await
            .status(),
        409
    );
    assert_eq!(
        field_names(&json_of(s.post(&coord, &path, tr("start_do", " ", None)).await, 422).await),
        ["note"]
    );
    for (cmd, want) in [
        ("start_do", "do"),
        ("start_study", "study"),
        ("start_act", "act"),
    ] {
        let c = json_of(s.post(&coord, &path, tr(cmd, "a note", None)).await, 200).await;
        assert_eq!(c["stage"], want);
    }
    assert_eq!(
        field_names(
            &json_of(
                s.post(&coord, &path, tr("close", "done", Some("maybe")))
                    .await,
                422
            )
            .await
        ),
        ["decision"]
    );
    let c = json_of(
        s.post(&coord, &path, tr("close", "It worked", Some("adopt")))
            .await,
        200,
    )
    .await;
    assert_eq!(
        (c["stage"].as_str(), c["decision"].as_str()),
        (Some("closed"), Some("adopt"))
    );
    assert_eq!(c["plan_note"], "a note");
    assert_eq!(c["act_note"], "It worked");
    assert_eq!(
        s.post(
            &staff,
            &format!("/api/qi/projects/{id}/cycles"),
            json!({"title": "x"})
        )
        .await
        .status(),
        403
    );
    let d = json_of(s.get(&viewer, &format!("/api/qi/projects/{id}")).await, 200).await;
    assert_eq!(d["cycles"].as_array().unwrap().len(), 1);

    // The run chart of a project without data: every point a gap, no analysis.
    let rc = json_of(
        s.get(&viewer, &format!("/api/qi/projects/{id}/run-chart"))
            .await,
        200,
    )
    .await;
    assert!(rc["points"].as_array().unwrap().len() >= 10, "{rc}");
    assert_eq!(rc["kpi"], "nps");
    let rc = json_of(
        s.get(
            &viewer,
            &format!("/api/qi/projects/{id}/run-chart?measure=1"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(rc["better"], "lower");
    assert_eq!(
        field_names(
            &json_of(
                s.get(
                    &viewer,
                    &format!("/api/qi/projects/{id}/run-chart?measure=7")
                )
                .await,
                422
            )
            .await
        ),
        ["measure"]
    );

    // The demo project: sixteen weeks of phone surveys, NPS about 0 for ten weeks, then 50-100.
    assert!(s.db.seed_demo_callqi().await.unwrap());
    assert!(!s.db.seed_demo_callqi().await.unwrap(), "seeded once");
    let list = json_of(s.get(&coord, "/api/qi/projects").await, 200).await;
    let demo = list
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["title"] == "Raise ED NPS")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rc = json_of(
        s.get(&coord, &format!("/api/qi/projects/{demo}/run-chart"))
            .await,
        200,
    )
    .await;
    let points = rc["points"].as_array().unwrap();
    let valued: Vec<f64> = points.iter().filter_map(|p| p["value"].as_f64()).collect();
    assert_eq!(valued.len(), 16, "{rc}");
    assert_eq!(rc["baseline_points"], 10);
    assert_eq!(rc["analysis"]["median"], 0.0, "{rc}");
    assert_eq!(&valued[10..], &[100.0, 50.0, 100.0, 100.0, 50.0, 100.0]);
    assert!(
        rc["analysis"]["signals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["rule"] == "shift" && s["side"] == "above"),
        "{rc}"
    );
    assert_eq!(rc["improving"], true);
    assert!(points.iter().filter(|p| p["signal"] == true).count() >= 6);
    // Agent statistics of the demo's calls (the admin was the agent).
    let st = json_of(
        s.get(
            &admin,
            &format!("/api/analytics/call-centre?hospital_id={h}&granularity=quarter"),
        )
        .await,
        200,
    )
    .await;
    assert!(st["team"]["calls"].as_u64().unwrap() >= 3, "{st}");

    // The executive summary: green (improving, no milestone overdue) for the demo project, a
    // hospital-level project (department roles see their department's projects only).
    let sum = json_of(s.get(&coord, "/api/qi/summary").await, 200).await;
    let line = sum
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["project_id"] == demo.as_str())
        .unwrap();
    assert_eq!(line["summary"]["rag"], "green", "{line}");
    assert_eq!(line["summary"]["pdsa_closed"], 1);
    assert_eq!(line["summary"]["pdsa_open"], 1);
    assert_eq!(line["summary"]["measures"][0]["improving"], true);
    assert!(
        json_of(s.get(&other, "/api/qi/summary").await, 200)
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    let seen = json_of(s.get(&viewer, "/api/qi/summary").await, 200).await;
    assert!(
        !seen
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["project_id"] == demo.as_str())
    );
    assert!(
        seen.as_array()
            .unwrap()
            .iter()
            .any(|x| x["project_id"] == id.as_str())
    );

    let audit = json_of(s.get(&admin, "/api/audit?limit=1000").await, 200).await;
    for a in [
        "qi_project.create",
        "qi_project.update",
        "qi_project.cycle.create",
        "qi_project.cycle.move",
    ] {
        assert!(
            audit.as_array().unwrap().iter().any(|e| e["action"] == a),
            "{a} audited"
        );
    }
    s.db.verify_audit_chain().await.unwrap();
    let _ = depts_b;
    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(scenario);
