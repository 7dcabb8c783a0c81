//! Append-only audit log with a SHA-256 hash chain (see `px360_domain::audit`).
//!
//! Appends are serialised through the single `audit_head` row, so records from several
//! processes form one chain. Call [`append`] inside the transaction that makes the audited
//! change, so the change and its audit record commit or roll back together.

use crate::{Db, Result, now_ts};
use px360_domain::audit::{AuditRecord, ChainError, ChainVerifier};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

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
        r.hash = r.compute_hash();
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

    /// Walk the whole chain; returns the number of records checked.
    pub async fn verify_audit_chain(&self) -> std::result::Result<u64, VerifyError> {
        let mut v = ChainVerifier::default();
        let mut last = 0;
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
        let head = sqlx::query("SELECT last_seq, last_hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(crate::StoreError::from)?;
        let head_seq: i64 = head.try_get("last_seq").map_err(crate::StoreError::from)?;
        let head_hash: String = head.try_get("last_hash").map_err(crate::StoreError::from)?;
        if head_seq != last {
            return Err(VerifyError::Truncated {
                last_seq: last,
                head_seq,
            });
        }
        if head_hash != v.last_hash() {
            return Err(VerifyError::HeadMismatch);
        }
        Ok(v.checked)
    }
}
