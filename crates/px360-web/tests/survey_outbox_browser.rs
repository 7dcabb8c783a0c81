//! The whole survey chain as the quick start shows it, in a real browser (headless Chromium), in
//! English and Arabic: integration events complete the demo emergency journey → the survey
//! worker (embedded default: no provider configured) delivers the invitations to the local
//! outbox → `/ui/outbox` lists them with their links clickable → the survey link opens the
//! patient's page → the unsubscribe link asks for confirmation in the patient's language and,
//! once confirmed (a plain form POST), records the opt-out.
//!
//! Also: who may read the outbox (PX Coordinator and above with a hospital or group scope; a
//! department-scoped nurse gets 403 and no navigation entry), that each reading is audited, and
//! that the Arabic pages show no stray English.
//!
//! Screenshots: `target/screenshots/survey_outbox_browser/<lang>-{outbox,survey,unsubscribe,unsubscribed}.png`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/latin.rs"]
#[allow(dead_code)]
mod latin;

use browser_test::Browser;
use chrono::Utc;
use common::{ADMIN_PASSWORD, Kind, PASSWORD, Ui};
use px360_domain::event::{EventPayload, InboundEvent};
use px360_store::events::{Caller, Intake};
use px360_worker::surveys::{SurveyConfig, SurveyWorker};

const TEST: &str = "survey_outbox_browser";

/// An emergency visit for `mrn` (its last stage carries the demo survey), applied as the event
/// worker would.
async fn emergency_visit(ui: &Ui, encounter: &str, mrn: &str) {
    let (h, _) = ui.ids("RGH", None).await;
    let key = ui
        .db
        .create_api_key(&h, &format!("feed {encounter}"), &["*".into()], None)
        .await
        .unwrap();
    let caller = Caller {
        api_key_id: key.key.id.to_string(),
        hospital_id: h,
        ip: None,
        user_agent: None,
    };
    let events: Vec<InboundEvent> = ["ED_ARRIVAL", "ED_TRIAGE", "ED_SEEN", "ED_DEPARTURE"]
        .iter()
        .map(|c| InboundEvent {
            source_system: "EPIC".into(),
            event_code: (*c).into(),
            encounter_id: encounter.into(),
            patient_identifier: mrn.into(),
            payload: EventPayload {
                physician_licence: None,
                department_code: Some("ED".into()),
                timestamp: Utc::now(),
                custom_fields: Default::default(),
            },
        })
        .collect();
    let items: Vec<_> = events.iter().map(|e| (&caller, e)).collect();
    let ids: Vec<String> = ui
        .db
        .intake_many(&items)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|i| match i {
            Intake::Accepted(id) => Some(id),
            Intake::Duplicate(_) => None,
        })
        .collect();
    ui.db.process_events("test", &ids, None).await.unwrap();
}

async fn set_channels(ui: &Ui, mrn: &str, channels: &str) -> String {
    sqlx::query("UPDATE patients SET contact_channels = $2 WHERE mrn = $1")
        .bind(mrn)
        .bind(channels)
        .execute(&ui.db.writer)
        .await
        .unwrap();
    sqlx::query_scalar("SELECT id FROM patients WHERE mrn = $1")
        .bind(mrn)
        .fetch_one(&ui.db.pool)
        .await
        .unwrap()
}

async fn opt_outs(ui: &Ui, patient: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT channel FROM survey_optouts WHERE patient_id = $1")
        .bind(patient)
        .fetch_all(&ui.db.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survey_outbox_browser() {
    let Some(b) = Browser::start(TEST).await else {
        return;
    };
    let ui = Ui::start(Kind::Sqlite).await;
    // RGH-ED-0001 prefers English, RGH-ED-0002 Arabic (seed).
    let p_en = set_channels(&ui, "RGH-ED-0001", r#"["sms","email"]"#).await;
    let p_ar = set_channels(&ui, "RGH-ED-0002", r#"["email"]"#).await;
    emergency_visit(&ui, "enc-ob-1", "RGH-ED-0001").await;
    emergency_visit(&ui, "enc-ob-2", "RGH-ED-0002").await;
    let w = SurveyWorker::new(
        ui.db.clone(),
        "ui-surveys",
        SurveyConfig {
            public_base_url: ui.base.clone(),
            ..SurveyConfig::default()
        },
    )
    .unwrap();
    for _ in 0..10 {
        if w.round().await.unwrap() == Default::default() {
            break;
        }
    }
    assert_eq!(ui.db.survey_local_outbox(None, 10).await.unwrap().len(), 2);

    // Who may read it.
    let (rgh, _) = ui.ids("RGH", None).await;
    ui.user("coord", "px_coordinator", Some("RGH"), None, None)
        .await;
    ui.user("nurse", "nurse", Some("RGH"), Some("ED"), None)
        .await;
    let coord = ui.login("coord", PASSWORD).await;
    let html = ui.page(&coord, "/ui/outbox").await;
    assert!(html.contains("href=\"/ui/outbox\""), "nav entry");
    assert_eq!(html.matches("class=\"px-outbox-row\"").count(), 2);
    let nurse = ui.login("nurse", PASSWORD).await;
    assert_eq!(ui.get(&nurse, "/ui/outbox").await.status(), 403);
    assert!(
        !ui.page(&nurse, "/ui/")
            .await
            .contains("href=\"/ui/outbox\"")
    );
    let reads: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'survey.local_outbox.read' AND hospital_id = $1",
    )
    .bind(&rgh)
    .fetch_one(&ui.db.pool)
    .await
    .unwrap();
    assert_eq!(reads, 1, "the coordinator's reading is audited");
    // Arabic: no stray English outside the messages themselves (data).
    let admin = ui.admin().await;
    let ar = ui.page(&admin, "/ui/outbox?lang=ar").await;
    assert!(ar.contains("<html lang=\"ar\" dir=\"rtl\">"));
    let stray = latin::stray_latin(&ar);
    assert!(stray.is_empty(), "{}", stray.join("\n"));

    b.goto(&ui.url("/ui/login?lang=en")).await.unwrap();
    b.type_into("#username", "admin").await.unwrap();
    b.type_into("#password", ADMIN_PASSWORD).await.unwrap();
    b.click("form[action='/ui/login'] button[type=submit]")
        .await
        .unwrap();
    b.wait_until("return location.pathname === '/ui/';")
        .await
        .unwrap();
    for (lang, dir, patient, channel, heading, done) in [
        (
            "en",
            "ltr",
            &p_en,
            "sms",
            "Stop survey messages?",
            "You will receive no more surveys",
        ),
        (
            "ar",
            "rtl",
            &p_ar,
            "email",
            "إيقاف رسائل الاستبيانات؟",
            "لن تصلك استبيانات بعد الآن",
        ),
    ] {
        let shot = |page: &str| format!("{lang}-{page}");
        b.goto(&ui.url(&format!("/ui/?lang={lang}"))).await.unwrap();
        b.wait_until("return location.pathname === '/ui/';")
            .await
            .unwrap();
        // The local outbox is under the navigation bar's Administration menu.
        b.click("nav #px-admin summary").await.unwrap();
        b.click("nav a[href='/ui/outbox']").await.unwrap();
        b.wait_until("return location.pathname === '/ui/outbox';")
            .await
            .unwrap();
        assert_eq!(b.attr("html", "dir").await.unwrap().as_deref(), Some(dir));
        assert_eq!(
            b.eval("return document.querySelectorAll('#outbox tbody tr').length;")
                .await
                .unwrap()
                .as_i64(),
            Some(2)
        );
        b.screenshot(&shot("outbox")).await.unwrap();

        // The message in this language: its survey link opens the patient's page.
        let row = format!("#outbox td[lang={lang}]");
        let link = b
            .eval(&format!(
                "return [...document.querySelectorAll('{row} a')].map(a => a.getAttribute('href')).find(h => !h.endsWith('/unsubscribe'));"
            ))
            .await
            .unwrap();
        let link = link.as_str().expect("a survey link").to_owned();
        assert!(link.starts_with(&format!("{}/s/", ui.base)), "{link}");
        b.click(&format!("{row} a[href='{link}']")).await.unwrap();
        b.wait_until("return location.pathname.startsWith('/s/') && !!document.querySelector('form.px-form');")
            .await
            .unwrap();
        assert_eq!(b.attr("html", "dir").await.unwrap().as_deref(), Some(dir));
        b.screenshot(&shot("survey")).await.unwrap();

        // Its unsubscribe link: a confirmation first (a GET changes nothing), then the opt-out.
        b.goto(&format!("{link}/unsubscribe")).await.unwrap();
        assert_eq!(b.text("h1").await.unwrap(), heading);
        assert_eq!(b.attr("html", "dir").await.unwrap().as_deref(), Some(dir));
        assert!(opt_outs(&ui, patient).await.is_empty());
        b.screenshot(&shot("unsubscribe")).await.unwrap();
        b.click("#px-unsubscribe").await.unwrap();
        b.wait_until("return !!document.querySelector('.px-message-unsubscribed');")
            .await
            .unwrap();
        assert_eq!(b.text("h1").await.unwrap(), done);
        b.screenshot(&shot("unsubscribed")).await.unwrap();
        assert_eq!(opt_outs(&ui, patient).await, [channel]);
        let page = b
            .eval("return document.documentElement.outerHTML;")
            .await
            .unwrap();
        if lang == "ar" {
            let stray = latin::stray_latin(page.as_str().unwrap());
            assert!(stray.is_empty(), "{}", stray.join("\n"));
        }
    }

    // An unknown link's unsubscribe page: the friendly "not found" page, nothing recorded.
    b.goto(&ui.url(&format!("/s/{}/unsubscribe", "ab".repeat(32))))
        .await
        .unwrap();
    assert!(b.exists(".px-message-unknown").await.unwrap());
    b.quit().await;
    ui.stop().await;
}
