//! The durable local spool: every audit event is appended here, and fsync'd, before the
//! database sees it.
//!
//! Layout: `<spool dir>/segment-<20 digits>.log`, each an append-only sequence of lines
//! `<8 hex checksum> <JSON event>\n`. The checksum is the first four bytes of SHA-256 of the
//! JSON, so a torn or corrupted line is recognised and skipped rather than mis-read. One
//! dedicated thread owns the active segment and commits in groups: it takes every queued
//! event, writes them with one `write`, calls `fdatasync` once and only then answers each
//! waiting request (group commit: many requests share one fsync). After each commit it
//! publishes the durable end of the active segment, which is as far as the drainer
//! ([`super::drain`]) reads. A full segment is sealed and a new one started; the drainer
//! deletes a sealed segment once every event in it is in the database. A start always opens
//! a new segment, so a line torn by a crash is never appended to.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot, watch};

use super::{AuditError, AuditEvent};

/// Largest number of events committed with one fsync.
const GROUP: usize = 1024;

/// A position in the spool: (segment number, byte offset). Ordered lexicographically.
pub(crate) type Pos = (u64, u64);

/// An event as spooled and as inserted: owned strings, serialisable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredEvent {
    pub id: String,
    pub occurred_at: String,
    pub category: String,
    pub transaction: String,
    pub outcome: String,
    pub error_code: Option<String>,
    pub patient_pseudonym: Option<String>,
    pub user_id: Option<String>,
    pub user_role: Option<String>,
    pub organisation: Option<String>,
    pub purpose_of_use: Option<String>,
    pub message_id: Option<String>,
    pub relates_to: Option<String>,
    pub trace_id: Option<String>,
    pub document_id: Option<String>,
    pub client_addr: Option<String>,
    pub duration_ms: Option<i64>,
}

impl From<AuditEvent> for StoredEvent {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.id.to_string(),
            occurred_at: e
                .occurred_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            category: e.category.as_str().to_owned(),
            transaction: e.transaction.to_owned(),
            outcome: e.outcome,
            error_code: e.error_code,
            patient_pseudonym: e.patient_pseudonym,
            user_id: e.user_id,
            user_role: e.user_role,
            organisation: e.organisation,
            purpose_of_use: e.purpose_of_use,
            message_id: e.message_id,
            relates_to: e.relates_to,
            trace_id: e.trace_id,
            document_id: e.document_id,
            client_addr: e.client_addr,
            duration_ms: e.duration_ms,
        }
    }
}

/// One spool line for `e`, newline included.
pub(crate) fn encode(e: &StoredEvent) -> Vec<u8> {
    // Serialising a struct of strings and integers cannot fail.
    let json = serde_json::to_vec(e).unwrap_or_default();
    let mut line = Vec::with_capacity(json.len() + 10);
    line.extend_from_slice(checksum(&json).as_bytes());
    line.push(b' ');
    line.extend_from_slice(&json);
    line.push(b'\n');
    line
}

/// Reads one line (without its newline); `None` when torn or corrupted.
pub(crate) fn decode(line: &[u8]) -> Option<StoredEvent> {
    let (sum, rest) = (line.get(..8)?, line.get(8..)?);
    let json = rest.strip_prefix(b" ")?;
    if sum != checksum(json).as_bytes() {
        return None;
    }
    serde_json::from_slice(json).ok()
}

fn checksum(json: &[u8]) -> String {
    crate::pseudonym::hex(&Sha256::digest(json)[..4])
}

pub(crate) fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("segment-{n:020}.log"))
}

/// Segment numbers present in `dir`, ascending.
pub(crate) fn segments(dir: &Path) -> std::io::Result<Vec<u64>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(n) = name
            .strip_prefix("segment-")
            .and_then(|s| s.strip_suffix(".log"))
            .and_then(|s| s.parse::<u64>().ok())
        {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Creates `dir` (and parents) private to the service account: 0700, tightened if it exists
/// with wider permissions. The data directory holds the audit spool, the SQLite audit store
/// and the pseudonym key.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        b.mode(0o700);
        b.create(dir)?;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(dir = %dir.display(), mode = format!("{:o}", mode & 0o777),
                "data directory was accessible to other users; set to 0700");
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    b.create(dir)
}

/// Opens (creating, 0600) a file for appending.
pub(crate) fn private_append(path: &Path, create_new: bool) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.append(true);
    if create_new {
        o.create_new(true);
    } else {
        o.create(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

/// Makes a created or removed directory entry durable.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

pub(crate) enum Req {
    Append {
        line: Vec<u8>,
        done: Option<oneshot::Sender<Result<(), String>>>,
    },
    /// Answers with the durable position once everything before it is fsync'd.
    Sync(oneshot::Sender<Result<Pos, String>>),
    /// Seals the active segment (so the drainer can delete it once drained).
    Rotate,
}

/// Counters shared by the spool writer, the drainer and the health check.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Events durably in the spool (including those found at start).
    pub spooled: AtomicU64,
    /// Events inserted (or found already present) in the database, or skipped as corrupt.
    pub drained: AtomicU64,
    /// The last group commit failed and no new segment could be opened since.
    pub broken: AtomicBool,
    /// The database refused or could not be reached on the last attempt.
    pub db_down: AtomicBool,
}

impl Counters {
    pub fn backlog(&self) -> u64 {
        let s = self.spooled.load(Ordering::Acquire);
        s.saturating_sub(self.drained.load(Ordering::Acquire))
    }

    pub fn publish(&self) {
        metrics::gauge!("xhuma_audit_backlog_events").set(self.backlog() as f64);
    }
}

/// What [`open`] returns: the request channel, the durable position and what was found.
pub(crate) struct Opened {
    pub tx: mpsc::Sender<Req>,
    pub durable: watch::Receiver<Pos>,
    /// The oldest segment to replay.
    pub first: u64,
    /// The lock on the spool directory, held for the process's lifetime.
    pub lock: File,
}

/// Opens the spool in `dir`: locks it, counts the events left by a previous run (they are
/// replayed), starts a new active segment and the writer thread.
pub(crate) fn open(
    dir: &Path,
    segment_bytes: u64,
    counters: Arc<Counters>,
) -> Result<Opened, AuditError> {
    private_dir(dir)?;
    let lock = private_append(&dir.join("spool.lock"), false)?;
    lock.try_lock().map_err(|_| {
        AuditError::Spool(format!(
            "the audit spool {} is in use by another process (each replica needs its own \
             data directory)",
            dir.display()
        ))
    })?;
    let existing = segments(dir)?;
    let mut found = 0u64;
    for &n in &existing {
        let bytes = std::fs::read(segment_path(dir, n))?;
        found += bytes
            .split(|b| *b == b'\n')
            .filter(|l| decode(l).is_some())
            .count() as u64;
    }
    counters.spooled.store(found, Ordering::Release);
    if found > 0 {
        tracing::info!(
            events = found,
            segments = existing.len(),
            "audit spool holds events from a previous run; replaying them into the store"
        );
    }
    let active = existing.last().map_or(1, |n| n + 1);
    let file = private_append(&segment_path(dir, active), true)?;
    sync_dir(dir)?;
    let (durable_tx, durable) = watch::channel((active, 0));
    let (tx, rx) = mpsc::channel(8192);
    let writer = Writer {
        dir: dir.to_path_buf(),
        segment_bytes,
        seg: active,
        file: Some(file),
        len: 0,
        durable: durable_tx,
        counters,
    };
    std::thread::Builder::new()
        .name("audit-spool".into())
        .spawn(move || writer.run(rx))?;
    Ok(Opened {
        tx,
        durable,
        first: existing.first().copied().unwrap_or(active),
        lock,
    })
}

struct Writer {
    dir: PathBuf,
    segment_bytes: u64,
    seg: u64,
    /// `None` after a failed commit: the next commit starts a new segment, so nothing is
    /// appended after a possibly torn line.
    file: Option<File>,
    len: u64,
    durable: watch::Sender<Pos>,
    counters: Arc<Counters>,
}

impl Writer {
    fn run(mut self, mut rx: mpsc::Receiver<Req>) {
        let mut buf = Vec::with_capacity(256 * 1024);
        let mut waiters = Vec::new();
        let mut syncs = Vec::new();
        while let Some(first) = rx.blocking_recv() {
            let mut next = Some(first);
            let mut events = 0u64;
            let mut rotate = false;
            while let Some(req) = next.take() {
                match req {
                    Req::Append { line, done } => {
                        buf.extend_from_slice(&line);
                        events += 1;
                        waiters.extend(done);
                    }
                    Req::Sync(s) => syncs.push(s),
                    Req::Rotate => rotate = true,
                }
                if events < GROUP as u64 {
                    next = rx.try_recv().ok();
                }
            }
            let result = self.commit(&buf, events);
            match &result {
                Ok(()) => {
                    self.counters.broken.store(false, Ordering::Release);
                }
                Err(e) => {
                    metrics::counter!("xhuma_audit_spool_errors_total").increment(1);
                    tracing::error!(error = %e, events,
                        "the audit spool cannot be written; requests that disclose are refused");
                    self.counters.broken.store(true, Ordering::Release);
                }
            }
            self.counters.publish();
            let answer = result.map_err(|e| e.to_string());
            for w in waiters.drain(..) {
                let _ = w.send(answer.clone());
            }
            if answer.is_ok() && (rotate || self.len >= self.segment_bytes) {
                // A failed rotation leaves the active segment in place; it is retried on the
                // next commit that finds the segment full.
                if let Err(e) = self.rotate() {
                    tracing::warn!(error = %e, "audit spool segment could not be rotated");
                }
            }
            let pos = *self.durable.borrow();
            for s in syncs.drain(..) {
                let _ = s.send(answer.clone().map(|()| pos));
            }
            buf.clear();
        }
        // All senders dropped: the log was closed. Everything answered was already fsync'd.
    }

    fn commit(&mut self, buf: &[u8], events: u64) -> std::io::Result<()> {
        if self.file.is_none() {
            self.rotate()?;
        }
        let Some(file) = self.file.as_mut() else {
            return Err(std::io::Error::other("no active spool segment"));
        };
        if buf.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let res = file.write_all(buf).and_then(|()| file.sync_data());
        metrics::histogram!("xhuma_audit_spool_commit_seconds")
            .record(started.elapsed().as_secs_f64());
        match res {
            Ok(()) => {
                self.len += buf.len() as u64;
                // Counted before the drainer can see the events, so the backlog never
                // undercounts.
                self.counters.spooled.fetch_add(events, Ordering::AcqRel);
                self.durable.send_replace((self.seg, self.len));
                Ok(())
            }
            Err(e) => {
                self.file = None;
                Err(e)
            }
        }
    }

    /// Seals the active segment and opens the next one.
    fn rotate(&mut self) -> std::io::Result<()> {
        let next = self.seg + 1;
        let file = private_append(&segment_path(&self.dir, next), true)?;
        sync_dir(&self.dir)?;
        self.file = Some(file);
        self.seg = next;
        self.len = 0;
        self.durable.send_replace((next, 0));
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::audit::Category;

    #[test]
    fn lines_round_trip_and_damage_is_detected() {
        let mut e = AuditEvent::new(Category::Transaction, "iti39", "success");
        e.message_id = Some("urn:uuid:with\nnewline and \u{1} control".into());
        let s = StoredEvent::from(e);
        let line = encode(&s);
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
        let body = &line[..line.len() - 1];
        assert_eq!(decode(body), Some(s));
        for cut in [0, 5, 9, body.len() / 2, body.len() - 1] {
            assert_eq!(decode(&body[..cut]), None, "torn at {cut}");
        }
        let mut flipped = body.to_vec();
        let i = flipped.len() / 2;
        flipped[i] ^= 0x01;
        assert_eq!(decode(&flipped), None);
    }

    #[test]
    fn private_dir_is_0700_even_when_it_existed() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("a/b");
        private_dir(&d).unwrap();
        assert_eq!(
            std::fs::metadata(&d).unwrap().permissions().mode() & 0o777,
            0o700
        );
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&d).unwrap();
        assert_eq!(
            std::fs::metadata(&d).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
}
