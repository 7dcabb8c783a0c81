//! Arabic everywhere: every page (and error, empty state, flash message, form error, warning,
//! failed or parked event, pager) fetched over real HTTP with `?lang=ar` shows no Latin letters
//! outside elements marked as data (`class="px-data"`, see `templates/macros.html`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/latin.rs"]
mod latin;

use common::{Jar, Kind, Opts, PASSWORD, Ui};
use latin::{stray_latin, stray_latin_fragment};
use serde_json::json;

#[test]
fn the_checker_passes_data_and_catches_stray_english() {
    let clean = r#"<!doctype html><html lang="ar" dir="rtl"><head><title>لوحة المعلومات · PX360</title>
        <script src="/ui/assets/htmx.js"></script><style>.x{color:red}</style></head><body>
        <nav aria-label="التنقل الرئيسي"><a lang="en" hreflang="en" href="?lang=en">English</a></nav>
        <p>المستشفى: <bdi class="px-data">Riverside General Hospital</bdi></p>
        <span class="px-data" dir="ltr"><b>OP_CHECKIN</b> 2026-01-31</span>
        <input id="display_name" value="Admin User"><input type="hidden" name="next" value="/ui/">
        <button type="submit">حفظ</button></body></html>"#;
    assert_eq!(stray_latin(clean), Vec::<String>::new());

    // Each regression: one English word outside data, in text or a visible attribute.
    let cases = [
        (
            r#"<p>لا توجد أحداث. Retry</p>"#,
            "p: \"لا توجد أحداث. Retry\"",
        ),
        (r#"<td><span>Completed</span></td>"#, "span"),
        (r#"<nav aria-label="Pages"></nav>"#, "[aria-label]"),
        (r#"<input placeholder="Search">"#, "[placeholder]"),
        (
            r#"<span class="badge" title="Pending">معلّق</span>"#,
            "[title]",
        ),
        (r#"<img alt="Logo" src="x.png">"#, "[alt]"),
        (r#"<input type="submit" value="Save">"#, "[value]"),
        (
            r#"<p>وقت <span class="px-zone">(Asia/Riyadh)</span></p>"#,
            "span",
        ),
        (r#"<p>Ébauche</p>"#, "p"),
    ];
    for (body, want) in cases {
        let page = format!(r#"<html lang="ar" dir="rtl"><body>{body}</body></html>"#);
        let found = stray_latin(&page);
        assert_eq!(found.len(), 1, "{body}: {found:?}");
        assert!(found[0].contains(want), "{body}: {found:?}");
    }
    // The title is checked too, and only the brand is exempt there.
    let t = stray_latin(r#"<html><head><title>Dashboard · PX360</title></head></html>"#);
    assert_eq!(t.len(), 1, "{t:?}");
    assert!(stray_latin_fragment(r#"<p class="small">5 events shown</p>"#).len() == 1);
}

/// A form's fields as `(name, value)` pairs.
type Form<'a> = [(&'a str, &'a str)];

async fn set(ui: &Ui, sql: &str, id: &str, value: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .bind(value)
        .execute(&ui.db.writer)
        .await
        .unwrap();
}

/// Check one Arabic response: the expected status, right-to-left, nothing English outside data.
async fn check(what: &str, r: reqwest::Response, status: u16) -> String {
    assert_eq!(r.status().as_u16(), status, "{what}");
    let html = r.text().await.unwrap();
    assert!(
        html.contains(r#"<html lang="ar" dir="rtl">"#),
        "{what}: not an Arabic page"
    );
    let stray = stray_latin(&html);
    assert!(
        stray.is_empty(),
        "{what}: English outside data:\n{}",
        stray.join("\n")
    );
    html
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arabic_pages_show_no_english_outside_data() {
    let ui = Ui::start_with(Kind::Sqlite, Opts { login_burst: 8 }).await;
    let (rgh, _) = ui.ids("RGH", None).await;
    let key = ui
        .db
        .create_api_key(&rgh, "feed", &["*".into()], None)
        .await
        .unwrap()
        .key
        .id
        .to_string();

    // A processed event with warnings (unknown department and physician) through the worker,
    // and one the worker fails (its stored payload cannot be read): both coded by the worker.
    let warned = ui.event_with(&key, &rgh, "OP_CHECKIN", "ENC-W",
        json!({"department_code": "NOPE", "physician_licence": "ZZ999", "timestamp": "2025-03-01T10:00:00Z"})).await;
    let failed = ui
        .event_with(&key, &rgh, "OP_SEEN", "ENC-F", json!({}))
        .await;
    set(
        &ui,
        "UPDATE inbound_events SET payload = $2 WHERE id = $1",
        &failed,
        "{broken",
    )
    .await;
    // Rows stored before codes existed: a parked event with a bare English error, warnings
    // without arguments and with a code the catalogue does not know.
    let parked = ui
        .event_with(&key, &rgh, "OP_BOOKED", "ENC-P", json!({}))
        .await;
    ui.park(&parked).await;
    let old = ui
        .event_with(&key, &rgh, "OP_CHECKOUT", "ENC-O", json!({}))
        .await;
    // Enough further events for a second page (the pager).
    for i in 0..50 {
        ui.event_with(&key, &rgh, "OP_BOOKED", &format!("ENC-B{i}"), json!({}))
            .await;
    }
    ui.jobs
        .push_events(vec![warned.clone(), failed.clone(), old.clone()], None)
        .await
        .unwrap();
    let (stop, worker) = ui.start_worker();
    ui.wait_status(&warned, "processed").await;
    ui.wait_status(&failed, "failed").await;
    ui.wait_status(&old, "processed").await;
    stop.send(true).unwrap();
    worker.await.unwrap();
    let stored: Option<String> =
        sqlx::query_scalar("SELECT last_error FROM inbound_events WHERE id = $1")
            .bind(&failed)
            .fetch_one(&ui.db.pool)
            .await
            .unwrap();
    assert!(
        stored.unwrap().starts_with("[payload_unreadable] "),
        "coded by the worker"
    );
    set(&ui, "UPDATE inbound_events SET warnings = $2 WHERE id = $1", &old,
        r#"[{"code":"unknown_department","detail":"no department with code X in this hospital"},{"code":"future_code","detail":"Something new happened"}]"#).await;

    let mut jar = ui.admin().await;
    jar.0.insert("px360_lang".into(), "ar".into());
    let mut pages = vec![
        "/ui/".to_owned(),
        "/ui/events".into(),
        "/ui/events?status=parked".into(),
        "/ui/events?status=processed".into(),
        format!("/ui/events/{warned}"),
        format!("/ui/events/{failed}"),
        format!("/ui/events/{parked}"),
        format!("/ui/events/{old}"),
        format!("/ui/events/{warned}?replayed=1"),
        "/ui/journeys".into(),
        "/ui/org".into(),
        "/ui/account".into(),
        "/ui/account?saved=name".into(),
        "/ui/account?saved=password".into(),
        "/ui/complaint".into(),
        "/ui/complaint/thanks?ref=C260111-4F9A2B".into(),
    ];
    // The older page of the event list, through the list's own "Older" link.
    let list = ui.page(&jar, "/ui/events?lang=ar").await;
    let older = list
        .split("rel=\"next\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("an Older link")
        .replace("&amp;", "&");
    pages.push(older);
    for p in &pages {
        let sep = if p.contains('?') { '&' } else { '?' };
        check(p, ui.get(&jar, &format!("{p}{sep}lang=ar")).await, 200).await;
    }

    // What the event pages show instead of English: the catalogue's sentences, the values as data.
    let html = check(
        "warned",
        ui.get(&jar, &format!("/ui/events/{warned}")).await,
        200,
    )
    .await;
    assert!(
        html.contains("لا يوجد طبيب برقم الترخيص") && html.contains(">ZZ999</bdi>"),
        "{html}"
    );
    let html = check(
        "failed",
        ui.get(&jar, &format!("/ui/events/{failed}")).await,
        200,
    )
    .await;
    assert!(html.contains("تعذّرت قراءة بيانات الحدث المخزّنة"), "{html}");
    let html = check(
        "parked",
        ui.get(&jar, &format!("/ui/events/{parked}")).await,
        200,
    )
    .await;
    assert!(
        html.contains("stored payload: boom</code>"),
        "old text kept, as data"
    );
    let html = check("old", ui.get(&jar, &format!("/ui/events/{old}")).await, 200).await;
    assert!(html.contains(">future_code</bdi>") && html.contains(">Something new happened</bdi>"));

    // htmx fragment of the list.
    let r = ui
        .http
        .get(ui.url("/ui/events?status=parked&lang=ar"))
        .header("cookie", jar.header())
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    let frag = r.text().await.unwrap();
    assert!(!frag.contains("<html"));
    assert_eq!(stray_latin_fragment(&frag), Vec::<String>::new());

    // Form errors, conflicts and refused requests.
    let posts: [(&str, &Form, u16); 5] = [
        ("/ui/account/name", &[("display_name", "")], 422),
        (
            "/ui/account/password",
            &[
                ("current_password", "wrong-password-here"),
                ("new_password", "a-new-password-long"),
            ],
            422,
        ),
        (
            "/ui/account/password",
            &[
                ("current_password", common::ADMIN_PASSWORD),
                ("new_password", "short"),
            ],
            422,
        ),
        ("/ui/account/name", &[("unexpected", "x")], 422),
        ("replay", &[], 409),
    ];
    for (path, form, status) in posts {
        let path = if path == "replay" {
            format!("/ui/events/{warned}/replay")
        } else {
            path.to_owned()
        };
        check(
            &format!("POST {path}"),
            ui.post(&jar, &path, form).await,
            status,
        )
        .await;
    }
    let cross_site = ui
        .http
        .post(ui.url("/ui/account/name"))
        .header("cookie", jar.header())
        .header("origin", "https://elsewhere.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[("display_name", "x")])
        .send()
        .await
        .unwrap();
    check("cross-site POST", cross_site, 403).await;
    check("404", ui.get(&jar, "/ui/no-such-page?lang=ar").await, 404).await;
    check(
        "404 event",
        ui.get(&jar, "/ui/events/nope?lang=ar").await,
        404,
    )
    .await;
    check(
        "405",
        ui.get(&jar, &format!("/ui/events/{warned}/replay?lang=ar"))
            .await,
        405,
    )
    .await;

    // A viewer: 403 pages and the reduced dashboard. A hospital without events: empty states.
    ui.user("viewer", "viewer", Some("RGH"), Some("CARD"), None)
        .await;
    let mut viewer = ui.login("viewer", PASSWORD).await;
    viewer.0.insert("px360_lang".into(), "ar".into());
    check(
        "viewer 403",
        ui.get(&viewer, "/ui/events?lang=ar").await,
        403,
    )
    .await;
    check(
        "viewer dashboard",
        ui.get(&viewer, "/ui/?lang=ar").await,
        200,
    )
    .await;
    check("viewer org", ui.get(&viewer, "/ui/org?lang=ar").await, 200).await;
    ui.user("nph", "hospital_admin", Some("NPH"), None, None)
        .await;
    let mut nph = ui.login("nph", PASSWORD).await;
    nph.0.insert("px360_lang".into(), "ar".into());
    for p in ["/ui/", "/ui/events", "/ui/journeys"] {
        check(
            &format!("empty {p}"),
            ui.get(&nph, &format!("{p}?lang=ar")).await,
            200,
        )
        .await;
    }

    // Signed out: the login page, a failed sign-in, the signed-out notice, the rate limit.
    let anon = Jar(std::iter::once(("px360_lang".to_owned(), "ar".to_owned())).collect());
    check("login", ui.get(&anon, "/ui/login?lang=ar").await, 200).await;
    check(
        "signed out",
        ui.get(&anon, "/ui/login?signed_out=1&lang=ar").await,
        200,
    )
    .await;
    let bad = [
        ("username", "admin"),
        ("password", "wrong-password"),
        ("next", "/ui/"),
    ];
    check("login failed", ui.post(&anon, "/ui/login", &bad).await, 401).await;
    let mut limited = None;
    for _ in 0..10 {
        let r = ui.post(&anon, "/ui/login", &bad).await;
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("the login limit answers 429");
    assert!(r.headers().contains_key("retry-after"));
    check("429", r, 429).await;
    ui.stop().await;
}
