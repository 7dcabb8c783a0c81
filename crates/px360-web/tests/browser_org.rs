//! Administration in a real browser (headless Chromium through chromedriver), in English and
//! Arabic: an administrator creates a department (first sending it empty, to see the errors
//! next to the fields), a physician in it and a user account with a role scoped to it, by
//! typing and clicking. Screenshots land in `target/screenshots/browser_org_admin/<lang>-<page>.png`.
//!
//! Without chromium/chromedriver the test is skipped with a message, and fails under `CI=true`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use browser_test::Browser;
use common::{ADMIN_PASSWORD, Kind, Ui};

const TEST: &str = "browser_org_admin";

/// Choose an option of a select by its value (the browser-test harness types and clicks only).
async fn choose(b: &Browser, select: &str, value: &str) {
    let ok = b
        .eval(&format!(
            "const s = document.querySelector('{select}'); s.value = '{value}'; return s.value === '{value}';"
        ))
        .await
        .unwrap();
    assert_eq!(ok.as_bool(), Some(true), "{select} = {value}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_org_admin() {
    let Some(b) = Browser::start(TEST).await else {
        return;
    };
    let ui = Ui::start(Kind::Sqlite).await;
    let (rgh, _) = ui.ids("RGH", None).await;
    for (lang, dir, dept_name, required) in [
        ("en", "ltr", "Oncology", "This field is required"),
        ("ar", "rtl", "الأورام", "هذا الحقل مطلوب"),
    ] {
        let shot = |page: &str| format!("{lang}-{page}");
        let code = format!("ONC{}", lang.to_uppercase());
        b.goto(&ui.url(&format!("/ui/login?lang={lang}")))
            .await
            .unwrap();
        b.type_into("#username", "admin").await.unwrap();
        b.type_into("#password", ADMIN_PASSWORD).await.unwrap();
        b.click("form[action='/ui/login'] button[type=submit]")
            .await
            .unwrap();
        b.wait_until("return location.pathname === '/ui/';")
            .await
            .unwrap();

        // The hub, then the departments.
        // The administration pages are in the navigation bar's menu.
        b.click("nav #px-admin summary").await.unwrap();
        b.click("nav a[href='/ui/org']").await.unwrap();
        b.wait_until("return location.pathname === '/ui/org';")
            .await
            .unwrap();
        assert_eq!(b.attr("html", "dir").await.unwrap().as_deref(), Some(dir));
        b.screenshot(&shot("org-hub")).await.unwrap();
        b.click("a[href='/ui/org/departments']").await.unwrap();
        b.wait_until("return location.pathname === '/ui/org/departments';")
            .await
            .unwrap();
        b.click("a[href='/ui/org/departments/new']").await.unwrap();
        b.wait_until("return location.pathname === '/ui/org/departments/new';")
            .await
            .unwrap();
        // Sent empty: the errors next to their fields.
        choose(&b, "#hospital_id", &rgh).await;
        b.click("main form button[type=submit]").await.unwrap();
        b.wait_until("return !!document.querySelector('#code.is-invalid');")
            .await
            .unwrap();
        assert!(b.text("#code-error").await.unwrap().contains(required));
        assert_eq!(
            b.attr("#code", "aria-describedby")
                .await
                .unwrap()
                .as_deref(),
            Some("code-error")
        );
        b.screenshot(&shot("department-errors")).await.unwrap();
        choose(&b, "#hospital_id", &rgh).await;
        b.type_into("#code", &code).await.unwrap();
        b.type_into("#name", dept_name).await.unwrap();
        b.click("main form button[type=submit]").await.unwrap();
        b.wait_until("return location.search.includes('done=created');")
            .await
            .unwrap();
        assert!(b.exists(".alert-success").await.unwrap());
        assert!(b.text("table").await.unwrap().contains(dept_name));
        b.screenshot(&shot("departments")).await.unwrap();
        let (_, dept) = ui.ids("RGH", Some(&code)).await;
        let dept = dept.unwrap();

        // A physician in the new department.
        b.goto(&ui.url("/ui/org/physicians/new")).await.unwrap();
        choose(&b, "#department_id", &dept).await;
        b.type_into("#licence_number", &format!("GMC-{lang}-1"))
            .await
            .unwrap();
        b.type_into("#given_name", "Sara").await.unwrap();
        b.type_into("#family_name", "Haddad").await.unwrap();
        b.screenshot(&shot("physician-form")).await.unwrap();
        b.click("main form button[type=submit]").await.unwrap();
        b.wait_until("return location.pathname === '/ui/org/physicians' && location.search.includes('done=created');")
            .await
            .unwrap();
        b.screenshot(&shot("physicians")).await.unwrap();

        // A user account: a nurse of the new department.
        b.goto(&ui.url("/ui/org/users/new")).await.unwrap();
        let username = format!("nurse-{lang}");
        b.type_into("#username", &username).await.unwrap();
        b.type_into("#display_name", "Nurse Noor").await.unwrap();
        b.type_into("#password", "initial-password-123")
            .await
            .unwrap();
        choose(&b, "#role", "nurse").await;
        choose(&b, "#hospital_id", &rgh).await;
        choose(&b, "#department_id", &dept).await;
        b.screenshot(&shot("user-form")).await.unwrap();
        b.click("main form button[type=submit]").await.unwrap();
        b.wait_until("return location.pathname === '/ui/org/users' && location.search.includes('done=created');")
            .await
            .unwrap();
        assert!(b.text("table").await.unwrap().contains(&username));
        b.screenshot(&shot("users")).await.unwrap();
        let stored: (String, Option<String>) =
            sqlx::query_as("SELECT role, department_id FROM users WHERE username = $1")
                .bind(&username)
                .fetch_one(&ui.db.pool)
                .await
                .unwrap();
        assert_eq!(stored, ("nurse".to_owned(), Some(dept.clone())));

        b.click("form[action='/ui/logout'] button").await.unwrap();
        b.wait_until("return location.pathname === '/ui/login';")
            .await
            .unwrap();
    }
    b.quit().await;
    ui.stop().await;
}
