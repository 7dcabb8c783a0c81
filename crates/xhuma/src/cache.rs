//! The gateway's cache: PDS demographics, SDS lookups and converted documents, each with its
//! own lifetime.
//!
//! Two backends behind one trait: in-process (moka, bounded by the bytes of the cached
//! values, per-entry TTL) and Redis (namespaced keys with `SET .. PX`, `rediss://` for TLS,
//! reconnection by `ConnectionManager`). A cache failure is never a request failure: callers
//! treat an error as a miss and fetch afresh, and readiness reports the backend as failing.

use std::future::Future;
use std::time::Duration;

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
            .build();
        Self { inner }
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
        Ok(())
    }

    async fn delete(&self, kind: Kind, key: &str) -> Result<(), CacheError> {
        self.inner.invalidate(&(kind, key.to_owned())).await;
        Ok(())
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

/// Redis cache with keys `<prefix>:<kind>:<key>`.
#[derive(Clone)]
pub struct RedisCache {
    conn: redis::aio::ConnectionManager,
    prefix: String,
}

impl RedisCache {
    /// Connects lazily: the gateway starts (not ready) even when Redis is down, and the
    /// connection manager reconnects when it comes back. Short timeouts keep a dead Redis from
    /// stalling requests, which then go upstream instead.
    pub fn new(url: &SecretString, prefix: &str) -> Result<Self, CacheError> {
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
        })
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
        let mut conn = self.conn.clone();
        let v: Option<Vec<u8>> = conn.get(self.key(kind, key)).await.map_err(unavailable)?;
        Ok(v.map(Bytes::from))
    }

    async fn put(
        &self,
        kind: Kind,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let mut conn = self.conn.clone();
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let opts = redis::SetOptions::default().with_expiration(redis::SetExpiry::PX(ms));
        let _: () = conn
            .set_options(self.key(kind, key), value.as_ref(), opts)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn delete(&self, kind: Kind, key: &str) -> Result<(), CacheError> {
        let mut conn = self.conn.clone();
        let _: i64 = conn.del(self.key(kind, key)).await.map_err(unavailable)?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), CacheError> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(())
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
    /// Redis when a URL is configured, otherwise in-process.
    pub fn from_config(
        redis_url: Option<&SecretString>,
        cfg: &crate::config::CacheConfig,
    ) -> Result<Self, CacheError> {
        Ok(match redis_url {
            Some(url) => AnyCache::Redis(RedisCache::new(url, &cfg.key_prefix)?),
            None => AnyCache::Memory(MemoryCache::new(cfg.max_bytes)),
        })
    }
}
