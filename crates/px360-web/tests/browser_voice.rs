//! The patient-voice pages in a real browser (headless Chromium through chromedriver), in
//! English and Arabic (issue 18): a patient scans a department's QR code and sends a
//! compliment naming a nurse (English) and a concern (Arabic, typed in Arabic) without signing
//! in, and reads the reference on the thank-you page; a PX coordinator opens the inbox, sees
//! the concern's sentiment and theme and makes it an action with one click; opens the social
//! media list (demo mentions), a negative review, and makes it a complaint; then the voice
//! analytics page and the printable QR codes; the group's PX Admin places an ambiguous mention
//! at a hospital. Arabic pages are checked for stray English. The whole path runs on SQLite
//! and again on PostgreSQL (same browser; PostgreSQL's pass takes no screenshots, to keep the
//! run short). Screenshots land in `target/screenshots/browser_voice/<lang>-<page>.png`.
//!
//! Without chromium/chromedriver the test is skipped with a message, and fails under `CI=true`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/latin.rs"]
#[allow(dead_code)]
mod latin;

use browser_test::Browser;
use common::{ADMIN_PASSWORD, Kind, PASSWORD, Ui};
use latin::stray_latin;

const TEST: &str = "browser_voice";

async fn login(b: &Browser, ui: &Ui, lang: &str, user: &str) {
    login_with(b, ui, lang, user, PASSWORD).await;
}

async fn login_with(b: &Browser, ui: &Ui, lang: &str, user: &str, password: &str) {
    b.goto(&ui.url(&format!("/ui/login?lang={lang}")))
        .await
        .unwrap();
    b.type_into("#username", user).await.unwrap();
    b.type_into("#password", password).await.unwrap();
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

/// The rendered page has no English outside data (Arabic pages).
async fn no_stray_english(b: &Browser, what: &str) {
    let html = b
        .eval("return document.documentElement.outerHTML;")
        .await
        .unwrap();
    let stray = stray_latin(html.as_str().unwrap_or_default());
    assert!(stray.is_empty(), "{what}: {stray:?}");
}

/// Screenshots of the first engine's pass only.
struct Shots<'a> {
    b: &'a Browser,
    on: bool,
}

impl Shots<'_> {
    async fn take(&self, name: &str) {
        if self.on {
            self.b.screenshot(name).await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_voice() {
    let Some(b) = Browser::start(TEST).await else {
        return;
    };
    scenario(&b, Kind::Sqlite, true).await;
    scenario(&b, Kind::Postgres, false).await;
    b.quit().await;
}

async fn scenario(b: &Browser, kind: Kind, screenshots: bool) {
    let shots = Shots { b, on: screenshots };
    let ui = Ui::start(kind).await;
    let (h, card) = ui.ids("RGH", Some("CARD")).await;
    let card = card.unwrap();
    ui.user("coord", "px_coordinator", Some("RGH"), None, None)
        .await;
    ui.user("mgr", "department_manager", Some("RGH"), Some("CARD"), None)
        .await;

    // 1. The public form of the cardiology QR code, signed out.
    let mut references = Vec::new();
    for (lang, dir, kind, text, title) in [
        (
            "en",
            "ltr",
            "compliment",
            "The nurse on the cardiology ward was wonderful with my father.",
            "Share your feedback",
        ),
        (
            "ar",
            "rtl",
            "concern",
            "الانتظار في العيادة طويل وايد وما أحد يرد على أسئلتنا",
            "شاركنا ملاحظاتك",
        ),
    ] {
        b.goto(&ui.url(&format!("/ui/feedback/{h}/{card}?lang={lang}")))
            .await
            .unwrap();
        assert_eq!(b.attr("html", "dir").await.unwrap().as_deref(), Some(dir));
        assert_eq!(b.text("h1").await.unwrap().trim(), title);
        b.click(&format!("#kind-{kind}")).await.unwrap();
        b.type_into("#text", text).await.unwrap();
        if kind == "compliment" {
            b.eval("document.querySelector('#staff_id').selectedIndex = 1; return true;")
                .await
                .unwrap();
        }
        if lang == "ar" {
            no_stray_english(b, "ar form").await;
        }
        shots.take(&format!("{lang}-feedback-form")).await;
        b.click("form[action^='/ui/feedback/'] button[type=submit]")
            .await
            .unwrap();
        b.wait_until("return location.pathname === '/ui/feedback-thanks';")
            .await
            .unwrap();
        assert_eq!(b.attr("html", "dir").await.unwrap().as_deref(), Some(dir));
        let reference = b.text("#reference").await.unwrap().trim().to_owned();
        assert!(
            reference.starts_with('F') && reference.len() == 14,
            "{reference}"
        );
        if lang == "ar" {
            no_stray_english(b, "ar thanks").await;
        }
        shots.take(&format!("{lang}-feedback-thanks")).await;
        let (l, routed): (String, Option<String>) =
            sqlx::query_as("SELECT language, routed_to FROM feedback WHERE reference = $1")
                .bind(&reference)
                .fetch_one(&ui.db.pool)
                .await
                .unwrap();
        assert_eq!(l, lang);
        // The compliment named a nurse: it went to the department's manager.
        assert_eq!(routed.is_some(), kind == "compliment");
        references.push(reference);
    }

    // Demo mentions and feedback for the staff pages.
    assert!(ui.db.seed_demo_voice().await.unwrap());

    // 2. A coordinator triages the Arabic concern, then works the social media list.
    for lang in ["en", "ar"] {
        login(b, &ui, lang, "coord").await;
        b.goto(&ui.url("/ui/feedback-inbox")).await.unwrap();
        b.wait_until("return !!document.querySelector('#feedback');")
            .await
            .unwrap();
        if lang == "ar" {
            no_stray_english(b, "ar inbox").await;
        }
        shots.take(&format!("{lang}-feedback-inbox")).await;
        if lang == "ar" {
            // Open the Arabic concern by its reference and make it an action.
            let id: String = sqlx::query_scalar("SELECT id FROM feedback WHERE reference = $1")
                .bind(&references[1])
                .fetch_one(&ui.db.pool)
                .await
                .unwrap();
            b.goto(&ui.url(&format!("/ui/feedback-inbox/{id}")))
                .await
                .unwrap();
            assert!(b.text("#fb-sentiment").await.unwrap().contains("سلبي"));
            assert!(b.text("#fb-themes").await.unwrap().contains("وقت الانتظار"));
            no_stray_english(b, "ar feedback item").await;
            shots.take("ar-feedback-item").await;
            b.eval("document.querySelector('#category_code').value = 'waiting_time'; return true;")
                .await
                .unwrap();
            b.click("#to-action").await.unwrap();
            b.wait_until("return location.search.includes('done=action');")
                .await
                .unwrap();
            assert!(b.exists("#fb-action").await.unwrap());
            shots.take("ar-feedback-triaged").await;
        }

        b.goto(&ui.url("/ui/social")).await.unwrap();
        b.wait_until("return !!document.querySelector('#mentions');")
            .await
            .unwrap();
        if lang == "ar" {
            no_stray_english(b, "ar social list").await;
        }
        shots.take(&format!("{lang}-social-list")).await;
        b.goto(&ui.url("/ui/social?sentiment=negative"))
            .await
            .unwrap();
        shots.take(&format!("{lang}-social-negative")).await;
        if lang == "en" {
            // The one-star review becomes a complaint.
            let id: String =
                sqlx::query_scalar("SELECT id FROM social_mentions WHERE external_id = 'demo-0'")
                    .fetch_one(&ui.db.pool)
                    .await
                    .unwrap();
            b.goto(&ui.url(&format!("/ui/social/{id}"))).await.unwrap();
            shots.take("en-social-item").await;
            b.eval("document.querySelector('#category_code').value = 'waiting_time'; return true;")
                .await
                .unwrap();
            b.click("#to-complaint").await.unwrap();
            b.wait_until("return location.search.includes('done=complaint');")
                .await
                .unwrap();
            assert!(b.exists("#sm-complaint").await.unwrap());
            shots.take("en-social-converted").await;
        } else {
            // A thank-you post in Arabic (positive: nothing to convert, the reason is shown).
            let id: String =
                sqlx::query_scalar("SELECT id FROM social_mentions WHERE external_id = 'demo-1'")
                    .fetch_one(&ui.db.pool)
                    .await
                    .unwrap();
            b.goto(&ui.url(&format!("/ui/social/{id}"))).await.unwrap();
            no_stray_english(b, "ar mention").await;
            assert!(b.exists("#sm-why").await.unwrap());
            shots.take("ar-social-item").await;
        }

        b.goto(&ui.url("/ui/analytics/voice")).await.unwrap();
        b.wait_until("return !!document.querySelector('#av-tiles');")
            .await
            .unwrap();
        if lang == "ar" {
            no_stray_english(b, "ar voice analytics").await;
        }
        shots.take(&format!("{lang}-analytics-voice")).await;
        b.goto(&ui.url("/ui/feedback-qr")).await.unwrap();
        b.wait_until("return [...document.images].every(i => i.complete && i.naturalWidth > 0);")
            .await
            .unwrap();
        shots.take(&format!("{lang}-feedback-qr")).await;
        logout(b).await;
    }

    // 3. The group's PX Admin places the ambiguous mention (it names both hospitals).
    let ambiguous: String =
        sqlx::query_scalar("SELECT id FROM social_mentions WHERE external_id = 'demo-2'")
            .fetch_one(&ui.db.pool)
            .await
            .unwrap();
    for lang in ["en", "ar"] {
        login_with(b, &ui, lang, "admin", ADMIN_PASSWORD).await;
        b.goto(&ui.url(&format!("/ui/social/{ambiguous}")))
            .await
            .unwrap();
        assert!(b.exists("#sm-assign").await.unwrap());
        if lang == "ar" {
            no_stray_english(b, "ar mention to place").await;
        }
        shots.take(&format!("{lang}-social-assign")).await;
        if lang == "ar" {
            b.eval(&format!(
                "document.querySelector('#hospital_id').value = '{h}'; return true;"
            ))
            .await
            .unwrap();
            b.click("#sm-assign button[type=submit]").await.unwrap();
            b.wait_until("return location.search.includes('done=assigned');")
                .await
                .unwrap();
            assert!(!b.exists("#sm-assign").await.unwrap());
            assert!(
                b.exists("#sm-convert").await.unwrap(),
                "a case can be made now"
            );
            no_stray_english(b, "ar placed mention").await;
            shots.take("ar-social-assigned").await;
        }
        logout(b).await;
    }
    ui.stop().await;
}
