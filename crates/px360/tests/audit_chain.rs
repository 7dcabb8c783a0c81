//! The audit chain against someone who holds only database access: edit + re-hash, tail
//! deletion, head rewind; plus `audit verify` on a wrong path and a missing checkpoint file.
//! Real SQLite and PostgreSQL, the real server and the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{ADMIN_PASSWORD, Kind, TestDb};
use px360::audit::AuditOptions;
use px360_domain::audit::AuditRecord;
use px360_store::Db;
use px360_store::audit::AuditEntry;
use std::path::Path;
use std::time::Duration;
use tokio::sync::oneshot;

struct Server {
    base: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// The audit key, checkpoint writer and chain status are process-wide (one server per process
/// in production); under `cargo test` these tests share a process, so they run one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn start(db: &Db, url: &str, audit: &AuditOptions) -> Server {
    service_kit::crypto::install_default_provider();
    db.seed_demo(Some(ADMIN_PASSWORD)).await.unwrap();
    let mut opts = px360::Options::new("test");
    opts.run_beat = false;
    opts.worker_concurrency = Some(0);
    opts.audit = Some(audit.clone());
    let jobs = px360::open_jobs(url, &opts).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(px360::serve(db.clone(), jobs, opts, listener, async move {
        let _ = rx.await;
    }));
    let server = Server {
        base,
        stop: tx,
        task,
    };
    // `serve` installs this server's audit key and checkpoint writer (process-wide) before it
    // answers: once it answers, records appended from here on use this server's key.
    server.health().await;
    server
}

impl Server {
    async fn health(&self) -> (u16, serde_json::Value) {
        for _ in 0..50 {
            if let Ok(r) = reqwest::get(format!("{}/health/", self.base)).await {
                let code = r.status().as_u16();
                return (code, r.json().await.unwrap());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("server did not answer");
    }
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

fn opts(dir: &Path) -> AuditOptions {
    let mut o = AuditOptions::in_dir(dir);
    o.checkpoint_every = Duration::from_millis(200);
    o.verify_every = Duration::from_millis(300);
    o
}

async fn add_records(db: &Db, n: usize) {
    for i in 0..n {
        db.audit(&AuditEntry {
            actor_type: "user",
            actor_id: Some(format!("u{i}")),
            action: "update".into(),
            object_type: Some("hospital"),
            object_id: Some("h".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    }
}

fn cli(url: &str, dir: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_px360"))
        .args(["audit", "verify"])
        .env("PX360_DATABASE_URL", url)
        .env("PX360_DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

async fn drop_triggers(db: &Db, kind: Kind) {
    let stmts: &[&str] = match kind {
        Kind::Sqlite => &[
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
        ],
        Kind::Postgres => &["DROP TRIGGER audit_log_no_change ON audit_log"],
    };
    for s in stmts {
        sqlx::query(*s).execute(&db.pool).await.unwrap();
    }
}

/// What an attacker without the key can do: recompute every hash from `from` on with plain
/// SHA-256 (the old scheme) and move the head to match.
async fn rehash_from(db: &Db, from: i64) {
    let all = db.audit_records(None, 0, 100_000).await.unwrap();
    let mut prev = all
        .iter()
        .find(|r| r.seq == from - 1)
        .map(|r| r.hash.clone())
        .unwrap_or_else(|| px360_domain::audit::GENESIS.to_owned());
    for r in all.into_iter().filter(|r| r.seq >= from) {
        let mut r: AuditRecord = r;
        r.prev_hash = prev.clone();
        r.hash = r.compute_hash(None);
        sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3")
            .bind(&r.prev_hash)
            .bind(&r.hash)
            .bind(r.seq)
            .execute(&db.pool)
            .await
            .unwrap();
        prev = r.hash;
    }
    sqlx::query("UPDATE audit_head SET last_hash = $1 WHERE id = 1")
        .bind(&prev)
        .execute(&db.pool)
        .await
        .unwrap();
}

/// Delete the records after `keep` and rewind the head consistently onto record `keep`.
async fn cut_tail(db: &Db, keep: i64) {
    let r = db.audit_records(None, keep - 1, 1).await.unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq > $1")
        .bind(keep)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_head SET last_seq = $1, last_hash = $2 WHERE id = 1")
        .bind(keep)
        .bind(&r[0].hash)
        .execute(&db.pool)
        .await
        .unwrap();
}

async fn wait_red(s: &Server) -> serde_json::Value {
    for _ in 0..50 {
        let (code, body) = s.health().await;
        if code == 503 {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("health never turned red");
}

async fn rehash_detected(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let dir = tempfile::tempdir().unwrap();
    let o = opts(dir.path());
    let db = Db::connect(&tdb.url).await.unwrap();
    let s = start(&db, &tdb.url, &o).await;
    assert_eq!(s.health().await.0, 200);
    let legacy_until = db.audit_head().await.unwrap().0;
    add_records(&db, 5).await;
    s.stop().await;
    assert!(
        std::fs::read_to_string(dir.path().join("audit.key"))
            .unwrap()
            .contains("legacy_until=")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("audit.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A clean chain verifies after a restart, and with the binary.
    let out = cli(&tdb.url, dir.path());
    assert!(out.status.success(), "{out:?}");
    let s = start(&db, &tdb.url, &o).await;
    let (code, body) = s.health().await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["checks"]["audit_chain"]["status"], "ok", "{body}");

    // Edit a keyed record and re-hash the chain from there without the key.
    drop_triggers(&db, kind).await;
    let target = legacy_until + 2;
    sqlx::query("UPDATE audit_log SET actor_id = 'someone-else' WHERE seq = $1")
        .bind(target)
        .execute(&db.pool)
        .await
        .unwrap();
    rehash_from(&db, target).await;
    let err = db.verify_audit_chain().await.unwrap_err().to_string();
    assert!(err.contains(&format!("record {target}")), "{err}");
    let out = cli(&tdb.url, dir.path());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("BROKEN"));
    // A restart verifies in full at start: red at once.
    s.stop().await;
    let s = start(&db, &tdb.url, &o).await;
    let body = wait_red(&s).await;
    assert_eq!(body["checks"]["audit_chain"]["status"], "fail", "{body}");
    let m = reqwest::get(format!("{}/metrics", s.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("px360_audit_chain_ok 0"), "{m}");
    s.stop().await;

    // Editing a legacy (pre-key) record and re-hashing breaks the first keyed record.
    let tdb2 = TestDb::new(kind).await;
    let dir2 = tempfile::tempdir().unwrap();
    let o2 = opts(dir2.path());
    let db2 = Db::connect(&tdb2.url).await.unwrap();
    let s = start(&db2, &tdb2.url, &o2).await;
    add_records(&db2, 2).await;
    s.stop().await;
    drop_triggers(&db2, kind).await;
    sqlx::query("UPDATE audit_log SET action = 'x' WHERE seq = 1")
        .execute(&db2.pool)
        .await
        .unwrap();
    rehash_from(&db2, 1).await;
    assert!(cli(&tdb2.url, dir2.path()).status.code() == Some(1));
    db.pool.close().await;
    db2.pool.close().await;
    tdb.drop_db().await;
    tdb2.drop_db().await;
}

async fn tail_deletion_detected(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let dir = tempfile::tempdir().unwrap();
    let o = opts(dir.path());
    let db = Db::connect(&tdb.url).await.unwrap();
    let s = start(&db, &tdb.url, &o).await;
    // `serve` installs the audit protection when it starts, in its own task: wait for it.
    let mut cps = None;
    for _ in 0..100 {
        cps = px360_store::audit::protection().checkpoints;
        if cps.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cps = cps.expect("serve installed no checkpoint writer");
    add_records(&db, 6).await;
    let (head, _) = db.audit_head().await.unwrap();
    // Wait until a checkpoint covers the new head.
    for _ in 0..50 {
        if cps.newest().unwrap().is_some_and(|c| c.seq == head) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(cps.newest().unwrap().unwrap().seq, head);
    // Delete the newest rows and rewind the head consistently: the chain itself is intact.
    drop_triggers(&db, kind).await;
    cut_tail(&db, head - 3).await;
    // The running server notices at its next incremental check.
    let body = wait_red(&s).await;
    let detail = body["checks"]["audit_chain"]["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("removed"), "{detail}");
    s.stop().await;
    let out = cli(&tdb.url, dir.path());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("checkpoint"),
        "{out:?}"
    );

    // Head rewind alone (rows kept): the head no longer matches the chain.
    let (h2, _) = db.audit_head().await.unwrap();
    let r = db.audit_records(None, h2 - 2, 1).await.unwrap();
    sqlx::query("UPDATE audit_head SET last_seq = $1, last_hash = $2 WHERE id = 1")
        .bind(h2 - 1)
        .bind(&r[0].hash)
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(cli(&tdb.url, dir.path()).status.code(), Some(1));

    // A missing checkpoint file is reported, never silently recreated.
    let tdb2 = TestDb::new(kind).await;
    let dir2 = tempfile::tempdir().unwrap();
    let o2 = opts(dir2.path());
    let db2 = Db::connect(&tdb2.url).await.unwrap();
    let s = start(&db2, &tdb2.url, &o2).await;
    add_records(&db2, 1).await;
    s.stop().await;
    assert!(cli(&tdb2.url, dir2.path()).status.success());
    std::fs::remove_file(&o2.checkpoint_file).unwrap();
    let out = cli(&tdb2.url, dir2.path());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing"),
        "{out:?}"
    );
    let s = start(&db2, &tdb2.url, &o2).await;
    let body = wait_red(&s).await;
    assert!(
        body["checks"]["audit_chain"]["detail"]
            .as_str()
            .unwrap()
            .contains("missing")
    );
    s.stop().await;
    // A forged checkpoint line is refused too.
    std::fs::write(&o2.checkpoint_file, "v1 1 abc 2026-01-01T00:00:00Z 00\n").unwrap();
    assert_eq!(cli(&tdb2.url, dir2.path()).status.code(), Some(1));

    db.pool.close().await;
    db2.pool.close().await;
    tdb.drop_db().await;
    tdb2.drop_db().await;
}

#[tokio::test]
async fn sqlite_rehash_detected() {
    let _serial = SERIAL.lock().await;
    rehash_detected(Kind::Sqlite).await;
}

#[tokio::test]
async fn postgres_rehash_detected() {
    let _serial = SERIAL.lock().await;
    rehash_detected(Kind::Postgres).await;
}

#[tokio::test]
async fn sqlite_tail_deletion_and_rewind_detected() {
    let _serial = SERIAL.lock().await;
    tail_deletion_detected(Kind::Sqlite).await;
}

#[tokio::test]
async fn postgres_tail_deletion_and_rewind_detected() {
    let _serial = SERIAL.lock().await;
    tail_deletion_detected(Kind::Postgres).await;
}

#[tokio::test]
async fn verify_refuses_a_missing_or_empty_database() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_px360"))
        .args(["audit", "verify"])
        .env_remove("PX360_DATABASE_URL")
        .env("PX360_DATA_DIR", &missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not exist"),
        "{out:?}"
    );
    assert!(
        !missing.join("px360.db").exists(),
        "verify created the database"
    );

    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let out = cli(&format!("sqlite://{}", empty.display()), dir.path());
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("empty"),
        "{out:?}"
    );
}
