//! The patient-voice pages over HTTP on SQLite and PostgreSQL (issue 18): the public feedback
//! form of a QR code (English and Arabic, no sign-in, errors in the patient's language without
//! echoing input, the thank-you page with the reference, unknown codes 404, cross-origin posts
//! refused), the staff inbox and an item triaged into an action with one click, the QR page and
//! its images, the social media list with a CSV upload, a mention converted into a complaint,
//! and the voice analytics page. Every Arabic page is checked for stray English; department
//! roles do not see the social pages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/latin.rs"]
#[allow(dead_code)]
mod latin;

use common::{Jar, Kind, PASSWORD, Ui};
use latin::stray_latin;

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

fn arabic_clean(what: &str, html: &str) {
    assert!(
        html.contains(r#"<html lang="ar" dir="rtl">"#),
        "{what}: not Arabic"
    );
    let stray = stray_latin(html);
    assert!(stray.is_empty(), "{what}: stray English {stray:?}");
}

async fn upload(
    ui: &Ui,
    jar: &Jar,
    name: &str,
    bytes: &[u8],
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let boundary = "px360-voice-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    ui.http
        .post(ui.url("/ui/social/import"))
        .header("cookie", jar.header())
        .header("origin", ui.origin())
        .header("sec-fetch-site", "same-origin")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn pages(kind: Kind) {
    let ui = Ui::start(kind).await;
    let (h, card) = ui.ids("RGH", Some("CARD")).await;
    let card = card.unwrap();
    let anon = Jar::default();

    // The public form, both languages, signed out.
    let form = format!("/ui/feedback/{h}/{card}");
    let en = ui.page(&anon, &format!("{form}?lang=en")).await;
    assert!(
        en.contains("Share your feedback") && en.contains("Cardiology"),
        "{en}"
    );
    assert!(
        en.contains("name=\"staff_id\""),
        "the department's staff can be named"
    );
    let ar = ui.page(&anon, &format!("{form}?lang=ar")).await;
    arabic_clean("public form", &ar);
    assert_eq!(
        ui.get(&anon, &format!("/ui/feedback/{}", uuid::Uuid::nil()))
            .await
            .status(),
        404
    );
    let (h_b, card_b) = ui.ids("NPH", Some("CARD")).await;
    assert_eq!(
        ui.get(&anon, &format!("/ui/feedback/{h}/{}", card_b.unwrap()))
            .await
            .status(),
        404
    );
    assert_eq!(
        ui.get(&anon, &format!("/ui/feedback/{h_b}")).await.status(),
        200
    );

    // Errors in Arabic, naming no input.
    let r = ui
        .post(
            &anon,
            &format!("{form}?lang=ar"),
            &[
                ("kind", ""),
                ("text", ""),
                ("contact_email", "not-an-email<b>"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    arabic_clean("form errors", &html);
    assert!(
        html.contains("اختر نوع الملاحظة") && html.contains("اكتب ملاحظتك"),
        "{html}"
    );
    // A cross-origin post is refused.
    let r = ui
        .http
        .post(ui.url(&form))
        .header("origin", "https://evil.example")
        .form(&[("kind", "concern"), ("text", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // A concern in Arabic: stored in Arabic, thank-you page in Arabic with the reference.
    let r = ui
        .post(
            &anon,
            &format!("{form}?lang=ar"),
            &[
                ("kind", "concern"),
                ("text", "الانتظار في العيادة طويل وايد وما أحد يرد"),
                ("contact_phone", "0501234567"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let loc = location(&r);
    assert!(
        loc.starts_with("/ui/feedback-thanks?ref=F") && loc.ends_with("&lang=ar"),
        "{loc}"
    );
    let thanks = ui.page(&anon, &loc).await;
    arabic_clean("thanks", &thanks);
    let reference = loc
        .split("ref=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    assert!(thanks.contains(&reference));
    let (id, lang, channel): (String, String, String) =
        sqlx::query_as("SELECT id, language, channel FROM feedback WHERE reference = $1")
            .bind(&reference)
            .fetch_one(&ui.db.pool)
            .await
            .unwrap();
    assert_eq!((lang.as_str(), channel.as_str()), ("ar", "qr_form"));

    // The inbox and the item for a coordinator, in Arabic; one click makes it an action.
    ui.user("vcoord", "px_coordinator", Some("RGH"), None, None)
        .await;
    ui.user(
        "vmgr",
        "department_manager",
        Some("RGH"),
        Some("CARD"),
        None,
    )
    .await;
    ui.user("vnurse", "nurse", Some("RGH"), Some("CARD"), None)
        .await;
    let coord = ui.login("vcoord", PASSWORD).await;
    let list = ui.page(&coord, "/ui/feedback-inbox?lang=ar").await;
    arabic_clean("inbox", &list);
    assert!(list.contains(&reference));
    let item = ui
        .page(&coord, &format!("/ui/feedback-inbox/{id}?lang=ar"))
        .await;
    arabic_clean("item", &item);
    assert!(
        item.contains("سلبي") && item.contains("وقت الانتظار"),
        "sentiment and theme shown"
    );
    assert!(
        item.contains("+966501234567"),
        "contact in full for a coordinator"
    );
    let r = ui
        .post(
            &coord,
            &format!("/ui/feedback-inbox/{id}/triage"),
            &[
                ("target", "action"),
                ("category_code", "waiting_time"),
                ("severity", "medium"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("/ui/feedback-inbox/{id}?done=action"));
    let item = ui
        .page(
            &coord,
            &format!("/ui/feedback-inbox/{id}?done=action&lang=ar"),
        )
        .await;
    arabic_clean("triaged item", &item);
    assert!(item.contains("id=\"fb-action\""));
    // A nurse sees it masked and cannot triage.
    let nurse = ui.login("vnurse", PASSWORD).await;
    let item = ui.page(&nurse, &format!("/ui/feedback-inbox/{id}")).await;
    assert!(!item.contains("501234567") && !item.contains("triage-case"));

    // QR codes: the page in Arabic, a PNG image, an SVG download; a nurse gets her department's only.
    let qr = ui.page(&coord, "/ui/feedback-qr?lang=ar").await;
    arabic_clean("qr page", &qr);
    let unescaped = qr.replace("&amp;", "&").replace("&#38;", "&");
    assert!(
        unescaped.contains(&format!(
            "/ui/feedback-qr/{h}?department_id={card}&format=png"
        )),
        "{qr}"
    );
    let r = ui
        .get(
            &coord,
            &format!("/ui/feedback-qr/{h}?department_id={card}&format=png"),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(&r.bytes().await.unwrap()[..4], b"\x89PNG");
    let r = ui
        .get(&coord, &format!("/ui/feedback-qr/{h}?format=svg"))
        .await;
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let nqr = ui
        .page(&nurse, "/ui/feedback-qr")
        .await
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    assert!(!nqr.contains(&format!("/ui/feedback-qr/{h}?format=png")) && nqr.contains(&card));
    assert_eq!(
        ui.get(&nurse, &format!("/ui/feedback-qr/{h}?format=png"))
            .await
            .status(),
        404
    );

    // Social media: a coordinator uploads a CSV for the hospital; lists and converts.
    assert_eq!(ui.get(&nurse, "/ui/social").await.status(), 403);
    let csv = "id,source,author,text,rating,time\nw-1,google_reviews,mona,\"Waited four hours, the staff were rude\",1,2026-03-04T08:00:00Z\nw-2,x,ali,Clean rooms and kind nurses,,2026-03-04T09:00:00Z\nw-3,x,bad,no time,,later\n";
    let r = upload(
        &ui,
        &coord,
        "mentions.csv",
        csv.as_bytes(),
        &[("format", "auto"), ("hospital_id", &h)],
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"sm-report\"") && html.contains("social.mention.bad_time"),
        "{html}"
    );
    let r = upload(
        &ui,
        &coord,
        "junk.csv",
        b"colour,shape\n",
        &[("format", "csv"), ("hospital_id", &h)],
    )
    .await;
    assert_eq!(r.status(), 422);
    let list = ui.page(&coord, "/ui/social?lang=ar").await;
    arabic_clean("social list", &list);
    assert!(list.contains("Waited four hours"));
    let list = ui.page(&coord, "/ui/social?sentiment=positive").await;
    assert!(list.contains("Clean rooms") && !list.contains("Waited four hours"));
    let mid: String =
        sqlx::query_scalar("SELECT id FROM social_mentions WHERE external_id = 'w-1'")
            .fetch_one(&ui.db.pool)
            .await
            .unwrap();
    let item = ui.page(&coord, &format!("/ui/social/{mid}?lang=ar")).await;
    arabic_clean("mention", &item);
    assert!(item.contains("id=\"to-complaint\""));
    let r = ui
        .post(
            &coord,
            &format!("/ui/social/{mid}/convert"),
            &[
                ("target", "complaint"),
                ("category_code", "waiting_time"),
                ("severity", "high"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let item = ui
        .page(&coord, &format!("/ui/social/{mid}?done=complaint&lang=ar"))
        .await;
    arabic_clean("converted mention", &item);
    assert!(item.contains("id=\"sm-complaint\""));
    let positive: String =
        sqlx::query_scalar("SELECT id FROM social_mentions WHERE external_id = 'w-2'")
            .fetch_one(&ui.db.pool)
            .await
            .unwrap();
    let item = ui
        .page(&coord, &format!("/ui/social/{positive}?lang=ar"))
        .await;
    arabic_clean("positive mention", &item);
    assert!(item.contains("id=\"sm-why\"") && !item.contains("id=\"to-complaint\""));

    // A group feed's mention that names no hospital: the PX Admin places it by hand (the
    // coordinator does not see it before); the page offers the hospitals, in Arabic too.
    let admin = ui.admin().await;
    let r = upload(
        &ui,
        &admin,
        "group.csv",
        b"id,source,author,text,time\nu-1,x,someone,The night shift in cardiology never answered the bell,2026-03-05T08:00:00Z\n",
        &[("format", "csv")],
    )
    .await;
    assert_eq!(r.status(), 200);
    let lost: String =
        sqlx::query_scalar("SELECT id FROM social_mentions WHERE external_id = 'u-1'")
            .fetch_one(&ui.db.pool)
            .await
            .unwrap();
    assert_eq!(
        ui.get(&coord, &format!("/ui/social/{lost}")).await.status(),
        404
    );
    let item = ui.page(&admin, &format!("/ui/social/{lost}?lang=ar")).await;
    arabic_clean("unlocated mention", &item);
    assert!(
        item.contains("id=\"sm-assign\"") && item.contains(&h),
        "{item}"
    );
    let r = ui
        .post(
            &admin,
            &format!("/ui/social/{lost}/assign"),
            &[("hospital_id", "nope")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = ui
        .post(
            &admin,
            &format!("/ui/social/{lost}/assign"),
            &[("hospital_id", h.as_str())],
        )
        .await;
    assert_eq!(r.status(), 303);
    let item = ui
        .page(&coord, &format!("/ui/social/{lost}?done=assigned&lang=ar"))
        .await;
    arabic_clean("assigned mention", &item);
    assert!(item.contains("id=\"sm-done\"") && !item.contains("id=\"sm-assign\""));

    // Settings: a coordinator reads them; a hospital admin saves terms, a rule and a secret
    // (shown once, on the answer page only).
    let page = ui.page(&coord, "/ui/social/settings?lang=ar").await;
    arabic_clean("settings (read only)", &page);
    assert!(!page.contains("id=\"vs-rotate\""));
    assert_eq!(
        ui.post(
            &coord,
            "/ui/social/settings",
            &[("hospital", &h), ("what", "secret")]
        )
        .await
        .status(),
        403
    );
    ui.user("vhadmin", "hospital_admin", Some("RGH"), None, None)
        .await;
    let hadmin = ui.login("vhadmin", PASSWORD).await;
    let r = ui
        .post(
            &hadmin,
            "/ui/social/settings",
            &[
                ("hospital", &h),
                ("what", "terms"),
                ("handles", "@RiversideGH\ntwo words"),
                ("keywords", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = ui
        .post(
            &hadmin,
            "/ui/social/settings",
            &[
                ("hospital", &h),
                ("what", "terms"),
                ("handles", "@RiversideGH"),
                ("keywords", "Riverside General\nمستشفى ريفرسايد"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = ui
        .post(
            &hadmin,
            "/ui/social/settings?lang=ar",
            &[
                ("hospital", &h),
                ("what", "rule"),
                ("enabled", "1"),
                ("max_score", "-0.5"),
                ("severity", "high"),
                ("source_feedback", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let rule = ui
        .db
        .sentiment_rule(h.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(rule.enabled && rule.sources.len() == 1 && (rule.max_score + 0.5).abs() < 1e-6);
    let r = ui
        .post(
            &hadmin,
            "/ui/social/settings?lang=ar",
            &[("hospital", &h), ("what", "secret")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    arabic_clean("new secret", &html);
    assert!(html.contains("id=\"vs-new-secret\""));
    let again = ui.page(&hadmin, "/ui/social/settings?lang=en").await;
    assert!(!again.contains("vs-new-secret") && again.contains("Riverside General"));

    // The voice analytics page, both languages, the feedback counted and its theme listed.
    let page = ui.page(&coord, "/ui/analytics/voice?lang=ar").await;
    arabic_clean("voice analytics", &page);
    assert!(
        page.contains("id=\"av-themes\"") && page.contains("وقت الانتظار"),
        "{page}"
    );
    let page = ui.page(&coord, "/ui/analytics/voice?lang=en").await;
    assert!(page.contains("Concerns") && page.contains("Waiting time"));
    let nav = ui.page(&coord, "/ui/?lang=ar").await;
    assert!(nav.contains("href=\"/ui/feedback-inbox\"") && nav.contains("href=\"/ui/social\""));

    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_sqlite() {
    pages(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_postgres() {
    pages(Kind::Postgres).await;
}
