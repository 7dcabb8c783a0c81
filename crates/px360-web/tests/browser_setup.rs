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

mod common;

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

/// Choose an option of a select by its value, as a keyboard or mouse would (WebDriver has no
/// "select" command; the harness types and clicks only).
async fn choose(b: &Browser, select: &str, value: &str) {
    let ok = b
        .eval(&format!(
            "const s = document.querySelector({}); s.value = {}; \
             s.dispatchEvent(new Event('change', {{bubbles: true}})); return s.value === {};",
            js(select),
            js(value),
            js(value)
        ))
        .await
        .unwrap();
    assert_eq!(ok.as_bool(), Some(true), "{select} = {value}");
}

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// The value of a form control.
async fn value(b: &Browser, css: &str) -> String {
    b.eval(&format!(
        "return document.querySelector({}).value;",
        js(css)
    ))
    .await
    .unwrap()
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// Open the "Administration" menu of the navigation bar (a `<details>`) and follow one of its
/// links.
async fn admin_menu(b: &Browser, href: &str) {
    if !b
        .eval("return document.querySelector('nav .px-menu details').open;")
        .await
        .unwrap()
        .as_bool()
        .unwrap_or(false)
    {
        b.click("nav .px-menu summary").await.unwrap();
    }
    b.click(&format!("nav .px-menu a[href='{href}']"))
        .await
        .unwrap();
    b.wait_until(&format!("return location.pathname === '{href}';"))
        .await
        .unwrap();
}

async fn submit(b: &Browser, form: &str) {
    b.click(&format!("{form} button[type=submit]"))
        .await
        .unwrap();
}

async fn wait(b: &Browser, script: &str) {
    if let Err(e) = b.wait_until(script).await {
        let at = b.current_url().await.unwrap_or_default();
        let _ = b.screenshot("failed").await;
        panic!("{e} (at {at})");
    }
}

async fn sign_in(b: &Browser, ui: &Ui, lang: &str, user: &str, password: &str) {
    b.goto(&ui.url(&format!("/ui/login?lang={lang}")))
        .await
        .unwrap();
    b.type_into("#username", user).await.unwrap();
    b.type_into("#password", password).await.unwrap();
    submit(b, "form[action='/ui/login']").await;
    wait(b, "return location.pathname !== '/ui/login';").await;
}

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
        b.click("nav .px-menu summary").await.unwrap();
        b.screenshot_at(&format!("{lang}-00-phone-menu"), PHONE)
            .await
            .unwrap();
        b.set_width(None).await.unwrap();
        b.click("nav .px-menu summary").await.unwrap();
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

/// Every visible form control of the page has a label (a `<label for>`, a wrapping label or an
/// `aria-label`): the names a screen reader and a keyboard user go by. Returns the unlabelled.
async fn unlabelled(b: &Browser) -> serde_json::Value {
    b.eval(
        "return Array.from(document.querySelectorAll('input, select, textarea'))
           .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
           .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))
           .map(e => e.outerHTML.slice(0, 120));",
    )
    .await
    .unwrap()
}

/// Issue 20's acceptance walk in both languages, with screenshots
/// (`target/screenshots/browser_setup/accept-<lang>-<step>.png`): search and keyset paging on
/// an organisation list, the dependents rule when deleting, every form's controls labelled and
/// working without JavaScript, and the localised 403 and 404 pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_acceptance() {
    let Some(b) = Browser::start(TEST).await else {
        return;
    };
    let ui = Ui::start(Kind::Sqlite).await;
    let (rgh, _) = ui.ids("RGH", None).await;
    let (_, nph_card) = ui.ids("NPH", Some("CARD")).await;
    // 60 more departments: more than one page (50 rows).
    let now = px360_store::now_ts();
    for i in 0..60 {
        sqlx::query("INSERT INTO departments (id, hospital_id, code, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)")
            .bind(px360_store::new_id())
            .bind(&rgh)
            .bind(format!("W{i:02}"))
            .bind(format!("Ward {i:02}"))
            .bind(&now)
            .execute(&ui.db.writer)
            .await
            .unwrap();
    }
    ui.user("nurse1", "nurse", Some("RGH"), Some("CARD"), None)
        .await;

    for (lang, dependents, denied, missing) in [
        ("en", "cannot be deleted", "Access denied", "Not found"),
        ("ar", "لا يمكن الحذف", "تم رفض الوصول", "غير موجود"),
    ] {
        let shot = |name: &str| format!("accept-{lang}-{name}");
        sign_in(&b, &ui, lang, "admin", ADMIN_PASSWORD).await;

        // Keyset paging: 50 rows, then the older page by its link, then back to the newest.
        b.goto(&ui.url("/ui/org/departments")).await.unwrap();
        let rows = "return document.querySelectorAll('main tbody tr').length;";
        assert_eq!(b.eval(rows).await.unwrap().as_u64(), Some(50));
        b.click("main a[href*='before=']").await.unwrap();
        wait(&b, "return location.search.includes('before=');").await;
        let older = b.eval(rows).await.unwrap().as_u64().unwrap();
        assert!((1..50).contains(&older), "{older} rows on the older page");
        b.screenshot(&shot("departments-older-page")).await.unwrap();
        // Search: by name, through the search form.
        b.type_into("#q", "Ward 07").await.unwrap();
        submit(&b, "form[role=search]").await;
        wait(&b, "return location.search.includes('q=');").await;
        assert_eq!(b.eval(rows).await.unwrap().as_u64(), Some(1));
        b.screenshot(&shot("departments-search")).await.unwrap();

        // The dependents rule: a hospital with departments is not deleted, the page says why.
        b.goto(&ui.url(&format!("/ui/org/hospitals/{rgh}")))
            .await
            .unwrap();
        // Delete asks first (a page of its own, then a form).
        b.click(&format!("main a[href='/ui/org/hospitals/{rgh}/delete']"))
            .await
            .unwrap();
        wait(&b, "return location.pathname.endsWith('/delete');").await;
        assert!(
            b.text("main")
                .await
                .unwrap()
                .contains("Riverside General Hospital")
        );
        b.screenshot(&shot("hospital-delete-confirm"))
            .await
            .unwrap();
        b.click(&format!(
            "form[action='/ui/org/hospitals/{rgh}/delete'] button"
        ))
        .await
        .unwrap();
        wait(&b, "return !!document.querySelector('#form-problem');").await;
        assert!(b.text("#form-problem").await.unwrap().contains(dependents));
        b.screenshot(&shot("hospital-dependents")).await.unwrap();

        // Every form's controls are labelled (and each form posts without JavaScript: the
        // pages' forms are plain `method=post` forms, submitted above and in browser_setup).
        for page in [
            "/ui/org/hospitals/new",
            "/ui/org/departments/new",
            "/ui/org/physicians/new",
            "/ui/org/employees/new",
            "/ui/org/patients/new",
            "/ui/org/users/new",
            "/ui/templates",
            "/ui/integrations",
            "/ui/audit",
            "/ui/account",
        ] {
            b.goto(&ui.url(page)).await.unwrap();
            assert_eq!(unlabelled(&b).await, serde_json::json!([]), "{page}");
            let posts_without_js = b
                .eval(
                    "return Array.from(document.querySelectorAll('main form'))
                       .every(f => f.getAttribute('method') && f.getAttribute('action'));",
                )
                .await
                .unwrap();
            assert_eq!(posts_without_js.as_bool(), Some(true), "{page}");
        }
        b.goto(&ui.url("/ui/org/patients/new")).await.unwrap();
        b.screenshot(&shot("patient-form")).await.unwrap();
        submit(&b, "form[action='/ui/logout']").await;
        wait(&b, "return location.pathname === '/ui/login';").await;

        // A nurse: the hospitals' administration is above her role (a localised 403); another
        // hospital's department is outside her scope (a localised 404).
        sign_in(&b, &ui, lang, "nurse1", common::PASSWORD).await;
        b.goto(&ui.url("/ui/org/hospitals")).await.unwrap();
        assert!(b.text("main h1").await.unwrap().contains(denied));
        b.screenshot(&shot("403")).await.unwrap();
        b.goto(&ui.url(&format!(
            "/ui/org/departments/{}",
            nph_card.as_deref().unwrap()
        )))
        .await
        .unwrap();
        assert!(b.text("main h1").await.unwrap().contains(missing));
        b.screenshot(&shot("404")).await.unwrap();
        submit(&b, "form[action='/ui/logout']").await;
        wait(&b, "return location.pathname === '/ui/login';").await;
    }
    b.quit().await;
    ui.stop().await;
}
