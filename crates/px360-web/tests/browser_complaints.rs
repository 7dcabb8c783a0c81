//! Complaints and the action board in a real browser (headless Chromium through chromedriver),
//! in English and Arabic: a PX coordinator takes a complaint in through the staff form (sent
//! empty first, to see the errors next to the fields), acknowledges it, assigns it to
//! themselves, starts work, waits on the patient (the clock shown paused), resolves it; then
//! works the action the rules raised for it on the board to closure, and a hospital
//! administrator verifies it as the second person. Screenshots land in
//! `target/screenshots/browser_complaints/<lang>-<page>.png`.
//!
//! Without chromium/chromedriver the test is skipped with a message, and fails under `CI=true`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/latin.rs"]
#[allow(dead_code)]
mod latin;

use browser_test::Browser;
use common::{Kind, PASSWORD, Ui};

const TEST: &str = "browser_complaints";

async fn choose(b: &Browser, select: &str, value: &str) {
    let ok = b
        .eval(&format!(
            "const s = document.querySelector('{select}'); s.value = '{value}'; return s.value === '{value}';"
        ))
        .await
        .unwrap();
    assert_eq!(ok.as_bool(), Some(true), "{select} = {value}");
}

async fn login(b: &Browser, ui: &Ui, lang: &str, user: &str) {
    b.goto(&ui.url(&format!("/ui/login?lang={lang}")))
        .await
        .unwrap();
    b.type_into("#username", user).await.unwrap();
    b.type_into("#password", PASSWORD).await.unwrap();
    b.click("form[action='/ui/login'] button[type=submit]")
        .await
        .unwrap();
    b.wait_until("return location.pathname === '/ui/';")
        .await
        .unwrap();
}

async fn logout(b: &Browser) {
    b.click("form[action='/ui/logout'] button").await.unwrap();
    b.wait_until("return location.pathname === '/ui/login';")
        .await
        .unwrap();
}

/// Press a lifecycle button and wait for the page to come back with its notice.
async fn press(b: &Browser, form: &str, done: &str) {
    b.click(&format!("{form} button[type=submit]"))
        .await
        .unwrap();
    b.wait_until(&format!("return location.search.includes('done={done}');"))
        .await
        .unwrap();
}

/// The page's HTML has no Latin text outside data (Arabic pages).
async fn arabic_clean(b: &Browser, lang: &str) {
    if lang != "ar" {
        return;
    }
    let html = b
        .eval("return document.documentElement.outerHTML;")
        .await
        .unwrap();
    let stray = latin::stray_latin(html.as_str().unwrap());
    assert!(stray.is_empty(), "{stray:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_complaints() {
    let Some(b) = Browser::start(TEST).await else {
        return;
    };
    let ui = Ui::start(Kind::Sqlite).await;
    let (_, card) = ui.ids("RGH", Some("CARD")).await;
    let card = card.unwrap();
    ui.user("coord", "px_coordinator", Some("RGH"), None, None)
        .await;
    ui.user("hadmin", "hospital_admin", Some("RGH"), None, None)
        .await;
    for (lang, required, paused) in [
        (
            "en",
            "Give a subject of 1 to 200 characters.",
            "Clock paused",
        ),
        ("ar", "أدخل موضوعًا من ١ إلى ٢٠٠ حرف.", "المؤقت متوقف مؤقتًا"),
    ] {
        let shot = |page: &str| format!("{lang}-{page}");
        login(&b, &ui, lang, "coord").await;
        b.click("nav a[href='/ui/complaints']").await.unwrap();
        b.wait_until("return location.pathname === '/ui/complaints';")
            .await
            .unwrap();
        b.click("a[href='/ui/complaints/new']").await.unwrap();
        b.wait_until("return location.pathname === '/ui/complaints/new';")
            .await
            .unwrap();
        // Sent empty: errors next to the fields.
        b.click("main form button[type=submit]").await.unwrap();
        b.wait_until("return !!document.querySelector('#subject.is-invalid');")
            .await
            .unwrap();
        assert!(b.text("#subject-error").await.unwrap().contains(required));
        b.screenshot(&shot("intake-errors")).await.unwrap();
        arabic_clean(&b, lang).await;
        choose(&b, "#department_id", &card).await;
        choose(&b, "#category_code", "communication").await;
        choose(&b, "#severity", "high").await;
        choose(&b, "#source_channel", "phone").await;
        b.type_into("#patient_mrn", "RGH-CARD-0001").await.unwrap();
        b.type_into("#subject", "No call back").await.unwrap();
        b.type_into("#description", "Waited three days for the promised call.")
            .await
            .unwrap();
        b.type_into("#complainant_name", "Huda Saleh")
            .await
            .unwrap();
        b.click("main form button[type=submit]").await.unwrap();
        b.wait_until("return location.search.includes('done=created');")
            .await
            .unwrap();
        let reference = b.text("#reference").await.unwrap();
        b.screenshot(&shot("complaint-new")).await.unwrap();
        arabic_clean(&b, lang).await;

        press(&b, "#cmd-acknowledge", "acknowledge").await;
        let me = b
            .eval("return [...document.querySelectorAll('#to option')].find(o => o.textContent.includes('coord display')).value;")
            .await
            .unwrap();
        choose(&b, "#to", me.as_str().unwrap()).await;
        press(&b, "#assign", "assign").await;
        press(&b, "#cmd-start_work", "start_work").await;
        press(&b, "#cmd-wait_on_patient", "wait_on_patient").await;
        assert!(b.text("#sla-paused").await.unwrap().contains(paused));
        b.type_into("#body", "We are looking into it and will call you today.")
            .await
            .unwrap();
        b.click("#vis-patient").await.unwrap();
        press(&b, "#note", "message").await;
        assert!(b.exists("#timeline .px-to-patient").await.unwrap());
        b.screenshot(&shot("complaint-paused")).await.unwrap();
        arabic_clean(&b, lang).await;
        b.type_into("#text-resolve", "Apologised and called back.")
            .await
            .unwrap();
        press(&b, "#cmd-resolve", "resolve").await;
        assert_eq!(
            b.attr("#status", "data-status").await.unwrap().as_deref(),
            Some("resolved")
        );
        b.screenshot(&shot("complaint-resolved")).await.unwrap();

        // The list shows it with its state and clock.
        b.goto(&ui.url(&format!("/ui/complaints?q={}", &reference[8..])))
            .await
            .unwrap();
        assert!(b.text("#complaints").await.unwrap().contains(&reference));
        b.screenshot(&shot("complaint-list")).await.unwrap();
        arabic_clean(&b, lang).await;

        // The board: the action raised for it, worked to closure.
        b.click("nav a[href='/ui/actions']").await.unwrap();
        b.wait_until("return location.pathname === '/ui/actions';")
            .await
            .unwrap();
        b.screenshot(&shot("board")).await.unwrap();
        arabic_clean(&b, lang).await;
        b.click("#board tbody tr:first-child a[href^='/ui/actions/']")
            .await
            .unwrap();
        b.wait_until("return /^\\/ui\\/actions\\/[0-9a-f-]+$/.test(location.pathname);")
            .await
            .unwrap();
        let action_url = b.current_url().await.unwrap();
        press(&b, "#cmd-start", "start").await;
        // Closing without evidence is refused next to the close button.
        b.click("#cmd-submit_for_closure button[type=submit]")
            .await
            .unwrap();
        b.wait_until("return !!document.querySelector('#submit_for_closure-error');")
            .await
            .unwrap();
        b.screenshot(&shot("action-no-evidence")).await.unwrap();
        // A note alone is evidence; a photo can go with it (checked by content, kept with the
        // action, linked from its log).
        b.type_into("#note-add_evidence", "Desk team retrained on call-backs.")
            .await
            .unwrap();
        press(&b, "#cmd-add_evidence", "add_evidence").await;
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("not-a-photo.png");
        std::fs::write(&fake, b"GIF89a not a png").unwrap();
        b.type_into("#note-add_evidence", "Photo of the new sign.")
            .await
            .unwrap();
        b.choose_file("#evidence-file", &fake).await.unwrap();
        b.click("#cmd-add_evidence button[type=submit]")
            .await
            .unwrap();
        b.wait_until("return !!document.querySelector('#add_evidence-error');")
            .await
            .unwrap();
        let photo = dir.path().join("new-sign.png");
        std::fs::write(&photo, b"\x89PNG\r\n\x1a\n0000IHDR").unwrap();
        b.type_into("#note-add_evidence", "Photo of the new sign.")
            .await
            .unwrap();
        b.choose_file("#evidence-file", &photo).await.unwrap();
        press(&b, "#cmd-add_evidence", "add_evidence").await;
        assert_eq!(
            b.text("#log .evidence-file a").await.unwrap().trim(),
            "new-sign.png"
        );
        assert_eq!(b.text("#evidence-count").await.unwrap().trim(), "2");
        b.screenshot(&shot("action-evidence")).await.unwrap();
        arabic_clean(&b, lang).await;
        press(&b, "#cmd-submit_for_closure", "submit_for_closure").await;
        assert!(
            !b.exists("#cmd-verify").await.unwrap(),
            "the owner may not verify"
        );
        assert!(
            b.exists("#awaiting").await.unwrap(),
            "no word of the second person"
        );
        b.screenshot(&shot("action-pending")).await.unwrap();
        arabic_clean(&b, lang).await;
        logout(&b).await;

        // A second person verifies.
        login(&b, &ui, lang, "hadmin").await;
        b.goto(&action_url).await.unwrap();
        press(&b, "#cmd-verify", "verify").await;
        assert!(b.exists("#verified-by").await.unwrap());
        b.screenshot(&shot("action-verified")).await.unwrap();
        arabic_clean(&b, lang).await;
        logout(&b).await;
    }
    b.quit().await;
    ui.stop().await;
}
