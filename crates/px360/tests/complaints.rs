//! Complaints, PX actions and SLA configuration over HTTP against the real server on both
//! engines: intake (and an idempotent resend from a system), specific 422s, the lifecycle with
//! the domain's permissions, notes kept apart from patient messages, attachments (type and
//! content checked, served only in scope, every access audited), an action that needs evidence
//! and a second person to close, and a calendar edit that re-evaluates open items.
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

async fn scenario(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (h, depts) = s.hospital(&admin, "RGH").await;
    let (h_b, depts_b) = s.hospital(&admin, "NPH").await;
    let card = depts["CARD"].clone();
    let (coord_id, coord) = user(&s, &admin, "coord", "px_coordinator", &h, None).await;
    let (mgr_id, mgr) = user(&s, &admin, "mgr", "department_manager", &h, Some(&card)).await;
    let (_, nurse) = user(&s, &admin, "nurse", "nurse", &h, Some(&card)).await;
    let (_, other) = user(
        &s,
        &admin,
        "othernurse",
        "nurse",
        &h_b,
        Some(&depts_b["CARD"]),
    )
    .await;

    // Intake by a nurse; bad input is a specific 422.
    let r = s.post(&nurse, "/api/complaints", json!({"department_id": card, "category_code": "nope", "severity": "urgent", "source_channel": "pigeon", "subject": "", "description": "x"})).await;
    assert_eq!(r.status(), 422);
    let names = field_names(&r.json::<Value>().await.unwrap());
    for f in ["category_code", "severity", "source_channel", "subject"] {
        assert!(names.iter().any(|n| n == f), "{f} in {names:?}");
    }
    let body = json!({"department_id": card, "category_code": "waiting_time", "severity": "high", "source_channel": "call_centre",
        "source_system": "CALLCENTRE", "external_ref": "CC-1", "subject": "Long wait", "description": "Waited four hours", "language": "ar"});
    let r = s.post(&nurse, "/api/complaints", body.clone()).await;
    assert_eq!(r.status(), 201);
    let c: Value = r.json().await.unwrap();
    let id = c["id"].as_str().unwrap().to_owned();
    assert_eq!(c["status"], "new");
    // The call centre resends: the same complaint, 200.
    let r = s.post(&nurse, "/api/complaints", body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["id"], id.as_str());
    // A high complaint raised an action owned by the department's manager.
    let board: Value = s
        .get(&mgr, "/api/actions?board=mine")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        board
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["origin_id"] == id.as_str()),
        "{board}"
    );

    // Out of scope: 404; the nurse may not acknowledge (domain: assignee or coordinator).
    assert_eq!(
        s.get(&other, &format!("/api/complaints/{id}"))
            .await
            .status(),
        404
    );
    let r = s
        .post(
            &nurse,
            &format!("/api/complaints/{id}/transitions"),
            json!({"command": "acknowledge"}),
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = s
        .post(
            &coord,
            &format!("/api/complaints/{id}/transitions"),
            json!({"command": "start_work"}),
        )
        .await;
    assert_eq!(r.status(), 409, "needs an assignee first");
    let r = s
        .post(
            &coord,
            &format!("/api/complaints/{id}/transitions"),
            json!({"command": "assign", "to": coord_id}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = s
        .post(
            &coord,
            &format!("/api/complaints/{id}/transitions"),
            json!({"command": "acknowledge"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = s
        .post(
            &coord,
            &format!("/api/complaints/{id}/updates"),
            json!({"visibility": "internal", "body": "Called the clinic"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = s
        .post(
            &coord,
            &format!("/api/complaints/{id}/updates"),
            json!({"visibility": "patient", "body": "We are looking into it"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = s
        .post(
            &coord,
            &format!("/api/complaints/{id}/updates"),
            json!({"visibility": "public", "body": "x"}),
        )
        .await;
    assert_eq!(r.status(), 422);

    // Attachments: the declared type must match the content.
    let up = |name: &str, ct: &str, bytes: Vec<u8>, tok: &str| {
        s.http
            .post(s.url(&format!("/api/complaints/{id}/attachments?name={name}")))
            .bearer_auth(tok.to_owned())
            .header("content-type", ct.to_owned())
            .body(bytes)
            .send()
    };
    let r = up(
        "letter.pdf",
        "application/pdf",
        b"not a pdf".to_vec(),
        &coord,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let r = up(
        "run.exe",
        "application/x-msdownload",
        b"MZ".to_vec(),
        &coord,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let pdf = b"%PDF-1.4\n% test\n".to_vec();
    let r = up("letter.pdf", "application/pdf", pdf.clone(), &coord)
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let att: Value = r.json().await.unwrap();
    let att_id = att["id"].as_str().unwrap();
    assert_eq!(att["size_bytes"], pdf.len());
    let r = s.get(&nurse, &format!("/api/attachments/{att_id}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"letter.pdf\""
    );
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);
    assert_eq!(
        s.get(&other, &format!("/api/attachments/{att_id}"))
            .await
            .status(),
        404
    );

    // The detail: timeline with notes apart from patient messages, the clock with its cycle.
    let d: Value = s
        .get(&coord, &format!("/api/complaints/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let ups = d["updates"].as_array().unwrap();
    assert!(
        ups.iter()
            .any(|u| u["kind"] == "note" && u["visibility"] == "internal")
    );
    assert!(
        ups.iter()
            .any(|u| u["kind"] == "message" && u["visibility"] == "patient")
    );
    assert!(d["clock"]["first_responded_at"].is_string());
    assert!(d["clock"]["resolution_due_at"].is_string());
    assert_eq!(d["attachments"].as_array().unwrap().len(), 1);
    let list: Value = s
        .get(&nurse, "/api/complaints?status=acknowledged")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);

    // The action: evidence before closure, then a second person verifies (high severity).
    let action = board
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["origin_id"] == id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/actions/{action}/transitions");
    let act = |tok: &str, cmd: Value| {
        let (tok, path, s) = (tok.to_owned(), path.clone(), &s);
        async move { s.post(&tok, &path, cmd).await }
    };
    assert_eq!(act(&mgr, json!({"command": "start"})).await.status(), 200);
    assert_eq!(
        act(&mgr, json!({"command": "submit_for_closure"}))
            .await
            .status(),
        422,
        "no evidence yet"
    );
    assert_eq!(act(&mgr, json!({"command": "add_evidence", "evidence": {"note": "New signage", "attachment_id": att_id}})).await.status(), 200);

    // The action's own evidence file: uploaded by whoever may work on it, typed by content,
    // downloadable in scope only, and citable only by this action (or from its complaint).
    let up_action = |action: &str, name: &str, ct: &str, bytes: Vec<u8>, tok: &str| {
        s.http
            .post(s.url(&format!("/api/actions/{action}/attachments?name={name}")))
            .bearer_auth(tok.to_owned())
            .header("content-type", ct.to_owned())
            .body(bytes)
            .send()
    };
    let png = b"\x89PNG\r\n\x1a\n0000IHDR".to_vec();
    let r = up_action(&action, "sign.png", "image/png", b"GIF89a".to_vec(), &mgr)
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "content does not match the type");
    let r = up_action(&action, "sign.png", "image/png", png.clone(), &other)
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "another hospital's nurse");
    let r = up_action(&action, "sign.png", "image/png", png.clone(), &mgr)
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let photo: Value = r.json().await.unwrap();
    let photo_id = photo["id"].as_str().unwrap().to_owned();
    let files: Value = s
        .get(&nurse, &format!("/api/actions/{action}/attachments"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(files[0]["id"], photo_id.as_str());
    assert_eq!(files[0]["owner_kind"], "action");
    let r = s.get(&nurse, &format!("/api/attachments/{photo_id}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);
    assert_eq!(
        s.get(&other, &format!("/api/attachments/{photo_id}"))
            .await
            .status(),
        404
    );
    // A second action of the same hospital cannot cite this action's file.
    let r = s.post(&coord, "/api/actions", json!({"hospital_id": h, "department_id": card, "title": "Other work", "category_code": "waiting_time", "severity": "low"})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let second = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s.post(&coord, &format!("/api/actions/{second}/transitions"), json!({"command": "add_evidence", "evidence": {"note": "x", "attachment_id": photo_id}})).await;
    assert_eq!(r.status(), 422, "not this action's file");
    let r = s
        .post(
            &coord,
            &format!("/api/actions/{second}/transitions"),
            json!({"command": "add_evidence", "evidence": {"note": "x", "attachment_id": att_id}}),
        )
        .await;
    assert_eq!(r.status(), 422, "not this action's complaint");
    assert_eq!(act(&mgr, json!({"command": "add_evidence", "evidence": {"note": "Photo of the new sign", "attachment_id": photo_id}})).await.status(), 200);
    assert_eq!(
        act(&mgr, json!({"command": "submit_for_closure"}))
            .await
            .status(),
        200
    );
    let r = act(&mgr, json!({"command": "verify"})).await;
    assert_eq!(r.status(), 409, "the submitter may not verify");
    let (_, hadmin) = user(&s, &admin, "hadmin", "hospital_admin", &h, None).await;
    let r = act(&hadmin, json!({"command": "verify"})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "closed");
    let _ = mgr_id;

    // SLA configuration: an invalid calendar is a 422; a valid one re-evaluates open items.
    let r = s
        .http
        .put(s.url(&format!("/api/hospitals/{h}/sla/calendar")))
        .bearer_auth(&hadmin)
        .json(&json!({"time_zone": "Mars/Olympus", "hours": {"mon": ["09:00-17:00"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = s
        .http
        .put(s.url(&format!("/api/hospitals/{h}/sla/calendar")))
        .bearer_auth(&coord)
        .json(&json!({"time_zone": "Asia/Riyadh", "hours": {"sun": ["00:00-24:00"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let before: Value = s
        .get(&coord, &format!("/api/complaints/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let r = s.http.put(s.url(&format!("/api/hospitals/{h}/sla/calendar"))).bearer_auth(&hadmin)
        .json(&json!({"time_zone": "Asia/Riyadh", "hours": {"sun": ["00:00-24:00"], "mon": ["00:00-24:00"], "tue": ["00:00-24:00"], "wed": ["00:00-24:00"], "thu": ["00:00-24:00"], "fri": ["00:00-24:00"], "sat": ["00:00-24:00"]}}))
        .send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["version"], 2);
    let after: Value = s
        .get(&coord, &format!("/api/complaints/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(
        before["clock"]["resolution_due_at"], after["clock"]["resolution_due_at"],
        "recomputed"
    );

    // Audited: creation, status, assignment, attachment upload and download, calendar.
    let audit: Value = s
        .get(&admin, "/api/audit?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    for a in [
        "complaint.create",
        "complaint.status",
        "complaint.assign",
        "attachment.upload",
        "attachment.download",
        "sla.calendar.put",
        "px_action.verify",
    ] {
        assert!(
            audit.as_array().unwrap().iter().any(|e| e["action"] == a),
            "{a} audited"
        );
    }
    // No complaint text in the audit log.
    assert!(!audit.to_string().contains("Waited four hours"));
    assert!(!audit.to_string().contains("We are looking into it"));
    s.db.verify_audit_chain().await.unwrap();
    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(scenario);
