//! The audit record and its hash chain.
//!
//! Each record's hash covers its sequence number, the previous record's hash and every field,
//! so editing, deleting or reordering any record breaks verification from that point on.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Hash of the (virtual) record before the first one.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: String,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub action: String,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub hospital_id: Option<String>,
    /// JSON text of the change (field → new value); never patient bodies.
    pub changes: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

fn field(h: &mut Sha256, v: Option<&str>) {
    // Length-prefixing makes the encoding unambiguous ("a|b" vs "a" "|b").
    match v {
        Some(s) => {
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        }
        None => h.update(u64::MAX.to_be_bytes()),
    }
}

impl AuditRecord {
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.seq.to_be_bytes());
        for v in [
            Some(self.prev_hash.as_str()),
            Some(self.at.as_str()),
            Some(self.actor_type.as_str()),
            self.actor_id.as_deref(),
            self.ip.as_deref(),
            self.user_agent.as_deref(),
            Some(self.action.as_str()),
            self.object_type.as_deref(),
            self.object_id.as_deref(),
            self.hospital_id.as_deref(),
            self.changes.as_deref(),
        ] {
            field(&mut h, v);
        }
        hex(&h.finalize())
    }
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChainError {
    #[error("record {seq}: expected sequence number {expected} (a record is missing)")]
    Gap { seq: i64, expected: i64 },
    #[error("record {seq}: prev_hash does not match the previous record's hash")]
    BrokenLink { seq: i64 },
    #[error("record {seq}: hash does not match its contents (record altered)")]
    Altered { seq: i64 },
}

/// Incremental verifier so that large logs can be streamed page by page.
#[derive(Debug)]
pub struct ChainVerifier {
    prev_hash: String,
    next_seq: i64,
    pub checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            prev_hash: GENESIS.to_owned(),
            next_seq: 1,
            checked: 0,
        }
    }
}

impl ChainVerifier {
    pub fn check(&mut self, r: &AuditRecord) -> Result<(), ChainError> {
        if r.seq != self.next_seq {
            return Err(ChainError::Gap {
                seq: r.seq,
                expected: self.next_seq,
            });
        }
        if r.prev_hash != self.prev_hash {
            return Err(ChainError::BrokenLink { seq: r.seq });
        }
        if r.compute_hash() != r.hash {
            return Err(ChainError::Altered { seq: r.seq });
        }
        self.prev_hash = r.hash.clone();
        self.next_seq += 1;
        self.checked += 1;
        Ok(())
    }
    pub fn last_hash(&self) -> &str {
        &self.prev_hash
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rec(seq: i64, prev: &str) -> AuditRecord {
        let mut r = AuditRecord {
            seq,
            at: "2025-01-01T00:00:00.000000Z".into(),
            actor_type: "user".into(),
            actor_id: Some("u".into()),
            ip: None,
            user_agent: None,
            action: "login".into(),
            object_type: None,
            object_id: None,
            hospital_id: None,
            changes: None,
            prev_hash: prev.into(),
            hash: String::new(),
        };
        r.hash = r.compute_hash();
        r
    }

    #[test]
    fn chain_detects_alteration_and_gaps() {
        let a = rec(1, GENESIS);
        let b = rec(2, &a.hash);
        let mut v = ChainVerifier::default();
        assert!(v.check(&a).is_ok() && v.check(&b).is_ok());

        let mut altered = b.clone();
        altered.action = "logout".into();
        let mut v = ChainVerifier::default();
        v.check(&a).ok();
        assert_eq!(v.check(&altered), Err(ChainError::Altered { seq: 2 }));

        let mut v = ChainVerifier::default();
        assert_eq!(
            v.check(&b),
            Err(ChainError::Gap {
                seq: 2,
                expected: 1
            })
        );
    }
}
