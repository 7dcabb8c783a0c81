//! Call centre over HTTP against the real server on both engines: the patient lookup by MRN and
//! by phone inside the agent's scope (phones masked below PX Coordinator, audited without the
//! value), calls validated by the domain with their notes scored by the sentiment engine, a
//! complaint made from a call (channel call_centre, idempotent on the call), a survey taken by
//! phone in the patient's language (validated and scored like a web response, mode phone,
//! counted by analytics), the callback queue under the hospital's SLA policy (due time,
//! overdue, made on time or late by an outbound call) and agent statistics for supervisors.
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
    let (agent_id, agent) = user(&s, &admin, "agent", "staff", &h, Some(&ed)).await;
    let (_, coord) = user(&s, &admin, "coord", "px_coordinator", &h, None).await;
    let (_, viewer) = user(&s, &admin, "viewer", "viewer", &h, Some(&ed)).await;
    let (_, other) = user(&s, &admin, "other", "nurse", &h_b, Some(&depts_b["ED"])).await;

    // Lookup by MRN (any case) and by phone in its national form, inside the agent's scope.
    let r = json_of(
        s.get(&agent, "/api/patient-lookup?mrn=rgh-ed-0001").await,
        200,
    )
    .await;
    assert_eq!(r["kind"], "mrn");
    let found = r["patients"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{r}");
    let patient = found[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(found[0]["mrn"], "RGH-ED-0001");
    // Demo phone of RGH-ED-0001: +966500001101; staff see it masked.
    let r = json_of(
        s.get(&agent, "/api/patient-lookup?phone=050%20000%201101")
            .await,
        200,
    )
    .await;
    assert_eq!(r["patients"][0]["id"], patient.as_str(), "{r}");
    assert!(
        !r["patients"][0]["phone"]
            .as_str()
            .unwrap()
            .contains("000011"),
        "{r}"
    );
    let r = json_of(
        s.get(&coord, "/api/patient-lookup?phone=%2B966500001101")
            .await,
        200,
    )
    .await;
    assert_eq!(r["patients"][0]["phone"], "+966500001101", "{r}");
    // Another department's patient is outside a department agent's scope, not the coordinator's.
    let r = json_of(
        s.get(&agent, "/api/patient-lookup?mrn=RGH-ORTH-0001").await,
        200,
    )
    .await;
    assert!(r["patients"].as_array().unwrap().is_empty());
    let r = json_of(
        s.get(&coord, "/api/patient-lookup?mrn=RGH-ORTH-0001").await,
        200,
    )
    .await;
    assert_eq!(r["patients"].as_array().unwrap().len(), 1);
    let r = s.get(&agent, "/api/patient-lookup?mrn=a%20b").await;
    assert_eq!(r.status(), 422);
    assert_eq!(field_names(&r.json::<Value>().await.unwrap()), ["mrn"]);
    assert_eq!(
        s.get(&viewer, "/api/patient-lookup?mrn=RGH-ED-0001")
            .await
            .status(),
        403
    );

    // A call: the domain's rules are specific 422s; notes are scored.
    let r = s.post(&agent, "/api/calls", json!({"direction": "sideways", "caller": "patient", "reason": "complaint", "outcome": "resolved", "duration_secs": 60})).await;
    assert_eq!(field_names(&json_of(r, 422).await), ["direction"]);
    let r = s.post(&agent, "/api/calls", json!({"direction": "inbound", "caller": "patient", "reason": "complaint", "outcome": "complaint_created", "duration_secs": 60})).await;
    assert_eq!(field_names(&json_of(r, 422).await), ["patient_id"]);
    let r = s.post(&agent, "/api/calls", json!({"direction": "inbound", "caller": "patient", "reason": "enquiry", "outcome": "resolved", "duration_secs": 0})).await;
    assert_eq!(field_names(&json_of(r, 422).await), ["duration_secs"]);
    let notes = "The nurse was rude and we waited four hours in the corridor.";
    let call = json_of(
        s.post(&agent, "/api/calls", json!({"direction": "inbound", "caller": "relative", "patient_id": patient, "lookup_kind": "mrn",
            "reason": "complaint", "outcome": "resolved", "duration_secs": 420, "notes": notes})).await,
        201,
    )
    .await;
    let call_id = call["id"].as_str().unwrap().to_owned();
    assert_eq!(
        call["department_id"],
        ed.as_str(),
        "placed in the agent's department"
    );
    assert_eq!(call["sentiment"]["label"], "negative", "{call}");
    assert!(
        call["sentiment"]["themes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "staff_attitude"),
        "{call}"
    );
    // Lists leave the notes out; the single call has them, and its read is audited.
    let list = json_of(s.get(&agent, "/api/calls?mine=true").await, 200).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == call_id.as_str() && c["notes"].is_null())
    );
    let one = json_of(s.get(&coord, &format!("/api/calls/{call_id}")).await, 200).await;
    assert_eq!(one["call"]["notes"], notes);
    assert_eq!(
        s.get(&other, &format!("/api/calls/{call_id}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        s.get(&viewer, &format!("/api/calls/{call_id}"))
            .await
            .status(),
        403
    );

    // A complaint from the call: the complaint API's operation, channel call_centre; a retry
    // returns the same complaint.
    let body = json!({"category_code": "communication", "severity": "medium", "subject": "Rude at triage", "description": "Relative reports rudeness at triage."});
    let made = json_of(
        s.post(
            &agent,
            &format!("/api/calls/{call_id}/complaint"),
            body.clone(),
        )
        .await,
        201,
    )
    .await;
    let complaint = made["complaint"]["id"].as_str().unwrap().to_owned();
    assert_eq!(made["complaint"]["source_channel"], "call_centre");
    assert_eq!(made["complaint"]["patient_id"], patient.as_str());
    assert_eq!(made["call"]["outcome"], "complaint_created");
    assert_eq!(made["call"]["complaint_id"], complaint.as_str());
    let again = json_of(
        s.post(&agent, &format!("/api/calls/{call_id}/complaint"), body)
            .await,
        201,
    )
    .await;
    assert_eq!(again["complaint"]["id"], complaint.as_str());

    // A survey by phone: the script in the patient's language, answers validated by the survey
    // engine (specific codes per question), stored with mode phone.
    let survey_call = json_of(
        s.post(&agent, "/api/calls", json!({"direction": "outbound", "caller": "patient", "patient_id": patient, "reason": "survey_follow_up", "outcome": "survey_completed", "duration_secs": 240})).await,
        201,
    )
    .await;
    let sc = survey_call["id"].as_str().unwrap().to_owned();
    let view = json_of(
        s.get(&agent, &format!("/api/calls/{sc}/phone-survey"))
            .await,
        200,
    )
    .await;
    let tpl = view["templates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "emergency-experience")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let view = json_of(
        s.get(
            &agent,
            &format!("/api/calls/{sc}/phone-survey?template_id={tpl}&language=ar"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(view["script"]["language"], "ar");
    assert_eq!(view["script"]["questions"][0]["key"], "recommend");
    assert_eq!(view["script"]["questions"][0]["kind"], "nps");
    assert!(
        view["script"]["questions"][0]["text"]
            .as_str()
            .unwrap()
            .contains("توصي")
    );
    let r = s
        .post(
            &agent,
            &format!("/api/calls/{sc}/phone-survey"),
            json!({"template_id": tpl, "answers": {"recommend": 11, "overall": "4"}}),
        )
        .await;
    assert_eq!(field_names(&json_of(r, 422).await), ["recommend"]);
    let r = s
        .post(
            &agent,
            &format!("/api/calls/{sc}/phone-survey"),
            json!({"template_id": tpl, "answers": {"recommend": 10, "overall": "4"}}),
        )
        .await;
    let p = json_of(r, 422).await;
    assert_eq!(field_names(&p), ["listened"], "{p}");
    assert!(p.to_string().contains("survey-answer-required"), "{p}");
    let rec = json_of(
        s.post(&agent, &format!("/api/calls/{sc}/phone-survey"), json!({"template_id": tpl, "language": "ar",
            "answers": {"recommend": 3, "improve": ["waiting", "communication"], "overall": "2", "listened": "sometimes", "explained": "no"}})).await,
        201,
    )
    .await;
    assert_eq!(rec["mode"], "phone");
    assert_eq!(rec["is_negative"], true);
    assert_eq!(rec["scores"]["nps"], 3);
    let response = rec["response_id"].as_str().unwrap().to_owned();
    let r = s.post(&agent, &format!("/api/calls/{sc}/phone-survey"), json!({"template_id": tpl, "answers": {"recommend": 9, "overall": "5", "listened": "always"}})).await;
    assert_eq!(r.status(), 409, "one survey per call");
    let (mode, channel, agent_col): (String, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT r.mode, i.channel, r.agent_id FROM survey_responses r JOIN survey_invitations i ON i.id = r.invitation_id WHERE r.id = $1",
    )
    .bind(&response)
    .fetch_one(&s.db.pool)
    .await
    .unwrap();
    assert_eq!(
        (mode.as_str(), channel.as_deref(), agent_col.as_deref()),
        ("phone", Some("phone"), Some(agent_id.as_str()))
    );
    // The call's department places it in lists too: the agent (scoped to ED) finds the
    // response and its invitation, with the department, though no journey names one.
    let mine = json_of(s.get(&agent, "/api/survey-responses").await, 200).await;
    assert!(
        mine.as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == response.as_str()),
        "{mine}"
    );
    let one = s
        .get(&agent, &format!("/api/survey-responses/{response}"))
        .await;
    assert_eq!(one.status(), 200, "the agent opens what its list shows");
    let theirs = s
        .get(&other, &format!("/api/survey-responses/{response}"))
        .await;
    assert!(!theirs.status().is_success(), "another hospital's nurse");
    let inv_id: String =
        sqlx::query_scalar("SELECT invitation_id FROM survey_responses WHERE id = $1")
            .bind(&response)
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    let invs = json_of(s.get(&agent, "/api/survey-invitations").await, 200).await;
    let inv = invs
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == inv_id.as_str())
        .unwrap_or_else(|| panic!("{invs}"));
    assert_eq!(inv["department_id"], ed.as_str(), "{inv}");
    // The negative response raised the survey event the action centre consumes.
    let events = json_of(s.get(&coord, "/api/survey-events").await, 200).await;
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["response_id"] == response.as_str()),
        "{events}"
    );
    // Analytics counts it, by channel phone.
    s.db.analytics_refresh().await.unwrap();
    let k = json_of(
        s.get(
            &coord,
            &format!("/api/analytics/kpis?hospital_id={h}&granularity=day&channel=phone"),
        )
        .await,
        200,
    )
    .await;
    let nps = k["tiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kpi"] == "nps")
        .unwrap();
    assert_eq!(nps["n"], 1, "{k}");
    assert_eq!(nps["value"], -100.0, "{k}");
    // The call's department (the agent's) counts it too: the department's NPS and its
    // breakdown row include the phone survey; another department's do not.
    let tile = |k: &Value, kpi: &str| {
        k["tiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["kpi"] == kpi)
            .cloned()
            .unwrap()
    };
    let k = json_of(
        s.get(
            &coord,
            &format!("/api/analytics/kpis?hospital_id={h}&department_id={ed}&granularity=day&channel=phone"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(tile(&k, "nps")["n"], 1, "{k}");
    assert_eq!(tile(&k, "nps")["value"], -100.0, "{k}");
    assert_eq!(tile(&k, "response_rate")["n"], 1, "{k}");
    let k = json_of(
        s.get(&agent, "/api/analytics/kpis?granularity=day&channel=phone")
            .await,
        200,
    )
    .await;
    assert_eq!(tile(&k, "nps")["n"], 1, "the agent's own department: {k}");
    let card = depts["CARD"].clone();
    let k = json_of(
        s.get(
            &coord,
            &format!("/api/analytics/kpis?hospital_id={h}&department_id={card}&granularity=day&channel=phone"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(tile(&k, "nps")["n"], 0, "{k}");
    let b = json_of(
        s.get(
            &coord,
            &format!("/api/analytics/breakdown?hospital_id={h}&granularity=day&by=department&channel=phone"),
        )
        .await,
        200,
    )
    .await;
    let row = b["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == ed.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("the department has a breakdown row: {b}"));
    assert_eq!(
        (row["responses"].as_u64(), row["nps"].as_f64()),
        (Some(1), Some(-100.0)),
        "{b}"
    );

    // The callback queue under the hospital's SLA: high callbacks within 60 calendar minutes.
    let r = s.send(&admin, reqwest::Method::PUT, &format!("/api/hospitals/{h}/sla/policies"),
        json!({"category_code": "callback", "severity": "high", "first_response_minutes": 60, "basis": "calendar"})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let cb = json_of(
        s.post(
            &agent,
            "/api/callbacks",
            json!({"call_id": call_id, "priority": "high", "note": "Call the daughter back"}),
        )
        .await,
        201,
    )
    .await;
    let requested =
        chrono::DateTime::parse_from_rfc3339(cb["requested_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(cb["due_at"].as_str().unwrap()).unwrap();
    assert_eq!(due - requested, chrono::Duration::minutes(60));
    let low = json_of(
        s.post(
            &agent,
            "/api/callbacks",
            json!({"call_id": call_id, "priority": "low"}),
        )
        .await,
        201,
    )
    .await;
    // An overdue one (its due time moved into the past, as if requested yesterday).
    let late = json_of(
        s.post(
            &agent,
            "/api/callbacks",
            json!({"call_id": call_id, "priority": "medium"}),
        )
        .await,
        201,
    )
    .await;
    let late_id = late["id"].as_str().unwrap().to_owned();
    sqlx::query("UPDATE callbacks SET due_at = '2026-01-01T00:00:00.000000Z', requested_at = '2025-12-31T00:00:00.000000Z' WHERE id = $1")
        .bind(&late_id)
        .execute(&s.db.writer)
        .await
        .unwrap();
    let q = json_of(s.get(&agent, "/api/callbacks").await, 200).await;
    let ids: Vec<&str> = q
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let pos = |id: &str| ids.iter().position(|x| *x == id).unwrap();
    assert!(
        pos(&late_id) < pos(cb["id"].as_str().unwrap()),
        "sorted by due: {q}"
    );
    assert!(
        pos(cb["id"].as_str().unwrap()) < pos(low["id"].as_str().unwrap()),
        "{q}"
    );
    assert_eq!(q[pos(&late_id)]["queue_status"], "overdue");
    assert_eq!(
        q[pos(cb["id"].as_str().unwrap())]["queue_status"],
        "waiting"
    );
    // Another hospital's queue holds none of them; Viewers have no queue.
    assert!(
        json_of(s.get(&other, "/api/callbacks").await, 200)
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.get(&viewer, "/api/callbacks").await.status(), 403);
    // Made by outbound calls: one on time, one late; an inbound call cannot make one.
    let r = s.post(&agent, "/api/calls", json!({"direction": "inbound", "caller": "patient", "patient_id": patient, "reason": "callback", "outcome": "resolved", "duration_secs": 60, "callback_id": cb["id"]})).await;
    assert_eq!(field_names(&json_of(r, 422).await), ["callback_id"]);
    for id in [cb["id"].as_str().unwrap(), late_id.as_str()] {
        json_of(s.post(&agent, "/api/calls", json!({"direction": "outbound", "caller": "patient", "patient_id": patient, "reason": "callback", "outcome": "resolved", "duration_secs": 90, "callback_id": id})).await, 201).await;
    }
    let done = json_of(
        s.get(
            &agent,
            &format!("/api/callbacks/{}", cb["id"].as_str().unwrap()),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (done["status"].as_str(), done["on_time"].as_bool()),
        (Some("done"), Some(true))
    );
    let done = json_of(
        s.get(&agent, &format!("/api/callbacks/{late_id}")).await,
        200,
    )
    .await;
    assert_eq!(done["on_time"], false);
    let r = s.post(&agent, "/api/calls", json!({"direction": "outbound", "caller": "patient", "patient_id": patient, "reason": "callback", "outcome": "resolved", "duration_secs": 60, "callback_id": late_id})).await;
    assert_eq!(r.status(), 422, "already made");
    assert_eq!(
        s.post(
            &agent,
            &format!("/api/callbacks/{}/cancel", low["id"].as_str().unwrap()),
            json!({})
        )
        .await
        .status(),
        200
    );
    assert!(
        json_of(s.get(&agent, "/api/callbacks").await, 200)
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Agent statistics: supervisors only; the agent's calls, outcomes and callbacks.
    assert_eq!(
        s.get(&agent, "/api/analytics/call-centre?granularity=day")
            .await
            .status(),
        403
    );
    let st = json_of(
        s.get(&coord, "/api/analytics/call-centre?granularity=day")
            .await,
        200,
    )
    .await;
    let mine = st["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent_id"] == agent_id.as_str())
        .unwrap();
    assert_eq!(mine["calls"], 4, "{st}");
    assert_eq!(
        (mine["inbound"].as_u64(), mine["outbound"].as_u64()),
        (Some(1), Some(3))
    );
    assert_eq!(mine["outcomes"]["complaint_created"], 1);
    assert_eq!(mine["outcomes"]["survey_completed"], 1);
    assert_eq!(
        (
            mine["callbacks_on_time"].as_u64(),
            mine["callbacks_late"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(mine["callback_compliance"], 50.0);
    let mean = mine["mean_duration_secs"].as_f64().unwrap();
    assert!(
        (mean - (420.0 + 240.0 + 90.0 + 90.0) / 4.0).abs() < 1e-9,
        "{mine}"
    );
    assert_eq!(st["team"]["calls"], 4);

    // Audited, without notes, MRNs or phone numbers.
    let audit = json_of(s.get(&admin, "/api/audit?limit=1000").await, 200).await;
    for a in [
        "call.create",
        "call.read",
        "call.link",
        "patient.lookup",
        "survey.response.phone",
        "callback.create",
        "callback.complete",
        "callback.cancel",
        "callback.queue.read",
        "callback.read",
        "complaint.create",
    ] {
        assert!(
            audit.as_array().unwrap().iter().any(|e| e["action"] == a),
            "{a} audited"
        );
    }
    let text = audit.to_string();
    for secret in ["rude", "RGH-ED-0001", "500001101", "daughter"] {
        assert!(!text.contains(secret), "{secret} in the audit log");
    }
    s.db.verify_audit_chain().await.unwrap();
    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(scenario);

/// Call notes go through the sentiment store (issue 18): a negative note raises the hospital
/// rule's action and its themes count in the themes analytics; callbacks run on SLA clocks: a
/// calendar edit moves an open callback's due time, an overdue one is escalated once and
/// notified, a made one is not; feedback taken on a call is a real feedback item linked both
/// ways, idempotent.
async fn notes_and_callback_sla(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (h, depts) = s.hospital(&admin, "RGH").await;
    let ed = depts["ED"].clone();
    let (_, agent) = user(&s, &admin, "agent2", "staff", &h, Some(&ed)).await;
    let (coord_id, coord) = user(&s, &admin, "coord2", "px_coordinator", &h, None).await;
    let (mgr_id, mgr) = user(&s, &admin, "edmgr", "department_manager", &h, Some(&ed)).await;
    let patient = json_of(
        s.get(&agent, "/api/patient-lookup?mrn=RGH-ED-0001").await,
        200,
    )
    .await["patients"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The rule on call notes; a negative note raises one action for the call.
    let rule = json!({"enabled": true, "max_score": -0.3, "themes": [], "severity": "medium",
        "sources": ["call_note"], "category_code": null});
    let r = s
        .send(
            &admin,
            reqwest::Method::PUT,
            &format!("/api/hospitals/{h}/sentiment-rule"),
            rule,
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let neutral = json_of(
        s.post(&agent, "/api/calls", json!({"direction": "inbound", "caller": "patient", "patient_id": patient,
            "reason": "appointment", "outcome": "resolved", "duration_secs": 60, "notes": "Asked to move the appointment to Tuesday."})).await,
        201,
    )
    .await;
    let call = json_of(
        s.post(&agent, "/api/calls", json!({"direction": "inbound", "caller": "patient", "patient_id": patient,
            "reason": "complaint", "outcome": "resolved", "duration_secs": 300,
            "notes": "Terrible. The reception staff were rude and we waited five hours, nobody apologised."})).await,
        201,
    )
    .await;
    let call_id = call["id"].as_str().unwrap().to_owned();
    assert_eq!(call["sentiment"]["label"], "negative", "{call}");
    let actions = json_of(
        s.get(&admin, "/api/actions?board=team&limit=500").await,
        200,
    )
    .await;
    let from = |id: &str| -> Vec<Value> {
        actions
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["origin_kind"] == "negative_text" && a["origin_id"] == id)
            .cloned()
            .collect()
    };
    assert_eq!(from(&call_id).len(), 1, "{actions}");
    assert!(from(neutral["id"].as_str().unwrap()).is_empty());
    let (kind_col, sentiment): (String, String) =
        sqlx::query_as("SELECT item_kind, sentiment FROM text_analyses WHERE item_id = $1")
            .bind(&call_id)
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    assert_eq!(
        (kind_col.as_str(), sentiment.as_str()),
        ("call_note", "negative")
    );
    // The call's themes count in the themes over time, for calls alone too.
    let t = json_of(
        s.get(
            &coord,
            &format!("/api/analytics/themes?hospital_id={h}&granularity=day&sources=call_note"),
        )
        .await,
        200,
    )
    .await;
    let themes: Vec<&str> = t["themes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["negative"].as_i64().unwrap_or(0) >= 1)
        .map(|x| x["theme"].as_str().unwrap())
        .collect();
    assert!(
        themes.contains(&"staff_attitude") && themes.contains(&"waiting_time"),
        "{t}"
    );

    // Callbacks on the SLA engine: round-the-clock calendar, high callbacks within 60 business
    // minutes.
    let all_week = |holidays: Value| {
        json!({"time_zone": "Asia/Riyadh", "holidays": holidays, "hours": {"sun": ["00:00-24:00"], "mon": ["00:00-24:00"],
            "tue": ["00:00-24:00"], "wed": ["00:00-24:00"], "thu": ["00:00-24:00"], "fri": ["00:00-24:00"], "sat": ["00:00-24:00"]}})
    };
    let cal_path = format!("/api/hospitals/{h}/sla/calendar");
    let r = s
        .send(&admin, reqwest::Method::PUT, &cal_path, all_week(json!([])))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = s.send(&admin, reqwest::Method::PUT, &format!("/api/hospitals/{h}/sla/policies"),
        json!({"category_code": "callback", "severity": "high", "first_response_minutes": 60, "basis": "business"})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let body = json!({"call_id": call_id, "priority": "high"});
    let cb = json_of(s.post(&agent, "/api/callbacks", body.clone()).await, 201).await;
    let made = json_of(s.post(&agent, "/api/callbacks", body).await, 201).await;
    let cb_id = cb["id"].as_str().unwrap().to_owned();
    let time = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let due0 = time(&cb["due_at"]);
    assert_eq!(
        due0 - time(&cb["requested_at"]),
        chrono::Duration::minutes(60)
    );
    // Today and the next two days (Riyadh) become holidays: the due time moves past them.
    let today = (chrono::Utc::now() + chrono::Duration::hours(3)).date_naive();
    let to = today + chrono::Duration::days(2);
    let r = s
        .send(
            &admin,
            reqwest::Method::PUT,
            &cal_path,
            all_week(
                json!([{"name": "Test holiday", "from": today.to_string(), "to": to.to_string()}]),
            ),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let moved = json_of(s.get(&agent, &format!("/api/callbacks/{cb_id}")).await, 200).await;
    let due1 = time(&moved["due_at"]);
    assert!(due1 > due0 + chrono::Duration::days(1), "{moved}");
    let q = json_of(s.get(&agent, "/api/callbacks").await, 200).await;
    let row = q
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == cb_id.as_str())
        .unwrap();
    assert_eq!(time(&row["due_at"]), due1);
    // Back to no holidays; one callback is made in time.
    let r = s
        .send(&admin, reqwest::Method::PUT, &cal_path, all_week(json!([])))
        .await;
    assert_eq!(r.status(), 200);
    let back = json_of(s.get(&agent, &format!("/api/callbacks/{cb_id}")).await, 200).await;
    assert_eq!(time(&back["due_at"]), due0);
    json_of(s.post(&agent, "/api/calls", json!({"direction": "outbound", "caller": "patient", "patient_id": patient,
        "reason": "callback", "outcome": "resolved", "duration_secs": 60, "callback_id": made["id"]})).await, 201).await;

    // Two hours later the open one is overdue: the scan warns (level 1: no assignee, so the PX
    // coordinators) and escalates (level 2: the department manager), once.
    let later = chrono::Utc::now() + chrono::Duration::hours(2);
    let first = s.db.sla_scan(later, 100, "test-worker").await.unwrap();
    assert!(first.escalations >= 2, "{first:?}");
    let again = s.db.sla_scan(later, 100, "test-worker").await.unwrap();
    assert_eq!(again.escalations, 0, "{again:?}");
    let levels: Vec<(String, i64)> = sqlx::query_as(
        "SELECT item_id, level FROM sla_escalations WHERE item_kind = 'callback' ORDER BY level",
    )
    .fetch_all(&s.db.pool)
    .await
    .unwrap();
    assert_eq!(
        levels,
        [(cb_id.clone(), 1), (cb_id.clone(), 2)],
        "only the open callback, each level once"
    );
    for (tok, who) in [(&mgr, &mgr_id), (&coord, &coord_id)] {
        let n = json_of(s.get(tok, "/api/notifications").await, 200).await;
        let mine: Vec<&Value> = n
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["item_kind"] == "callback" && x["item_id"] == cb_id.as_str())
            .collect();
        assert_eq!(mine.len(), 1, "{who}: {n}");
        assert_eq!(mine[0]["kind"], "sla_escalation");
    }

    // A callback taken before callbacks had clocks (no clock, no due time) gets its clock at
    // the next start, counted from its request: due 60 minutes later, so overdue now.
    let legacy = uuid::Uuid::now_v7().to_string();
    let asked = chrono::Utc::now() - chrono::Duration::hours(3);
    sqlx::query(
        "INSERT INTO callbacks (id, hospital_id, department_id, call_id, patient_id, priority, reason, note, assignee_id, status, requested_at, due_at, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, NULL, $4, 'high', 'appointment', NULL, NULL, 'open', $5, NULL, $6, $5, $5)",
    )
    .bind(&legacy)
    .bind(&h)
    .bind(&ed)
    .bind(&patient)
    .bind(px360_store::ts(asked))
    .bind(&coord_id)
    .execute(&s.db.pool)
    .await
    .unwrap();
    assert_eq!(s.db.start_missing_callback_clocks().await.unwrap(), 1);
    assert_eq!(s.db.start_missing_callback_clocks().await.unwrap(), 0);
    let got = json_of(
        s.get(&agent, &format!("/api/callbacks/{legacy}")).await,
        200,
    )
    .await;
    assert_eq!(
        time(&got["due_at"]) - time(&got["requested_at"]),
        chrono::Duration::minutes(60),
        "{got}"
    );
    let q = json_of(s.get(&agent, "/api/callbacks").await, 200).await;
    let row = q
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == legacy.as_str())
        .unwrap();
    assert_eq!(row["queue_status"], "overdue", "{row}");

    // Feedback taken on the call: a compliment naming an ED employee goes to the ED manager,
    // linked both ways, counted by the feedback analytics; a retry answers the same item.
    let employee: String = sqlx::query_scalar(
        "SELECT id FROM employees WHERE department_id = $1 AND deleted_at IS NULL ORDER BY id LIMIT 1",
    )
    .bind(&ed)
    .fetch_one(&s.db.pool)
    .await
    .unwrap();
    let path = format!("/api/calls/{call_id}/feedback");
    let r = s
        .post(&agent, &path, json!({"kind": "praise", "text": "x"}))
        .await;
    assert_eq!(field_names(&json_of(r, 422).await), ["kind"]);
    let body = json!({"kind": "compliment", "staff_id": employee,
        "text": "The nurse at the emergency desk was very kind and patient with my mother."});
    let taken = json_of(s.post(&agent, &path, body.clone()).await, 201).await;
    let fb_id = taken["feedback"]["id"].as_str().unwrap().to_owned();
    assert_eq!(taken["feedback"]["channel"], "call_centre");
    assert_eq!(taken["feedback"]["call_id"], call_id.as_str());
    assert_eq!(taken["feedback"]["routed_to"], mgr_id.as_str(), "{taken}");
    assert_eq!(taken["call"]["feedback_id"], fb_id.as_str());
    assert_eq!(taken["call"]["outcome"], "feedback_created");
    let again = json_of(s.post(&agent, &path, body).await, 200).await;
    assert_eq!(
        (again["feedback"]["id"].as_str(), again["created"].as_bool()),
        (Some(fb_id.as_str()), Some(false))
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM feedback WHERE call_id = $1")
        .bind(&call_id)
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let one = json_of(s.get(&coord, &format!("/api/feedback/{fb_id}")).await, 200).await;
    assert_eq!(one["feedback"]["call_id"], call_id.as_str());
    assert_eq!(one["analysis"]["sentiment"], "positive", "{one}");
    let shown = json_of(s.get(&agent, &format!("/api/calls/{call_id}")).await, 200).await;
    assert_eq!(shown["call"]["feedback_id"], fb_id.as_str());
    let counts = json_of(
        s.get(&coord, &format!("/api/analytics/feedback?hospital_id={h}"))
            .await,
        200,
    )
    .await;
    assert_eq!(counts["counts"]["compliments"], 1, "{counts}");
    // A call with nobody identified cannot take feedback (the domain's rule for the outcome).
    let anon = json_of(
        s.post(&agent, "/api/calls", json!({"direction": "inbound", "caller": "other", "reason": "enquiry", "outcome": "resolved", "duration_secs": 30})).await,
        201,
    )
    .await;
    let r = s
        .post(
            &agent,
            &format!("/api/calls/{}/feedback", anon["id"].as_str().unwrap()),
            json!({"kind": "suggestion", "text": "More parking please"}),
        )
        .await;
    assert_eq!(field_names(&json_of(r, 422).await), ["patient_id"]);

    let audit = json_of(s.get(&admin, "/api/audit?limit=1000").await, 200).await;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "sla.escalate" && e["object_type"] == "callback"),
        "escalation audited"
    );
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "feedback.create"
                && e["changes"]
                    .as_str()
                    .is_some_and(|c| c.contains("call_centre"))),
        "feedback from a call audited"
    );
    assert!(
        !audit.to_string().contains("rude")
            && !audit.to_string().contains("patient with my mother")
    );
    s.db.verify_audit_chain().await.unwrap();
    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(notes_and_callback_sla);
