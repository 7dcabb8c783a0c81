//! The administration pages in a real browser (headless Chromium through chromedriver), in
//! English and Arabic, driven as an administrator would: a journey template created with its
//! first stage, a stage added and moved earlier, the preview read back; an API key issued (the
//! secret and the ready `curl` shown once), a test event sent and its outcome opened; the
//! revocation confirmation; the audit log filtered. Full-page screenshots land in
//! `target/screenshots/browser_admin_pages/<lang>-<page>.png`.
//!
//! Without chromium/chromedriver the test is skipped with a message, and fails under `CI=true`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use browser_test::Browser;
use common::{ADMIN_PASSWORD, Kind, Ui};

const TEST: &str = "browser_admin_pages";

/// Submit a form as its submit button would (`requestSubmit`: validation and the submit event
/// included); clicking a button at the edge of the window can land on another element.
async fn submit(b: &Browser, form: &str) -> browser_test::Result<()> {
    let sel = serde_json::to_string(form).unwrap();
    b.eval(&format!(
        "document.querySelector({sel}).requestSubmit(); return true;"
    ))
    .await
    .map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_admin_pages() {
    let Some(b) = Browser::start(TEST).await else {
        return;
    };
    let ui = Ui::start(Kind::Sqlite).await;
    let (rgh, _) = ui.ids("RGH", None).await;
    let (stop, worker) = ui.start_worker();
    px360_store::audit::set_status(&Ok(12));

    for (lang, dir, tpl_name, key_name) in [
        ("en", "ltr", "Day surgery", "Theatre system"),
        ("ar", "rtl", "جراحة اليوم الواحد", "نظام العمليات"),
    ] {
        let shot = |page: &str| format!("{lang}-{page}");
        let code = format!("DAY_SURGERY_{}", lang.to_uppercase());
        b.goto(&ui.url(&format!("/ui/login?lang={lang}")))
            .await
            .unwrap();
        b.type_into("#username", "admin").await.unwrap();
        b.type_into("#password", ADMIN_PASSWORD).await.unwrap();
        submit(&b, "form[action='/ui/login']").await.unwrap();
        b.wait_until("return location.pathname === '/ui/';")
            .await
            .unwrap();

        // Journey templates: the list, then a new template with its first stage.
        // The administration pages are in the navigation bar's menu.
        b.click("nav #px-admin summary").await.unwrap();
        b.click("nav a[href='/ui/templates']").await.unwrap();
        b.wait_until("return location.pathname === '/ui/templates';")
            .await
            .unwrap();
        assert_eq!(b.attr("html", "dir").await.unwrap().as_deref(), Some(dir));
        b.eval(&format!(
            "document.querySelector('#new-hospital_id').value = '{rgh}'; return true;"
        ))
        .await
        .unwrap();
        b.type_into("#new-code", &code).await.unwrap();
        b.type_into("#new-name", tpl_name).await.unwrap();
        b.type_into("#new-stage_code", "ADMIT").await.unwrap();
        b.type_into("#new-stage_name", "Admitted").await.unwrap();
        // A wrong event code first: the error is shown next to its field.
        b.type_into("#new-stage_event_code", "ds admit")
            .await
            .unwrap();
        b.screenshot(&shot("templates")).await.unwrap();
        submit(&b, "form[action='/ui/templates']").await.unwrap();
        b.wait_until("return !!document.querySelector('#new-stage_event_code.is-invalid');")
            .await
            .unwrap();
        assert!(b.exists("#new-stage_event_code-error").await.unwrap());
        b.screenshot(&shot("template-error")).await.unwrap();
        b.type_into(
            "#new-stage_event_code",
            &format!("DS_ADMIT_{}", lang.to_uppercase()),
        )
        .await
        .unwrap();
        submit(&b, "form[action='/ui/templates']").await.unwrap();
        b.wait_until("return location.search.includes('saved=created');")
            .await
            .unwrap();
        // A second stage, then moved in front of the first.
        b.type_into("#add-code", "BOOKED").await.unwrap();
        b.type_into("#add-name", "Booked").await.unwrap();
        b.type_into(
            "#add-completing_event_code",
            &format!("DS_BOOKED_{}", lang.to_uppercase()),
        )
        .await
        .unwrap();
        submit(&b, "form[action$='/stages']").await.unwrap();
        b.wait_until("return location.search.includes('saved=added');")
            .await
            .unwrap();
        submit(&b, "form[action$='/move']").await.unwrap();
        b.wait_until("return location.search.includes('saved=moved');")
            .await
            .unwrap();
        let preview = b.text(".px-stage-preview").await.unwrap();
        let (booked, admitted) = (
            preview.find("1.").expect("first"),
            preview.find("2.").expect("second"),
        );
        assert!(booked < admitted, "{preview}");
        assert!(
            preview.contains(&format!("DS_BOOKED_{}", lang.to_uppercase())),
            "{preview}"
        );
        b.screenshot(&shot("template-edit")).await.unwrap();

        // Integrations: issue a key, the secret once, then a test event.
        // The administration pages are in the navigation bar's menu.
        b.click("nav #px-admin summary").await.unwrap();
        b.click("nav a[href='/ui/integrations']").await.unwrap();
        b.wait_until("return location.pathname === '/ui/integrations';")
            .await
            .unwrap();
        b.eval(&format!(
            "document.querySelector('#key-hospital_id').value = '{rgh}'; return true;"
        ))
        .await
        .unwrap();
        b.type_into("#key-name", key_name).await.unwrap();
        b.type_into("#key-source_systems", "THEATRE").await.unwrap();
        submit(&b, "form[action='/ui/integrations/keys']")
            .await
            .unwrap();
        b.wait_until("return !!document.querySelector('#issued-secret');")
            .await
            .unwrap();
        let secret = b
            .eval("return document.querySelector('#issued-secret').value;")
            .await
            .unwrap();
        assert!(secret.as_str().unwrap_or("").starts_with("px360_"));
        // The copy buttons appear (progressive enhancement) where the Clipboard API exists.
        b.screenshot(&shot("integrations-key-issued"))
            .await
            .unwrap();
        b.eval(&format!(
            "var s = document.querySelector('#test-code'); s.value = 'OP_BOOKED'; \
             var k = document.querySelector('#test-key'); \
             for (const o of k.options) {{ if (o.textContent.includes('{key_name}')) k.value = o.value; }} return true;"
        ))
        .await
        .unwrap();
        submit(&b, "form[action='/ui/integrations/test-event']")
            .await
            .unwrap();
        b.wait_until("return location.search.includes('test_event=');")
            .await
            .unwrap();
        assert!(b.exists("#test a[href^='/ui/events/']").await.unwrap());
        b.screenshot(&shot("integrations-test-event"))
            .await
            .unwrap();
        let event = b
            .attr("#test a[href^='/ui/events/']", "href")
            .await
            .unwrap()
            .unwrap();
        b.goto(&ui.url(&event)).await.unwrap();
        b.wait_until("return location.pathname.startsWith('/ui/events/');")
            .await
            .unwrap();
        b.screenshot(&shot("test-event")).await.unwrap();
        b.goto(&ui.url("/ui/integrations")).await.unwrap();
        let revoke = b.attr("a[href$='/revoke']", "href").await.unwrap().unwrap();
        b.goto(&ui.url(&revoke)).await.unwrap();
        b.wait_until("return location.pathname.endsWith('/revoke');")
            .await
            .unwrap();
        b.screenshot(&shot("integrations-revoke-confirm"))
            .await
            .unwrap();

        // The audit log: the chain state and the records of this session.
        // The administration pages are in the navigation bar's menu.
        b.click("nav #px-admin summary").await.unwrap();
        b.click("nav a[href='/ui/audit']").await.unwrap();
        b.wait_until("return location.pathname === '/ui/audit';")
            .await
            .unwrap();
        assert!(b.exists("#audit-chain.alert-success").await.unwrap());
        b.type_into("#f-action", "integration.").await.unwrap();
        submit(&b, "form[action='/ui/audit']").await.unwrap();
        b.wait_until("return location.search.includes('action=integration.');")
            .await
            .unwrap();
        assert!(
            b.text("table")
                .await
                .unwrap()
                .contains("integration.test_event")
        );
        b.eval("document.querySelector('details').open = true; return true;")
            .await
            .unwrap();
        b.screenshot(&shot("audit")).await.unwrap();

        submit(&b, "form[action='/ui/logout']").await.unwrap();
        b.wait_until("return location.pathname === '/ui/login';")
            .await
            .unwrap();
    }
    px360_store::audit::reset_status();
    stop.send(true).unwrap();
    worker.await.unwrap();
    b.quit().await;
    ui.stop().await;
}
