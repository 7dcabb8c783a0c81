//! The web UI over real HTTP: sign-in, session cookies, sign-out, CSRF defence.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{ADMIN_PASSWORD, Jar, Kind, Opts, PASSWORD, Ui, cookie_named, set_cookies};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sets_strict_http_only_cookies_and_is_audited() {
    let ui = Ui::start(Kind::Sqlite).await;
    let before = ui.audits("login", None).await;

    let r = ui
        .post(
            &Jar::default(),
            "/ui/login",
            &[
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("next", "/ui/org"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/ui/org", "goes to `next`");
    let all = set_cookies(&r);
    for name in ["px360_session", "px360_refresh"] {
        let c = cookie_named(&all, name);
        assert!(c.contains("; HttpOnly"), "{c}");
        assert!(c.contains("; SameSite=Strict"), "{c}");
        assert!(c.contains("; Path=/ui"), "{c}");
        assert!(!c.contains("Secure"), "plain HTTP: no Secure flag: {c}");
    }
    assert!(cookie_named(&all, "px360_session").contains("Max-Age=600"));
    assert_eq!(ui.audits("login", None).await, before + 1);

    // Behind a TLS-terminating proxy the cookies are Secure.
    let r = ui
        .http
        .post(ui.url("/ui/login"))
        .header("origin", ui.origin())
        .header("x-forwarded-proto", "https")
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let all = set_cookies(&r);
    assert!(cookie_named(&all, "px360_session").contains("; Secure"));
    assert!(cookie_named(&all, "px360_refresh").contains("; Secure"));

    // An open redirect through `next` is not possible.
    let r = ui
        .post(
            &Jar::default(),
            "/ui/login",
            &[
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("next", "//evil.example/x"),
            ],
        )
        .await;
    assert_eq!(r.headers()["location"], "/ui/");
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_login_is_audited_and_opens_no_session() {
    let ui = Ui::start(Kind::Sqlite).await;
    let before = ui.audits("login.failed", None).await;
    let r = ui
        .post(
            &Jar::default(),
            "/ui/login",
            &[("username", "admin"), ("password", "wrong-password")],
        )
        .await;
    assert_eq!(r.status(), 401);
    assert!(
        set_cookies(&r)
            .iter()
            .all(|c| !c.starts_with("px360_session"))
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("Username or password incorrect."), "{html}");
    assert!(!html.contains("wrong-password"), "password echoed back");
    assert_eq!(ui.audits("login.failed", None).await, before + 1);

    // Unknown user: same answer, also audited.
    let r = ui
        .post(
            &Jar::default(),
            "/ui/login",
            &[("username", "nobody"), ("password", "x")],
        )
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(ui.audits("login.failed", None).await, before + 2);
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_by_email_and_rate_limit() {
    let ui = Ui::start_with(Kind::Sqlite, Opts { login_burst: 3 }).await;
    ui.user(
        "hadmin",
        "hospital_admin",
        Some("RGH"),
        None,
        Some("H.Admin@rgh.example"),
    )
    .await;
    let r = ui
        .post(
            &Jar::default(),
            "/ui/login",
            &[("username", "h.admin@RGH.example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), 303, "email, case-insensitive");
    // Burst of 3 attempts per client IP (this was the first); the fourth is refused.
    let r = ui
        .post(
            &Jar::default(),
            "/ui/login",
            &[("username", "hadmin"), ("password", "bad")],
        )
        .await;
    assert_eq!(r.status(), 401);
    let r = ui
        .post(
            &Jar::default(),
            "/ui/login",
            &[("username", "hadmin"), ("password", "bad")],
        )
        .await;
    assert_eq!(r.status(), 401);
    let r = ui
        .post(
            &Jar::default(),
            "/ui/login",
            &[("username", "hadmin"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), 429);
    // Showing the form is not limited.
    assert_eq!(ui.get(&Jar::default(), "/ui/login").await.status(), 200);
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_requests_go_to_login() {
    let ui = Ui::start(Kind::Sqlite).await;
    let r = ui.get(&Jar::default(), "/ui/events?status=parked").await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        "/ui/login?next=%2Fui%2Fevents%3Fstatus%3Dparked"
    );
    // htmx requests are told to navigate instead of swapping the login page into a fragment.
    let r = ui
        .http
        .get(ui.url("/ui/events"))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["hx-redirect"]
            .to_str()
            .unwrap()
            .starts_with("/ui/login")
    );
    // A forged or expired session cookie is not a session.
    let mut jar = Jar::default();
    jar.0
        .insert("px360_session".into(), "eyJhbGciOiJIUzI1NiJ9.e30.x".into());
    assert_eq!(ui.get(&jar, "/ui/").await.status(), 303);
    // `/` leads to the UI.
    let r = ui.get(&Jar::default(), "/").await;
    assert_eq!(r.headers()["location"], "/ui/");
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_posts_are_refused() {
    let ui = Ui::start(Kind::Sqlite).await;
    let id = ui
        .event("RGH", "OP_CHECKIN", "ENC-X", "RGH-CARD-0001")
        .await;
    ui.park(&id).await;
    let jar = ui.admin().await;
    let path = ui.url(&format!("/ui/events/{id}/replay"));
    let before = ui.audits("ui.cross_origin_refused", None).await;

    let attempts = [
        vec![("origin", "http://evil.example".to_owned())],
        vec![("sec-fetch-site", "cross-site".to_owned())],
        vec![
            ("sec-fetch-site", "same-site".to_owned()),
            ("origin", ui.origin()),
        ],
        vec![("origin", "null".to_owned())],
        vec![],
    ];
    for headers in &attempts {
        let mut rq = ui.http.post(&path).header("cookie", jar.header());
        for (k, v) in headers {
            rq = rq.header(*k, v);
        }
        let r = rq.send().await.unwrap();
        assert_eq!(r.status(), 403, "{headers:?}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("This request came from another site")
        );
    }
    assert_eq!(ui.status(&id).await.0, "parked", "nothing was replayed");
    assert_eq!(
        ui.audits("ui.cross_origin_refused", None).await,
        before + attempts.len() as i64
    );
    // Login and logout are protected too.
    let r = ui
        .http
        .post(ui.url("/ui/login"))
        .header("origin", "https://evil.example")
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        set_cookies(&r)
            .iter()
            .all(|c| !c.starts_with("px360_session"))
    );
    // The same POST from our own origin (Origin only, an older browser) is accepted.
    let r = ui
        .http
        .post(&path)
        .header("cookie", jar.header())
        .header("origin", ui.origin())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(ui.status(&id).await.0, "received");
    ui.stop().await;
}

async fn session_refresh_and_logout(kind: Kind) {
    let ui = Ui::start(kind).await;
    let jar = ui.admin().await;
    // An expired (here: absent) access token is renewed from the refresh cookie.
    let only_refresh = jar.without("px360_session");
    let r = ui.get(&only_refresh, "/ui/org").await;
    assert_eq!(r.status(), 200);
    let mut renewed = only_refresh.clone();
    renewed.update(r.headers());
    assert!(renewed.0.contains_key("px360_session"));
    assert_ne!(
        renewed.0["px360_refresh"], jar.0["px360_refresh"],
        "rotated"
    );
    // The old refresh token is spent: presenting it again is refused (and revokes the family).
    assert_eq!(ui.get(&only_refresh, "/ui/org").await.status(), 303);

    // A fresh session, then sign-out: audited, cookies deleted, refresh token revoked.
    let jar = ui.admin().await;
    let before = ui.audits("logout", None).await;
    let r = ui.post(&jar, "/ui/logout", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/ui/login?signed_out=1");
    let cleared = set_cookies(&r);
    assert!(cookie_named(&cleared, "px360_session").contains("Max-Age=0"));
    assert!(cookie_named(&cleared, "px360_refresh").contains("Max-Age=0"));
    assert_eq!(ui.audits("logout", None).await, before + 1);
    assert_eq!(
        ui.get(&jar.without("px360_session"), "/ui/").await.status(),
        303
    );
    let html = ui.page(&Jar::default(), "/ui/login?signed_out=1").await;
    assert!(html.contains("You have been signed out."));
    ui.stop().await;
}
both_backends!(session_refresh_and_logout);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_or_changed_accounts_lose_their_session() {
    let ui = Ui::start(Kind::Sqlite).await;
    let id = ui
        .user("coord2", "px_coordinator", Some("RGH"), None, None)
        .await;
    let jar = ui.login("coord2", PASSWORD).await;
    assert_eq!(ui.get(&jar, "/ui/events").await.status(), 200);
    sqlx::query("UPDATE users SET role = 'viewer' WHERE id = $1")
        .bind(&id)
        .execute(&ui.db.writer)
        .await
        .unwrap();
    assert_eq!(
        ui.get(&jar, "/ui/events").await.status(),
        303,
        "role changed"
    );
    sqlx::query("UPDATE users SET role = 'px_coordinator', is_active = 0 WHERE id = $1")
        .bind(&id)
        .execute(&ui.db.writer)
        .await
        .unwrap();
    assert_eq!(ui.get(&jar, "/ui/events").await.status(), 303, "disabled");
    ui.stop().await;
}
