//! Audit chain protection for a process: the key file, the checkpoint writer and the periodic
//! verification that drives `/health/` and `px360_audit_chain_ok`.
//!
//! The key lives in a file outside the database (default `<data dir>/audit.key`, created 0600
//! on first start). When the key is created on a database that already has an unkeyed chain,
//! the file records `legacy_until` = the head's sequence number then: those records stay plain
//! SHA-256, every later one is HMAC-SHA-256, and the first keyed record covers the last legacy
//! hash. The checkpoint file (default `<data dir>/audit-checkpoints.log`) is created at the
//! same moment with a checkpoint of that head.

use px360_domain::audit::{ChainKey, ChainVerifier, hex, unhex};
use px360_store::Db;
use px360_store::audit::{Protection, VerifyError, install, set_status};
use px360_store::checkpoint::Checkpoints;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct AuditOptions {
    pub key_file: PathBuf,
    pub checkpoint_file: PathBuf,
    /// How often the head is checkpointed (only when it moved).
    pub checkpoint_every: Duration,
    /// How often the chain is verified incrementally after the full check at start.
    pub verify_every: Duration,
}

impl AuditOptions {
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            key_file: dir.join("audit.key"),
            checkpoint_file: dir.join("audit-checkpoints.log"),
            checkpoint_every: Duration::from_secs(10),
            verify_every: Duration::from_secs(300),
        }
    }
}

fn parse_key_file(path: &Path, text: &str) -> anyhow::Result<ChainKey> {
    let mut key = None;
    let mut legacy = None;
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("key=") {
            key = unhex(v).filter(|k| k.len() >= 32);
        } else if let Some(v) = line.strip_prefix("legacy_until=") {
            legacy = v.parse::<i64>().ok();
        }
    }
    match (key, legacy) {
        (Some(k), Some(l)) => Ok(ChainKey::new(k, l)),
        _ => anyhow::bail!(
            "audit key file {} is malformed (expected key=<64+ hex digits> and legacy_until=<n>)",
            path.display()
        ),
    }
}

/// Read the key file (`create` = on first start, create it and the checkpoint file).
pub async fn load_key(db: &Db, o: &AuditOptions, create: bool) -> anyhow::Result<Protection> {
    let key = match std::fs::read_to_string(&o.key_file) {
        Ok(t) => parse_key_file(&o.key_file, &t)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => create_key(db, o).await?,
        Err(e) => anyhow::bail!("audit key file {}: {e}", o.key_file.display()),
    };
    Ok(Protection {
        checkpoints: Some(Checkpoints::new(&o.checkpoint_file, key.clone())),
        key: Some(key),
    })
}

async fn create_key(db: &Db, o: &AuditOptions) -> anyhow::Result<ChainKey> {
    if o.checkpoint_file.exists() {
        // A checkpoint file without its key means the key was lost: a new key would sign
        // over evidence it cannot check.
        anyhow::bail!(
            "audit key file {} is missing but checkpoint file {} exists: restore the key from backup",
            o.key_file.display(),
            o.checkpoint_file.display()
        );
    }
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("no system randomness"))?;
    let (head_seq, head_hash) = db.audit_head().await?;
    let key = ChainKey::new(bytes.to_vec(), head_seq);
    let text = format!(
        "# PX360 audit chain key. Keep secret and back it up with the checkpoint file; never store it in the database.\nkey={}\nlegacy_until={head_seq}\n",
        hex(&bytes)
    );
    // Written to a temporary name first so a crash cannot leave a key without its checkpoint.
    let tmp = o.key_file.with_extension("key.tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    {
        use std::io::Write;
        let mut f = opts.open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    Checkpoints::new(&o.checkpoint_file, key.clone()).append(head_seq, &head_hash)?;
    std::fs::rename(&tmp, &o.key_file)?;
    tracing::info!(legacy_until = head_seq, "audit.key_created");
    Ok(key)
}

/// Full verification now (start), recorded for `/health/` and the gauge; returns the
/// verifier to continue from.
pub async fn verify_at_start(db: &Db) -> ChainVerifier {
    let mut v = ChainVerifier::new(px360_store::audit::protection().key);
    let r = db.verify_audit_chain_from(&mut v).await;
    report(&r);
    v
}

fn report(r: &Result<u64, VerifyError>) {
    set_status(r);
    match r {
        Ok(n) => tracing::info!(records = n, "audit.chain_ok"),
        Err(e) => tracing::error!(error = %e, "audit.chain_broken"),
    }
}

/// Checkpoint the head when it moved, and verify incrementally, until `stop`.
pub async fn run(db: Db, o: AuditOptions, mut v: ChainVerifier, mut stop: watch::Receiver<bool>) {
    let cps = px360_store::audit::protection().checkpoints;
    let mut last_cp = cps
        .as_ref()
        .and_then(|c| c.newest().ok().flatten())
        .map(|c| c.seq);
    let mut cp_tick = tokio::time::interval(o.checkpoint_every);
    let mut verify_tick = tokio::time::interval(o.verify_every);
    verify_tick.reset();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = cp_tick.tick() => {
                let (Some(c), Ok((seq, hash))) = (&cps, db.audit_head().await) else { continue };
                if last_cp == Some(seq) {
                    continue;
                }
                if last_cp.is_some_and(|l| seq < l) {
                    // The head went backwards: never checkpoint that, report it.
                    report(&Err(VerifyError::BehindCheckpoint { head_seq: seq, checkpoint_seq: last_cp.unwrap_or_default() }));
                    continue;
                }
                match c.append(seq, &hash) {
                    Ok(_) => last_cp = Some(seq),
                    Err(e) => tracing::error!(error = %e, "audit.checkpoint_failed"),
                }
            }
            _ = verify_tick.tick() => {
                let r = db.verify_audit_chain_from(&mut v).await;
                report(&r);
            }
        }
    }
    // Final checkpoint so a clean restart starts from the newest head.
    if let (Some(c), Ok((seq, hash))) = (&cps, db.audit_head().await)
        && last_cp.is_none_or(|l| seq > l)
        && let Err(e) = c.append(seq, &hash)
    {
        tracing::error!(error = %e, "audit.checkpoint_failed");
    }
}

/// `audit verify` refuses a database that is not there (SQLite: a missing or empty file)
/// instead of creating an empty one and calling it intact.
pub fn check_database_exists(explicit: Option<&str>, data_dir: &Path) -> anyhow::Result<()> {
    let file = match explicit {
        Some(u) => match u
            .strip_prefix("sqlite://")
            .or_else(|| u.strip_prefix("sqlite:"))
        {
            Some(p) => PathBuf::from(p.split('?').next().unwrap_or(p)),
            None => return Ok(()), // PostgreSQL: checked after connecting (empty chain).
        },
        None => data_dir.join("px360.db"),
    };
    match std::fs::metadata(&file) {
        Ok(m) if m.len() > 0 => Ok(()),
        Ok(_) => anyhow::bail!("database file {} is empty", file.display()),
        Err(_) => anyhow::bail!("database file {} does not exist", file.display()),
    }
}

/// `px360 audit verify`: exit 0 only for an intact, non-empty, keyed chain.
pub async fn verify_command(db: &Db, o: &AuditOptions, allow_unkeyed: bool) -> anyhow::Result<()> {
    let fail = |msg: String| -> ! {
        eprintln!("audit chain BROKEN: {msg}");
        std::process::exit(1)
    };
    let (head_seq, _) = match db.audit_head().await {
        Ok(h) => h,
        Err(e) => fail(e.to_string()),
    };
    if head_seq == 0 {
        eprintln!("audit chain NOT VERIFIED: the audit log is empty (wrong database?)");
        std::process::exit(2);
    }
    match load_key(db, o, false).await {
        Ok(p) => install(p),
        Err(_) if allow_unkeyed && !o.key_file.exists() => {
            eprintln!(
                "audit chain UNKEYED: no key file at {}",
                o.key_file.display()
            );
        }
        Err(e) => fail(e.to_string()),
    }
    match db.verify_audit_chain().await {
        Ok(n) => {
            println!("audit chain OK: {n} records verified");
            Ok(())
        }
        Err(e) => fail(e.to_string()),
    }
}
