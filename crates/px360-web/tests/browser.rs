//! The operator UI in a real browser (headless Chromium through chromedriver, crate
//! `browser-test`), in English and Arabic: sign in by typing and clicking, the dashboard, the
//! events, an event with warnings and a failed one, and "My account" (display name; password
//! with a wrong, then the right current password), then sign out. Full-page screenshots land
//! in `target/screenshots/browser_account_and_events/<lang>-<page>.png`.
//!
//! Without chromium/chromedriver the test is skipped with a message, and fails under `CI=true`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use browser_test::Browser;
use common::{ADMIN_PASSWORD, Kind, Ui};
use serde_json::json;

const TEST: &str = "browser_account_and_events";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_account_and_events() {
    let Some(b) = Browser::start(TEST).await else {
        return;
    };
    let ui = Ui::start(Kind::Sqlite).await;
    let (rgh, _) = ui.ids("RGH", None).await;
    let key = ui
        .db
        .create_api_key(&rgh, "feed", &["*".into()], None)
        .await
        .unwrap()
        .key
        .id
        .to_string();
    let warned = ui
        .event_with(
            &key,
            &rgh,
            "OP_CHECKIN",
            "ENC-W",
            json!({"department_code": "NOPE", "physician_licence": "ZZ999"}),
        )
        .await;
    let failed = ui
        .event_with(&key, &rgh, "OP_SEEN", "ENC-F", json!({}))
        .await;
    sqlx::query("UPDATE inbound_events SET payload = '{broken' WHERE id = $1")
        .bind(&failed)
        .execute(&ui.db.writer)
        .await
        .unwrap();
    ui.jobs
        .push_events(vec![warned.clone(), failed.clone()], None)
        .await
        .unwrap();
    let (stop, worker) = ui.start_worker();
    ui.wait_status(&warned, "processed").await;
    ui.wait_status(&failed, "failed").await;
    stop.send(true).unwrap();
    worker.await.unwrap();

    let mut password = ADMIN_PASSWORD.to_owned();
    for (lang, dir, name, wrong, saved_name) in [
        (
            "en",
            "ltr",
            "Amelia Hart",
            "The current password is incorrect.",
            "Your display name has been saved.",
        ),
        (
            "ar",
            "rtl",
            "أمل الحارثي",
            "كلمة المرور الحالية غير صحيحة.",
            "تم حفظ اسمك المعروض.",
        ),
    ] {
        let shot = |page: &str| format!("{lang}-{page}");
        // Sign in by typing into the form.
        b.goto(&ui.url(&format!("/ui/login?lang={lang}")))
            .await
            .unwrap();
        assert_eq!(b.attr("html", "dir").await.unwrap().as_deref(), Some(dir));
        b.type_into("#username", "admin").await.unwrap();
        b.type_into("#password", &password).await.unwrap();
        b.screenshot(&shot("login")).await.unwrap();
        b.click("form[action='/ui/login'] button[type=submit]")
            .await
            .unwrap();
        b.wait_until("return location.pathname === '/ui/';")
            .await
            .unwrap();
        assert_eq!(b.attr("html", "dir").await.unwrap().as_deref(), Some(dir));
        assert_eq!(b.attr("html", "lang").await.unwrap().as_deref(), Some(lang));
        b.screenshot(&shot("dashboard")).await.unwrap();

        // Events (under the Administration menu): the list, one with warnings, one whose
        // processing failed.
        b.click("nav #px-admin summary").await.unwrap();
        b.click("nav a[href='/ui/events']").await.unwrap();
        b.wait_until("return location.pathname === '/ui/events';")
            .await
            .unwrap();
        assert!(b.exists("#event-rows table").await.unwrap());
        b.screenshot(&shot("events")).await.unwrap();
        b.goto(&ui.url(&format!("/ui/events/{warned}")))
            .await
            .unwrap();
        let warnings = b.text(".card ul.list-unstyled").await.unwrap();
        assert!(
            warnings.contains("ZZ999") && warnings.contains("NOPE"),
            "{warnings}"
        );
        if lang == "ar" {
            assert!(warnings.contains("لا يوجد طبيب"), "{warnings}");
        } else {
            assert!(warnings.contains("No physician with licence"), "{warnings}");
        }
        b.screenshot(&shot("event-warnings")).await.unwrap();
        b.goto(&ui.url(&format!("/ui/events/{failed}")))
            .await
            .unwrap();
        assert!(b.exists("code.px-data").await.unwrap());
        b.screenshot(&shot("event-failed")).await.unwrap();

        // My account: a new display name, typed and saved, then shown in the navigation.
        b.click("nav a[href='/ui/account']").await.unwrap();
        b.wait_until("return location.pathname === '/ui/account';")
            .await
            .unwrap();
        b.type_into("#display_name", name).await.unwrap();
        b.click("form[action='/ui/account/name'] button")
            .await
            .unwrap();
        b.wait_until("return location.search.includes('saved=name');")
            .await
            .unwrap();
        assert_eq!(b.text(".alert-success").await.unwrap(), saved_name);
        assert!(b.text("nav .navbar-text").await.unwrap().contains(name));
        b.screenshot(&shot("account-name-saved")).await.unwrap();

        // A wrong current password: the message next to that field, the field marked invalid.
        let next = format!("{password}-{lang}-next");
        b.type_into("#current_password", "not-my-password")
            .await
            .unwrap();
        b.type_into("#new_password", &next).await.unwrap();
        b.click("form[action='/ui/account/password'] button")
            .await
            .unwrap();
        b.wait_until("return !!document.querySelector('#current_password.is-invalid');")
            .await
            .unwrap();
        assert_eq!(b.text("#current_password-error").await.unwrap(), wrong);
        assert_eq!(
            b.attr("#current_password", "aria-describedby")
                .await
                .unwrap()
                .as_deref(),
            Some("current_password-error")
        );
        assert!(
            b.eval(
                "return document.querySelector('#current_password-error').offsetParent !== null;"
            )
            .await
            .unwrap()
            .as_bool()
            .unwrap_or(false),
            "the error is visible"
        );
        b.screenshot(&shot("account-wrong-password")).await.unwrap();
        // The right one: changed, and this browser stays signed in.
        b.type_into("#current_password", &password).await.unwrap();
        b.type_into("#new_password", &next).await.unwrap();
        b.click("form[action='/ui/account/password'] button")
            .await
            .unwrap();
        b.wait_until("return location.search.includes('saved=password');")
            .await
            .unwrap();
        assert!(b.exists(".alert-success").await.unwrap());
        assert!(!b.exists(".is-invalid").await.unwrap());
        b.screenshot(&shot("account-password-changed"))
            .await
            .unwrap();
        password = next;

        // Sign out.
        b.click("form[action='/ui/logout'] button").await.unwrap();
        b.wait_until("return location.pathname === '/ui/login';")
            .await
            .unwrap();
        assert!(b.exists(".alert-info").await.unwrap());
        b.screenshot(&shot("signed-out")).await.unwrap();
    }
    b.quit().await;
    ui.stop().await;
}
