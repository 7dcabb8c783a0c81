//! The public complaint form in a real browser (headless Chromium, crate `browser-test`), in
//! English and Arabic, signed out: choose the hospital and category, type the complaint (Arabic
//! text in Arabic), send it, and read the acknowledgement with its reference number; the stored
//! complaint answers in the language of the page. Screenshots land in
//! `target/screenshots/complaint_form/<lang>-<page>.png`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use browser_test::Browser;
use common::{Kind, Ui};

const TEST: &str = "complaint_form";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complaint_form() {
    let Some(b) = Browser::start(TEST).await else {
        return;
    };
    let ui = Ui::start(Kind::Sqlite).await;
    for (lang, dir, subject, title, body) in [
        (
            "en",
            "ltr",
            "Long wait",
            "Make a complaint",
            "Nobody told me why the clinic ran late.",
        ),
        (
            "ar",
            "rtl",
            "انتظار طويل",
            "تقديم شكوى",
            "لم يخبرني أحد بسبب تأخر العيادة.",
        ),
    ] {
        b.goto(&ui.url(&format!("/ui/complaint?lang={lang}")))
            .await
            .unwrap();
        assert_eq!(b.attr("html", "dir").await.unwrap().as_deref(), Some(dir));
        assert_eq!(b.text("h1").await.unwrap().trim(), title);
        b.eval("document.querySelector('#hospital_id').selectedIndex = 1; document.querySelector('#category_code').selectedIndex = 3; return true;")
            .await
            .unwrap();
        b.type_into("#subject", subject).await.unwrap();
        b.type_into("#description", body).await.unwrap();
        b.screenshot(&format!("{lang}-form")).await.unwrap();
        b.click("form[action^='/ui/complaint'] button[type=submit]")
            .await
            .unwrap();
        b.wait_until("return location.pathname === '/ui/complaint/thanks';")
            .await
            .unwrap();
        assert_eq!(b.attr("html", "dir").await.unwrap().as_deref(), Some(dir));
        let reference = b.text("#reference").await.unwrap().trim().to_owned();
        assert!(
            reference.starts_with('C') && reference.len() == 14,
            "{reference}"
        );
        b.screenshot(&format!("{lang}-thanks")).await.unwrap();
        let c = ui.db.complaint_by_reference(&reference).await.unwrap();
        assert_eq!(c.language, lang);
        assert_eq!(c.source_channel, "public_form");
        assert_eq!(c.subject, subject);
    }
    b.quit().await;
}
