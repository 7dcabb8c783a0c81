//! Durability: a `px360 worker` child process is SIGKILLed while it holds a job; the job is not
//! lost and completes in another worker process. Also: a schedule slot runs once across
//! several processes.
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
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(h) = hold_ms {
        c.env("PX360_WORKER_HOLD_MS", h.to_string());
    }
    c.spawn().unwrap()
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

    // Worker B picks the job up and completes it.
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
    let tdb = TestDb::new(kind).await;
    // Several independent connections (as several processes would have) race for each slot.
    let mut dbs = Vec::new();
    for _ in 0..4 {
        dbs.push(px360_store::Db::connect(&tdb.url).await.unwrap());
    }
    for round in 0..3 {
        let mut claims = Vec::new();
        for (n, db) in dbs.iter().enumerate() {
            let db = db.clone();
            claims.push(tokio::spawn(async move {
                db.claim_schedule(
                    &format!("job-{round}"),
                    chrono::Duration::hours(1),
                    &format!("p{n}"),
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
        // Same slot again: nobody runs it.
        assert!(
            !dbs[0]
                .claim_schedule(&format!("job-{round}"), chrono::Duration::hours(1), "late")
                .await
                .unwrap()
        );
    }
    for db in dbs {
        db.pool.close().await;
    }
    tdb.drop_db().await;
}
both_backends!(schedule_runs_once);
