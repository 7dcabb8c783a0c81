//! Issue 20's acceptance walk in a real browser (headless Chromium through chromedriver), in
//! English and Arabic: keyset paging and search on an organisation list, the dependents rule
//! when deleting (after the confirmation page), every form's controls labelled and posted
//! without JavaScript, and the localised 403 and 404 pages. Screenshots land in
//! `target/screenshots/browser_acceptance/<lang>-<step>.png`.
//!
//! Without chromium/chromedriver the test is skipped with a message, and fails under `CI=true`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser_steps;
mod common;

use browser_steps::{sign_in, submit, wait};
use browser_test::Browser;
use common::{ADMIN_PASSWORD, Kind, Ui};

const TEST: &str = "browser_acceptance";

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
        let shot = |name: &str| format!("{lang}-{name}");
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
