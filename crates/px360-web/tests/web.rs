//! The web UI over real HTTP: Arabic (right-to-left), embedded assets, no external URLs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Jar, Kind, Ui, external, links};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arabic_is_right_to_left() {
    let ui = Ui::start(Kind::Sqlite).await;
    let r = ui.get(&Jar::default(), "/ui/login?lang=ar").await;
    assert_eq!(r.status(), 200);
    let mut jar = Jar::default();
    jar.update(r.headers());
    assert_eq!(jar.0.get("px360_lang").map(String::as_str), Some("ar"));
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"), "{html}");
    assert!(html.contains("bootstrap.rtl.min.css"));
    assert!(html.contains("تسجيل الدخول"));
    assert!(html.contains("كلمة المرور"));
    assert!(
        html.contains("href=\"/ui/login?lang=en\""),
        "switch back to English"
    );

    // The cookie keeps Arabic after sign-in, on every page.
    let mut session = ui.admin().await;
    session.0.extend(jar.0.clone());
    for path in ["/ui/", "/ui/events", "/ui/journeys", "/ui/org"] {
        let html = ui.page(&session, path).await;
        assert!(html.contains("dir=\"rtl\""), "{path}");
        assert!(html.contains("لوحة المعلومات"), "{path}: Arabic navigation");
        assert!(
            !html.contains(">Dashboard<"),
            "{path}: no English navigation"
        );
    }
    // Without the cookie the same page is English and left-to-right.
    let en = ui.page(&session.without("px360_lang"), "/ui/").await;
    assert!(en.contains("dir=\"ltr\"") && !en.contains("bootstrap.rtl.min.css"));
    // Accept-Language is honoured when nothing was chosen.
    let r = ui
        .http
        .get(ui.url("/ui/login"))
        .header("accept-language", "ar-SA,ar;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("dir=\"rtl\""));
    // Error pages are localised as well.
    let r = ui.get(&session, "/ui/no-such-page").await;
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("غير موجود"));
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_embedded_with_types_and_caching() {
    let ui = Ui::start(Kind::Sqlite).await;
    let html = ui.page(&Jar::default(), "/ui/login").await;
    let assets: Vec<String> = links(&html)
        .into_iter()
        .filter(|l| l.starts_with("/ui/assets/"))
        .collect();
    assert_eq!(assets.len(), 3, "{assets:?}");
    for a in &assets {
        assert!(a.contains("?v="), "versioned: {a}");
        let r = ui.get(&Jar::default(), a).await;
        assert_eq!(r.status(), 200, "{a}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
        let want = if a.contains(".js") {
            "text/javascript"
        } else {
            "text/css"
        };
        assert!(ct.starts_with(want), "{a}: {ct}");
        assert_eq!(
            r.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let etag = r.headers()["etag"].clone();
        let body = r.bytes().await.unwrap();
        assert!(body.len() > 500, "{a}");
        let r = ui
            .http
            .get(ui.url(a))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304);
    }
    let css = ui
        .get(
            &Jar::default(),
            "/ui/assets/vendor/bootstrap-5.3.9/bootstrap.rtl.min.css",
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        css.starts_with("@charset \"UTF-8\";/*!\n * Bootstrap  v5.3.9"),
        "licence header kept"
    );
    assert!(
        !css.contains("url(http") && !css.contains("@import"),
        "no external fetches"
    );
    assert_eq!(
        ui.get(&Jar::default(), "/ui/assets/nope.js").await.status(),
        404
    );
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_reference_no_external_urls() {
    // The detector itself.
    assert!(external("https://cdn.example/x.js") && external("//cdn.example/x.js"));
    assert!(external("HTTP://cdn.example/x.css") && !external("/ui/assets/app.css"));
    assert_eq!(
        links("<a href=\"/a\"><script src=\"//b\"></script>"),
        ["//b", "/a"]
    );

    let ui = Ui::start(Kind::Sqlite).await;
    let id = ui
        .event("RGH", "OP_CHECKIN", "ENC-U", "RGH-CARD-0001")
        .await;
    ui.park(&id).await;
    ui.journey(
        "RGH",
        "CARD",
        "ENC-J",
        &["completed", "skipped", "completed", "pending"],
    )
    .await;
    let jar = ui.admin().await;
    let mut seen = 0;
    for lang in ["en", "ar"] {
        for path in [
            "/ui/login".to_owned(),
            "/ui/".to_owned(),
            "/ui/events".to_owned(),
            format!("/ui/events/{id}"),
            "/ui/journeys".to_owned(),
            "/ui/org".to_owned(),
            "/ui/missing".to_owned(),
        ] {
            let sep = if path.contains('?') { '&' } else { '?' };
            let r = ui.get(&jar, &format!("{path}{sep}lang={lang}")).await;
            assert!(
                r.status() == 200 || r.status() == 303 || r.status() == 404,
                "{path}"
            );
            let csp = r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(csp.contains("default-src 'self'") && csp.contains("script-src 'self'"));
            let html = r.text().await.unwrap();
            let found = links(&html);
            seen += found.len();
            let bad: Vec<_> = found.iter().filter(|l| external(l)).collect();
            assert!(bad.is_empty(), "{path} ({lang}) links outside: {bad:?}");
            assert!(
                !html.contains(" style=\""),
                "{path}: inline style (blocked by the CSP)"
            );
            assert!(!html.contains("<script>"), "{path}: inline script");
        }
    }
    assert!(seen > 100, "links were found at all ({seen})");
    ui.stop().await;
}
