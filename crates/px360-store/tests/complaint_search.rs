//! The web UI's complaint list query on both engines: every filter narrows, the caller's scope
//! wins over a requested hospital, keyset pages neither skip nor repeat, overdue finds the
//! breached ones, and the patient look-up by MRN stays inside its hospital.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, Utc};
use px360_domain::sla::Severity;
use px360_store::complaint_search::ComplaintSearch;
use px360_store::complaints::{self, NewComplaint};
use px360_store::sla::ItemKind;
use px360_store::{Backend, Db, StoreError};
use uuid::Uuid;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn ids(db: &Db, code: &str) -> (Uuid, Uuid) {
    let (h, d): (String, String) = sqlx::query_as("SELECT h.id, d.id FROM hospitals h JOIN departments d ON d.hospital_id = h.id WHERE h.code = $1 ORDER BY d.code LIMIT 1")
        .bind(code)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    (Uuid::parse_str(&h).unwrap(), Uuid::parse_str(&d).unwrap())
}

async fn file(
    db: &Db,
    h: Uuid,
    d: Uuid,
    channel: &str,
    sev: Severity,
    at: DateTime<Utc>,
) -> complaints::Complaint {
    let n = NewComplaint {
        hospital_id: h,
        department_id: Some(d),
        category_code: "communication".into(),
        severity: Some(sev),
        source_channel: channel.into(),
        subject: "s".into(),
        description: "d".into(),
        language: "en".into(),
        ..NewComplaint::default()
    };
    let mut tx = db.writer.begin().await.unwrap();
    let (c, _) = complaints::insert(&mut tx, &n, at).await.unwrap();
    tx.commit().await.unwrap();
    c
}

async fn search(kind: Backend) {
    let tdb = px360_testkit::TestDb::new(kind).await;
    let db = tdb.seeded().await;
    let (rgh, card) = ids(&db, "RGH").await;
    let hospitals: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM hospitals WHERE code <> 'RGH' ORDER BY code")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let other_code: String = sqlx::query_scalar("SELECT code FROM hospitals WHERE id = $1")
        .bind(&hospitals[0].0)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let (other, other_dept) = ids(&db, &other_code).await;

    let t0 = utc("2026-01-04T06:00:00Z");
    let mut rgh_ids = Vec::new();
    for i in 0..5 {
        let sev = if i == 0 {
            Severity::Critical
        } else {
            Severity::Low
        };
        let ch = if i % 2 == 0 { "phone" } else { "staff" };
        rgh_ids.push(
            file(&db, rgh, card, ch, sev, t0 + Duration::hours(i))
                .await
                .id,
        );
    }
    let far = file(&db, other, other_dept, "phone", Severity::Low, t0).await;
    let all = |f: ComplaintSearch| {
        let db = db.clone();
        async move {
            let mut out = Vec::new();
            let mut before = None;
            loop {
                let p = db.search_complaints(&f, before.as_ref(), 2).await.unwrap();
                out.extend(p.rows.iter().map(|r| r.id));
                match p.next {
                    Some(c) => before = Some(c),
                    None => break,
                }
            }
            out
        }
    };
    // Pages of two: newest first, none skipped or repeated.
    let scoped = all(ComplaintSearch {
        scope_hospital: Some(rgh.to_string()),
        ..ComplaintSearch::default()
    })
    .await;
    let mut want = rgh_ids.clone();
    want.reverse();
    assert_eq!(scoped, want);
    // The scope wins over a requested hospital.
    let wider = all(ComplaintSearch {
        scope_hospital: Some(rgh.to_string()),
        hospital_id: Some(other.to_string()),
        ..ComplaintSearch::default()
    })
    .await;
    assert!(wider.is_empty());
    assert_eq!(
        all(ComplaintSearch {
            hospital_id: Some(other.to_string()),
            ..ComplaintSearch::default()
        })
        .await,
        vec![far.id]
    );
    // Source, severity and the date range narrow.
    let phone = all(ComplaintSearch {
        scope_hospital: Some(rgh.to_string()),
        source_channel: Some("phone".into()),
        ..ComplaintSearch::default()
    })
    .await;
    assert_eq!(phone, vec![rgh_ids[4], rgh_ids[2], rgh_ids[0]]);
    let critical = all(ComplaintSearch {
        severity: Some("critical".into()),
        ..ComplaintSearch::default()
    })
    .await;
    assert_eq!(critical, vec![rgh_ids[0]]);
    let range = all(ComplaintSearch {
        scope_hospital: Some(rgh.to_string()),
        created_from: Some(t0 + Duration::hours(1)),
        created_to: Some(t0 + Duration::hours(3)),
        ..ComplaintSearch::default()
    })
    .await;
    assert_eq!(range, vec![rgh_ids[2], rgh_ids[1]]);
    // Reference search, case-insensitive and partial.
    let c = db.complaint(rgh_ids[3]).await.unwrap();
    let part = c.reference[8..].to_lowercase();
    let found = all(ComplaintSearch {
        reference: Some(part),
        ..ComplaintSearch::default()
    })
    .await;
    assert_eq!(found, vec![rgh_ids[3]]);
    // Overdue: a month later everything open is past due; before it, nothing.
    let k = db.sla_clock(ItemKind::Complaint, rgh_ids[0]).await.unwrap();
    assert!(k.resolution_due_at.is_some());
    let late = all(ComplaintSearch {
        scope_hospital: Some(rgh.to_string()),
        overdue_at: Some(t0 + Duration::days(60)),
        ..ComplaintSearch::default()
    })
    .await;
    assert_eq!(late.len(), 5);
    let early = all(ComplaintSearch {
        scope_hospital: Some(rgh.to_string()),
        overdue_at: Some(t0),
        ..ComplaintSearch::default()
    })
    .await;
    assert!(early.is_empty());
    // The live clock has the current cycle's goals.
    let live = db
        .sla_live(ItemKind::Complaint, rgh_ids[0], t0 + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(live.cycles.len(), 1);
    assert!(!live.cycles[0].goals.is_empty());

    // Patients by MRN, inside their hospital only.
    let (pid, mrn): (String, String) =
        sqlx::query_as("SELECT id, mrn FROM patients WHERE hospital_id = $1 ORDER BY mrn LIMIT 1")
            .bind(rgh.to_string())
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(db.patient_by_mrn(rgh, &mrn).await.unwrap().to_string(), pid);
    assert!(matches!(
        db.patient_by_mrn(other, &mrn).await,
        Err(StoreError::NotFound)
    ));
    tdb.drop_db().await;
}

#[tokio::test]
async fn complaint_search_sqlite() {
    search(Backend::Sqlite).await;
}

#[tokio::test]
async fn complaint_search_postgres() {
    search(Backend::Postgres).await;
}
