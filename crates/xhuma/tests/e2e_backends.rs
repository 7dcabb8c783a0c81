//! The flow on the Redis cache (127.0.0.1:6379) and the PostgreSQL audit store
//! (127.0.0.1:5432, a uniquely named database dropped afterwards), and the gateway riding out
//! a Redis outage with a redis-server of its own.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use secrecy::SecretString;

async fn redis_cleanup(prefix: &str) {
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    for k in keys {
        let _: i64 = redis::cmd("DEL")
            .arg(k)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_on_redis_cache_and_postgres_audit() {
    let (db, db_url) = px360_testkit::pg::create("xhuma_e2e").await;
    let prefix = format!("xhuma-e2e-{}", uuid::Uuid::new_v4().simple());

    let prefix2 = prefix.clone();
    let outcome = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(async move {
        let gw = gateway(|c| {
            c.redis_url = Some(SecretString::from("redis://127.0.0.1:6379"));
            c.database_url = Some(SecretString::from(db_url.clone()));
            c.cache.key_prefix = prefix2.clone();
        })
        .await;
        let ready: serde_json::Value =
            serde_json::from_slice(&gw.get("/health/ready").await.body).unwrap();
        assert_eq!(ready["checks"]["cache:redis"]["status"], "ok", "{ready}");
        assert_eq!(ready["checks"]["audit:postgres"]["status"], "ok", "{ready}");
        let nhs = "9690937278";
        assert_eq!(ack_code(&gw.iti55(nhs).await.text()), "AA");
        let text = gw.iti38(nhs).await.text();
        check_ebxml(&text);
        let uid = unique_id(&text).unwrap();
        let r = gw.iti39(&uid).await;
        check_ebxml(&r.text());
        conformance::cda_xsd(&retrieved_document(&r).unwrap()).assert_ok();
        // Keys are namespaced; no key contains an NHS number.
        let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix2}:*"))
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(
            keys.iter()
                .any(|k| k.starts_with(&format!("{prefix2}:doc:"))),
            "{keys:?}"
        );
        assert!(
            keys.iter()
                .any(|k| k.starts_with(&format!("{prefix2}:pds:"))),
            "{keys:?}"
        );
        assert!(keys.iter().all(|k| !k.contains(nhs)), "{keys:?}");
        // A second gateway on the same Redis serves the document without GP Connect.
        let gw2 = gateway(|c| {
            c.redis_url = Some(SecretString::from("redis://127.0.0.1:6379"));
            c.cache.key_prefix = prefix2.clone();
        })
        .await;
        let r = gw2.iti39(&uid).await;
        assert!(retrieved_document(&r).is_some(), "{}", r.text());
        gw2.running.shutdown().await;
        let audit = gw.running.state.flow.audit.clone();
        audit.flush().await.unwrap();
        let rows = audit.recent(50).await.unwrap();
        assert!(rows.iter().any(|r| r.transaction_name == "iti39"));
        gw.running.shutdown().await;
    }))
    .await;
    redis_cleanup(&prefix).await;
    px360_testkit::pg::drop(&db).await;
    if let Err(p) = outcome {
        std::panic::resume_unwind(p);
    }
}

struct OwnRedis {
    child: Child,
    port: u16,
}

impl OwnRedis {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        Self { child, port }
    }

    async fn wait_ready(&self) {
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not start");
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn ready_status(gw: &Gw) -> (u16, serde_json::Value) {
    let r = gw.get("/health/ready").await;
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_degrades_serves_from_the_in_process_tier_and_recovers() {
    let port = free_port();
    let redis = OwnRedis::start(port);
    redis.wait_ready().await;
    let gw = gateway(|c| {
        c.redis_url = Some(SecretString::from(format!("redis://127.0.0.1:{port}")));
    })
    .await;
    assert_eq!(ready_status(&gw).await.0, 200);
    let r = gw.iti38("9690937278").await;
    let offered = unique_id(&r.text()).unwrap();

    drop(redis); // kill it
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, report) = ready_status(&gw).await;
    assert_eq!(status, 200, "degraded, not dead: {report}");
    assert_eq!(report["status"], "degraded", "{report}");
    assert_eq!(
        report["checks"]["cache:redis"]["status"], "degraded",
        "{report}"
    );

    // The document ITI-38 offered before the outage is still retrievable here.
    let before = gw.sandbox().stats().gpconnect_requests;
    let r = gw.iti39(&offered).await;
    assert!(
        r.text().contains("ResponseStatusType:Success"),
        "{}",
        r.text()
    );
    check_ebxml(&r.text());
    // ITI-38 again: the same document, from the tier, without asking GP Connect.
    let text = gw.iti38("9690937278").await.text();
    assert_eq!(
        unique_id(&text).as_deref(),
        Some(offered.as_str()),
        "{text}"
    );
    // The preview works.
    let p = gw.get("/preview/9690937278").await;
    assert_eq!(p.status, 200, "{}", p.text());
    assert_eq!(gw.sandbox().stats().gpconnect_requests, before);

    // A patient first seen during the outage: single flight still holds, and what ITI-38
    // offers ITI-39 returns.
    let cold = "9690937286";
    let answers = futures::future::join_all((0..8).map(|_| gw.iti38(cold))).await;
    assert_eq!(gw.sandbox().stats().gpconnect_requests, before + 1);
    let id = unique_id(&answers[0].text()).unwrap();
    assert!(
        answers
            .iter()
            .all(|a| unique_id(&a.text()).as_deref() == Some(id.as_str()))
    );
    let r = gw.iti39(&id).await;
    assert!(
        r.text().contains("ResponseStatusType:Success"),
        "{}",
        r.text()
    );

    // Throughput does not collapse: no reconnect per request.
    let started = std::time::Instant::now();
    for _ in 0..100 {
        let t = gw.iti38("9690937278").await.text();
        assert!(t.contains("ResponseStatusType:Success"));
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "100 cached ITI-38 during the outage took {:?}",
        started.elapsed()
    );

    // Redis returns on the same port: ok again, without restarting the gateway.
    let redis = OwnRedis::start(port);
    redis.wait_ready().await;
    let mut ok = false;
    for _ in 0..40 {
        let (_, report) = ready_status(&gw).await;
        if report["checks"]["cache:redis"]["status"] == "ok" {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(ok, "ready again after Redis returned");
    let text = gw.iti38("9690937278").await.text();
    assert!(unique_id(&text).is_some());
    gw.running.shutdown().await;
    drop(redis);
}
