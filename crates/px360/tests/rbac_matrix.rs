//! Endpoint × role × scope matrix (84 object probes × 3 targets + 24 lists per role). Every role (one account each, department roles in hospital
//! A / department D1) calls every object endpoint against objects in its own department, a
//! sibling department of the same hospital and another hospital, and every list endpoint.
//! The expected outcome comes from the design table written out below, independently of the
//! implementation's permission table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{ADMIN_PASSWORD, Kind, ServerOpts, TestDb, TestServer, event, event_id};
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

/// The design: can `role` see the object a probe names (so a denial must say 403, not 404)?
/// A creation's target is its parent (hospital or department); the caller's own hospital record and templates and the group-wide templates are visible to every
/// role; a department is visible to its own staff; otherwise what is in scope.
fn visible(role: &str, probe: &str, target: Target, level: Level) -> bool {
    let own_hospital = scope_kind(role) == "group" || target != Target::OtherHospital;
    match probe {
        // Creations that name no existing object: nothing to hide.
        "POST patient" | "POST employee" | "POST template" | "POST user(viewer)"
        | "POST complaint" | "POST call" | "POST qi project" | "POST feedback"
        | "POST social import" => true,
        // Creations under a parent: visible when the parent is (own hospital, own department).
        "POST department" | "POST api-key" => own_hospital,
        "POST physician" => in_scope(role, target, Level::Dept),
        "GET hospital" | "PATCH hospital" | "GET template" | "PATCH template" | "PATCH stage"
        | "POST stage" | "DELETE stage" => own_hospital,
        "GET group template" | "PATCH group template" | "POST group stage" => true,
        // An unlocated mention is a group-level object.
        "POST mention assign" => scope_kind(role) == "group",
        "GET survey template" | "PATCH survey template" | "POST survey template" => own_hospital,
        "PATCH department" => in_scope(role, target, Level::Dept),
        // Fresh objects of a hospital the caller may not see, or a department of their
        // hospital that is not theirs.
        "DELETE hospital" => in_scope(role, Target::OtherHospital, Level::Hospital),
        "DELETE department" => in_scope(role, target, Level::Hospital),
        _ => in_scope(role, target, level),
    }
}

struct Fixture {
    h_a: String,
    h_b: String,
    d: [String; 3], // own, sibling, other-hospital department
    patient: [String; 3],
    journey: [String; 3],
    event: [String; 3],
    employee: [String; 3],
    physician: [String; 3],
    /// A viewer account in each target department.
    user: [String; 3],
    /// Hospital-owned journey templates (hospital A, hospital B) and their first stage.
    template: [(String, String); 2],
    /// A seeded group-wide template.
    group_template: String,
    /// A complaint and a PX action in each target department.
    complaint: [String; 3],
    action: [String; 3],
    /// Hospital-owned survey templates (hospital A, hospital B).
    survey: [String; 2],
    /// A call (about the department's patient) and a QI project in each target department.
    call: [String; 3],
    qi: [String; 3],
    /// A feedback item in each target department; a social mention of each hospital (A, B).
    feedback: [String; 3],
    mention: [String; 2],
}

/// A small valid survey draft.
fn survey_content() -> Value {
    json!({"schema": 1, "title": {"en": "Matrix", "ar": "مصفوفة"},
           "questions": [{"key": "q1", "text": {"en": "How was it?", "ar": "كيف كانت؟"},
                          "kind": {"type": "rating"}, "required": true}]})
}

/// Create an object as the PX Admin and return its id.
async fn create(s: &TestServer, admin: &str, path: &str, body: Value) -> String {
    let r = s.post(admin, path, body).await;
    assert_eq!(r.status(), 201, "create {path}");
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// First row of an admin list whose `department_id` is `dept`.
async fn first_in(s: &TestServer, admin: &str, path: &str, dept: &str) -> String {
    let rows: Value = s.get(admin, path).await.json().await.unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["department_id"] == dept)
        .unwrap_or_else(|| panic!("no row in {path} for {dept}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
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
    let mut employee = Vec::new();
    let mut physician = Vec::new();
    let mut user = Vec::new();
    for (i, dep) in d.iter().enumerate() {
        employee.push(first_in(&s, &admin, "/api/employees", dep).await);
        physician.push(first_in(&s, &admin, "/api/physicians", dep).await);
        let h = if i == 2 { &h_b } else { &h_a };
        user.push(create(&s, &admin, "/api/users", json!({"username": format!("target-viewer-{i}"), "display_name": "t", "password": "target viewer password", "role": "viewer", "hospital_id": h, "department_id": dep})).await);
    }
    let mut template = Vec::new();
    for (n, h) in [&h_a, &h_b].into_iter().enumerate() {
        let r = s.post(&admin, "/api/journey-templates", json!({"hospital_id": h, "code": format!("MATRIX_{n}"), "name": "Matrix", "stages": [{"code": "ONE", "name": "One", "completing_event_code": format!("MX_{n}_ONE")}]})).await;
        assert_eq!(r.status(), 201);
        let t: Value = r.json().await.unwrap();
        template.push((
            t["id"].as_str().unwrap().to_owned(),
            t["stages"][0]["id"].as_str().unwrap().to_owned(),
        ));
    }
    let tpls: Value = s
        .get(&admin, "/api/journey-templates")
        .await
        .json()
        .await
        .unwrap();
    let group_template = tpls
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["hospital_id"].is_null())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let me: Value = s.get(&admin, "/api/me").await.json().await.unwrap();
    let admin_id = me["user_id"].as_str().unwrap().to_owned();
    let mut complaint = Vec::new();
    let mut action = Vec::new();
    for dep in &d {
        complaint.push(create(&s, &admin, "/api/complaints", json!({"department_id": dep, "category_code": "communication", "severity": "low", "source_channel": "staff", "subject": "Matrix", "description": "Matrix complaint"})).await);
        action.push(create(&s, &admin, "/api/actions", json!({"department_id": dep, "category_code": "communication", "severity": "low", "title": "Matrix action", "owner_id": admin_id})).await);
    }
    let mut call = Vec::new();
    let mut qi = Vec::new();
    for (dep, mrn) in d
        .iter()
        .zip(["RGH-CARD-0002", "RGH-ORTH-0002", "NPH-CARD-0002"])
    {
        call.push(create(&s, &admin, "/api/calls", json!({"department_id": dep, "direction": "inbound", "caller": "patient", "patient_id": pid(mrn), "reason": "enquiry", "outcome": "resolved", "duration_secs": 60})).await);
        qi.push(create(&s, &admin, "/api/qi/projects", json!({"department_id": dep, "title": "Matrix", "aim": "Matrix aim", "measures": [{"kpi": "nps", "baseline": 10, "target": 20}]})).await);
    }
    let mut feedback = Vec::new();
    for dep in &d {
        feedback.push(create(&s, &admin, "/api/feedback", json!({"department_id": dep, "kind": "suggestion", "language": "en", "text": "Matrix suggestion"})).await);
    }
    let mut mention = Vec::new();
    for (n, h) in [&h_a, &h_b].into_iter().enumerate() {
        let body = json!([{"source": "x", "id": format!("matrix-{n}"), "author": "m", "text": "Matrix mention, the wait was long", "time": "2026-03-01T10:00:00Z"}]);
        let r = s
            .post(
                &admin,
                &format!("/api/social/mentions/import?hospital_id={h}"),
                body,
            )
            .await;
        assert_eq!(r.status(), 200, "matrix import");
        let ms: Value = s
            .get(&admin, "/api/social/mentions?limit=200")
            .await
            .json()
            .await
            .unwrap();
        mention.push(
            ms.as_array()
                .unwrap()
                .iter()
                .find(|m| m["external_id"] == format!("matrix-{n}").as_str())
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let fx = Fixture {
        call: call.try_into().unwrap(),
        qi: qi.try_into().unwrap(),
        feedback: feedback.try_into().unwrap(),
        mention: mention.try_into().unwrap(),
        complaint: complaint.try_into().unwrap(),
        action: action.try_into().unwrap(),
        employee: employee.try_into().unwrap(),
        physician: physician.try_into().unwrap(),
        user: user.try_into().unwrap(),
        template: template.try_into().unwrap(),
        group_template,
        survey: [
            create(&s, &admin, "/api/survey-templates", json!({"hospital_id": h_a, "code": "matrix-a", "name": "Matrix A", "content": survey_content()})).await,
            create(&s, &admin, "/api/survey-templates", json!({"hospital_id": h_b, "code": "matrix-b", "name": "Matrix B", "content": survey_content()})).await,
        ],
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
            let fresh_employee = create(&s, &admin, "/api/employees", json!({"department_id": fx.d[i], "employee_number": format!("DEL-{role}-{i}"), "given_name": "A", "family_name": "B"})).await;
            let fresh_physician = create(&s, &admin, "/api/physicians", json!({"department_id": fx.d[i], "licence_number": format!("DEL-{role}-{i}"), "given_name": "A", "family_name": "B"})).await;
            let fresh_user = create(&s, &admin, "/api/users", json!({"username": format!("del-{role}-{i}"), "display_name": "d", "password": "a long enough password", "role": "viewer", "hospital_id": hosp, "department_id": fx.d[i]})).await;
            let fresh_dept = create(
                &s,
                &admin,
                "/api/departments",
                json!({"hospital_id": hosp, "code": format!("DEL{ri}{i}"), "name": "Doomed"}),
            )
            .await;
            // Outside every scope but the group's: only PX Admin may delete it.
            let fresh_hospital = create(
                &s,
                &admin,
                "/api/hospitals",
                json!({"code": format!("DEL{ri}{i}"), "name": "Doomed"}),
            )
            .await;
            let (tpl, stage) = &fx.template[if t == Target::OtherHospital { 1 } else { 0 }];
            // A fresh stage for the remove probe (the template keeps its first stage, so the
            // last-stage rule never decides the outcome).
            let doomed_event = format!("DEL_{ri}_{i}");
            let r = s.post(&admin, &format!("/api/journey-templates/{tpl}/stages"), json!({"code": "DOOMED", "name": "Doomed", "completing_event_code": doomed_event})).await;
            assert_eq!(r.status(), 201, "add doomed stage");
            let fresh_stage = r.json::<Value>().await.unwrap()["stages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|st| st["completing_event_code"] == doomed_event.as_str())
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned();
            let survey = &fx.survey[if t == Target::OtherHospital { 1 } else { 0 }];
            // A fresh callback for the cancel probe (a cancelled one cannot be cancelled again).
            let fresh_callback = create(
                &s,
                &admin,
                "/api/callbacks",
                json!({"call_id": fx.call[i], "priority": "low"}),
            )
            .await;
            // A fresh group-level (unmatched) mention for the assignment probe.
            let fresh_mention = {
                let m = px360_domain::social::mention::Mention {
                    source: px360_domain::social::mention::Source::Other,
                    external_id: Some(format!("unlocated-{ri}-{i}")),
                    author_handle: "someone".into(),
                    text: "Nobody knows which hospital this is about".into(),
                    rating: None,
                    link: None,
                    posted_at: chrono::Utc::now(),
                };
                let mut c = s.db.writer.acquire().await.unwrap();
                px360_store::social::insert(
                    &mut c,
                    &m,
                    &px360_domain::social::matching::Location::Unmatched,
                    "import",
                    None,
                    chrono::Utc::now(),
                )
                .await
                .unwrap()
                .id
            };
            let qi_body = json!({"department_id": fx.d[i], "title": format!("By {role}"), "aim": "Matrix aim", "measures": [{"kpi": "csat", "baseline": 70, "target": 80}]});
            let probes: Vec<(&str, u8, Level, reqwest::RequestBuilder)> = vec![
                ("GET survey template", 10, Level::Dept, s.http.get(s.url(&format!("/api/survey-templates/{survey}")))),
                ("PATCH survey template", 50, Level::Hospital, s.http.patch(s.url(&format!("/api/survey-templates/{survey}"))).json(&json!({"name": format!("Matrix {role}")}))),
                ("POST survey template", 50, Level::Hospital, s.http.post(s.url("/api/survey-templates")).json(&json!({"hospital_id": hosp, "code": format!("new-{ri}-{i}"), "name": "New", "content": survey_content()}))),
                ("GET patient", 20, Level::Dept, s.http.get(s.url(&format!("/api/patients/{}", fx.patient[i])))),
                // A patient's survey opt-outs: read like the patient, recorded and withdrawn like a patient change.
                ("GET survey opt-outs", 20, Level::Dept, s.http.get(s.url(&format!("/api/patients/{}/survey-opt-outs", fx.patient[i])))),
                ("POST survey opt-out", 30, Level::Dept, s.http.post(s.url(&format!("/api/patients/{}/survey-opt-outs", fx.patient[i]))).json(&json!({"channel": "email"}))),
                ("DELETE survey opt-out", 30, Level::Dept, s.http.delete(s.url(&format!("/api/patients/{}/survey-opt-outs?channel=email&reason=asked%20again", fx.patient[i])))),
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
                ("PATCH hospital", 100, Level::Hospital, s.http.patch(s.url(&format!("/api/hospitals/{hosp}"))).json(&json!({"timezone": "Europe/London"}))),
                ("DELETE hospital", 100, Level::Hospital, s.http.delete(s.url(&format!("/api/hospitals/{fresh_hospital}")))),
                ("PATCH department", 80, Level::Hospital, s.http.patch(s.url(&format!("/api/departments/{}", fx.d[i]))).json(&json!({"name": format!("Dept {i}")}))),
                ("DELETE department", 80, Level::Hospital, s.http.delete(s.url(&format!("/api/departments/{fresh_dept}")))),
                ("PATCH physician", 60, Level::Dept, s.http.patch(s.url(&format!("/api/physicians/{}", fx.physician[i]))).json(&json!({"specialty": "General"}))),
                ("DELETE physician", 60, Level::Dept, s.http.delete(s.url(&format!("/api/physicians/{fresh_physician}")))),
                ("GET employee", 20, Level::Dept, s.http.get(s.url(&format!("/api/employees/{}", fx.employee[i])))),
                ("POST employee", 60, Level::Dept, s.http.post(s.url("/api/employees")).json(&json!({"department_id": fx.d[i], "employee_number": format!("N-{role}-{i}"), "given_name": "A", "family_name": "B"}))),
                ("PATCH employee", 60, Level::Dept, s.http.patch(s.url(&format!("/api/employees/{}", fx.employee[i]))).json(&json!({"job_title": "Porter"}))),
                ("DELETE employee", 60, Level::Dept, s.http.delete(s.url(&format!("/api/employees/{fresh_employee}")))),
                ("PATCH user(viewer)", 60, Level::Dept, s.http.patch(s.url(&format!("/api/users/{}", fx.user[i]))).json(&json!({"display_name": format!("by {role}")}))),
                ("DELETE user(viewer)", 60, Level::Dept, s.http.delete(s.url(&format!("/api/users/{fresh_user}")))),
                // Hospital-owned templates: readable like the hospital record, managed at hospital level.
                ("GET template", 10, Level::Dept, s.http.get(s.url(&format!("/api/journey-templates/{tpl}")))),
                ("PATCH template", 80, Level::Hospital, s.http.patch(s.url(&format!("/api/journey-templates/{tpl}"))).json(&json!({"name": "Matrix renamed"}))),
                ("PATCH stage", 80, Level::Hospital, s.http.patch(s.url(&format!("/api/journey-templates/{tpl}/stages/{stage}"))).json(&json!({"survey_template_ref": ""}))),
                ("POST stage", 80, Level::Hospital, s.http.post(s.url(&format!("/api/journey-templates/{tpl}/stages"))).json(&json!({"code": "ADDED", "name": "Added", "completing_event_code": format!("ADD_{ri}_{i}")}))),
                ("DELETE stage", 80, Level::Hospital, s.http.delete(s.url(&format!("/api/journey-templates/{tpl}/stages/{fresh_stage}")))),
                ("POST template", 80, Level::Hospital, s.http.post(s.url("/api/journey-templates")).json(&json!({"hospital_id": hosp, "code": format!("NEW_{ri}_{i}"), "name": "New", "stages": [{"code": "A", "name": "A", "completing_event_code": format!("NEW_{ri}_{i}_A")}]}))),
                // Group-wide templates: everyone reads them, only PX Admin changes them.
                ("GET group template", 10, Level::Dept, s.http.get(s.url(&format!("/api/journey-templates/{}", fx.group_template)))),
                ("PATCH group template", 100, Level::Hospital, s.http.patch(s.url(&format!("/api/journey-templates/{}", fx.group_template))).json(&json!({"name": "Outpatient visit"}))),
                ("POST group stage", 100, Level::Hospital, s.http.post(s.url(&format!("/api/journey-templates/{}/stages", fx.group_template))).json(&json!({"code": "ADDED", "name": "Added", "completing_event_code": format!("GRP_{ri}_{i}")}))),
                // Complaints and PX actions (patient data: no viewers); SLA configuration of a hospital.
                ("GET complaint", 20, Level::Dept, s.http.get(s.url(&format!("/api/complaints/{}", fx.complaint[i])))),
                ("POST complaint", 20, Level::Dept, s.http.post(s.url("/api/complaints")).json(&json!({"department_id": fx.d[i], "category_code": "billing", "severity": "low", "source_channel": "staff", "subject": "New", "description": "By probe"}))),
                ("POST complaint note", 20, Level::Dept, s.http.post(s.url(&format!("/api/complaints/{}/updates", fx.complaint[i]))).json(&json!({"visibility": "internal", "body": "probe note"}))),
                ("GET action", 20, Level::Dept, s.http.get(s.url(&format!("/api/actions/{}", fx.action[i])))),
                ("GET action files", 20, Level::Dept, s.http.get(s.url(&format!("/api/actions/{}/attachments", fx.action[i])))),
                ("POST action file", 20, Level::Dept, s.http.post(s.url(&format!("/api/actions/{}/attachments?name=probe.txt", fx.action[i]))).header("content-type", "text/plain").body("probe evidence")),
                ("GET sla policies", 50, Level::Hospital, s.http.get(s.url(&format!("/api/hospitals/{hosp}/sla/policies")))),
                ("PUT sla policy", 80, Level::Hospital, s.http.put(s.url(&format!("/api/hospitals/{hosp}/sla/policies"))).json(&json!({"category_code": "billing", "severity": "low", "resolution_minutes": 600}))),
                // Action creation rules: hospital configuration, like the SLA's.
                ("GET action rules", 50, Level::Hospital, s.http.get(s.url(&format!("/api/hospitals/{hosp}/action-rules")))),
                ("PUT action rules", 80, Level::Hospital, s.http.put(s.url(&format!("/api/hospitals/{hosp}/action-rules"))).json(&json!({"negative_survey": "medium", "complaints": [{"category": null, "min_severity": "high"}], "owner": {"kind": "department_manager"}}))),
                // Analytics (issue 17): aggregates for everyone in scope, comments from Staff up.
                ("GET analytics kpis", 10, Level::Dept, s.http.get(s.url(&format!("/api/analytics/kpis?department_id={}", fx.d[i])))),
                ("GET analytics hospital", 10, Level::Hospital, s.http.get(s.url(&format!("/api/analytics/kpis?hospital_id={hosp}")))),
                ("GET analytics items", 10, Level::Dept, s.http.get(s.url(&format!("/api/analytics/items?department_id={}", fx.d[i])))),
                ("GET analytics breakdown", 10, Level::Dept, s.http.get(s.url(&format!("/api/analytics/breakdown?by=physician&department_id={}", fx.d[i])))),
                ("GET analytics cases", 10, Level::Dept, s.http.get(s.url(&format!("/api/analytics/cases?department_id={}", fx.d[i])))),
                ("GET analytics physicians", 10, Level::Dept, s.http.get(s.url(&format!("/api/analytics/physicians?department_id={}", fx.d[i])))),
                ("GET analytics comments", 20, Level::Dept, s.http.get(s.url(&format!("/api/analytics/comments?department_id={}", fx.d[i])))),
                ("GET analytics export", 10, Level::Dept, s.http.get(s.url(&format!("/api/analytics/export?table=kpis&format=xlsx&department_id={}", fx.d[i])))),
                ("PUT physician user", 60, Level::Dept, s.http.put(s.url(&format!("/api/physicians/{}/user", fx.physician[i]))).json(&json!({"user_id": null}))),
                // Call centre (issue 18): calls and callbacks are patient data (Staff and up); agent statistics for supervisors.
                ("GET call", 20, Level::Dept, s.http.get(s.url(&format!("/api/calls/{}", fx.call[i])))),
                ("POST call", 20, Level::Dept, s.http.post(s.url("/api/calls")).json(&json!({"department_id": fx.d[i], "direction": "outbound", "caller": "other", "reason": "enquiry", "outcome": "no_answer", "duration_secs": 0}))),
                ("POST call complaint", 20, Level::Dept, s.http.post(s.url(&format!("/api/calls/{}/complaint", fx.call[i]))).json(&json!({"category_code": "billing", "subject": "By phone", "description": "Matrix complaint by phone"}))),
                // Feedback taken on a call: one per call, a retry returns it (so every allowed role succeeds).
                ("POST call feedback", 20, Level::Dept, s.http.post(s.url(&format!("/api/calls/{}/feedback", fx.call[i]))).json(&json!({"kind": "suggestion", "text": "Matrix suggestion by phone"}))),
                ("GET phone survey", 20, Level::Dept, s.http.get(s.url(&format!("/api/calls/{}/phone-survey", fx.call[i])))),
                ("POST callback", 20, Level::Dept, s.http.post(s.url("/api/callbacks")).json(&json!({"call_id": fx.call[i], "priority": "high"}))),
                ("GET callback", 20, Level::Dept, s.http.get(s.url(&format!("/api/callbacks/{fresh_callback}")))),
                ("POST callback cancel", 20, Level::Dept, s.http.post(s.url(&format!("/api/callbacks/{fresh_callback}/cancel")))),
                ("GET agent stats", 50, Level::Dept, s.http.get(s.url(&format!("/api/analytics/call-centre?department_id={}", fx.d[i])))),
                // QI projects (issue 18): everyone in scope follows them, PX Coordinator and up runs them.
                ("GET qi project", 10, Level::Dept, s.http.get(s.url(&format!("/api/qi/projects/{}", fx.qi[i])))),
                ("GET qi run chart", 10, Level::Dept, s.http.get(s.url(&format!("/api/qi/projects/{}/run-chart", fx.qi[i])))),
                ("POST qi project", 50, Level::Dept, s.http.post(s.url("/api/qi/projects")).json(&qi_body)),
                ("PUT qi project", 50, Level::Dept, s.http.put(s.url(&format!("/api/qi/projects/{}", fx.qi[i]))).json(&qi_body)),
                ("POST qi cycle", 50, Level::Dept, s.http.post(s.url(&format!("/api/qi/projects/{}/cycles", fx.qi[i]))).json(&json!({"title": "Matrix cycle"}))),
                // Feedback (issue 18): patient data like complaints; triage from PX Coordinator up.
                ("GET feedback", 20, Level::Dept, s.http.get(s.url(&format!("/api/feedback/{}", fx.feedback[i])))),
                ("POST feedback", 20, Level::Dept, s.http.post(s.url("/api/feedback")).json(&json!({"department_id": fx.d[i], "kind": "concern", "language": "ar", "text": "الانتظار طويل"}))),
                // Acknowledging again is the same click: idempotent, so every allowed role gets 200.
                ("POST feedback triage", 50, Level::Dept, s.http.post(s.url(&format!("/api/feedback/{}/triage", fx.feedback[i]))).json(&json!({"target": "acknowledge"}))),
                ("GET feedback qr", 20, Level::Dept, s.http.get(s.url(&format!("/api/hospitals/{hosp}/feedback-qr?department_id={}", fx.d[i])))),
                // Social media: hospital-level objects; configuration like the SLA's.
                ("GET mention", 20, Level::Hospital, s.http.get(s.url(&format!("/api/social/mentions/{}", fx.mention[if t == Target::OtherHospital { 1 } else { 0 }])))),
                ("POST mention dismiss", 50, Level::Hospital, s.http.post(s.url(&format!("/api/social/mentions/{}/convert", fx.mention[if t == Target::OtherHospital { 1 } else { 0 }]))).json(&json!({"target": "dismiss"}))),
                ("POST social import", 50, Level::Hospital, s.http.post(s.url(&format!("/api/social/mentions/import?hospital_id={hosp}"))).json(&json!([{"source": "x", "id": format!("probe-{ri}-{i}"), "text": "probe", "time": "2026-03-01T10:00:00Z"}]))),
                // Placing an unlocated mention: only who sees the group's mentions (hidden from the rest).
                ("POST mention assign", 50, Level::Hospital, s.http.post(s.url(&format!("/api/social/mentions/{fresh_mention}/assign"))).json(&json!({"hospital_id": hosp}))),
                ("GET social config", 50, Level::Hospital, s.http.get(s.url(&format!("/api/hospitals/{hosp}/social-config")))),
                ("PUT social config", 80, Level::Hospital, s.http.put(s.url(&format!("/api/hospitals/{hosp}/social-config"))).json(&json!({"handles": [format!("@probe{i}")], "keywords": ["Probe Hospital"]}))),
                ("POST webhook secret", 80, Level::Hospital, s.http.post(s.url(&format!("/api/hospitals/{hosp}/social-config/webhook-secret")))),
                ("GET sentiment rule", 50, Level::Hospital, s.http.get(s.url(&format!("/api/hospitals/{hosp}/sentiment-rule")))),
                ("PUT sentiment rule", 80, Level::Hospital, s.http.put(s.url(&format!("/api/hospitals/{hosp}/sentiment-rule"))).json(&json!({"enabled": false, "max_score": -0.5, "severity": "low"}))),
                ("GET analytics themes", 10, Level::Dept, s.http.get(s.url(&format!("/api/analytics/themes?department_id={}", fx.d[i])))),
                ("GET analytics feedback", 10, Level::Dept, s.http.get(s.url(&format!("/api/analytics/feedback?department_id={}", fx.d[i])))),
            ];
            for (name, min, lvl, req) in probes {
                let status = req.bearer_auth(tok).send().await.unwrap().status();
                let scope_ok = match name {
                    "GET hospital" | "GET template" | "GET survey template" => {
                        in_scope(role, t, Level::Hospital)
                            || (scope_kind(role) == "department" && t != Target::OtherHospital)
                    }
                    "DELETE hospital" => in_scope(role, Target::OtherHospital, lvl),
                    // A department role asking for its own hospital sees its department's part.
                    "GET analytics hospital" => {
                        scope_kind(role) == "group" || t != Target::OtherHospital
                    }
                    "GET group template" => true,
                    "PATCH group template" | "POST group stage" | "POST mention assign" => {
                        scope_kind(role) == "group"
                    }
                    _ => in_scope(role, t, lvl),
                };
                let expect_allow = *level >= min && scope_ok;
                let allowed = status.is_success();
                // A denial is 403 when the caller can see the object (or is creating one) and
                // 404 only when it is hidden from them.
                let expect_deny = if visible(role, name, t, lvl) {
                    403
                } else {
                    404
                };
                if allowed != expect_allow || (!allowed && status != expect_deny) {
                    failures.push(format!(
                        "{role} {name} {t:?}: got {status}, expected {}",
                        if expect_allow {
                            "allow".to_owned()
                        } else {
                            format!("deny {expect_deny}")
                        }
                    ));
                }
                checked += 1;
            }
        }

        // List endpoints: allowed roles only ever see rows inside their scope.
        let lists: [(&str, u8); 24] = [
            ("/api/calls?limit=200", 20),
            ("/api/callbacks", 20),
            ("/api/qi/projects", 10),
            ("/api/qi/summary", 10),
            ("/api/feedback?limit=200", 20),
            ("/api/social/mentions?limit=200", 20),
            ("/api/survey-templates", 10),
            ("/api/survey-invitations", 20),
            ("/api/survey-responses", 20),
            ("/api/survey-events", 20),
            ("/api/survey-local-outbox", 50),
            ("/api/complaints?limit=200", 20),
            ("/api/actions?board=team", 20),
            ("/api/hospitals", 10),
            ("/api/departments", 10),
            ("/api/physicians", 20),
            ("/api/employees", 20),
            ("/api/journey-templates", 10),
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
                "/api/survey-events",
                "/api/survey-local-outbox",
                "/api/social/mentions?limit=200",
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
                // Templates: group-wide (no hospital) or the caller's own hospital's.
                if path == "/api/journey-templates" || path == "/api/survey-templates" {
                    let ok = scope_kind(role) == "group"
                        || row["hospital_id"].is_null()
                        || row["hospital_id"] == fx.h_a.as_str();
                    if !ok {
                        failures.push(format!("{role} GET {path} leaked {row}"));
                        break;
                    }
                    continue;
                }
                let ok = match scope_kind(role) {
                    "group" => true,
                    "hospital" => h == Some(fx.h_a.as_str()),
                    _ => {
                        h == Some(fx.h_a.as_str())
                            && (path == "/api/hospitals"
                                || dpt == Some(fx.d[0].as_str())
                                // Responses name no department; the list filters by journey.
                                || path == "/api/survey-responses")
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
        // Self-service weekly report subscription: every role that reads Analytics (level 10).
        let put = s
            .api
            .send(
                tok,
                reqwest::Method::PUT,
                "/api/me/weekly-report",
                json!({"subscribed": true}),
            )
            .await;
        let get = s.get(tok, "/api/me/weekly-report").await;
        let expect_allow = *level >= 10;
        for (what, status) in [("PUT", put.status()), ("GET", get.status())] {
            if status.is_success() != expect_allow {
                failures.push(format!("{role} {what} /api/me/weekly-report: got {status}"));
            } else {
                checked += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 8 * (86 * 3 + 24));

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
