//! Signed audit checkpoints in an append-only file outside the database.
//!
//! Each line records the chain head (sequence number, hash) at a moment, signed with the chain
//! key: `v1 <seq> <hash> <time> <hmac>`. Someone holding only database access can delete the
//! newest audit records and rewind `audit_head` consistently, but cannot remove or forge a
//! checkpoint, so the database then ends before the newest checkpoint and verification fails.

use px360_domain::audit::ChainKey;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error(
        "checkpoint file {0} is missing: tail deletion cannot be ruled out (restore it from backup)"
    )]
    Missing(PathBuf),
    #[error("checkpoint file {path}, line {line}: bad signature or format (file altered)")]
    Forged { path: PathBuf, line: usize },
    #[error("checkpoint file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone)]
pub struct Checkpoints {
    path: PathBuf,
    key: ChainKey,
}

fn message(seq: i64, hash: &str, at: &str) -> String {
    format!("px360-audit-checkpoint|v1|{seq}|{hash}|{at}")
}

impl Checkpoints {
    pub fn new(path: impl Into<PathBuf>, key: ChainKey) -> Self {
        Self {
            path: path.into(),
            key,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> CheckpointError {
        CheckpointError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Append a checkpoint and fsync it (the file is created 0600 if missing).
    pub fn append(&self, seq: i64, hash: &str) -> Result<Checkpoint, CheckpointError> {
        let at = crate::now_ts();
        let line = format!(
            "v1 {seq} {hash} {at} {}\n",
            self.key.sign(message(seq, hash, &at).as_bytes())
        );
        let mut o = std::fs::OpenOptions::new();
        o.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let mut f = o.open(&self.path).map_err(|e| self.io(e))?;
        f.write_all(line.as_bytes()).map_err(|e| self.io(e))?;
        f.sync_data().map_err(|e| self.io(e))?;
        Ok(Checkpoint {
            seq,
            hash: hash.to_owned(),
            at,
        })
    }

    /// The checkpoint with the highest sequence number, after checking every line's signature.
    /// A missing file is an error: it is created together with the key, so its absence means it
    /// was removed.
    pub fn newest(&self) -> Result<Option<Checkpoint>, CheckpointError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CheckpointError::Missing(self.path.clone()));
            }
            Err(e) => return Err(self.io(e)),
        };
        let mut best: Option<Checkpoint> = None;
        let lines: Vec<&str> = text.split('\n').collect();
        for (i, line) in lines.iter().enumerate() {
            // A torn last line (crash mid-write, never fsync'd) is not a checkpoint.
            if line.is_empty() || (i + 1 == lines.len() && !text.ends_with('\n')) {
                continue;
            }
            let forged = || CheckpointError::Forged {
                path: self.path.clone(),
                line: i + 1,
            };
            let parts: Vec<&str> = line.split(' ').collect();
            let [v, seq, hash, at, mac] = parts[..] else {
                return Err(forged());
            };
            let seq: i64 = seq.parse().map_err(|_| forged())?;
            if v != "v1" || !self.key.verify(message(seq, hash, at).as_bytes(), mac) {
                return Err(forged());
            }
            if best.as_ref().is_none_or(|b| seq >= b.seq) {
                best = Some(Checkpoint {
                    seq,
                    hash: hash.to_owned(),
                    at: at.to_owned(),
                });
            }
        }
        Ok(best)
    }
}
