//! General feedback over HTTP against the real server on both engines (issue 18): staff intake
//! with specific 422s, a compliment naming a staff member routed to that member's manager (in-app
//! notification, emailed by the notifier), sentiment and themes stored with the item, masking
//! below PX Coordinator, one-click triage into an action and a complaint through the existing
//! operations (idempotent; a different second triage is 409; a compliment is never a case),
//! scope (404 out of scope, 403 too low), printable QR codes (PNG that is a PNG, SVG, the
//! encoded URL), analytics counts, and the audit log (no text in it).
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
    let (_, coord) = user(&s, &admin, "fcoord", "px_coordinator", &h, None).await;
    let (mgr_id, mgr) = user(&s, &admin, "fmgr", "department_manager", &h, Some(&card)).await;
    let (_, nurse) = user(&s, &admin, "fnurse", "nurse", &h, Some(&card)).await;
    let (_, viewer) = user(&s, &admin, "fviewer", "viewer", &h, Some(&card)).await;
    let (_, other) = user(&s, &admin, "fother", "nurse", &h_b, Some(&depts_b["CARD"])).await;
    let emps: Value = s.get(&admin, "/api/employees").await.json().await.unwrap();
    let staff = emps
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["department_id"] == card.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Bad input: every field named at once.
    let r = s
        .post(&nurse, "/api/feedback", json!({"department_id": card, "kind": "rant", "language": "fr", "text": " ", "contact_email": "nope"}))
        .await;
    assert_eq!(r.status(), 422);
    let names = field_names(&r.json::<Value>().await.unwrap());
    for f in ["kind", "lang", "text", "contact_email"] {
        assert!(names.iter().any(|n| n == f), "{f} in {names:?}");
    }
    // A staff member of another hospital cannot be named.
    let other_staff = emps
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["hospital_id"] == h_b.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .post(&nurse, "/api/feedback", json!({"department_id": card, "kind": "compliment", "language": "en", "text": "Thanks", "staff_id": other_staff}))
        .await;
    assert_eq!(r.status(), 422);

    // A compliment naming a staff member goes to the department's manager.
    let r = s
        .post(
            &nurse,
            "/api/feedback",
            json!({"department_id": card, "kind": "compliment", "language": "ar",
            "text": "شكراً جزيلاً للممرضة على اهتمامها، ما قصروا أبداً", "staff_id": staff}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let compliment: Value = r.json().await.unwrap();
    assert_eq!(compliment["routed_to"], mgr_id.as_str());
    assert!(compliment["reference"].as_str().unwrap().starts_with('F'));
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
            .any(|n| n["kind"] == "compliment"
                && n["item_kind"] == "feedback"
                && n["item_id"] == compliment["id"]),
        "{notes}"
    );

    // A concern with contact details: sentiment and themes stored, contact masked for a nurse.
    let r = s
        .post(&nurse, "/api/feedback", json!({"department_id": card, "kind": "concern", "language": "en",
            "text": "Waited five hours in the clinic and nobody told us anything. Call me on 0501234567.",
            "contact_name": "Sara Ali", "contact_phone": "050 123 4567"}))
        .await;
    assert_eq!(r.status(), 201);
    let concern: Value = r.json().await.unwrap();
    let cid = concern["id"].as_str().unwrap().to_owned();
    assert_eq!(concern["contact_phone"], "+966501234567");
    let d: Value = s
        .get(&nurse, &format!("/api/feedback/{cid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["analysis"]["sentiment"], "negative", "{d}");
    assert!(
        d["analysis"]["themes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "waiting_time"),
        "{d}"
    );
    assert!(d["analysis"]["score"].as_f64().unwrap() < 0.0);
    assert_eq!(d["feedback"]["contact_name"], "•••");
    assert!(
        !d["feedback"]["contact_phone"]
            .as_str()
            .unwrap()
            .contains("1234567")
    );
    assert!(
        !d["feedback"]["body"]
            .as_str()
            .unwrap()
            .contains("0501234567")
    );
    let d: Value = s
        .get(&coord, &format!("/api/feedback/{cid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["feedback"]["contact_name"], "Sara Ali");
    // Lists: filters by kind and sentiment, masked the same way.
    let list: Value = s
        .get(&nurse, "/api/feedback?kind=concern&sentiment=negative")
        .await
        .json()
        .await
        .unwrap();
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{list}");
    assert_eq!(rows[0]["contact_name"], "•••");
    assert_eq!(rows[0]["sentiment"], "negative");
    let list: Value = s
        .get(&nurse, "/api/feedback?kind=compliment")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);

    // Scope and roles.
    assert_eq!(
        s.get(&other, &format!("/api/feedback/{cid}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        s.get(&viewer, &format!("/api/feedback/{cid}"))
            .await
            .status(),
        403
    );
    let triage = |target: &str, cat: Option<&str>| json!({"target": target, "category_code": cat, "severity": "medium"});
    let r = s
        .post(
            &nurse,
            &format!("/api/feedback/{cid}/triage"),
            triage("action", Some("facilities")),
        )
        .await;
    assert_eq!(r.status(), 403);

    // One click: the concern becomes an action owned by the rules (the department manager).
    let path = format!("/api/feedback/{cid}/triage");
    let r = s
        .post(&coord, &path, triage("action", Some("facilities")))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["status"], "action");
    let action_id = t["action_id"].as_str().unwrap().to_owned();
    let a: Value = s
        .get(&mgr, &format!("/api/actions/{action_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["action"]["origin_kind"], "feedback", "{a}");
    assert_eq!(a["action"]["origin_id"], cid.as_str());
    assert_eq!(a["action"]["owner_id"], mgr_id.as_str());
    // The same click again answers the same; a different one is a conflict.
    let r = s
        .post(&coord, &path, triage("action", Some("facilities")))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["action_id"],
        action_id.as_str()
    );
    let r = s
        .post(&coord, &path, triage("complaint", Some("facilities")))
        .await;
    assert_eq!(r.status(), 409);

    // A suggestion becomes a complaint through the complaint intake.
    let r = s
        .post(
            &nurse,
            "/api/feedback",
            json!({"department_id": card, "kind": "suggestion", "language": "en",
            "text": "Please add more chairs in the waiting area."}),
        )
        .await;
    let sid = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .post(
            &coord,
            &format!("/api/feedback/{sid}/triage"),
            triage("complaint", Some("facilities")),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let t: Value = r.json().await.unwrap();
    let complaint_id = t["complaint_id"].as_str().unwrap().to_owned();
    let c: Value = s
        .get(&coord, &format!("/api/complaints/{complaint_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["complaint"]["source_channel"], "feedback");
    assert_eq!(c["complaint"]["department_id"], card.as_str());
    let r = s
        .post(
            &coord,
            &format!("/api/feedback/{sid}/triage"),
            triage("complaint", Some("facilities")),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["complaint_id"],
        complaint_id.as_str()
    );

    // A compliment is acknowledged, never a case.
    let fid = compliment["id"].as_str().unwrap();
    let r = s
        .post(
            &coord,
            &format!("/api/feedback/{fid}/triage"),
            triage("action", Some("communication")),
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = s
        .post(
            &coord,
            &format!("/api/feedback/{fid}/triage"),
            triage("acknowledge", None),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "acknowledged");

    // Printable QR codes of the hospital's and the department's form.
    let r = s
        .get(
            &nurse,
            &format!("/api/hospitals/{h}/feedback-qr?department_id={card}"),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    let url = r.headers()["x-feedback-url"].to_str().unwrap().to_owned();
    assert!(url.ends_with(&format!("/ui/feedback/{h}/{card}")), "{url}");
    let png = r.bytes().await.unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let r = s
        .get(
            &coord,
            &format!("/api/hospitals/{h}/feedback-qr?format=svg"),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert!(r.text().await.unwrap().contains("<svg"));
    // A department nurse cannot print another department's or hospital's code.
    let r = s
        .get(&nurse, &format!("/api/hospitals/{h}/feedback-qr"))
        .await;
    assert_eq!(r.status(), 404);
    let r = s
        .get(
            &nurse,
            &format!("/api/hospitals/{h}/feedback-qr?format=gif&department_id={card}"),
        )
        .await;
    assert_eq!(r.status(), 422);

    // Analytics: counts by kind and triage outcome, in scope, for viewers too.
    let r: Value = s
        .get(&viewer, &format!("/api/analytics/feedback?hospital_id={h}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["total"], 3, "{r}");
    assert_eq!(r["counts"]["compliments"], 1);
    assert_eq!(r["counts"]["concerns"], 1);
    assert_eq!(r["counts"]["suggestions"], 1);
    assert_eq!(r["counts"]["to_action"], 1);
    assert_eq!(r["counts"]["to_complaint"], 1);
    let r: Value = s
        .get(
            &admin,
            &format!("/api/analytics/feedback?hospital_id={h_b}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["total"], 0);

    // Audited, without the text or contact details.
    let audit: Value = s
        .get(&admin, "/api/audit?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    for a in [
        "feedback.create",
        "feedback.triage",
        "feedback.read",
        "px_action.create",
        "complaint.create",
    ] {
        assert!(
            audit.as_array().unwrap().iter().any(|e| e["action"] == a),
            "{a} audited"
        );
    }
    let text = audit.to_string();
    assert!(
        !text.contains("Waited five hours")
            && !text.contains("Sara Ali")
            && !text.contains("0501234567")
    );
    s.db.verify_audit_chain().await.unwrap();
    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(scenario);
