//! A database outage is reported as one (503 problem+json), never as "unknown user" or a
//! refused refresh token, on SQLite and PostgreSQL. The outage is the application's pool being
//! closed under the running server, so every query fails as it would with the server gone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{ADMIN_PASSWORD, Kind, ServerOpts, TestDb, TestServer};
use serde_json::{Value, json};

async fn outage_is_503_not_unknown_user(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(
        &tdb.url,
        ServerOpts {
            worker: false,
            beat: false,
            ..Default::default()
        },
    )
    .await;
    let tokens = s.login("admin", ADMIN_PASSWORD).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    // A wrong password while the database is up is a 401, as before.
    let r = s
        .http
        .post(s.url("/api/auth/login"))
        .json(&json!({"username": "admin", "password": "wrong password!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    s.db.pool.close().await;
    s.db.writer.close().await;

    for (path, body) in [
        (
            "/api/auth/login",
            json!({"username": "admin", "password": ADMIN_PASSWORD}),
        ),
        (
            "/api/auth/login",
            json!({"username": "nobody", "password": "whatever password"}),
        ),
        ("/api/auth/refresh", json!({"refresh_token": refresh})),
    ] {
        let r = s.http.post(s.url(path)).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 503, "{path} {body}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        assert!(r.headers().contains_key("retry-after"));
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["type"], "urn:problem:unavailable", "{p}");
        assert_eq!(p["status"], 503);
        // The cause stays in the log.
        assert!(!p.to_string().to_lowercase().contains("pool"), "{p}");
    }
    s.stop().await;
    tdb.drop_db().await;
}

both_backends!(outage_is_503_not_unknown_user);

/// A real outage: the PostgreSQL server itself stops under the running application (a server
/// of the test's own, never the shared one). Sign-in, refresh and an authenticated read answer
/// 503 problem+json, never "unknown user" (401) or an internal error (500).
#[tokio::test(flavor = "multi_thread")]
async fn stopped_postgres_is_503_not_unknown_user() {
    let Some(mut pg) = px360_testkit::pg_server::OwnPostgres::start().await else {
        panic!(
            "no PostgreSQL server binaries (apt postgresql) to start a server of the test's own"
        );
    };
    let s = TestServer::start(
        &pg.url,
        ServerOpts {
            worker: false,
            beat: false,
            ..Default::default()
        },
    )
    .await;
    let tokens = s.login("admin", ADMIN_PASSWORD).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(s.get(&access, "/api/hospitals").await.status(), 200);

    pg.stop();

    for (path, body) in [
        (
            "/api/auth/login",
            json!({"username": "admin", "password": ADMIN_PASSWORD}),
        ),
        (
            "/api/auth/login",
            json!({"username": "nobody", "password": "whatever password"}),
        ),
        ("/api/auth/refresh", json!({"refresh_token": refresh})),
    ] {
        let r = s.http.post(s.url(path)).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 503, "{path} {body}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["type"], "urn:problem:unavailable", "{p}");
    }
    let r = s.get(&access, "/api/hospitals").await;
    assert_eq!(r.status(), 503);
    // The server task is left to the runtime: its shutdown would need the database.
}
