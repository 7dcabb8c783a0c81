//! Append-only audit log with a keyed hash chain (see `px360_domain::audit`).
//!
//! Appends are serialised through the single `audit_head` row, so records from several
//! processes form one chain. Call [`append`] inside the transaction that makes the audited
//! change, so the change and its audit record commit or roll back together.
//!
//! The chain key and the checkpoint file are process-wide ([`install`]): a process serves one
//! audit chain, and appends happen deep inside other transactions that carry no `Db`.

use crate::checkpoint::{CheckpointError, Checkpoints};
use crate::{Db, Result, now_ts};
use px360_domain::audit::{AuditRecord, ChainError, ChainKey, ChainVerifier};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};
use std::sync::RwLock;

/// What protects this process's chain: the key (absent = unkeyed legacy chain, as in tests
/// that do not install one) and the checkpoint file.
#[derive(Debug, Clone, Default)]
pub struct Protection {
    pub key: Option<ChainKey>,
    pub checkpoints: Option<Checkpoints>,
}

static PROTECTION: RwLock<Option<Protection>> = RwLock::new(None);

/// Install the chain key and checkpoint file for this process (replacing any before).
pub fn install(p: Protection) {
    if let Ok(mut g) = PROTECTION.write() {
        *g = Some(p);
    }
}

pub fn protection() -> Protection {
    PROTECTION
        .read()
        .ok()
        .and_then(|g| g.clone())
        .unwrap_or_default()
}

/// Latest verification outcome, read by `/health/` (None = not verified yet).
static STATUS: RwLock<Option<std::result::Result<u64, String>>> = RwLock::new(None);

/// Record a verification outcome: `/health/` and the `px360_audit_chain_ok` gauge follow at once.
pub fn set_status(r: &std::result::Result<u64, VerifyError>) {
    metrics::gauge!("px360_audit_chain_ok").set(if r.is_ok() { 1.0 } else { 0.0 });
    if let Ok(mut g) = STATUS.write() {
        // A broken chain stays broken until a restart re-verifies it: a later incremental
        // check that only reads new records must not turn it green again.
        if matches!(*g, Some(Err(_))) && r.is_ok() {
            return;
        }
        *g = Some(r.as_ref().map(|n| *n).map_err(|e| e.to_string()));
    }
}

pub fn status() -> Option<std::result::Result<u64, String>> {
    STATUS.read().ok().and_then(|g| g.clone())
}

/// Forget the recorded outcome (a new process start; used by tests that restart in-process).
pub fn reset_status() {
    if let Ok(mut g) = STATUS.write() {
        *g = None;
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditEntry {
    pub actor_type: &'static str,
    pub actor_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub action: String,
    pub object_type: Option<&'static str>,
    pub object_id: Option<String>,
    pub hospital_id: Option<String>,
    pub changes: Option<serde_json::Value>,
}

pub async fn append(tx: &mut Transaction<'static, Any>, e: &AuditEntry) -> Result<i64> {
    let seqs = append_many(tx, std::slice::from_ref(e)).await?;
    seqs.first().copied().ok_or(crate::StoreError::NotFound)
}

/// Append several records in one go (one head update for the whole batch).
pub async fn append_many(tx: &mut sqlx::AnyConnection, entries: &[AuditEntry]) -> Result<Vec<i64>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let n = entries.len() as i64;
    // The head row update is the first write: it serialises appenders (row lock / write lock).
    let head = sqlx::query(
        "UPDATE audit_head SET last_seq = last_seq + $1 WHERE id = 1 RETURNING last_seq, last_hash",
    )
    .bind(n)
    .fetch_one(&mut *tx)
    .await?;
    let last_seq: i64 = head.try_get("last_seq")?;
    let mut prev_hash: String = head.try_get("last_hash")?;
    let at = now_ts();
    let key = protection().key;
    let mut seqs = Vec::with_capacity(entries.len());
    let mut records = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let mut r = AuditRecord {
            seq: last_seq - n + 1 + i as i64,
            at: at.clone(),
            actor_type: e.actor_type.to_owned(),
            actor_id: e.actor_id.clone(),
            ip: e.ip.clone(),
            user_agent: e.user_agent.as_ref().map(|u| u.chars().take(256).collect()),
            action: e.action.clone(),
            object_type: e.object_type.map(str::to_owned),
            object_id: e.object_id.clone(),
            hospital_id: e.hospital_id.clone(),
            changes: e.changes.as_ref().map(|c| c.to_string()),
            prev_hash,
            hash: String::new(),
        };
        r.hash = r.compute_hash(key.as_ref());
        seqs.push(r.seq);
        prev_hash = r.hash.clone();
        records.push(r);
    }
    const COLS: usize = 13;
    for chunk in records.chunks(crate::bulk::rows_per_statement(COLS)) {
        let sql = format!(
            "INSERT INTO audit_log (seq, at, actor_type, actor_id, ip, user_agent, action, object_type, object_id, hospital_id, changes, prev_hash, hash) VALUES {}",
            crate::bulk::Marks::on(tx).tuples(chunk.len(), COLS, "")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(r.seq)
                .bind(&r.at)
                .bind(&r.actor_type)
                .bind(&r.actor_id)
                .bind(&r.ip)
                .bind(&r.user_agent)
                .bind(&r.action)
                .bind(&r.object_type)
                .bind(&r.object_id)
                .bind(&r.hospital_id)
                .bind(&r.changes)
                .bind(&r.prev_hash)
                .bind(&r.hash);
        }
        q.execute(&mut *tx).await?;
    }
    sqlx::query("UPDATE audit_head SET last_hash = $1 WHERE id = 1")
        .bind(&prev_hash)
        .execute(&mut *tx)
        .await?;
    Ok(seqs)
}

const AUDIT_COLS: &str = "seq, at, actor_type, actor_id, ip, user_agent, action, object_type, object_id, hospital_id, changes, prev_hash, hash";

fn record(row: &sqlx::any::AnyRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor_type: row.try_get("actor_type")?,
        actor_id: row.try_get("actor_id")?,
        ip: row.try_get("ip")?,
        user_agent: row.try_get("user_agent")?,
        action: row.try_get("action")?,
        object_type: row.try_get("object_type")?,
        object_id: row.try_get("object_id")?,
        hospital_id: row.try_get("hospital_id")?,
        changes: row.try_get("changes")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(
        "the chain ends at record {last_seq} but the head says {head_seq}: records were removed from the end"
    )]
    Truncated { last_seq: i64, head_seq: i64 },
    #[error("the head hash does not match the last record")]
    HeadMismatch,
    #[error(
        "the database ends at record {head_seq} but checkpoint {checkpoint_seq} was written: records were removed or the head was rewound"
    )]
    BehindCheckpoint { head_seq: i64, checkpoint_seq: i64 },
    #[error("record {seq} does not match checkpoint {seq}: the chain was rewritten")]
    CheckpointMismatch { seq: i64 },
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

impl Db {
    /// Append one audit record in its own transaction.
    pub async fn audit(&self, e: &AuditEntry) -> Result<i64> {
        let mut tx = self.writer.begin().await?;
        let seq = append(&mut tx, e).await?;
        tx.commit().await?;
        Ok(seq)
    }

    pub async fn audit_records(
        &self,
        hospital_id: Option<&str>,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {AUDIT_COLS} FROM audit_log WHERE seq > $1 AND ($2 IS NULL OR hospital_id = $2) ORDER BY seq LIMIT $3"
        )))
        .bind(after_seq)
        .bind(hospital_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record).collect()
    }

    /// The `audit_head` row: (last sequence number, last hash).
    pub async fn audit_head(&self) -> Result<(i64, String)> {
        let head = sqlx::query("SELECT last_seq, last_hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok((head.try_get("last_seq")?, head.try_get("last_hash")?))
    }

    /// Walk the whole chain with this process's key and check it against the newest
    /// checkpoint; returns the number of records checked.
    pub async fn verify_audit_chain(&self) -> std::result::Result<u64, VerifyError> {
        let mut v = ChainVerifier::new(protection().key);
        self.verify_audit_chain_from(&mut v).await
    }

    /// Verify the records after `v`'s position (incremental: keep `v` between calls), then the
    /// head and the newest checkpoint. Returns the number of records checked by this call.
    pub async fn verify_audit_chain_from(
        &self,
        v: &mut ChainVerifier,
    ) -> std::result::Result<u64, VerifyError> {
        let before = v.checked;
        let mut last = v.last_seq();
        loop {
            let page = self.audit_records(None, last, 2000).await?;
            if page.is_empty() {
                break;
            }
            for r in &page {
                v.check(r)?;
                last = r.seq;
            }
        }
        let (head_seq, head_hash) = self.audit_head().await?;
        if head_seq != last {
            return Err(VerifyError::Truncated {
                last_seq: last,
                head_seq,
            });
        }
        if head_hash != v.last_hash() {
            return Err(VerifyError::HeadMismatch);
        }
        let newest = match protection().checkpoints {
            Some(cps) => cps.newest()?,
            None => None,
        };
        if let Some(cp) = newest {
            if cp.seq > head_seq {
                return Err(VerifyError::BehindCheckpoint {
                    head_seq,
                    checkpoint_seq: cp.seq,
                });
            }
            if cp.seq > 0 {
                let r = self.audit_records(None, cp.seq - 1, 1).await?;
                if r.first().map(|r| (r.seq, r.hash.as_str())) != Some((cp.seq, cp.hash.as_str())) {
                    return Err(VerifyError::CheckpointMismatch { seq: cp.seq });
                }
            }
        }
        Ok(v.checked - before)
    }
}

/// What the audit log viewer asks for: every given criterion must hold.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only records of this hospital (the viewer's scope; `None` = all).
    pub hospital_id: Option<String>,
    /// The actor's id (a user id or an API key id).
    pub actor_id: Option<String>,
    /// The action, or a prefix of it ending in `.` (`event.` = every event action).
    pub action: Option<String>,
    /// An object id, or an object type (`api_key`, `journey_template`, …).
    pub object: Option<String>,
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// `%` and `_` in a LIKE prefix stand for themselves.
fn like_prefix(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Db {
    /// A page of audit records matching `f`, newest first, strictly older than sequence number
    /// `before`; returns the rows and whether older ones exist (keyset paging on `seq`).
    pub async fn audit_page(
        &self,
        f: &AuditFilter,
        before: Option<i64>,
        limit: i64,
    ) -> Result<(Vec<AuditRecord>, bool)> {
        let action_like = f
            .action
            .as_deref()
            .filter(|a| a.ends_with('.'))
            .map(like_prefix);
        let action_exact = f.action.as_deref().filter(|a| !a.ends_with('.'));
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {AUDIT_COLS} FROM audit_log WHERE seq < $1 \
             AND ($2 IS NULL OR hospital_id = $2) \
             AND ($3 IS NULL OR actor_id = $3) \
             AND ($4 IS NULL OR action = $4) \
             AND ($5 IS NULL OR action LIKE $5 ESCAPE '\\') \
             AND ($6 IS NULL OR object_id = $6 OR object_type = $6) \
             AND ($7 IS NULL OR at >= $7) \
             AND ($8 IS NULL OR at < $8) \
             ORDER BY seq DESC LIMIT $9"
        )))
        .bind(before.unwrap_or(i64::MAX))
        .bind(&f.hospital_id)
        .bind(&f.actor_id)
        .bind(action_exact)
        .bind(action_like)
        .bind(&f.object)
        .bind(f.from.map(crate::ts))
        .bind(f.to.map(crate::ts))
        .bind(limit.saturating_add(1))
        .fetch_all(&self.pool)
        .await?;
        let mut records = rows.iter().map(record).collect::<Result<Vec<_>>>()?;
        let more = records.len() as i64 > limit;
        records.truncate(limit.max(0) as usize);
        Ok((records, more))
    }
}
