//! A hospital set up end to end in a real browser (headless Chromium through chromedriver),
//! once in English and once in Arabic, each time a new hospital: a PX Admin signs in and, by
//! clicking links and filling forms only (no API calls), creates the hospital, a department
//! in it, a physician, a Department Manager account scoped to the department, a journey
//! template with two stages and their event codes, and an API key (its one-time secret read
//! from the page, then used by a hospital system), and sends a test event whose page shows the
//! stage it completed. Then the new manager signs in, must choose a password, and sees only
//! the new hospital. The navigation bar is checked at 1280 px and at a phone's width.
//!
//! Screenshots land in `target/screenshots/browser_setup/<lang>-<nn>-<step>.png`.
//! Without chromium/chromedriver the test is skipped with a message, and fails under `CI=true`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser_steps;
mod common;

use browser_steps::{admin_menu, choose, sign_in, submit, value, wait};
use browser_test::Browser;
use common::{ADMIN_PASSWORD, Kind, Ui};

const TEST: &str = "browser_setup";
const PHONE: u32 = 390;

/// One language's run: what the administrator types.
struct Setup {
    lang: &'static str,
    dir: &'static str,
    hospital: &'static str,
    code: &'static str,
    department: &'static str,
    physician: (&'static str, &'static str),
    manager: &'static str,
    template: &'static str,
    stages: [(&'static str, &'static str, &'static str); 2],
    key: &'static str,
    /// "This field is required" in the page's language.
    required: &'static str,
}

const RUNS: [Setup; 2] = [
    Setup {
        lang: "en",
        dir: "ltr",
        hospital: "Al Noor Hospital",
        code: "NOOR",
        department: "Day Surgery",
        physician: ("Layla", "Hassan"),
        manager: "Maha Saleh",
        template: "Day surgery visit",
        stages: [
            ("BOOKED", "Booked", "NOOR_BOOKED"),
            ("DISCHARGED", "Discharged", "NOOR_DISCHARGED"),
        ],
        key: "Noor HIS",
        required: "This field is required",
    },
    Setup {
        lang: "ar",
        dir: "rtl",
        hospital: "مستشفى الشفاء",
        code: "SHIFA",
        department: "جراحة اليوم الواحد",
        physician: ("ليلى", "حسن"),
        manager: "مها صالح",
        template: "زيارة جراحة اليوم الواحد",
        stages: [
            ("BOOKED", "الحجز", "SHIFA_BOOKED"),
            ("DISCHARGED", "الخروج", "SHIFA_DISCHARGED"),
        ],
        key: "نظام الشفاء",
        required: "هذا الحقل مطلوب",
    },
];

/// The navigation bar's layout: how many rows its parts take (by their top edges).
async fn nav_rows(b: &Browser) -> u64 {
    b.eval(
        "const mids = ['.navbar-brand', '.px-nav-links > li:first-child', '.px-nav-links > li:last-child', '.px-nav-user']
            .map(s => { const r = document.querySelector(s).getBoundingClientRect(); return (r.top + r.bottom) / 2; })
            .sort((a, b) => a - b);
         let rows = 1;
         for (let i = 1; i < mids.length; i++) { if (mids[i] - mids[i - 1] > 20) rows++; }
         return rows;",
    )
    .await
    .unwrap()
    .as_u64()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_setup() {
    let Some(b) = Browser::start(TEST).await else {
        return;
    };
    let ui = Ui::start(Kind::Sqlite).await;
    let (stop, worker) = ui.start_worker();

    for run in &RUNS {
        let lang = run.lang;
        let mut step = 0;
        let mut shot = async |name: &str| {
            step += 1;
            b.screenshot(&format!("{lang}-{step:02}-{name}"))
                .await
                .unwrap();
        };
        sign_in(&b, &ui, lang, "admin", ADMIN_PASSWORD).await;
        assert_eq!(
            b.attr("html", "dir").await.unwrap().as_deref(),
            Some(run.dir)
        );
        // The navigation bar: one row at 1280 px, the page links on a second row on a phone,
        // where the administration menu opens in place.
        shot("signed-in").await;
        assert_eq!(nav_rows(&b).await, 1, "one navigation row at 1280 px");
        b.set_width(Some(PHONE)).await.unwrap();
        assert!(nav_rows(&b).await >= 2, "the links' own row on a phone");
        // Nothing sticks out sideways (the elements that do are named).
        let wide = b
            .eval(
                "const w = document.documentElement.clientWidth; return Array.from(document.querySelectorAll('body *'))
                   .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && (r.right > w + 1 || r.left < -1); })
                   .filter(e => !e.closest('.table-responsive'))
                   .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 10);",
            )
            .await
            .unwrap();
        b.screenshot_at(&format!("{lang}-00-phone"), PHONE)
            .await
            .unwrap();
        b.set_width(Some(PHONE)).await.unwrap();
        assert_eq!(wide, serde_json::json!([]), "sideways at {PHONE} px");
        b.click("nav #px-admin summary").await.unwrap();
        b.screenshot_at(&format!("{lang}-00-phone-menu"), PHONE)
            .await
            .unwrap();
        b.set_width(None).await.unwrap();
        b.click("nav #px-admin summary").await.unwrap();
        shot("dashboard").await;

        // 1. The hospital: first without a name (the error next to the field), then complete.
        admin_menu(&b, "/ui/org").await;
        b.click("a[href='/ui/org/hospitals']").await.unwrap();
        wait(&b, "return location.pathname === '/ui/org/hospitals';").await;
        b.click("a[href='/ui/org/hospitals/new']").await.unwrap();
        wait(&b, "return location.pathname === '/ui/org/hospitals/new';").await;
        b.type_into("#code", run.code).await.unwrap();
        submit(&b, "main form[action='/ui/org/hospitals/new']").await;
        wait(&b, "return !!document.querySelector('#name.is-invalid');").await;
        assert!(b.text("#name-error").await.unwrap().contains(run.required));
        assert_eq!(value(&b, "#code").await, run.code, "the typed code is kept");
        shot("hospital-error").await;
        b.type_into("#name", run.hospital).await.unwrap();
        submit(&b, "main form[action='/ui/org/hospitals/new']").await;
        wait(&b, "return location.search.includes('done=created');").await;
        assert!(b.text("table").await.unwrap().contains(run.hospital));
        shot("hospital-created").await;
        let (hospital, _) = ui.ids(run.code, None).await;

        // 2. A department: the confirmation links to the department form, the new hospital
        // already chosen.
        b.click("#next-steps a[href^='/ui/org/departments/new']")
            .await
            .unwrap();
        wait(
            &b,
            "return location.pathname === '/ui/org/departments/new';",
        )
        .await;
        assert_eq!(value(&b, "#hospital_id").await, hospital);
        b.type_into("#code", "DSU").await.unwrap();
        b.type_into("#name", run.department).await.unwrap();
        shot("department-form").await;
        submit(&b, "main form[action='/ui/org/departments/new']").await;
        wait(&b, "return location.search.includes('done=created');").await;
        assert!(b.text("table").await.unwrap().contains(run.department));
        shot("department-created").await;
        let (_, dept) = ui.ids(run.code, Some("DSU")).await;
        let dept = dept.unwrap();

        // 3. A physician in it (the next step's link chooses the department).
        b.click("#next-steps a[href^='/ui/org/physicians/new']")
            .await
            .unwrap();
        wait(&b, "return location.pathname === '/ui/org/physicians/new';").await;
        assert_eq!(value(&b, "#department_id").await, dept);
        b.type_into("#licence_number", &format!("LIC-{}-1", run.code))
            .await
            .unwrap();
        b.type_into("#given_name", run.physician.0).await.unwrap();
        b.type_into("#family_name", run.physician.1).await.unwrap();
        shot("physician-form").await;
        submit(&b, "main form[action='/ui/org/physicians/new']").await;
        wait(&b, "return location.pathname === '/ui/org/physicians' && location.search.includes('done=created');").await;
        assert!(b.text("table").await.unwrap().contains(run.physician.1));
        shot("physician-created").await;

        // 4. A Department Manager of the new department (back through the departments list).
        b.click("main nav a[href='/ui/org']").await.unwrap();
        wait(&b, "return location.pathname === '/ui/org';").await;
        b.click("a[href='/ui/org/users']").await.unwrap();
        wait(&b, "return location.pathname === '/ui/org/users';").await;
        b.click("a[href='/ui/org/users/new']").await.unwrap();
        wait(&b, "return location.pathname === '/ui/org/users/new';").await;
        let username = format!("manager-{lang}");
        b.type_into("#username", &username).await.unwrap();
        b.type_into("#display_name", run.manager).await.unwrap();
        b.type_into("#password", "initial-password-123")
            .await
            .unwrap();
        choose(&b, "#role", "department_manager").await;
        choose(&b, "#hospital_id", &hospital).await;
        choose(&b, "#department_id", &dept).await;
        shot("user-form").await;
        submit(&b, "main form[action='/ui/org/users/new']").await;
        wait(&b, "return location.pathname === '/ui/org/users' && location.search.includes('done=created');").await;
        assert!(b.text("table").await.unwrap().contains(&username));
        shot("user-created").await;

        // 5. A journey template of the hospital: the first stage with it, the second added.
        admin_menu(&b, "/ui/templates").await;
        choose(&b, "#new-hospital_id", &hospital).await;
        b.type_into("#new-code", &format!("{}_DAY_SURGERY", run.code))
            .await
            .unwrap();
        b.type_into("#new-name", run.template).await.unwrap();
        let [(c1, n1, e1), (c2, n2, e2)] = run.stages;
        b.type_into("#new-stage_code", c1).await.unwrap();
        b.type_into("#new-stage_name", n1).await.unwrap();
        b.type_into("#new-stage_event_code", e1).await.unwrap();
        shot("template-form").await;
        submit(&b, "form[action='/ui/templates']").await;
        wait(&b, "return location.search.includes('saved=created');").await;
        b.type_into("#add-code", c2).await.unwrap();
        b.type_into("#add-name", n2).await.unwrap();
        b.type_into("#add-completing_event_code", e2).await.unwrap();
        submit(&b, "form[action$='/stages']").await;
        wait(&b, "return location.search.includes('saved=added');").await;
        let preview = b.text(".px-stage-preview").await.unwrap();
        assert!(
            preview.contains(n1) && preview.contains(e1) && preview.contains(e2),
            "{preview}"
        );
        assert!(preview.find(e1) < preview.find(e2), "{preview}");
        shot("template-stages").await;

        // 6. An API key for the hospital: the secret is read from the page, once.
        b.click("main a[href='/ui/integrations']").await.unwrap();
        wait(&b, "return location.pathname === '/ui/integrations';").await;
        choose(&b, "#key-hospital_id", &hospital).await;
        b.type_into("#key-name", run.key).await.unwrap();
        b.type_into("#key-source_systems", "HIS").await.unwrap();
        submit(&b, "form[action='/ui/integrations/keys']").await;
        wait(&b, "return !!document.querySelector('#issued-secret');").await;
        let secret = value(&b, "#issued-secret").await;
        assert!(secret.starts_with("px360_"), "{secret}");
        let curl = b.text("#issued-curl").await.unwrap();
        assert!(curl.contains(&secret) && curl.contains(e1), "{curl}");
        // The test-event form starts with the new key and the hospital's first event code.
        assert!(
            b.text("#test-key option:checked")
                .await
                .unwrap()
                .contains(run.key)
        );
        assert_eq!(value(&b, "#test-code").await, e1);
        shot("key-issued").await;

        // 7. The test event, and how it was processed: the first stage completed.
        submit(&b, "form[action='/ui/integrations/test-event']").await;
        wait(&b, "return location.search.includes('test_event=');").await;
        let outcome = b.text("#test").await.unwrap();
        assert!(
            outcome.contains(n1) && outcome.contains(run.template),
            "{outcome}"
        );
        assert!(b.exists("#test .badge.text-bg-success").await.unwrap());
        // The form offers the same key and event code again (for the next stage, say).
        assert_eq!(value(&b, "#test-code").await, e1);
        assert!(
            b.text("#test-key option:checked")
                .await
                .unwrap()
                .contains(run.key)
        );
        shot("test-event").await;
        // Once shown the secret is gone from the page, and it works for the hospital's system.
        b.goto(&ui.url("/ui/integrations")).await.unwrap();
        assert!(!b.exists("#issued-secret").await.unwrap());
        let r = ui
            .http
            .post(ui.url("/api/integrations/events/"))
            .header("x-api-key", &secret)
            .json(&serde_json::json!({
                "source_system": "HIS", "event_code": e2, "encounter_id": format!("ENC-{lang}"),
                "patient_identifier": "MRN-1", "payload": {"timestamp": "2026-01-31T12:30:00"}
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "the issued key is live");

        // Every change made through the pages is in the audit log, under the new hospital.
        let audited: Vec<(String, String)> = sqlx::query_as(
            "SELECT action, object_type FROM audit_log WHERE hospital_id = $1 AND actor_type = 'user'",
        )
        .bind(&hospital)
        .fetch_all(&ui.db.pool)
        .await
        .unwrap();
        for (action, object) in [
            ("create", "hospital"),
            ("create", "department"),
            ("create", "physician"),
            ("create", "user"),
            ("create", "journey_template"),
            ("create", "stage_template"),
            ("create", "api_key"),
            ("integration.test_event", "inbound_event"),
        ] {
            assert!(
                audited.iter().any(|(a, o)| a == action && o == object),
                "{action} {object} not audited: {audited:?}"
            );
        }

        submit(&b, "form[action='/ui/logout']").await;
        wait(&b, "return location.pathname === '/ui/login';").await;

        // 8. The new manager: must choose a password first, then sees the new hospital only.
        sign_in(&b, &ui, lang, &username, "initial-password-123").await;
        wait(&b, "return location.pathname === '/ui/account';").await;
        assert!(b.exists("#must-change").await.unwrap());
        shot("manager-must-change").await;
        b.type_into("#current_password", "initial-password-123")
            .await
            .unwrap();
        b.type_into("#new_password", "the-managers-own-password")
            .await
            .unwrap();
        submit(&b, "form[action='/ui/account/password']").await;
        wait(&b, "return location.search.includes('saved=password');").await;
        admin_menu(&b, "/ui/org").await;
        let page = b.text("main").await.unwrap();
        assert!(page.contains(run.hospital), "{page}");
        for other in [
            "Riverside General Hospital",
            "Northfield Park Hospital",
            RUNS[0].hospital,
        ] {
            if other != run.hospital {
                assert!(!page.contains(other), "{other} shown to the manager");
            }
        }
        let hospitals = b
            .eval("return document.querySelectorAll('main table')[0].tBodies[0].rows.length;")
            .await
            .unwrap();
        assert_eq!(hospitals.as_u64(), Some(1));
        shot("manager-org").await;
        submit(&b, "form[action='/ui/logout']").await;
        wait(&b, "return location.pathname === '/ui/login';").await;
    }
    stop.send(true).unwrap();
    worker.await.unwrap();
    b.quit().await;
    ui.stop().await;
}
