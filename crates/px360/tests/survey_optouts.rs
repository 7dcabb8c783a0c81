//! Staff record a patient's survey opt-out and renewed consent through the API (issue 15,
//! follow-up item 3), on SQLite and PostgreSQL: channel or all, idempotent, re-consent only with
//! a reason, bad input answered with problem+json, every change audited. The role × scope rules
//! are in the RBAC matrix (`rbac_matrix.rs`, "survey opt-out" probes). Also item 8: contact
//! details in the patient list are masked below PX Coordinator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{ADMIN_PASSWORD, Kind, ServerOpts, TestDb, TestServer};
use serde_json::{Value, json};

fn channels(v: &Value, field: &str) -> Vec<String> {
    let mut out: Vec<String> = v[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| c["channel"].as_str().unwrap().to_owned())
        })
        .collect();
    out.sort();
    out
}

async fn staff_opt_outs(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(
        &tdb.url,
        ServerOpts {
            worker: false,
            beat: false,
            ..Default::default()
        },
    )
    .await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let pid: String = sqlx::query_scalar("SELECT id FROM patients WHERE mrn = 'RGH-ED-0001'")
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    let path = format!("/api/patients/{pid}/survey-opt-outs");

    let r = s.post(&admin, &path, json!({"channel": "fax"})).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    let r = s.post(&admin, &path, json!({"channel": "all"})).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(channels(&v, "changed"), ["email", "sms", "whatsapp"]);
    assert!(
        v["opt_outs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["source"] == "staff")
    );
    // Idempotent: nothing new, nothing audited again.
    let v: Value = s
        .post(&admin, &path, json!({"channel": "sms"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(channels(&v, "changed"), Vec::<String>::new());
    let listed: Value = s.get(&admin, &path).await.json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 3);

    // Re-consent needs a reason.
    let r = s.delete(&admin, &format!("{path}?channel=sms")).await;
    assert_eq!(r.status(), 422);
    let r = s
        .delete(&admin, &format!("{path}?channel=sms&reason=%20%20"))
        .await;
    assert_eq!(r.status(), 422);
    let r = s
        .delete(&admin, &format!("{path}?channel=pigeon&reason=x"))
        .await;
    assert_eq!(r.status(), 422);
    let v: Value = s
        .delete(
            &admin,
            &format!("{path}?channel=sms&reason=Patient%20asked%20at%20the%20desk"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(channels(&v, "changed"), ["sms"]);
    assert_eq!(channels(&v, "opt_outs"), ["email", "whatsapp"]);
    let v: Value = s
        .delete(&admin, &format!("{path}?reason=Consent%20form%20signed"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(channels(&v, "changed"), ["email", "whatsapp"]);
    assert!(v["opt_outs"].as_array().unwrap().is_empty());

    // Unknown patient: 404.
    let r = s
        .post(
            &admin,
            "/api/patients/00000000-0000-7000-8000-000000000000/survey-opt-outs",
            json!({"channel": "sms"}),
        )
        .await;
    assert_eq!(r.status(), 404);

    // Audited: three opt-outs and two re-consents, by this user, with the reasons.
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT action, actor_type, changes FROM audit_log WHERE action IN ('survey.opt_out', 'survey.opt_in') ORDER BY seq",
    )
    .fetch_all(&s.db.pool)
    .await
    .unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        actions,
        [
            "survey.opt_out",
            "survey.opt_out",
            "survey.opt_out",
            "survey.opt_in",
            "survey.opt_in"
        ]
    );
    assert!(rows.iter().all(|r| r.1 == "user"));
    assert!(
        rows[3].2.contains("Patient asked at the desk"),
        "{}",
        rows[3].2
    );
    s.db.verify_audit_chain().await.unwrap();

    // Contact details in the patient list: masked below PX Coordinator, in clear from it up.
    let (rgh, depts) = s.hospital(&admin, "RGH").await;
    for (u, role, dept) in [
        ("u_staff", "staff", Some(depts["ED"].clone())),
        ("u_coord", "px_coordinator", None),
    ] {
        let r = s
            .post(
                &admin,
                "/api/users",
                json!({"username": u, "display_name": u, "password": "correct horse battery",
                "role": role, "hospital_id": rgh, "department_id": dept}),
            )
            .await;
        assert_eq!(r.status(), 201, "{u}");
    }
    for (u, masked) in [("u_staff", true), ("u_coord", false)] {
        let tok = s.token(u, "correct horse battery").await;
        let list: Value = s
            .get(&tok, "/api/patients?limit=500")
            .await
            .json()
            .await
            .unwrap();
        let rows = list.as_array().unwrap();
        let contacts: Vec<&str> = rows
            .iter()
            .flat_map(|p| [p["phone"].as_str(), p["email"].as_str()])
            .flatten()
            .collect();
        assert!(!contacts.is_empty(), "{u} sees patients with contacts");
        assert!(
            contacts.iter().all(|c| c.contains('…') == masked),
            "{u}: {contacts:?}"
        );
        // One patient's own record stays whole for whoever may read it.
        let one: Value = s
            .get(
                &tok,
                &format!("/api/patients/{}", rows[0]["id"].as_str().unwrap()),
            )
            .await
            .json()
            .await
            .unwrap();
        assert!(one["phone"].as_str().is_none_or(|p| !p.contains('…')));
    }

    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(staff_opt_outs);
