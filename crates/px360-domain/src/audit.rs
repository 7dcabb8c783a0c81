//! The audit record and its hash chain.
//!
//! Each record's hash covers its sequence number, the previous record's hash and every field,
//! so editing, deleting or reordering any record breaks verification from that point on.
//! Records are keyed (HMAC-SHA-256 with a [`ChainKey`] kept outside the database), so
//! someone holding only database access cannot re-hash an edited chain. Records written before
//! the key was introduced (sequence <= [`ChainKey::legacy_until`]) are plain SHA-256; they are
//! still protected because the first keyed record's HMAC covers the last legacy hash.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The chain key and the boundary of the unkeyed (legacy) prefix of the chain.
#[derive(Clone)]
pub struct ChainKey {
    key: Vec<u8>,
    /// Records up to and including this sequence number predate the key (plain SHA-256).
    pub legacy_until: i64,
}

impl std::fmt::Debug for ChainKey {
    // Never print the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainKey")
            .field("legacy_until", &self.legacy_until)
            .finish_non_exhaustive()
    }
}

impl ChainKey {
    pub fn new(key: Vec<u8>, legacy_until: i64) -> Self {
        Self { key, legacy_until }
    }
    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        #[allow(clippy::expect_used)]
        <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length")
    }
    /// HMAC of arbitrary bytes (used for checkpoints), hex.
    pub fn sign(&self, msg: &[u8]) -> String {
        let mut m = self.mac();
        m.update(msg);
        hex(&m.finalize().into_bytes())
    }
    /// Constant-time check of [`ChainKey::sign`].
    pub fn verify(&self, msg: &[u8], tag_hex: &str) -> bool {
        let Some(tag) = unhex(tag_hex) else {
            return false;
        };
        let mut m = self.mac();
        m.update(msg);
        m.verify_slice(&tag).is_ok()
    }
    /// Is record `seq` keyed under this key?
    pub fn keys(&self, seq: i64) -> bool {
        seq > self.legacy_until
    }
}

pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// SHA-256 or HMAC-SHA-256, fed the same bytes.
enum Hasher {
    Plain(Sha256),
    Keyed(Box<Hmac<Sha256>>),
}

impl Hasher {
    fn update(&mut self, b: impl AsRef<[u8]>) {
        match self {
            Hasher::Plain(h) => h.update(b),
            Hasher::Keyed(m) => m.update(b.as_ref()),
        }
    }
    fn finish(self) -> String {
        match self {
            Hasher::Plain(h) => hex(&h.finalize()),
            Hasher::Keyed(m) => hex(&m.finalize().into_bytes()),
        }
    }
}

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

fn field(h: &mut Hasher, v: Option<&str>) {
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
    /// The record's hash: HMAC-SHA-256 when `key` covers this sequence number, else SHA-256.
    pub fn compute_hash(&self, key: Option<&ChainKey>) -> String {
        let mut h = match key {
            Some(k) if k.keys(self.seq) => Hasher::Keyed(Box::new(k.mac())),
            _ => Hasher::Plain(Sha256::new()),
        };
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
        h.finish()
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
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    prev_hash: String,
    next_seq: i64,
    pub checked: u64,
    key: Option<ChainKey>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new(None)
    }
}

impl ChainVerifier {
    pub fn new(key: Option<ChainKey>) -> Self {
        Self {
            prev_hash: GENESIS.to_owned(),
            next_seq: 1,
            checked: 0,
            key,
        }
    }
    /// Continue from a verified record (`last_seq`, `last_hash`), so periodic checks only read
    /// what was appended since.
    pub fn resume(key: Option<ChainKey>, last_seq: i64, last_hash: String) -> Self {
        Self {
            prev_hash: last_hash,
            next_seq: last_seq + 1,
            checked: 0,
            key,
        }
    }
    /// The sequence number of the last record accepted (0 before the first).
    pub fn last_seq(&self) -> i64 {
        self.next_seq - 1
    }
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
        if r.compute_hash(self.key.as_ref()) != r.hash {
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
        r.hash = r.compute_hash(None);
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

    #[test]
    fn keyed_chain_rejects_a_rehash_without_the_key() {
        let key = ChainKey::new(b"secret".to_vec(), 1);
        let a = rec(1, GENESIS); // legacy (unkeyed)
        let mut b = rec(2, &a.hash);
        b.hash = b.compute_hash(Some(&key));
        let mut v = ChainVerifier::new(Some(key.clone()));
        assert!(v.check(&a).is_ok() && v.check(&b).is_ok());

        // The attacker edits record 2 and re-hashes it with plain SHA-256 (no key).
        let mut forged = b.clone();
        forged.action = "logout".into();
        forged.hash = forged.compute_hash(None);
        let mut v = ChainVerifier::new(Some(key.clone()));
        v.check(&a).ok();
        assert_eq!(v.check(&forged), Err(ChainError::Altered { seq: 2 }));

        // Editing a legacy record breaks the keyed record that follows it.
        let mut a2 = a.clone();
        a2.actor_id = Some("x".into());
        a2.hash = a2.compute_hash(None);
        let mut v = ChainVerifier::new(Some(key.clone()));
        v.check(&a2).ok();
        assert_eq!(v.check(&b), Err(ChainError::BrokenLink { seq: 2 }));

        assert!(key.verify(b"m", &key.sign(b"m")));
        assert!(!key.verify(b"n", &key.sign(b"m")));
    }
}
