//! Durability: a `px360 worker` child process is SIGKILLed while it holds a job; the job is not
//! lost: apalis re-enqueues it when the dead worker's heartbeat stops, and it completes in
//! another worker process. Also: a schedule slot runs once across several processes, and two
//! worker processes with the beat against one database run each scheduled job once per slot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{ADMIN_PASSWORD, Kind, ServerOpts, TestDb, TestServer, event, event_id};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn worker(url: &str, hold_ms: Option<u64>, dir: &std::path::Path) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_px360"));
    c.arg("worker")
        .env("PX360_DATABASE_URL", url)
        .env("PX360_DATA_DIR", dir)
        .env("PX360_NO_BEAT", "true")
        // Dead after 3 silent heartbeats: 3 s.
        .env("PX360_JOB_HEARTBEAT_SECS", "1")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(h) = hold_ms {
        c.env("PX360_WORKER_HOLD_MS", h.to_string());
    }
    c.spawn().unwrap()
}

/// The key file `serve` would have created. The in-process test server chains without a key,
/// so every record is marked legacy (plain SHA-256): the workers' records chain as its do.
fn shared_key_file(dir: &std::path::Path) {
    std::fs::write(
        dir.join("audit.key"),
        format!("key={}\nlegacy_until={}\n", "ab".repeat(32), i64::MAX),
    )
    .unwrap();
}

/// A worker given no audit key refuses to start: its records would fail verification.
#[test]
fn worker_without_audit_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("px360.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_px360"))
        .arg("worker")
        .env("PX360_DATABASE_URL", &url)
        .env("PX360_DATA_DIR", dir.path())
        .env("PX360_NO_BEAT", "true")
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a worker without the key must not run"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("audit.key") && err.contains("PX360_AUDIT_KEY_FILE"),
        "the error names the file and the setting: {err}"
    );
    assert!(
        !dir.path().join("audit.key").exists(),
        "a worker never creates the key"
    );
}

/// Read the child's JSON log until a line with `needle` appears.
fn wait_for_log(child: &mut Child, needle: &str, timeout: Duration) -> String {
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100))
            && line.contains(needle)
        {
            return line;
        }
    }
    panic!("worker never logged {needle}");
}

async fn kill_mid_job(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    // API only: no in-process worker, so the child processes are the only consumers.
    let s = TestServer::start(
        &tdb.url,
        ServerOpts {
            worker: false,
            beat: false,
            ..Default::default()
        },
    )
    .await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (rgh, _) = s.hospital(&admin, "RGH").await;
    let key = s.api_key(&admin, &rgh, &["EPIC"]).await;
    let r = s
        .send_event(
            &key,
            &event("ED_ARRIVAL", "ENC-KILL", "RGH-ED-0001", "ED", "GMC111"),
        )
        .await;
    assert_eq!(r.status(), 202);
    let id = event_id(r).await;

    let dir = tempfile::tempdir().unwrap();
    shared_key_file(dir.path());
    // Worker A claims the job and holds it (inside its transaction) for 30 s.
    let mut a = worker(&tdb.url, Some(30_000), dir.path());
    let claimed = wait_for_log(&mut a, "job.claimed", Duration::from_secs(30));
    assert!(claimed.contains(&id), "{claimed}");
    a.kill().unwrap(); // SIGKILL: no graceful shutdown, no rollback by the process itself
    a.wait().unwrap();
    let e: Value = s
        .get(&admin, &format!("/api/integrations/events/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        e["status"], "received",
        "the killed worker's work must not be half-applied: {e}"
    );

    // Worker B re-enqueues the dead worker's job (heartbeat timeout), picks it up, completes it.
    let mut b = worker(&tdb.url, None, dir.path());
    let e = s.wait_event(&admin, &id, "processed").await;
    assert_eq!(e["attempts"], 1);
    let by: String = sqlx::query_scalar("SELECT processed_by FROM inbound_events WHERE id = $1")
        .bind(&id)
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    assert!(by.starts_with("worker-"), "{by}");
    let js: Value = s
        .get(&admin, "/api/journeys?limit=10")
        .await
        .json()
        .await
        .unwrap();
    let j = js
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["encounter_id"] == "ENC-KILL")
        .unwrap();
    assert_eq!(j["stages"][0]["status"], "completed");
    assert_eq!(j["stages"][0]["completed_by_event_id"], id.as_str());
    b.kill().unwrap();
    b.wait().unwrap();

    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(kill_mid_job);

async fn schedule_runs_once(kind: Kind) {
    use chrono::SubsecRound;
    let tdb = TestDb::new(kind).await;
    // Several independent connections (as several processes would have) race for each slot.
    let mut dbs = Vec::new();
    for _ in 0..4 {
        dbs.push(px360_store::Db::connect(&tdb.url).await.unwrap());
    }
    let at = chrono::Utc::now().trunc_subsecs(0);
    for round in 0..3 {
        let mut claims = Vec::new();
        for (n, db) in dbs.iter().enumerate() {
            let db = db.clone();
            claims.push(tokio::spawn(async move {
                db.claim_schedule(
                    &format!("job-{round}"),
                    chrono::Duration::hours(1),
                    &format!("p{n}"),
                    at,
                )
                .await
                .unwrap()
            }));
        }
        let mut won = 0;
        for c in claims {
            won += usize::from(c.await.unwrap());
        }
        assert_eq!(won, 1, "exactly one process runs slot {round}");
        // Same slot again: nobody runs it; the next slot is an hour later.
        let name = format!("job-{round}");
        let again = |at| dbs[0].claim_schedule(&name, chrono::Duration::hours(1), "late", at);
        assert!(!again(at).await.unwrap());
        assert!(!again(at + chrono::Duration::minutes(59)).await.unwrap());
        assert!(again(at + chrono::Duration::hours(1)).await.unwrap());
    }
    for db in dbs {
        db.pool.close().await;
    }
    tdb.drop_db().await;
}
both_backends!(schedule_runs_once);

/// The maintenance jobs in the job storage: (job name, slot, status).
async fn maintenance_jobs(url: &str) -> Vec<(String, String, String)> {
    let rows: Vec<(Vec<u8>, String)> = if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let r = sqlx::query_as("SELECT job, status FROM apalis.jobs WHERE job_type = $1")
            .bind(px360_worker::queue::MAINTENANCE_QUEUE)
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        r
    } else {
        let pool = sqlx::SqlitePool::connect(&px360_worker::queue::jobs_sqlite_url(url))
            .await
            .unwrap();
        let r = sqlx::query_as("SELECT job, status FROM Jobs WHERE job_type = ?1")
            .bind(px360_worker::queue::MAINTENANCE_QUEUE)
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        r
    };
    rows.into_iter()
        .map(|(job, status)| {
            let m: px360_worker::queue::Maintenance = serde_json::from_slice(&job).unwrap();
            (m.job.name().to_owned(), m.slot, status)
        })
        .collect()
}

/// Two worker processes, each with its own beat timer (apalis-cron) and its own connections,
/// against one database: every scheduled job runs once per slot, not once per process.
async fn beat_runs_once_across_workers(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let mut stops = Vec::new();
    let mut tasks = Vec::new();
    for n in 0..2 {
        let db = px360_store::Db::connect(&tdb.url).await.unwrap();
        let mut opts = px360::Options::new(&format!("beat{n}"));
        opts.beat_tick_secs = 1;
        opts.sweep_every = std::time::Duration::from_secs(2);
        opts.queue.poll_interval = std::time::Duration::from_millis(200);
        let jobs = px360::open_jobs(&tdb.url, &opts).await.unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        stops.push(tx);
        tasks.push(tokio::spawn(px360::work(db, jobs, opts, async move {
            let _ = rx.await;
        })));
    }
    tokio::time::sleep(Duration::from_millis(6500)).await;
    for s in stops {
        let _ = s.send(());
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }

    let jobs = maintenance_jobs(&tdb.url).await;
    let mut slots: Vec<(&str, &str)> = jobs
        .iter()
        .map(|(j, s, _)| (j.as_str(), s.as_str()))
        .collect();
    slots.sort_unstable();
    let before = slots.len();
    slots.dedup();
    assert_eq!(before, slots.len(), "a slot was pushed twice: {jobs:?}");
    let count = |name: &str| jobs.iter().filter(|(j, _, _)| j == name).count();
    // Hourly jobs: their first slot only, although two beats ticked every second.
    assert_eq!(count("audit_chain_verify"), 1, "{jobs:?}");
    assert_eq!(count("purge_refresh_tokens"), 1, "{jobs:?}");
    // Every 2 s for ~6.5 s: 3 or 4 slots, not one per process per tick.
    let sweeps = count("sweep_events");
    assert!((3..=4).contains(&sweeps), "{sweeps} sweeps: {jobs:?}");
    let done = jobs.iter().filter(|(_, _, st)| st == "Done").count();
    assert!(done + 2 >= jobs.len(), "the workers ran the jobs: {jobs:?}");
    tdb.drop_db().await;
}
both_backends!(beat_runs_once_across_workers);
