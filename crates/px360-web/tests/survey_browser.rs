//! The patient's survey page in a real browser (headless Chromium, crate `browser-test`), in
//! English and Arabic: every question type answered by clicking and typing, the show-if
//! questions appearing as their condition comes to hold (progressive enhancement), an error
//! next to its question, the submission, and the expired-link page. Scales must read in the
//! reading direction: in Arabic the lowest value sits at the right.
//!
//! Screenshots (`target/screenshots/survey_browser/<lang>-<page>.png`): each question type on
//! its own (`<lang>-q-<type>`), the whole form, the errors, the thank-you and expired pages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/survey.rs"]
mod survey;

use browser_test::Browser;
use chrono::Duration;
use common::{Kind, Ui};

const TEST: &str = "survey_browser";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survey_browser() {
    let Some(b) = Browser::start(TEST).await else {
        return;
    };
    let ui = Ui::start(Kind::Sqlite).await;
    let s = survey::publish(&ui, "RGH").await;

    for (lang, dir, comment, thanks, expired) in [
        (
            "en",
            "ltr",
            "The nurses were kind.",
            "Thank you",
            "This survey link has expired",
        ),
        (
            "ar",
            "rtl",
            "كان الممرضون لطفاء.",
            "شكرًا لك",
            "انتهت صلاحية رابط هذا الاستبيان",
        ),
    ] {
        let shot = |page: &str| format!("{lang}-{page}");
        let token = survey::invite(&ui, &s, lang, Duration::days(7)).await;
        b.goto(&ui.url(&format!("/s/{token}"))).await.unwrap();
        assert_eq!(b.attr("html", "dir").await.unwrap().as_deref(), Some(dir));

        // The scales run in the reading direction: lowest value at the start of the line.
        let start_is_left = b
            .eval(
                "const l = n => document.querySelector(`label[for=q-recommend-${n}]`).getBoundingClientRect().left; \
                 return l(0) < l(10);",
            )
            .await
            .unwrap();
        assert_eq!(start_is_left.as_bool(), Some(lang == "en"), "NPS direction");
        let low_anchor_left = b
            .eval(
                "const a = document.querySelectorAll('#q-care-anchors span'); \
                 return a[0].getBoundingClientRect().left < a[1].getBoundingClientRect().left;",
            )
            .await
            .unwrap();
        assert_eq!(
            low_anchor_left.as_bool(),
            Some(lang == "en"),
            "anchor direction"
        );

        // With scripts, show-if questions wait for their condition.
        assert!(b.exists("#q-improve[hidden]").await.unwrap());
        assert!(b.exists("#q-er_wait[hidden]").await.unwrap());
        b.screenshot(&shot("form")).await.unwrap();

        // Sending too early: the error next to the question, in the page's language.
        b.click("label[for=q-recommend-3]").await.unwrap();
        b.wait_until("return !document.querySelector('#q-improve').hidden;")
            .await
            .unwrap();
        b.click("button.px-primary").await.unwrap();
        b.wait_until("return !!document.querySelector('#q-care-error');")
            .await
            .unwrap();
        assert!(b.exists("#px-summary").await.unwrap());
        let err = b.text("#q-care-error").await.unwrap();
        assert_eq!(
            err,
            if lang == "en" {
                "Please answer this question."
            } else {
                "يرجى الإجابة عن هذا السؤال."
            }
        );
        assert!(
            b.eval("return document.querySelector('#q-recommend-3').checked;")
                .await
                .unwrap()
                .as_bool()
                .unwrap_or(false),
            "the answer given is kept"
        );
        b.screenshot(&shot("errors")).await.unwrap();

        // Every question type, by clicking labels and typing.
        b.click("label[for=q-improve-wait]").await.unwrap();
        b.click("label[for=q-improve-communication]").await.unwrap();
        b.click("label[for=q-care-4]").await.unwrap();
        b.click("label[for=q-doctor_listened-usually]")
            .await
            .unwrap();
        b.click("label[for=q-emergency-yes]").await.unwrap();
        b.wait_until("return !document.querySelector('#q-er_wait').hidden;")
            .await
            .unwrap();
        b.click("label[for=q-er_wait-1h_4h]").await.unwrap();
        b.type_into("#q-comment-text", comment).await.unwrap();
        for (css, kind) in [
            ("#q-recommend", "nps"),
            ("#q-improve", "multiple-choice"),
            ("#q-care", "rating"),
            ("#q-doctor_listened", "frequency"),
            ("#q-emergency", "yes-no"),
            ("#q-er_wait", "single-choice"),
            ("#q-comment", "free-text"),
        ] {
            b.screenshot_element(css, &shot(&format!("q-{kind}")))
                .await
                .unwrap();
        }
        b.screenshot(&shot("filled")).await.unwrap();
        b.click("button.px-primary").await.unwrap();
        b.wait_until("return !!document.querySelector('.px-message-thanks');")
            .await
            .unwrap();
        assert_eq!(b.text("h1").await.unwrap(), thanks);
        b.screenshot(&shot("thanks")).await.unwrap();
        let (answers, partial) = survey::response(&ui, &token).await.expect("stored");
        assert!(!partial);
        for v in [
            "\"recommend\"",
            "communication",
            "1h_4h",
            "usually",
            comment,
        ] {
            assert!(answers.contains(v), "{v} in {answers}");
        }

        // An expired link.
        let old = survey::invite(&ui, &s, lang, Duration::hours(-1)).await;
        b.goto(&ui.url(&format!("/s/{old}"))).await.unwrap();
        assert_eq!(b.text("h1").await.unwrap(), expired);
        assert_eq!(b.attr("html", "dir").await.unwrap().as_deref(), Some(dir));
        b.screenshot(&shot("expired")).await.unwrap();
    }
    b.quit().await;
    ui.stop().await;
}
