//! The call-centre and QI pages over HTTP, on SQLite and PostgreSQL: the agent finds a patient
//! by MRN and by phone, logs a call (errors next to fields in English and Arabic), makes a
//! complaint and a callback from it, works the callback from the queue, takes a survey by phone
//! in the patient's language; supervisors see agent statistics, agents do not. A QI project is
//! created through its form, its page shows the run chart's data and moves a PDSA cycle, and
//! the executive summary lists it. Every page in Arabic shows no English outside data; Viewers
//! get the localised 403.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/latin.rs"]
#[allow(dead_code)]
mod latin;

use common::{Kind, PASSWORD, Ui};
use latin::stray_latin;

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn one(ui: &Ui, sql: &str, bind: &str) -> String {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(bind)
        .fetch_one(&ui.db.pool)
        .await
        .unwrap()
}

async fn arabic(ui: &Ui, jar: &common::Jar, path: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    let html = ui.page(jar, &format!("{path}{sep}lang=ar")).await;
    assert!(html.contains(r#"<html lang="ar" dir="rtl">"#), "{path}");
    assert_eq!(stray_latin(&html), Vec::<String>::new(), "{path}");
    html
}

fn call_form(patient: &str, minutes: &str, notes: &str) -> Vec<(&'static str, String)> {
    vec![
        ("patient_id", patient.to_owned()),
        ("lookup_kind", "mrn".to_owned()),
        ("direction", "inbound".to_owned()),
        ("caller", "patient".to_owned()),
        ("reason", "complaint".to_owned()),
        ("outcome", "resolved".to_owned()),
        ("minutes", minutes.to_owned()),
        ("seconds", "30".to_owned()),
        ("notes", notes.to_owned()),
    ]
}

fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The id after `/ui/<kind>/` in a redirect.
fn id_in(loc: &str, kind: &str) -> String {
    loc.trim_start_matches(&format!("/ui/{kind}/"))
        .split(['?', '#'])
        .next()
        .unwrap()
        .to_owned()
}

async fn scenario(kind: Kind) {
    let ui = Ui::start(kind).await;
    ui.user("agent", "staff", Some("RGH"), Some("ED"), None)
        .await;
    ui.user("coord", "px_coordinator", Some("RGH"), None, None)
        .await;
    ui.user("watcher", "viewer", Some("RGH"), Some("ED"), None)
        .await;
    let agent = ui.login("agent", PASSWORD).await;
    let coord = ui.login("coord", PASSWORD).await;
    let viewer = ui.login("watcher", PASSWORD).await;

    // The navigation offers the call centre to the agent, not to the viewer.
    assert!(ui.page(&agent, "/ui/").await.contains("href=\"/ui/calls\""));
    assert!(
        !ui.page(&viewer, "/ui/")
            .await
            .contains("href=\"/ui/calls\"")
    );
    assert_eq!(ui.get(&viewer, "/ui/calls").await.status(), 403);

    // Lookup by MRN and by phone (national form).
    let html = ui.page(&agent, "/ui/calls?mrn=rgh-ed-0001").await;
    assert!(html.contains("RGH-ED-0001"), "{html}");
    let patient = one(&ui, "SELECT id FROM patients WHERE mrn = $1", "RGH-ED-0001").await;
    assert!(html.contains(&format!("/ui/calls?patient={patient}&amp;kind=mrn")));
    let html = ui.page(&agent, "/ui/calls?phone=0500001101").await;
    assert!(
        html.contains(&format!("patient={patient}&amp;kind=phone")),
        "{html}"
    );
    assert!(
        ui.page(&agent, "/ui/calls?mrn=a%20b")
            .await
            .contains("alert-warning")
    );
    arabic(&ui, &agent, "/ui/calls?mrn=RGH-ED-0001").await;
    arabic(
        &ui,
        &agent,
        &format!("/ui/calls?patient={patient}&kind=mrn"),
    )
    .await;

    // Logging a call: a bad duration is shown next to the field (in Arabic too), a good call
    // goes to its page.
    let bad = call_form(&patient, "x", "");
    let r = ui.post(&agent, "/ui/calls?lang=ar", &refs(&bad)).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("duration_secs-error"), "{html}");
    assert_eq!(stray_latin(&html), Vec::<String>::new());
    let good = call_form(
        &patient,
        "6",
        "The receptionist was rude and we waited for hours.",
    );
    let r = ui.post(&agent, "/ui/calls", &refs(&good)).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let call = id_in(&location(&r), "calls");
    let html = ui.page(&agent, &format!("/ui/calls/{call}")).await;
    assert!(html.contains("text-bg-danger"), "negative sentiment badge");
    assert!(html.contains("The receptionist was rude"));
    arabic(&ui, &agent, &format!("/ui/calls/{call}")).await;
    assert!(
        ui.page(&agent, "/ui/calls")
            .await
            .contains(&format!("/ui/calls/{call}"))
    );

    // A complaint from the call (channel call_centre) and a callback.
    let r = ui
        .post(
            &agent,
            &format!("/ui/calls/{call}/complaint"),
            &[
                ("category_code", ""),
                ("severity", "medium"),
                ("subject", ""),
                ("description", "x"),
                ("language", "en"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("category_code-error") && html.contains("subject-error"),
        "{html}"
    );
    let r = ui
        .post(
            &agent,
            &format!("/ui/calls/{call}/complaint"),
            &[
                ("category_code", "communication"),
                ("severity", "medium"),
                ("subject", "Rude reception"),
                ("description", "Reported by phone."),
                ("language", "ar"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(one(&ui, "SELECT c.source_channel FROM complaints c JOIN calls k ON k.complaint_id = c.id WHERE k.id = $1", &call).await, "call_centre");
    let r = ui
        .post(
            &agent,
            &format!("/ui/calls/{call}/callback"),
            &[("priority", "high"), ("note", "Call after 4 pm")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let cb = one(&ui, "SELECT id FROM callbacks WHERE call_id = $1", &call).await;

    // The caller's feedback, recorded on the call: an empty text is shown next to its field
    // (in Arabic too); then a feedback item linked both ways.
    let r = ui
        .post(
            &agent,
            &format!("/ui/calls/{call}/feedback?lang=ar"),
            &[("fb_kind", "concern"), ("fb_text", ""), ("fb_lang", "en")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("fb_text-error"), "{html}");
    assert_eq!(stray_latin(&html), Vec::<String>::new());
    let r = ui
        .post(
            &agent,
            &format!("/ui/calls/{call}/feedback"),
            &[
                ("fb_kind", "suggestion"),
                ("fb_text", "Please call patients when the clinic runs late."),
                ("fb_staff", ""),
                ("fb_lang", "en"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert!(location(&r).ends_with("?done=feedback"));
    let fb = one(&ui, "SELECT feedback_id FROM calls WHERE id = $1", &call).await;
    assert_eq!(
        one(
            &ui,
            "SELECT channel FROM feedback WHERE call_id = $1",
            &call
        )
        .await,
        "call_centre"
    );
    let html = ui.page(&agent, &format!("/ui/calls/{call}")).await;
    assert!(html.contains(&format!("/ui/feedback-inbox/{fb}")), "{html}");
    assert!(!html.contains("px-feedback-form"), "one feedback per call");
    let html = ui.page(&coord, &format!("/ui/feedback-inbox/{fb}")).await;
    assert!(html.contains(&format!("/ui/calls/{call}")), "{html}");
    arabic(&ui, &coord, &format!("/ui/feedback-inbox/{fb}")).await;
    let queue = ui.page(&agent, "/ui/callbacks").await;
    assert!(
        queue.contains(&format!("/ui/calls?callback={cb}")),
        "{queue}"
    );
    arabic(&ui, &agent, "/ui/callbacks").await;
    // Working it: the agent screen prefilled (outbound, callback), then saved.
    let html = ui.page(&agent, &format!("/ui/calls?callback={cb}")).await;
    assert!(html.contains(&format!("name=\"callback_id\" value=\"{cb}\"")));
    let r = ui
        .post(
            &agent,
            "/ui/calls",
            &[
                ("patient_id", patient.as_str()),
                ("callback_id", cb.as_str()),
                ("direction", "outbound"),
                ("caller", "patient"),
                ("reason", "callback"),
                ("outcome", "resolved"),
                ("minutes", "2"),
                ("seconds", "0"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        one(&ui, "SELECT status FROM callbacks WHERE id = $1", &cb).await,
        "done"
    );
    assert!(
        ui.page(&agent, "/ui/callbacks")
            .await
            .contains("px-queue-empty")
    );

    // A survey by phone, read in Arabic; a missing answer is shown on its question.
    let r = ui
        .post(
            &agent,
            "/ui/calls",
            &[
                ("patient_id", patient.as_str()),
                ("direction", "outbound"),
                ("caller", "patient"),
                ("reason", "survey_follow_up"),
                ("outcome", "survey_completed"),
                ("minutes", "4"),
                ("seconds", "0"),
            ],
        )
        .await;
    let sc = id_in(&location(&r), "calls");
    let html = ui.page(&agent, &format!("/ui/calls/{sc}/survey")).await;
    let tpl = one(
        &ui,
        "SELECT id FROM survey_templates WHERE code = $1",
        "emergency-experience",
    )
    .await;
    assert!(html.contains(&tpl));
    let path = format!("/ui/calls/{sc}/survey?template={tpl}&language=ar");
    let html = arabic(&ui, &agent, &path).await;
    assert!(
        html.contains("lang=\"ar\" dir=\"rtl\"") && html.contains("توصي"),
        "{html}"
    );
    let html = ui
        .page(
            &agent,
            &format!("/ui/calls/{sc}/survey?template={tpl}&language=en"),
        )
        .await;
    assert!(html.contains("How likely are you to recommend"));
    arabic(
        &ui,
        &agent,
        &format!("/ui/calls/{sc}/survey?template={tpl}&language=en"),
    )
    .await;
    let r = ui
        .post(
            &agent,
            &format!("/ui/calls/{sc}/survey"),
            &[
                ("template_id", tpl.as_str()),
                ("language", "ar"),
                ("recommend", "9"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("q-overall-error"));
    let r = ui
        .post(
            &agent,
            &format!("/ui/calls/{sc}/survey"),
            &[
                ("template_id", tpl.as_str()),
                ("language", "ar"),
                ("recommend", "9"),
                ("overall", "5"),
                ("listened", "always"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(one(&ui, "SELECT r.mode FROM survey_responses r JOIN calls k ON k.survey_response_id = r.id WHERE k.id = $1", &sc).await, "phone");

    // Agent statistics: supervisors only.
    assert_eq!(
        ui.get(&agent, "/ui/analytics/call-centre").await.status(),
        403
    );
    let html = ui
        .page(&coord, "/ui/analytics/call-centre?granularity=day")
        .await;
    assert!(html.contains("agent display"), "{html}");
    arabic(&ui, &coord, "/ui/analytics/call-centre?granularity=day").await;

    // A QI project through its form; errors next to fields; its page and PDSA.
    assert_eq!(ui.get(&agent, "/ui/qi/new").await.status(), 403);
    arabic(&ui, &coord, "/ui/qi/new").await;
    let (h, ed) = ui.ids("RGH", Some("ED")).await;
    let ed = ed.unwrap();
    let r = ui
        .post(
            &coord,
            "/ui/qi/new",
            &[
                ("title", ""),
                ("aim", "x"),
                ("hospital_id", h.as_str()),
                ("kpi_0", "nps"),
                ("baseline_0", "10"),
                ("target_0", "10"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("title-error"), "{html}");
    let today = chrono::Utc::now().date_naive();
    let from = (today - chrono::Duration::weeks(8)).to_string();
    let change = (today - chrono::Duration::weeks(2)).to_string();
    let r = ui
        .post(
            &coord,
            "/ui/qi/new",
            &[
                ("title", "Faster triage"),
                ("aim", "Cut ED complaints by half by spring"),
                ("hospital_id", h.as_str()),
                ("department_id", ed.as_str()),
                ("status", "active"),
                ("granularity", "week"),
                ("baseline_from", from.as_str()),
                ("change_date", change.as_str()),
                ("kpi_0", "complaints_received"),
                ("baseline_0", "8"),
                ("target_0", "4"),
                ("kpi_1", "nps"),
                ("baseline_1", "10"),
                ("target_1", "30"),
                ("ms_title_0", "Triage nurse hired"),
                ("ms_due_0", today.to_string().as_str()),
                ("themes", "waiting_time"),
                ("themes", "communication"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let qi = id_in(&location(&r), "qi");
    let html = ui.page(&coord, &format!("/ui/qi/{qi}")).await;
    assert_eq!(html.matches("class=\"px-qi-chart\"").count(), 2);
    assert!(html.contains("data-chart="));
    arabic(&ui, &coord, &format!("/ui/qi/{qi}")).await;
    arabic(&ui, &coord, "/ui/qi").await;
    arabic(&ui, &coord, &format!("/ui/qi/{qi}/edit")).await;
    let r = ui
        .post(
            &coord,
            &format!("/ui/qi/{qi}/cycles"),
            &[("title", "Nurse at the door")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let cycle = one(
        &ui,
        "SELECT id FROM qi_pdsa_cycles WHERE project_id = $1",
        &qi,
    )
    .await;
    let r = ui
        .post(
            &coord,
            &format!("/ui/qi/{qi}/cycles/{cycle}?lang=ar"),
            &[("command", "start_do"), ("note", " ")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(stray_latin(&r.text().await.unwrap()), Vec::<String>::new());
    let r = ui
        .post(
            &coord,
            &format!("/ui/qi/{qi}/cycles/{cycle}"),
            &[
                ("command", "start_do"),
                ("note", "Nurse greets every arrival"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        one(
            &ui,
            "SELECT stage FROM qi_pdsa_cycles WHERE id = $1",
            &cycle
        )
        .await,
        "do"
    );
    // Viewers follow the project; the executive summary lists it.
    assert!(
        ui.page(&viewer, &format!("/ui/qi/{qi}"))
            .await
            .contains("Faster triage")
    );
    assert_eq!(
        ui.post(&viewer, &format!("/ui/qi/{qi}/cycles"), &[("title", "x")])
            .await
            .status(),
        403
    );
    let html = ui.page(&coord, "/ui/analytics/summary").await;
    assert!(
        html.contains("px-summary-qi") && html.contains("Faster triage"),
        "{html}"
    );
    arabic(&ui, &coord, "/ui/analytics/summary").await;

    // Audited as the API audits (the pages call its operations).
    for a in [
        "call.create",
        "call.read",
        "patient.lookup",
        "patient.read",
        "complaint.create",
        "callback.create",
        "callback.complete",
        "survey.response.phone",
        "qi_project.create",
        "qi_project.cycle.move",
    ] {
        assert!(ui.audits(a, None).await > 0, "{a}");
    }
    ui.stop().await;
}

mod both {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::scenario(super::Kind::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::scenario(super::Kind::Postgres).await;
    }
}
