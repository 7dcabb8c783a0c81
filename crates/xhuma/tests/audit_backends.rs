//! One audit test suite, run against SQLite (temporary directory) and PostgreSQL (a uniquely
//! named database on 127.0.0.1:5432, dropped afterwards).
#![allow(clippy::unwrap_used)]

use secrecy::SecretString;
use xhuma::audit::{AuditEvent, AuditLog, Category};

async fn suite(log: &AuditLog) {
    log.ping().await.unwrap();
    let mut e = AuditEvent::new(Category::Transaction, "iti38", "success");
    e.patient_pseudonym = Some("ab".repeat(32));
    e.user_id = Some("UID=123".into());
    e.user_role = Some("doctor".into());
    e.organisation = Some("Example Hospital".into());
    e.purpose_of_use = Some("TREATMENT".into());
    e.message_id = Some("urn:uuid:1".into());
    e.document_id = Some("2.25.1".into());
    e.client_addr = Some("127.0.0.1".into());
    e.duration_ms = Some(12);
    log.record(e.clone()).await;
    let mut up = AuditEvent::new(Category::Upstream, "gpconnect", "error");
    up.error_code = Some("NO_PATIENT_CONSENT".into());
    up.trace_id = Some("trace-1".into());
    log.record(up).await;
    for i in 0..600 {
        log.record(AuditEvent::new(Category::Upstream, "pds", format!("n{i}")))
            .await;
    }
    log.flush().await.unwrap();

    let rows = log.recent(1000).await.unwrap();
    assert_eq!(rows.len(), 602);
    let first = rows.iter().find(|r| r.id == e.id.to_string()).unwrap();
    assert_eq!(first.transaction_name, "iti38");
    assert_eq!(first.category, "transaction");
    assert_eq!(first.user_role.as_deref(), Some("doctor"));
    assert_eq!(first.purpose_of_use.as_deref(), Some("TREATMENT"));
    assert_eq!(first.duration_ms, Some(12));
    assert!(first.occurred_at.ends_with('Z'));
    let gp = rows
        .iter()
        .find(|r| r.transaction_name == "gpconnect")
        .unwrap();
    assert_eq!(gp.error_code.as_deref(), Some("NO_PATIENT_CONSENT"));
    assert_eq!(gp.trace_id.as_deref(), Some("trace-1"));

    // Append-only: the store refuses changes.
    let upd = sqlx::query("UPDATE audit_event SET outcome = 'tampered'")
        .execute(log.pool())
        .await;
    assert!(upd.is_err(), "UPDATE must be refused");
    let del = sqlx::query("DELETE FROM audit_event")
        .execute(log.pool())
        .await;
    assert!(del.is_err(), "DELETE must be refused");
    assert_eq!(log.recent(1000).await.unwrap().len(), 602);
}

#[tokio::test]
async fn sqlite_backend_passes_the_suite_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(None, dir.path()).await.unwrap();
    assert_eq!(log.backend(), "sqlite");
    suite(&log).await;
    log.close().await;
    // Reopening runs the migrations again (a no-op) and keeps the rows.
    let log = AuditLog::open(None, dir.path()).await.unwrap();
    assert_eq!(log.recent(1000).await.unwrap().len(), 602);
    log.close().await;
}

#[tokio::test]
async fn postgres_backend_passes_the_suite() {
    let (name, url) = px360_testkit::pg::create("xhuma_audit").await;
    let url = SecretString::from(url);
    let dir = tempfile::tempdir().unwrap();
    let result = async {
        let log = AuditLog::open(Some(&url), dir.path()).await.unwrap();
        assert_eq!(log.backend(), "postgres");
        suite(&log).await;
        log.close().await;
        let log = AuditLog::open(Some(&url), dir.path()).await.unwrap();
        assert_eq!(log.recent(1000).await.unwrap().len(), 602);
        log.close().await;
    };
    let outcome = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(result)).await;
    px360_testkit::pg::drop(&name).await;
    if let Err(p) = outcome {
        std::panic::resume_unwind(p);
    }
}

#[tokio::test]
async fn unreachable_postgres_is_a_clear_error_without_the_url() {
    let url = SecretString::from("postgres://postgres:secretpw@127.0.0.1:1/none");
    let dir = tempfile::tempdir().unwrap();
    let err = AuditLog::open(Some(&url), dir.path())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("audit store"), "{err}");
    assert!(!err.contains("secretpw"), "{err}");
}
