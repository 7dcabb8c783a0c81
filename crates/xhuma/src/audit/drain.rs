//! The background writer: drains the spool into the database, in order, and deletes each
//! sealed segment once all of it is stored.
//!
//! It reads a sealed segment to its end and the active one only up to the durable (fsync'd)
//! position the spool writer publishes. While the database is unreachable it keeps its place
//! and retries with backoff (100 ms doubling to 5 s); the spool holds the backlog on disk, so
//! memory does not grow with an outage. A line that fails its checksum (torn by a crash) is
//! skipped and counted in `xhuma_audit_spool_corrupt_total`; NUL padding (the zero fill of a
//! preallocated segment that a crash left unsealed) is skipped silently.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use sqlx::AnyPool;
use tokio::sync::watch;

use super::AuditRow;
use super::spool::{self, Counters, Line, Pos};

/// Bytes read from the spool per database transaction.
const CHUNK: u64 = 256 * 1024;
const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub(crate) struct Drainer {
    pub dir: PathBuf,
    pub pool: AnyPool,
    pub durable: watch::Receiver<Pos>,
    pub drained: watch::Sender<Pos>,
    pub counters: Arc<Counters>,
    pub cursor: Pos,
    pub stop: watch::Receiver<bool>,
}

struct Chunk {
    events: Vec<AuditRow>,
    corrupt: u64,
    consumed: u64,
    /// The whole of `[offset, end)` was consumed.
    at_end: bool,
}

impl Drainer {
    pub async fn run(mut self) {
        let mut backoff = Duration::from_millis(100);
        loop {
            if *self.stop.borrow() {
                return;
            }
            let durable = *self.durable.borrow_and_update();
            let (seg, off) = self.cursor;
            let sealed = seg < durable.0;
            if !sealed && off >= durable.1 {
                self.drained.send_replace(self.cursor);
                tokio::select! {
                    r = self.durable.changed() => if r.is_err() { return },
                    _ = self.stop.changed() => return,
                }
                continue;
            }
            let path = spool::segment_path(&self.dir, seg);
            let end = (!sealed).then_some(durable.1);
            let read = {
                let path = path.clone();
                tokio::task::spawn_blocking(move || read_chunk(&path, off, end)).await
            };
            let chunk = match read {
                Ok(Ok(c)) => c,
                Ok(Err(e)) if sealed && e.kind() == std::io::ErrorKind::NotFound => {
                    self.cursor = (seg + 1, 0);
                    continue;
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "the audit spool cannot be read");
                    metrics::counter!("xhuma_audit_spool_errors_total").increment(1);
                    self.pause(MAX_BACKOFF).await;
                    continue;
                }
                Err(_) => return,
            };
            if !chunk.events.is_empty() {
                match super::store::insert(&self.pool, &chunk.events).await {
                    Ok(()) => {
                        if self.counters.db_down.swap(false, Ordering::AcqRel) {
                            tracing::info!(
                                backlog = self.counters.backlog(),
                                "audit store reachable again; replaying the spool"
                            );
                        }
                        backoff = Duration::from_millis(100);
                        metrics::counter!("xhuma_audit_events_total")
                            .increment(chunk.events.len() as u64);
                    }
                    Err(e) => {
                        if !self.counters.db_down.swap(true, Ordering::AcqRel) {
                            tracing::error!(error = %e, backlog = self.counters.backlog(),
                                "audit store unavailable; events stay in the spool until it returns");
                        }
                        metrics::counter!("xhuma_audit_write_errors_total").increment(1);
                        self.pause(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                }
            }
            if chunk.corrupt > 0 {
                tracing::warn!(
                    lines = chunk.corrupt,
                    segment = seg,
                    "audit spool lines failed their checksum and were skipped"
                );
                metrics::counter!("xhuma_audit_spool_corrupt_total").increment(chunk.corrupt);
            }
            self.counters
                .drained
                .fetch_add(chunk.events.len() as u64 + chunk.corrupt, Ordering::AcqRel);
            self.cursor.1 += chunk.consumed;
            if sealed && chunk.at_end {
                // Everything in the sealed segment is stored: it goes (compaction). Off the
                // async workers: the directory fsync waits for a file system journal commit.
                let dir = self.dir.clone();
                let removed = tokio::task::spawn_blocking(move || {
                    std::fs::remove_file(&path).and_then(|()| spool::sync_dir(&dir))
                })
                .await;
                if let Ok(Err(e)) = removed {
                    tracing::warn!(error = %e, "drained audit spool segment could not be removed");
                }
                self.cursor = (seg + 1, 0);
            }
            self.drained.send_replace(self.cursor);
            self.counters.publish();
        }
    }

    async fn pause(&mut self, d: Duration) {
        tokio::select! {
            () = tokio::time::sleep(d) => {}
            _ = self.stop.changed() => {}
        }
    }
}

/// Reads whole lines from `[offset, end)` of a segment (`end` = its length when `None`, i.e.
/// sealed), at most about [`CHUNK`] bytes unless a single line is longer.
fn read_chunk(path: &Path, offset: u64, end: Option<u64>) -> std::io::Result<Chunk> {
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let sealed = end.is_none();
    let end = end.unwrap_or(len).min(len);
    let mut chunk = Chunk {
        events: Vec::new(),
        corrupt: 0,
        consumed: 0,
        at_end: offset >= end,
    };
    if offset >= end {
        return Ok(chunk);
    }
    f.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::new();
    (&mut f)
        .take(CHUNK.min(end - offset))
        .read_to_end(&mut buf)?;
    if !buf.contains(&b'\n') && offset + (buf.len() as u64) < end {
        // One line longer than a chunk: read on to the end of what is available.
        (&mut f)
            .take(end - offset - buf.len() as u64)
            .read_to_end(&mut buf)?;
    }
    let complete = buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    for line in buf[..complete].split(|b| *b == b'\n') {
        if line.is_empty() {
            continue;
        }
        match spool::read_line(line) {
            Line::Event(e) => chunk.events.push(*e),
            Line::Corrupt => chunk.corrupt += 1,
            Line::Padding => {}
        }
    }
    chunk.consumed = complete as u64;
    if sealed && complete < buf.len() && offset + buf.len() as u64 >= end {
        // A sealed segment ending without a newline: the last line was torn by a crash, or
        // the rest is the zero fill of a segment that was never sealed.
        if matches!(spool::read_line(&buf[complete..]), Line::Corrupt) {
            chunk.corrupt += 1;
        }
        chunk.consumed = buf.len() as u64;
    }
    chunk.at_end = offset + chunk.consumed >= end;
    Ok(chunk)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::audit::{AuditEvent, Category};

    #[test]
    fn torn_tail_of_a_sealed_segment_is_skipped_and_counted() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("s.log");
        let a = AuditRow::from(AuditEvent::new(Category::Transaction, "iti38", "success"));
        let b = AuditRow::from(AuditEvent::new(Category::Upstream, "pds", "success"));
        let mut bytes = spool::encode(&a);
        let lb = spool::encode(&b);
        bytes.extend_from_slice(&lb[..lb.len() / 2]);
        std::fs::write(&p, &bytes).unwrap();
        // Active view (durable end after the first line): only the complete line.
        let c = read_chunk(&p, 0, Some(spool::encode(&a).len() as u64)).unwrap();
        assert_eq!((c.events.len(), c.corrupt, c.at_end), (1, 0, true));
        // Sealed: the torn tail is consumed as one corrupt line.
        let c = read_chunk(&p, 0, None).unwrap();
        assert_eq!(c.events, vec![a]);
        assert_eq!(
            (c.corrupt, c.consumed, c.at_end),
            (1, bytes.len() as u64, true)
        );
    }

    #[test]
    fn zero_fill_of_an_unsealed_segment_is_skipped_silently() {
        // What a crash leaves: committed lines, then the preallocated zeros (one line's
        // blocks written out of order after a gap of zeros, the rest never written).
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("s.log");
        let a = AuditRow::from(AuditEvent::new(Category::Transaction, "iti38", "success"));
        let b = AuditRow::from(AuditEvent::new(Category::Upstream, "pds", "success"));
        let mut bytes = spool::encode(&a);
        bytes.extend_from_slice(&[0; 300]);
        bytes.extend_from_slice(&spool::encode(&b));
        bytes.extend_from_slice(&vec![0; 300 * 1024]);
        std::fs::write(&p, &bytes).unwrap();
        let mut events = Vec::new();
        let mut offset = 0;
        loop {
            let c = read_chunk(&p, offset, None).unwrap();
            assert_eq!(c.corrupt, 0);
            events.extend(c.events);
            offset += c.consumed;
            if c.at_end {
                break;
            }
        }
        assert_eq!(events, vec![a, b]);
        assert_eq!(offset, bytes.len() as u64);
    }
}
