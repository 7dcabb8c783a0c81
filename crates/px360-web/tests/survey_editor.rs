//! The survey template editor over real HTTP: create a draft, see what blocks publishing, fix it,
//! preview it in both languages, publish (a frozen version), edit again (the next version's
//! draft), archive; typed mistakes come back next to their field; every change audited; Arabic
//! pages show no English outside data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/latin.rs"]
#[allow(dead_code)]
mod latin;

use common::{Jar, Kind, Ui};
use latin::stray_latin;

fn no_english(what: &str, html: &str) {
    assert!(html.contains(r#"dir="rtl""#), "{what}: not right to left");
    let stray = stray_latin(html);
    assert!(
        stray.is_empty(),
        "{what}: English outside data:\n{}",
        stray.join("\n")
    );
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// A question on the draft form: (key, kind, en, ar, options, if).
type DraftQuestion<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    (&'a str, &'a str, &'a str),
);

/// The draft form's fields: the title and questions.
fn draft<'a>(title_ar: &'a str, questions: &'a [DraftQuestion<'a>]) -> Vec<(String, String)> {
    let mut v = vec![
        ("name".to_owned(), "Discharge survey".to_owned()),
        ("title_en".into(), "Your stay".into()),
        ("title_ar".into(), title_ar.into()),
        (
            "negative_rule".into(),
            r#"{"any_of": [{"nps_at_most": 6}]}"#.into(),
        ),
    ];
    for (i, (key, kind, en, ar, options, (if_key, if_test, if_values))) in
        questions.iter().enumerate()
    {
        for (f, val) in [
            ("key", *key),
            ("kind", *kind),
            ("en", *en),
            ("ar", *ar),
            ("subject", "none"),
            ("options", *options),
            ("max_length", ""),
            ("if_key", *if_key),
            ("if_test", *if_test),
            ("if_values", *if_values),
            ("required", "on"),
        ] {
            v.push((format!("q{i}_{f}"), val.to_owned()));
        }
    }
    v
}

async fn post(ui: &Ui, jar: &Jar, path: &str, form: &[(String, String)]) -> reqwest::Response {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    ui.post(jar, path, &pairs).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draft_preview_publish_archive() {
    let ui = Ui::start(Kind::Sqlite).await;
    let (rgh, _) = ui.ids("RGH", None).await;
    let mut jar = ui.admin().await;
    jar.0.insert("px360_lang".into(), "ar".into());

    let list = ui.page(&jar, "/ui/surveys").await;
    no_english("list", &list);
    let new = ui.page(&jar, "/ui/surveys/new").await;
    no_english("new", &new);

    // A draft without its Arabic text is stored, and the page says what blocks publishing.
    let nps = (
        "recommend",
        "nps",
        "How likely are you to recommend us?",
        "",
        "",
        ("", "none", ""),
    );
    let mut form = draft("", std::slice::from_ref(&nps));
    form.push(("code".into(), "discharge".into()));
    form.push(("scope".into(), rgh.clone()));
    let r = post(&ui, &jar, "/ui/surveys/new", &form).await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.ends_with("?saved=created"), "{to}");
    let page = to.split('?').next().unwrap().to_owned();
    let id = page.rsplit('/').next().unwrap().to_owned();
    assert_eq!(ui.audits("survey_template.create", Some(&id)).await, 1);
    let html = ui.page(&jar, &to).await;
    assert!(html.contains("تم إنشاء قالب الاستبيان كمسودة."));
    assert!(
        html.contains("النص الإنجليزي أو العربي مفقود."),
        "missing translation listed"
    );
    no_english("draft", &html);
    // Publishing now is refused with the reasons.
    let r = post(&ui, &jar, &format!("{page}/publish"), &[]).await;
    assert_eq!(r.status(), 409);
    no_english("not ready", &r.text().await.unwrap());

    // Typed mistakes: a bad key and an option line without its Arabic text, next to their fields.
    let bad = [
        (
            "Bad key",
            "rating",
            "Rate us",
            "قيّمنا",
            "",
            ("", "none", ""),
        ),
        (
            "reason",
            "single_choice",
            "Why?",
            "لماذا؟",
            "wait | Waiting",
            ("", "none", ""),
        ),
    ];
    let r = post(&ui, &jar, &page, &draft("إقامتك", &bad)).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"id="q0_key""#) && html.contains("استخدم من ١ إلى ٤٠"));
    assert!(html.contains("اكتب كل خيار هكذا"));
    assert!(
        html.contains(r#"value="Bad key""#),
        "what was typed comes back"
    );
    no_english("mistakes", &html);

    // Complete: NPS, and a choice shown for NPS ≤ 6.
    let good = [
        (
            "recommend",
            "nps",
            "How likely are you to recommend us?",
            "ما مدى احتمال أن توصي بنا؟",
            "",
            ("", "none", ""),
        ),
        (
            "reason",
            "multiple_choice",
            "What went wrong?",
            "ما الذي لم يكن جيدًا؟",
            "wait | Waiting | الانتظار\nfood | Food | الطعام",
            ("recommend", "at_most", "6"),
        ),
    ];
    let r = post(&ui, &jar, &page, &draft("إقامتك", &good)).await;
    assert_eq!(r.status(), 303);
    assert_eq!(ui.audits("survey_template.update", Some(&id)).await, 1);
    let html = ui.page(&jar, &page).await;
    assert!(!html.contains("alert-warning"), "nothing blocks publishing");
    assert!(html.contains("wait | Waiting | الانتظار"));

    // Previews: the patient page in each language, buttons disabled.
    let ar = ui.page(&jar, &format!("{page}/preview/ar")).await;
    assert!(
        ar.contains(r#"<html lang="ar" dir="rtl">"#) && ar.contains("ما مدى احتمال أن توصي بنا؟")
    );
    assert!(ar.contains(r#"data-show-key="recommend" data-show-test="at_most""#));
    assert!(ar.contains(" disabled>"));
    no_english("preview", &ar);
    let en = ui.page(&jar, &format!("{page}/preview/en")).await;
    assert!(en.contains(r#"<html lang="en" dir="ltr">"#) && en.contains("What went wrong?"));
    assert_eq!(
        ui.get(&jar, &format!("{page}/preview/fr")).await.status(),
        404
    );

    // Publish: version 1 frozen. Editing again opens version 2's draft.
    let r = post(&ui, &jar, &format!("{page}/publish"), &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(ui.audits("survey_template.publish", Some(&id)).await, 1);
    let versions: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM survey_versions WHERE template_id = $1")
            .bind(&id)
            .fetch_one(&ui.db.pool)
            .await
            .unwrap();
    assert_eq!(versions, 1);
    let html = ui.page(&jar, &format!("{page}?saved=published")).await;
    assert!(html.contains("تم نشر هذا الإصدار"));
    no_english("published", &html);
    let r = post(&ui, &jar, &page, &draft("إقامتك معنا", &good)).await;
    assert_eq!(r.status(), 303);
    let html = ui.page(&jar, &page).await;
    assert!(html.contains("يجري تحرير الإصدار 2"), "next version's draft");

    // Archive: read-only afterwards; a save is refused with the reason.
    let r = post(&ui, &jar, &format!("{page}/archive"), &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(ui.audits("survey_template.archive", Some(&id)).await, 1);
    let html = ui.page(&jar, &page).await;
    assert!(
        !html.contains("حفظ المسودة") && !html.contains("/publish"),
        "read-only"
    );
    let r = post(&ui, &jar, &page, &draft("x", &good)).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("قالب الاستبيان هذا مؤرشف"));

    ui.stop().await;
}
