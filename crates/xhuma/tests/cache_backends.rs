//! One test suite, run against both cache backends: in-process and the real Redis on
//! 127.0.0.1:6379 (each Redis test uses its own key prefix and deletes its keys).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use bytes::Bytes;
use secrecy::SecretString;
use xhuma::cache::{CacheStore, Kind, MemoryCache, RedisCache};

const REDIS: &str = "redis://127.0.0.1:6379";

async fn suite<C: CacheStore>(c: &C) {
    c.ping().await.unwrap();
    // miss, then hit
    assert_eq!(c.get(Kind::Document, "d1").await.unwrap(), None);
    c.put(
        Kind::Document,
        "d1",
        Bytes::from_static(b"<doc/>"),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(
        c.get(Kind::Document, "d1").await.unwrap().as_deref(),
        Some(&b"<doc/>"[..])
    );
    // kinds are separate key spaces
    assert_eq!(c.get(Kind::Pds, "d1").await.unwrap(), None);
    // overwrite
    c.put(
        Kind::Document,
        "d1",
        Bytes::from_static(b"v2"),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(
        c.get(Kind::Document, "d1").await.unwrap().as_deref(),
        Some(&b"v2"[..])
    );
    // delete
    c.delete(Kind::Document, "d1").await.unwrap();
    assert_eq!(c.get(Kind::Document, "d1").await.unwrap(), None);
    // binary values survive byte for byte
    let bin: Vec<u8> = (0..=255u8).collect();
    c.put(
        Kind::Sds,
        "bin",
        Bytes::from(bin.clone()),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(c.get(Kind::Sds, "bin").await.unwrap().unwrap(), bin);
    c.delete(Kind::Sds, "bin").await.unwrap();
    // TTL expiry: per entry
    c.put(
        Kind::Pds,
        "short",
        Bytes::from_static(b"x"),
        Duration::from_millis(150),
    )
    .await
    .unwrap();
    c.put(
        Kind::Pds,
        "long",
        Bytes::from_static(b"y"),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert!(c.get(Kind::Pds, "short").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(c.get(Kind::Pds, "short").await.unwrap(), None);
    assert!(c.get(Kind::Pds, "long").await.unwrap().is_some());
    c.delete(Kind::Pds, "long").await.unwrap();
}

fn prefix() -> String {
    format!("xhuma-test-{}", uuid::Uuid::new_v4().simple())
}

async fn redis_keys(prefix: &str) -> Vec<String> {
    let client = redis::Client::open(REDIS).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut conn)
        .await
        .unwrap()
}

async fn redis_cleanup(prefix: &str) {
    let client = redis::Client::open(REDIS).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    for k in redis_keys(prefix).await {
        let _: i64 = redis::cmd("DEL")
            .arg(k)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn memory_backend_passes_the_suite() {
    suite(&MemoryCache::new(1 << 20)).await;
}

#[tokio::test]
async fn redis_backend_passes_the_suite() {
    let p = prefix();
    let c = RedisCache::new(&SecretString::from(REDIS), &p, 1 << 20).unwrap();
    suite(&c).await;
    redis_cleanup(&p).await;
}

#[tokio::test]
async fn redis_keys_are_namespaced_and_expire() {
    let p = prefix();
    let c = RedisCache::new(&SecretString::from(REDIS), &p, 1 << 20).unwrap();
    c.put(
        Kind::Document,
        "abc",
        Bytes::from_static(b"x"),
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    assert_eq!(redis_keys(&p).await, vec![format!("{p}:doc:abc")]);
    let client = redis::Client::open(REDIS).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{p}:doc:abc"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((1..=30_000).contains(&ttl), "PTTL {ttl}");
    redis_cleanup(&p).await;
}

#[tokio::test]
async fn memory_backend_is_bounded_by_bytes() {
    let c = MemoryCache::new(100_000);
    let value = Bytes::from(vec![b'x'; 10_000]);
    for i in 0..100 {
        c.put(
            Kind::Document,
            &format!("d{i}"),
            value.clone(),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    }
    let size = c.weighted_size().await;
    assert!(size <= 100_000, "cache holds {size} bytes, bound is 100000");
    assert!(size > 0);
}

#[tokio::test]
async fn unreachable_redis_is_an_error_not_a_hang() {
    // A port nothing listens on: connection refused, reported quickly.
    let c = RedisCache::new(&SecretString::from("redis://127.0.0.1:1"), "x", 1 << 20).unwrap();
    let started = std::time::Instant::now();
    assert!(c.get(Kind::Pds, "k").await.is_err());
    assert!(c.ping().await.is_err());
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn invalid_redis_url_is_a_config_error() {
    let e = RedisCache::new(&SecretString::from("http://nope"), "x", 1 << 20)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("invalid Redis URL"), "{e}");
}

#[tokio::test]
async fn unreachable_redis_is_backed_off_and_the_in_process_tier_answers() {
    let c = RedisCache::new(&SecretString::from("redis://127.0.0.1:1"), "x", 1 << 20).unwrap();
    // Written while Redis is down: kept in the tier and read back from it.
    c.put(
        Kind::Document,
        "d1",
        Bytes::from_static(b"doc"),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert!(c.is_degraded(), "the failed write marks Redis down");
    assert_eq!(
        c.get(Kind::Document, "d1").await.unwrap().as_deref(),
        Some(&b"doc"[..])
    );
    // Misses do not reconnect on every request while Redis is marked down.
    let started = std::time::Instant::now();
    for i in 0..2_000 {
        assert!(c.get(Kind::Pds, &format!("k{i}")).await.is_err());
    }
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?} for 2,000 misses",
        started.elapsed()
    );
}
