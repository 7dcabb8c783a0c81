//! The gateway's cache: PDS demographics, SDS lookups and converted documents, each with its
//! own lifetime.
//!
//! Two backends behind one trait: in-process (moka, bounded by the bytes of the cached
//! values, per-entry TTL) and Redis (namespaced keys with `SET .. PX`, `rediss://` for TLS,
//! reconnection by `ConnectionManager`). A cache failure is never a request failure: callers
//! treat an error as a miss and fetch afresh.
//!
//! Redis has a bounded in-process tier in front of it ([`RedisCache`]): every write goes to
//! both, reads try the tier first, and a value read from Redis is kept in the tier for a
//! short while. So during a Redis outage a replica still serves what it wrote or read (a
//! document its ITI-38 offered stays retrievable by ITI-39 there), and after a Redis error
//! the backend is marked down for a backoff period (250 ms doubling to 5 s) in which no
//! request touches Redis: one request probes when it ends. Readiness reports the outage as
//! `degraded`, not failed.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use moka::Expiry;
use redis::AsyncCommands;
use secrecy::{ExposeSecret, SecretString};

/// What a cached value is; each kind has its own key space and lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// PDS demographics, keyed by the patient pseudonym.
    Pds,
    /// SDS ASID and endpoint, keyed by ODS code.
    Sds,
    /// A converted document, keyed by its document id.
    Document,
    /// The current document id for a patient, keyed by the patient pseudonym.
    PatientDocument,
    /// The document id of an XDS DocumentEntry, keyed by its entryUUID (`urn:uuid:…`).
    EntryUuid,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Pds => "pds",
            Kind::Sds => "sds",
            Kind::Document => "doc",
            Kind::PatientDocument => "patdoc",
            Kind::EntryUuid => "entry",
        }
    }
}

/// Why the cache could not answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CacheError {
    #[error("cache unavailable: {0}")]
    Unavailable(String),
    #[error("invalid cache configuration: {0}")]
    Config(String),
}

/// One cache backend.
pub trait CacheStore: Send + Sync {
    fn get(
        &self,
        kind: Kind,
        key: &str,
    ) -> impl Future<Output = Result<Option<Bytes>, CacheError>> + Send;
    fn put(
        &self,
        kind: Kind,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), CacheError>> + Send;
    fn delete(&self, kind: Kind, key: &str) -> impl Future<Output = Result<(), CacheError>> + Send;
    /// Readiness probe.
    fn ping(&self) -> impl Future<Output = Result<(), CacheError>> + Send;
    /// `memory` or `redis`, for health reports and metrics.
    fn backend(&self) -> &'static str;
}

#[derive(Clone)]
struct Entry {
    value: Bytes,
    ttl: Duration,
}

struct PerEntryTtl;

impl Expiry<(Kind, String), Entry> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &(Kind, String),
        value: &Entry,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &(Kind, String),
        value: &Entry,
        _updated_at: std::time::Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// In-process cache bounded by the total size of keys and values.
#[derive(Clone)]
pub struct MemoryCache {
    inner: moka::future::Cache<(Kind, String), Entry>,
}

impl MemoryCache {
    pub fn new(max_bytes: u64) -> Self {
        let inner = moka::future::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|k: &(Kind, String), v: &Entry| {
                u32::try_from(k.1.len() + v.value.len() + 64).unwrap_or(u32::MAX)
            })
            .expire_after(PerEntryTtl)
            .eviction_listener(|_key, _value, cause| {
                // Replacements and explicit deletes are not evictions.
                let reason = match cause {
                    moka::notification::RemovalCause::Size => "size",
                    moka::notification::RemovalCause::Expired => "expired",
                    _ => return,
                };
                metrics::counter!("xhuma_cache_evictions_total", "reason" => reason).increment(1);
            })
            .build();
        Self { inner }
    }

    /// `xhuma_cache_bytes` / `xhuma_cache_entries`, as moka accounts them now (evictions it
    /// has not run yet are still counted).
    #[allow(clippy::cast_precision_loss)]
    fn publish_size(&self) {
        metrics::gauge!("xhuma_cache_bytes").set(self.inner.weighted_size() as f64);
        metrics::gauge!("xhuma_cache_entries").set(self.inner.entry_count() as f64);
    }

    /// Bytes currently accounted for (after pending evictions run).
    pub async fn weighted_size(&self) -> u64 {
        self.inner.run_pending_tasks().await;
        self.inner.weighted_size()
    }
}

impl CacheStore for MemoryCache {
    async fn get(&self, kind: Kind, key: &str) -> Result<Option<Bytes>, CacheError> {
        Ok(self
            .inner
            .get(&(kind, key.to_owned()))
            .await
            .map(|e| e.value))
    }

    async fn put(
        &self,
        kind: Kind,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        self.inner
            .insert((kind, key.to_owned()), Entry { value, ttl })
            .await;
        self.publish_size();
        Ok(())
    }

    async fn delete(&self, kind: Kind, key: &str) -> Result<(), CacheError> {
        self.inner.invalidate(&(kind, key.to_owned())).await;
        self.publish_size();
        Ok(())
    }

    async fn ping(&self) -> Result<(), CacheError> {
        // Readiness is polled regularly: keep the size gauges current between writes.
        self.publish_size();
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

/// How long a value read from Redis is kept in the in-process tier: long enough to carry an
/// ITI-38 → ITI-39 exchange through an outage, short enough that another replica's newer
/// value (a patient's current document) is seen soon.
const LOCAL_TTL_AFTER_READ: Duration = Duration::from_secs(300);
const BACKOFF_FIRST: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Whether Redis is believed up, shared by every clone of the cache.
struct RedisHealth {
    /// Reference point of `down_until_ms`.
    epoch: Instant,
    /// Milliseconds after `epoch` before which Redis is not called (0: up).
    down_until_ms: AtomicU64,
    /// Consecutive failures, for the backoff.
    failures: AtomicU32,
}

impl RedisHealth {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether this request may call Redis. When a down period ends, exactly one caller wins
    /// the right to probe (the period is extended for the others while it does).
    fn may_call(&self) -> bool {
        let until = self.down_until_ms.load(Ordering::Acquire);
        if until == 0 {
            return true;
        }
        let now = self.now_ms();
        if now < until {
            return false;
        }
        // The probe's own time budget: the connection and response timeouts.
        let probe_until = now + 1_000;
        self.down_until_ms
            .compare_exchange(until, probe_until, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn succeeded(&self) {
        if self.down_until_ms.swap(0, Ordering::AcqRel) != 0 {
            tracing::info!("Redis is answering again");
            metrics::gauge!("xhuma_cache_redis_down").set(0.0);
        }
        self.failures.store(0, Ordering::Release);
    }

    fn failed(&self) {
        let n = self.failures.fetch_add(1, Ordering::AcqRel).min(16);
        let backoff = BACKOFF_FIRST
            .saturating_mul(1u32 << n.min(10))
            .min(BACKOFF_MAX);
        let until = self.now_ms() + u64::try_from(backoff.as_millis()).unwrap_or(5_000);
        if self.down_until_ms.swap(until.max(1), Ordering::AcqRel) == 0 {
            tracing::warn!("Redis failed: serving from the in-process tier until it returns");
        }
        metrics::gauge!("xhuma_cache_redis_down").set(1.0);
        metrics::counter!("xhuma_cache_redis_failures_total").increment(1);
    }

    fn is_down(&self) -> bool {
        self.down_until_ms.load(Ordering::Acquire) != 0
    }
}

/// Redis cache with keys `<prefix>:<kind>:<key>`, behind a bounded in-process tier.
#[derive(Clone)]
pub struct RedisCache {
    conn: redis::aio::ConnectionManager,
    prefix: String,
    local: MemoryCache,
    health: Arc<RedisHealth>,
}

impl RedisCache {
    /// Connects lazily: the gateway starts (not ready) even when Redis is down, and the
    /// connection manager reconnects when it comes back. Short timeouts keep a dead Redis from
    /// stalling requests, which then go upstream instead.
    pub fn new(url: &SecretString, prefix: &str, local_max_bytes: u64) -> Result<Self, CacheError> {
        let client = redis::Client::open(url.expose_secret())
            // The URL may carry a password: report only the kind of problem.
            .map_err(|e| CacheError::Config(format!("invalid Redis URL ({:?})", e.kind())))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let conn = redis::aio::ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| CacheError::Config(e.to_string()))?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
            local: MemoryCache::new(local_max_bytes),
            health: Arc::new(RedisHealth {
                epoch: Instant::now(),
                down_until_ms: AtomicU64::new(0),
                failures: AtomicU32::new(0),
            }),
        })
    }

    /// True while Redis is marked down (the in-process tier answers alone).
    pub fn is_degraded(&self) -> bool {
        self.health.is_down()
    }

    fn down() -> CacheError {
        CacheError::Unavailable("redis: marked down after a failure, retrying shortly".into())
    }

    fn track<T>(&self, r: Result<T, redis::RedisError>) -> Result<T, CacheError> {
        match r {
            Ok(v) => {
                self.health.succeeded();
                Ok(v)
            }
            Err(e) => {
                self.health.failed();
                Err(unavailable(e))
            }
        }
    }

    fn key(&self, kind: Kind, key: &str) -> String {
        format!("{}:{}:{}", self.prefix, kind.as_str(), key)
    }
}

fn unavailable(e: redis::RedisError) -> CacheError {
    CacheError::Unavailable(format!("redis: {:?}", e.kind()))
}

impl CacheStore for RedisCache {
    async fn get(&self, kind: Kind, key: &str) -> Result<Option<Bytes>, CacheError> {
        if let Ok(Some(v)) = self.local.get(kind, key).await {
            return Ok(Some(v));
        }
        if !self.health.may_call() {
            return Err(Self::down());
        }
        let mut conn = self.conn.clone();
        let v: Option<Vec<u8>> = self.track(conn.get(self.key(kind, key)).await)?;
        let v = v.map(Bytes::from);
        if let Some(v) = &v {
            let _ = self
                .local
                .put(kind, key, v.clone(), LOCAL_TTL_AFTER_READ)
                .await;
        }
        Ok(v)
    }

    async fn put(
        &self,
        kind: Kind,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let _ = self.local.put(kind, key, value.clone(), ttl).await;
        if !self.health.may_call() {
            // The tier holds it; other replicas will fetch afresh.
            return Ok(());
        }
        let mut conn = self.conn.clone();
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let opts = redis::SetOptions::default().with_expiration(redis::SetExpiry::PX(ms));
        let r: Result<(), _> = conn
            .set_options(self.key(kind, key), value.as_ref(), opts)
            .await;
        // A failed Redis write is marked (and metered) but not an error: the tier holds it.
        let _ = self.track(r);
        Ok(())
    }

    async fn delete(&self, kind: Kind, key: &str) -> Result<(), CacheError> {
        let _ = self.local.delete(kind, key).await;
        if !self.health.may_call() {
            return Err(Self::down());
        }
        let mut conn = self.conn.clone();
        let _: i64 = self.track(conn.del(self.key(kind, key)).await)?;
        Ok(())
    }

    /// Always asks Redis (readiness is polled every few seconds at most), so a returning
    /// Redis is noticed even when no request probes it.
    async fn ping(&self) -> Result<(), CacheError> {
        let mut conn = self.conn.clone();
        let r: Result<String, _> = redis::cmd("PING").query_async(&mut conn).await;
        self.track(r).map(|_| ())
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}

/// The configured backend.
#[derive(Clone)]
pub enum AnyCache {
    Memory(MemoryCache),
    Redis(RedisCache),
}

impl CacheStore for AnyCache {
    async fn get(&self, kind: Kind, key: &str) -> Result<Option<Bytes>, CacheError> {
        let r = match self {
            AnyCache::Memory(c) => c.get(kind, key).await,
            AnyCache::Redis(c) => c.get(kind, key).await,
        };
        let outcome = match &r {
            Ok(Some(_)) => "hit",
            Ok(None) => "miss",
            Err(_) => "error",
        };
        metrics::counter!("xhuma_cache_requests_total", "kind" => kind.as_str(), "outcome" => outcome)
            .increment(1);
        r
    }

    async fn put(
        &self,
        kind: Kind,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        match self {
            AnyCache::Memory(c) => c.put(kind, key, value, ttl).await,
            AnyCache::Redis(c) => c.put(kind, key, value, ttl).await,
        }
    }

    async fn delete(&self, kind: Kind, key: &str) -> Result<(), CacheError> {
        match self {
            AnyCache::Memory(c) => c.delete(kind, key).await,
            AnyCache::Redis(c) => c.delete(kind, key).await,
        }
    }

    async fn ping(&self) -> Result<(), CacheError> {
        match self {
            AnyCache::Memory(c) => c.ping().await,
            AnyCache::Redis(c) => c.ping().await,
        }
    }

    fn backend(&self) -> &'static str {
        match self {
            AnyCache::Memory(c) => c.backend(),
            AnyCache::Redis(c) => c.backend(),
        }
    }
}

impl AnyCache {
    /// True when a remote backend is failing and the in-process tier answers alone.
    pub fn is_degraded(&self) -> bool {
        match self {
            AnyCache::Memory(_) => false,
            AnyCache::Redis(c) => c.is_degraded(),
        }
    }

    /// Redis when a URL is configured, otherwise in-process.
    pub fn from_config(
        redis_url: Option<&SecretString>,
        cfg: &crate::config::CacheConfig,
    ) -> Result<Self, CacheError> {
        Ok(match redis_url {
            Some(url) => AnyCache::Redis(RedisCache::new(url, &cfg.key_prefix, cfg.max_bytes)?),
            None => AnyCache::Memory(MemoryCache::new(cfg.max_bytes)),
        })
    }
}
