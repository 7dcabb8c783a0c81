//! The durable local spool: every audit event is appended here, and fsync'd, before the
//! database sees it.
//!
//! Layout: `<spool dir>/segment-<20 digits>.log`, each a sequence of lines
//! `<8 hex checksum> <JSON event>\n`. The checksum is the first four bytes of SHA-256 of the
//! JSON, so a torn or corrupted line is recognised and skipped rather than mis-read. One
//! dedicated thread owns the active segment and commits in groups: it takes every queued
//! event, writes them with one `write`, calls `fdatasync` once and only then answers each
//! waiting request (group commit: many requests share one fsync; requests arriving during an
//! fsync form the next group). After each commit it publishes the durable end of the active
//! segment, which is as far as the drainer ([`super::drain`]) reads. A full segment is sealed
//! (truncated to its content) and the next one started; the drainer deletes a sealed segment
//! once every event in it is in the database. A start always opens a new segment, so a line
//! torn by a crash is never appended to.
//!
//! Segments are preallocated: a helper thread creates the next segment ahead of time, fills
//! it with zeros and makes it and its directory entry durable. Commits then overwrite blocks
//! that already exist, so `fdatasync` only writes data and flushes the disk cache; appending
//! to a growing file made every `fdatasync` also commit the file system journal (the new file
//! size and block allocation), which on ext4 took several milliseconds at the tail and set the
//! latency of every disclosing answer. Readers treat NUL bytes around lines as padding (the
//! zero-filled tail of a segment a crash left unsealed).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot, watch};

use super::{AuditError, AuditRow};

/// Largest number of events committed with one fsync.
const GROUP: usize = 1024;

/// A position in the spool: (segment number, byte offset). Ordered lexicographically.
pub(crate) type Pos = (u64, u64);

/// One spool line for `e`, newline included.
pub(crate) fn encode(e: &AuditRow) -> Vec<u8> {
    // Serialising a struct of strings and integers cannot fail.
    let json = serde_json::to_vec(e).unwrap_or_default();
    let mut line = Vec::with_capacity(json.len() + 10);
    line.extend_from_slice(checksum(&json).as_bytes());
    line.push(b' ');
    line.extend_from_slice(&json);
    line.push(b'\n');
    line
}

/// What one line of a segment holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// Nothing but preallocation padding (NUL bytes).
    Padding,
    Event(Box<AuditRow>),
    /// Torn by a crash or damaged: the checksum fails.
    Corrupt,
}

/// Reads one line (without its newline). NUL bytes around it are the zero fill of a
/// preallocated segment (a crash can leave unwritten blocks before a written one).
pub(crate) fn read_line(line: &[u8]) -> Line {
    let start = line.iter().position(|b| *b != 0);
    let end = line.iter().rposition(|b| *b != 0);
    match (start, end) {
        (Some(s), Some(e)) => {
            decode(&line[s..=e]).map_or(Line::Corrupt, |row| Line::Event(Box::new(row)))
        }
        _ => Line::Padding,
    }
}

/// Reads one line (without its newline); `None` when torn or corrupted.
pub(crate) fn decode(line: &[u8]) -> Option<AuditRow> {
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

/// Creates segment `n` in `dir` (0600), fills it with `bytes` zeros and makes the file and its
/// directory entry durable, so that commits into it change no file system metadata. The number
/// is only ever used once preparation has succeeded, so a file left by a failed preparation
/// holds no events and is truncated and prepared again.
pub(crate) fn prepare_segment(dir: &Path, n: u64, bytes: u64) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let file = o.open(segment_path(dir, n))?;
    // Written zeros, not `fallocate`: an allocated-but-unwritten extent is converted on first
    // write, which is again a journal commit at `fdatasync`.
    static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];
    let mut at = 0u64;
    while at < bytes {
        let n = usize::try_from(bytes - at).map_or(ZEROS.len(), |r| r.min(ZEROS.len()));
        file.write_all_at(&ZEROS[..n], at)?;
        at += n as u64;
    }
    file.sync_all()?;
    sync_dir(dir)?;
    Ok(file)
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
    /// Stops the writer once everything before it is committed, after the helper thread that
    /// prepares the next segment has finished (so a spool reopened in the same process never
    /// races it for a segment number).
    Close(oneshot::Sender<()>),
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
            .filter(|l| matches!(read_line(l), Line::Event(_)))
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
    let file = prepare_segment(dir, active, segment_bytes)?;
    let (durable_tx, durable) = watch::channel((active, 0));
    let (tx, rx) = mpsc::channel(8192);
    let mut writer = Writer {
        dir: dir.to_path_buf(),
        segment_bytes,
        seg: active,
        file: Some(file),
        len: 0,
        spare: None,
        durable: durable_tx,
        counters,
    };
    writer.prepare_spare();
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
    /// Bytes of lines in the active segment (the file itself is preallocated, longer).
    len: u64,
    /// Segment `seg + 1`, being prepared by a helper thread.
    spare: Option<std::thread::JoinHandle<std::io::Result<File>>>,
    durable: watch::Sender<Pos>,
    counters: Arc<Counters>,
}

impl Writer {
    fn run(mut self, mut rx: mpsc::Receiver<Req>) {
        let mut buf = Vec::with_capacity(256 * 1024);
        let mut waiters = Vec::new();
        let mut syncs = Vec::new();
        let mut close = None;
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
                    Req::Close(c) => close = Some(c),
                }
                if events < GROUP as u64 && close.is_none() {
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
            if answer.is_ok() && rotate {
                // A failed rotation leaves the active segment in place; it is retried when a
                // group no longer fits.
                if let Err(e) = self.rotate() {
                    tracing::warn!(error = %e, "audit spool segment could not be rotated");
                }
            }
            let pos = *self.durable.borrow();
            for s in syncs.drain(..) {
                let _ = s.send(answer.clone().map(|()| pos));
            }
            buf.clear();
            if close.is_some() {
                break;
            }
        }
        // Closed, or all senders dropped. Everything answered was already fsync'd.
        if let Some(spare) = self.spare.take() {
            let _ = spare.join();
        }
        if let Some(c) = close {
            let _ = c.send(());
        }
    }

    fn commit(&mut self, buf: &[u8], events: u64) -> std::io::Result<()> {
        if self.file.is_none() {
            self.rotate()?;
        }
        if buf.is_empty() {
            return Ok(());
        }
        if self.len > 0 && self.len + buf.len() as u64 > self.segment_bytes {
            // The group would outgrow the preallocated segment: start the next one. If that
            // fails the group still goes into this one (growing it: slower, still durable).
            if let Err(e) = self.rotate() {
                tracing::warn!(error = %e, "audit spool segment could not be rotated");
            }
        }
        let Some(file) = self.file.as_ref() else {
            return Err(std::io::Error::other("no active spool segment"));
        };
        let started = Instant::now();
        let res = file
            .write_all_at(buf, self.len)
            .and_then(|()| file.sync_data());
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
                // Sealed as it is: whatever was partly written lies beyond the durable end and
                // is skipped as a torn line.
                self.file = None;
                Err(e)
            }
        }
    }

    /// Starts preparing segment `seg + 1` on a helper thread.
    fn prepare_spare(&mut self) {
        let (dir, n, bytes) = (self.dir.clone(), self.seg + 1, self.segment_bytes);
        self.spare = std::thread::Builder::new()
            .name("audit-spool-prep".into())
            .spawn(move || prepare_segment(&dir, n, bytes))
            .ok();
    }

    /// Seals the active segment (truncated to its lines) and makes segment `seg + 1` active:
    /// the spare when its preparation succeeded, otherwise prepared here.
    fn rotate(&mut self) -> std::io::Result<()> {
        let next = self.seg + 1;
        let spare = match self.spare.take().map(std::thread::JoinHandle::join) {
            Some(Ok(Ok(file))) => Ok(file),
            _ => prepare_segment(&self.dir, next, self.segment_bytes),
        };
        // On an error (disk full) the next rotation prepares the segment itself again; no
        // helper thread is started per failing commit.
        let file = spare?;
        if let Some(old) = self.file.take() {
            // Not fsync'd: a crash before the truncation reaches the disk leaves zero padding,
            // which readers skip. Done before the new position is published, so the drainer
            // never reads a sealed segment's padding in normal operation.
            if let Err(e) = old.set_len(self.len) {
                tracing::warn!(error = %e, "sealed audit spool segment could not be truncated");
            }
        }
        self.file = Some(file);
        self.seg = next;
        self.len = 0;
        self.durable.send_replace((next, 0));
        self.prepare_spare();
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::audit::{AuditEvent, Category};

    #[test]
    fn lines_round_trip_and_damage_is_detected() {
        let mut e = AuditEvent::new(Category::Transaction, "iti39", "success");
        e.message_id = Some("urn:uuid:with\nnewline and \u{1} control".into());
        let s = AuditRow::from(e);
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

    fn spool(dir: &Path, segment_bytes: u64) -> Opened {
        open(dir, segment_bytes, Arc::new(Counters::default())).unwrap()
    }

    fn append(tx: &mpsc::Sender<Req>, e: &AuditRow) {
        let (done, rx) = oneshot::channel();
        let line = encode(e);
        tx.blocking_send(Req::Append {
            line,
            done: Some(done),
        })
        .unwrap();
        rx.blocking_recv().unwrap().unwrap();
    }

    fn events_in(path: &Path) -> Vec<AuditRow> {
        std::fs::read(path)
            .unwrap()
            .split(|b| *b == b'\n')
            .filter_map(|l| match read_line(l) {
                Line::Event(e) => Some(*e),
                _ => None,
            })
            .collect()
    }

    fn close(tx: &mpsc::Sender<Req>) {
        let (c, rx) = oneshot::channel();
        tx.blocking_send(Req::Close(c)).unwrap();
        rx.blocking_recv().unwrap();
    }

    #[test]
    fn segments_are_preallocated_and_sealed_to_their_content() {
        let t = tempfile::tempdir().unwrap();
        let o = spool(t.path(), 4096);
        let first = o.first;
        let active = segment_path(t.path(), first);
        // Zero-filled ahead of the commits, so an fdatasync changes no file size.
        assert_eq!(std::fs::metadata(&active).unwrap().len(), 4096);
        let mut written = Vec::new();
        for i in 0..3 {
            let mut e = AuditEvent::new(Category::Transaction, "iti38", "success");
            e.message_id = Some(format!("urn:uuid:{i}"));
            let e = AuditRow::from(e);
            append(&o.tx, &e);
            written.push(e);
        }
        assert_eq!(std::fs::metadata(&active).unwrap().len(), 4096);
        assert_eq!(events_in(&active), written);
        let lines: u64 = written.iter().map(|e| encode(e).len() as u64).sum();
        assert_eq!(*o.durable.borrow(), (first, lines));

        // Sealing truncates to the lines; the next segment was prepared ahead.
        o.tx.blocking_send(Req::Rotate).unwrap();
        let (s, rx) = oneshot::channel();
        o.tx.blocking_send(Req::Sync(s)).unwrap();
        assert_eq!(rx.blocking_recv().unwrap().unwrap(), (first + 1, 0));
        assert_eq!(std::fs::metadata(&active).unwrap().len(), lines);
        let next = segment_path(t.path(), first + 1);
        assert_eq!(std::fs::metadata(&next).unwrap().len(), 4096);

        // A group that does not fit in what is left starts the next segment first.
        let mut big = AuditEvent::new(Category::Transaction, "iti39", "success");
        big.document_id = Some("x".repeat(3000));
        let big = AuditRow::from(big);
        append(&o.tx, &big);
        append(&o.tx, &big);
        assert_eq!(events_in(&next), vec![big.clone()]);
        assert_eq!(
            events_in(&segment_path(t.path(), first + 2)),
            vec![big.clone()]
        );
        close(&o.tx);
        drop(o);

        // A restart counts what is there and starts after the prepared segments.
        let counters = Arc::new(Counters::default());
        let o = open(t.path(), 4096, counters.clone()).unwrap();
        assert_eq!(counters.spooled.load(Ordering::Acquire), 5);
        assert_eq!(o.first, first);
        assert!(o.durable.borrow().0 > first + 2);
        close(&o.tx);
    }

    #[test]
    fn zero_fill_around_lines_is_padding_not_damage() {
        let e = AuditRow::from(AuditEvent::new(Category::Upstream, "pds", "success"));
        let line = encode(&e);
        let body = &line[..line.len() - 1];
        let mut padded = vec![0u8; 7];
        padded.extend_from_slice(body);
        padded.extend_from_slice(&[0; 5]);
        assert_eq!(read_line(&padded), Line::Event(Box::new(e)));
        assert_eq!(read_line(&[0; 64]), Line::Padding);
        assert_eq!(read_line(b""), Line::Padding);
        let mut torn = body[..body.len() / 2].to_vec();
        torn.extend_from_slice(&[0; 64]);
        assert_eq!(read_line(&torn), Line::Corrupt);
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
