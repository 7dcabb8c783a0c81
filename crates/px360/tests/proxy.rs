//! Behind a reverse proxy, over real HTTP on SQLite and PostgreSQL: with the proxy trusted
//! (`--trusted-proxies`), the login rate limit is keyed by the forwarded client (rightmost
//! untrusted hop of `X-Forwarded-For`, or `Forwarded`) and the audit records that address; a
//! peer that is not a trusted proxy cannot choose its address by sending those headers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{Kind, ServerOpts, TestDb, TestServer};
use serde_json::json;

async fn start(url: &str, trusted: &str) -> TestServer {
    TestServer::start(
        url,
        ServerOpts {
            worker: false,
            beat: false,
            login_burst: 2,
            trusted_proxies: trusted.into(),
            ..Default::default()
        },
    )
    .await
}

/// A failed login with the given forwarding header; returns the status.
async fn attempt(s: &TestServer, header: (&str, &str)) -> u16 {
    s.http
        .post(s.url("/api/auth/login"))
        .header(header.0, header.1)
        .json(&json!({"username": "admin", "password": "not the password"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Client addresses of the audited failed logins, oldest first.
async fn audited_ips(s: &TestServer) -> Vec<String> {
    sqlx::query_scalar::<_, Option<String>>(
        "SELECT ip FROM audit_log WHERE action = 'login.failed' ORDER BY seq",
    )
    .fetch_all(&s.db.pool)
    .await
    .unwrap()
    .into_iter()
    .map(|ip| ip.unwrap_or_default())
    .collect()
}

async fn trusted_proxy(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = start(&tdb.url, "127.0.0.1/32").await;
    // The client forged the first hop; the proxy appended the address it saw.
    let a = ("x-forwarded-for", "198.51.100.1, 203.0.113.5");
    assert_eq!(attempt(&s, a).await, 401);
    assert_eq!(attempt(&s, a).await, 401);
    assert_eq!(attempt(&s, a).await, 429, "burst of 2 per client");
    // Other clients behind the same proxy have buckets of their own.
    assert_eq!(attempt(&s, ("x-forwarded-for", "203.0.113.6")).await, 401);
    let fwd = ("forwarded", "for=\"[2001:db8::5]:4711\";proto=https");
    assert_eq!(attempt(&s, fwd).await, 401);
    assert_eq!(attempt(&s, fwd).await, 401);
    assert_eq!(attempt(&s, fwd).await, 429);
    assert_eq!(
        audited_ips(&s).await,
        [
            "203.0.113.5",
            "203.0.113.5",
            "203.0.113.6",
            "2001:db8::5",
            "2001:db8::5"
        ]
    );
    s.stop().await;
    tdb.drop_db().await;
}

async fn untrusted_peer(kind: Kind) {
    // Proxies configured, but the loopback peer is not one of them; then none configured.
    for trusted in ["10.0.0.0/8", ""] {
        let tdb = TestDb::new(kind).await;
        let s = start(&tdb.url, trusted).await;
        assert_eq!(attempt(&s, ("x-forwarded-for", "203.0.113.5")).await, 401);
        assert_eq!(attempt(&s, ("forwarded", "for=203.0.113.6")).await, 401);
        // Spoofed addresses do not buy a new bucket: the peer's is spent.
        assert_eq!(
            attempt(&s, ("x-forwarded-for", "203.0.113.7")).await,
            429,
            "trusted={trusted:?}"
        );
        assert_eq!(audited_ips(&s).await, ["127.0.0.1", "127.0.0.1"]);
        s.stop().await;
        tdb.drop_db().await;
    }
}

both_backends!(trusted_proxy);
both_backends!(untrusted_peer);
