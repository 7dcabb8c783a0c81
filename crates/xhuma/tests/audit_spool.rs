//! Never disclose without an audit record: the audit database (a PostgreSQL of the test's
//! own) is killed under real HTTP traffic, the gateway keeps serving from its spool, is
//! restarted while the database is still down, and replays the spool once it returns.
//! Afterwards every answered request has exactly one audit row.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/own_pg.rs"]
mod own_pg;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use own_pg::OwnPg;
use secrecy::SecretString;
use tokio::sync::Mutex;

const NHS: &str = "9690937278";

fn message_id(request: &str) -> String {
    let start = request.find("<wsa:MessageID>").unwrap() + "<wsa:MessageID>".len();
    let end = request.find("</wsa:MessageID>").unwrap();
    request[start..end].to_owned()
}

async fn gateway_on(dir: &Path, pg: &OwnPg) -> Gw {
    let dir = dir.to_path_buf();
    let url = pg.url();
    gateway(move |c| {
        c.data_dir = dir;
        c.database_url = Some(SecretString::from(url));
        // Small segments, so the run seals and deletes several.
        c.audit.spool_segment_bytes = 16 * 1024;
    })
    .await
}

/// ITI-38 and ITI-39 from `workers` clients until `stop`; returns (MessageID, HTTP status)
/// of every answer.
async fn traffic(
    gw: Arc<Gw>,
    unique_id: String,
    workers: usize,
    stop: Arc<AtomicBool>,
) -> Vec<(String, u16)> {
    let answered = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (gw, stop, answered, uid) = (
            gw.clone(),
            stop.clone(),
            answered.clone(),
            unique_id.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let (path, req) = if (i + w).is_multiple_of(2) {
                    ("/SOAP/iti38", iti38_request(NHS))
                } else {
                    ("/SOAP/iti39", iti39_request(&gw.home(), &gw.repo(), &uid))
                };
                let id = message_id(&req);
                let r = gw.post(path, CT_SOAP, req).await;
                if r.status == 200 && path == "/SOAP/iti39" {
                    let t = r.text();
                    assert!(
                        t.contains("DocumentResponse"),
                        "no document: {}",
                        &t[..t.len().min(3000)]
                    );
                }
                answered.lock().await.push((id, r.status));
                i += 1;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    Arc::try_unwrap(answered).unwrap().into_inner()
}

async fn rows_per_message(gw: &Gw) -> HashMap<String, i64> {
    let rows: Vec<(Option<String>, i64)> = sqlx::query_as(
        "SELECT message_id, COUNT(*) FROM audit_event WHERE category = 'transaction' \
         GROUP BY message_id",
    )
    .fetch_all(gw.running.state.flow.audit.pool())
    .await
    .unwrap();
    rows.into_iter()
        .filter_map(|(m, n)| m.map(|m| (m, n)))
        .collect()
}

fn assert_each_once(answered: &[(String, u16)], rows: &HashMap<String, i64>) {
    assert!(!answered.is_empty());
    for (id, status) in answered {
        assert_eq!(*status, 200, "request {id} was not served");
        assert_eq!(
            rows.get(id),
            Some(&1),
            "audit rows for answered request {id}"
        );
    }
}

/// Each segment file with the number of bytes it holds besides the zero fill of preallocation.
fn spool_segments(dir: &Path) -> Vec<(String, u64)> {
    let mut v: Vec<_> = std::fs::read_dir(dir.join("audit-spool"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with("segment-"))
        .map(|e| {
            let content = std::fs::read(e.path()).unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                content.iter().filter(|b| **b != 0).count() as u64,
            )
        })
        .collect();
    v.sort();
    v
}

async fn metric(gw: &Gw, name: &str) -> f64 {
    let text = gw.get("/metrics").await.text();
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_answered_request_has_exactly_one_row_across_outage_and_restart() {
    let pg = OwnPg::start_new();
    let data = tempfile::tempdir().unwrap();

    // Phase 1: traffic; the database is killed mid-traffic; the gateway keeps serving.
    let gw = Arc::new(gateway_on(data.path(), &pg).await);
    let r = gw.iti38(NHS).await;
    assert_eq!(r.status, 200);
    let uid = unique_id(&r.text()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(traffic(gw.clone(), uid.clone(), 8, stop.clone()));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    pg.kill();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let ready = gw.get("/health/ready").await;
    assert_eq!(
        ready.status,
        200,
        "degraded, still serving: {}",
        ready.text()
    );
    let report: serde_json::Value = serde_json::from_slice(&ready.body).unwrap();
    assert_eq!(report["status"], "degraded", "{report}");
    assert_eq!(
        report["checks"]["audit:postgres"]["status"], "degraded",
        "{report}"
    );
    assert!(metric(&gw, "xhuma_audit_backlog_events").await > 0.0);
    stop.store(true, Ordering::Relaxed);
    let phase1 = load.await.unwrap();
    assert!(gw.running.state.flow.audit.backlog() > 0);

    // Phase 2: the gateway stops while the database is still down; the spool keeps the rest.
    let gw = Arc::try_unwrap(gw).ok().unwrap();
    gw.running.shutdown().await;
    let left = spool_segments(data.path());
    assert!(left.iter().map(|(_, n)| n).sum::<u64>() > 0, "{left:?}");

    // Phase 3: the database returns; a new gateway on the same data directory replays.
    pg.start();
    let gw = Arc::new(gateway_on(data.path(), &pg).await);
    gw.running.state.flow.audit.flush().await.unwrap();
    assert_each_once(&phase1, &rows_per_message(&gw).await);

    // Phase 4: an outage while this gateway runs: served, spooled, replayed on return. (The
    // in-process document cache started empty: the document is offered afresh.)
    let r = gw.iti38(NHS).await;
    assert_eq!(r.status, 200);
    let uid = unique_id(&r.text()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(traffic(gw.clone(), uid, 8, stop.clone()));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    pg.kill();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    pg.start();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::Relaxed);
    let phase4 = load.await.unwrap();
    let audit = &gw.running.state.flow.audit;
    tokio::time::timeout(Duration::from_secs(60), audit.flush())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(audit.backlog(), 0);
    let rows = rows_per_message(&gw).await;
    assert_each_once(&phase1, &rows);
    assert_each_once(&phase4, &rows);
    assert!(
        phase1.len() + phase4.len() > 100,
        "too little traffic to mean anything"
    );
    let ready = gw.get("/health/ready").await;
    let report: serde_json::Value = serde_json::from_slice(&ready.body).unwrap();
    assert_eq!(
        report["checks"]["audit:postgres"]["status"], "ok",
        "{report}"
    );

    // Drained segments were deleted: only the active one and the next, prepared ahead, remain,
    // both holding nothing but their zero fill.
    audit.rotate().await;
    audit.flush().await.unwrap();
    let segs = spool_segments(data.path());
    assert!(!segs.is_empty() && segs.len() <= 2, "{segs:?}");
    assert!(segs.iter().all(|(_, content)| *content == 0), "{segs:?}");

    // The spool and the data directory are private.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(data.path()), 0o700);
    assert_eq!(mode(&data.path().join("audit-spool")), 0o700);
    assert_eq!(
        mode(&data.path().join("audit-spool").join(&segs[0].0)),
        0o600
    );
    assert_eq!(mode(&data.path().join("pseudonym.key")), 0o600);
    let gw = Arc::try_unwrap(gw).ok().unwrap();
    gw.running.shutdown().await;
}
