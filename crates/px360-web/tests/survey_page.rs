//! The patient's survey page over real HTTP, without JavaScript (a plain form POST, as a
//! browser without scripts sends it): the form in the invitation's language, a partial save
//! that comes back on the next visit, errors next to their questions, show-if conditions
//! applied by the server, the submission stored before the thank-you page, and the pages for
//! used, expired and unknown links, a cross-site POST and too many requests. Arabic pages carry
//! no English outside survey data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/latin.rs"]
#[allow(dead_code)]
mod latin;
#[path = "common/survey.rs"]
mod survey;

use chrono::Duration;
use common::{Jar, Kind, Ui};
use latin::stray_latin;

async fn post(ui: &Ui, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    ui.post(&Jar::default(), path, form).await
}

fn no_english(what: &str, html: &str) {
    let stray = stray_latin(html);
    assert!(
        stray.is_empty(),
        "{what}: English outside data:\n{}",
        stray.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patient_answers_without_javascript() {
    let ui = Ui::start(Kind::Sqlite).await;
    let s = survey::publish(&ui, "RGH").await;
    let token = survey::invite(&ui, &s, "ar", Duration::days(7)).await;
    let path = format!("/s/{token}");
    let jar = Jar::default();

    // The form, in the invitation's language (Arabic), inputs named after the question keys.
    let r = ui.get(&jar, &path).await;
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<html lang="ar" dir="rtl">"#));
    for key in [
        "recommend",
        "improve",
        "care",
        "doctor_listened",
        "emergency",
        "er_wait",
        "comment",
    ] {
        assert!(html.contains(&format!(r#"name="{key}""#)), "{key}");
    }
    assert!(html.contains("ما مدى احتمال أن توصي بمستشفانا"));
    assert!(html.contains(r#"<label for="q-recommend-10">١٠</label>"#));
    no_english("form", &html);
    // ?lang=en switches the page to English.
    let en = ui.page(&jar, &format!("{path}?lang=en")).await;
    assert!(en.contains(r#"<html lang="en" dir="ltr">"#) && en.contains("How likely are you"));

    // Save and finish later: only one answer. Stored as a partial response.
    let r = post(&ui, &path, &[("recommend", "4"), ("px-save", "1")]).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("تم حفظ إجاباتك حتى الآن"), "saved notice");
    let (answers, partial) = survey::response(&ui, &token).await.expect("stored");
    assert!(partial);
    assert!(answers.contains("recommend"), "{answers}");
    assert_eq!(ui.audits("survey.response.save_partial", None).await, 1);
    // The next visit shows the saved answer.
    let html = ui.page(&jar, &path).await;
    assert!(
        html.contains(r#"id="q-recommend-4" name="recommend" value="4" checked"#),
        "resumed"
    );

    // Sending with required answers missing: 422, each error next to its question, in Arabic.
    // NPS 4 makes "what should we improve" apply, so it is required too.
    let r = post(&ui, &path, &[("recommend", "4"), ("care", "2")]).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    for key in ["improve", "doctor_listened"] {
        assert!(
            html.contains(&format!(r#"id="q-{key}-error""#)),
            "{key} error"
        );
    }
    assert!(
        !html.contains(r#"id="q-er_wait-error""#),
        "not shown, so not required"
    );
    assert!(!html.contains(r#"id="q-comment-error""#), "optional");
    assert!(html.contains("يرجى الإجابة عن هذا السؤال."));
    assert!(
        html.contains(r#"value="2" checked"#),
        "what was entered comes back"
    );
    no_english("errors", &html);
    // A value that is not an option, and an over-long comment: refused, nothing stored.
    let long = "ن".repeat(1001);
    let r = post(
        &ui,
        &path,
        &[("recommend", "11"), ("comment", &long), ("px-save", "1")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"id="q-recommend-error""#) && html.contains(r#"id="q-comment-error""#));
    let (answers, _) = survey::response(&ui, &token).await.unwrap();
    assert!(
        answers.contains("4"),
        "the saved answer is untouched: {answers}"
    );

    // Complete: stored (not partial) before the thank-you page. The emergency wait was not
    // asked ("no"), so its stale value is dropped.
    let r = post(
        &ui,
        &path,
        &[
            ("recommend", "4"),
            ("improve", "wait"),
            ("improve", "communication"),
            ("care", "2"),
            ("doctor_listened", "sometimes"),
            ("emergency", "no"),
            ("er_wait", "over_4h"),
            ("comment", "الانتظار كان طويلًا"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("شكرًا لك") && html.contains("px-message-thanks"));
    no_english("thanks", &html);
    let (answers, partial) = survey::response(&ui, &token).await.unwrap();
    assert!(!partial, "submitted");
    assert!(
        answers.contains("communication") && !answers.contains("over_4h"),
        "{answers}"
    );
    assert_eq!(ui.audits("survey.response.submit", None).await, 1);

    // Single use: the link now says it was answered, and a second POST stores nothing.
    let r = ui.get(&jar, &path).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("تمت الإجابة عن هذا الاستبيان من قبل"));
    assert!(!html.contains("<form"));
    no_english("used", &html);
    let r = post(&ui, &path, &[("recommend", "10")]).await;
    assert!(r.text().await.unwrap().contains("px-message-used"));
    let (answers, _) = survey::response(&ui, &token).await.unwrap();
    assert!(!answers.contains("10"));
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_unknown_cross_site_and_busy_links_get_clear_pages() {
    let ui = Ui::start(Kind::Sqlite).await;
    let s = survey::publish(&ui, "RGH").await;
    let jar = Jar::default();

    // Expired: 410, in the invitation's language (English here), no form.
    let token = survey::invite(&ui, &s, "en", Duration::minutes(-5)).await;
    let r = ui.get(&jar, &format!("/s/{token}")).await;
    assert_eq!(r.status(), 410);
    let html = r.text().await.unwrap();
    assert!(html.contains("This survey link has expired") && !html.contains("<form"));
    // An Arabic invitation's expired page is Arabic, whatever the browser asks for.
    let token_ar = survey::invite(&ui, &s, "ar", Duration::minutes(-5)).await;
    let r = ui
        .http
        .get(ui.url(&format!("/s/{token_ar}")))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
    let html = r.text().await.unwrap();
    assert!(html.contains("انتهت صلاحية رابط هذا الاستبيان"));
    no_english("expired", &html);
    // Posting to an expired link stores nothing.
    let r = post(&ui, &format!("/s/{token}"), &[("recommend", "9")]).await;
    assert_eq!(r.status(), 410);
    assert!(survey::response(&ui, &token).await.is_none());

    // Unknown: 404 in the browser's language; no detail, no dump.
    let r = ui
        .http
        .get(ui.url("/s/not-a-real-token"))
        .header("accept-language", "ar")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let html = r.text().await.unwrap();
    assert!(html.contains("لم يتم العثور على الاستبيان"));
    no_english("unknown", &html);

    // A POST from another site is refused before it reaches the survey.
    let live = survey::invite(&ui, &s, "en", Duration::days(1)).await;
    let r = ui
        .http
        .post(ui.url(&format!("/s/{live}")))
        .header("origin", "https://evil.example")
        .form(&[("recommend", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(survey::response(&ui, &live).await.is_none());

    // A form too large to read: a page, not a dump.
    let big = "x".repeat(20_001);
    let r = post(&ui, &format!("/s/{live}"), &[("comment", &big)]).await;
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("This form could not be read")
    );

    // Too many requests from one address: 429 with a page in the patient's language.
    let mut busy = None;
    for _ in 0..200 {
        let r = ui
            .http
            .get(ui.url("/s/guess"))
            .header("accept-language", "ar")
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            busy = Some(r);
            break;
        }
    }
    let r = busy.expect("rate limited");
    let html = r.text().await.unwrap();
    assert!(html.contains("يرجى المحاولة بعد قليل"));
    no_english("busy", &html);
    ui.stop().await;
}
