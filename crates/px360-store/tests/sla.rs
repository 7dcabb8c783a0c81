//! Complaints, actions and SLA clocks through the store on real databases (a SQLite file and
//! PostgreSQL on 127.0.0.1:5432): due moments on the seeded Riyadh calendar and on a
//! Europe/London calendar across both DST changes, pause while waiting on the patient, breach
//! scan with warnings and escalation steps (once, also with two workers racing on PostgreSQL),
//! and recomputation after a calendar edit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Utc};
use px360_domain::action::complaint::{self as machine, ComplaintCommand};
use px360_domain::rbac::{Principal, Role};
use px360_domain::sla::Severity;
use px360_store::complaints::{self, NewComplaint};
use px360_store::sla::ItemKind;
use px360_store::sla::config::{CalendarInput, put_calendar};
use px360_store::{Backend, Db};
use std::collections::BTreeMap;
use uuid::Uuid;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

struct Org {
    hospital: Uuid,
    department: Uuid,
    coordinator: Uuid,
    manager: Uuid,
    hospital_admin: Uuid,
}

async fn user(db: &Db, name: &str, role: &str, h: Option<Uuid>, d: Option<Uuid>) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO users (id, username, display_name, password_hash, role, hospital_id, department_id, is_active, created_at, updated_at) VALUES ($1, $2, $2, 'x', $3, $4, $5, 1, $6, $6)")
        .bind(id.to_string())
        .bind(name)
        .bind(role)
        .bind(h.map(|h| h.to_string()))
        .bind(d.map(|d| d.to_string()))
        .bind(px360_store::now_ts())
        .execute(&db.writer)
        .await
        .unwrap();
    id
}

async fn org(db: &Db, code: &str) -> Org {
    let (h, d): (String, String) = sqlx::query_as("SELECT h.id, d.id FROM hospitals h JOIN departments d ON d.hospital_id = h.id WHERE h.code = $1 ORDER BY d.code LIMIT 1")
        .bind(code)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let (h, d) = (Uuid::parse_str(&h).unwrap(), Uuid::parse_str(&d).unwrap());
    Org {
        hospital: h,
        department: d,
        coordinator: user(
            db,
            &format!("{code}-coord"),
            "px_coordinator",
            Some(h),
            None,
        )
        .await,
        manager: user(
            db,
            &format!("{code}-mgr"),
            "department_manager",
            Some(h),
            Some(d),
        )
        .await,
        hospital_admin: user(
            db,
            &format!("{code}-hadmin"),
            "hospital_admin",
            Some(h),
            None,
        )
        .await,
    }
}

fn new_complaint(o: &Org, severity: Severity) -> NewComplaint {
    NewComplaint {
        hospital_id: o.hospital,
        department_id: Some(o.department),
        category_code: "communication".into(),
        severity: Some(severity),
        source_channel: "staff".into(),
        subject: "Test".into(),
        description: "Nobody told me the clinic moved".into(),
        language: "en".into(),
        ..NewComplaint::default()
    }
}

async fn intake(db: &Db, n: &NewComplaint, at: DateTime<Utc>) -> complaints::Complaint {
    let mut tx = db.writer.begin().await.unwrap();
    let (c, created) = complaints::insert(&mut tx, n, at).await.unwrap();
    assert!(created);
    tx.commit().await.unwrap();
    c
}

async fn command(db: &Db, id: Uuid, cmd: ComplaintCommand, by: &Principal, at: DateTime<Utc>) {
    let c = db.complaint(id).await.unwrap();
    let cur = machine::Complaint {
        status: c.status,
        assignee: c.assignee_id,
        cycle: c.cycle as u32,
    };
    let t = machine::apply(&cur, &cmd, by).unwrap();
    let mut tx = db.writer.begin().await.unwrap();
    complaints::apply(&mut tx, id, &t.next, &t.events, Some(by.user_id()), at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

async fn riyadh_lifecycle_and_escalation(kind: Backend) {
    let tdb = px360_testkit::TestDb::new(kind).await;
    let db = tdb.seeded().await;
    let o = org(&db, "RGH").await;
    let coord = Principal::new(o.coordinator, Role::PxCoordinator, Some(o.hospital), None).unwrap();

    // Thursday 16:00 Riyadh; high: first response 4 business hours, resolution 8.
    let c = intake(
        &db,
        &new_complaint(&o, Severity::High),
        utc("2026-01-08T13:00:00Z"),
    )
    .await;
    assert!(c.reference.starts_with("C260108-"), "{}", c.reference);
    let k = db.sla_clock(ItemKind::Complaint, c.id).await.unwrap();
    // 1 h Thursday, then the Friday–Saturday weekend, 3 h on Sunday → Sunday 11:00 local.
    assert_eq!(k.first_response_due_at, Some(utc("2026-01-11T08:00:00Z")));
    // 1 h Thursday + 4 h Sunday morning + 3 h after the lunch break → Sunday 16:00 local.
    assert_eq!(k.resolution_due_at, Some(utc("2026-01-11T13:00:00Z")));
    assert!(k.is_open && !k.paused && k.breached_at.is_none());
    // The high complaint raised an action? Not here: actions come from the API's intake.

    command(
        &db,
        c.id,
        ComplaintCommand::Assign { to: o.coordinator },
        &coord,
        utc("2026-01-11T05:30:00Z"),
    )
    .await;
    command(
        &db,
        c.id,
        ComplaintCommand::Acknowledge,
        &coord,
        utc("2026-01-11T06:00:00Z"),
    )
    .await;
    let k = db.sla_clock(ItemKind::Complaint, c.id).await.unwrap();
    assert_eq!(k.first_responded_at, Some(utc("2026-01-11T06:00:00Z")));

    // Waiting on the patient pauses resolution: one business hour of pause moves the due.
    command(
        &db,
        c.id,
        ComplaintCommand::StartWork,
        &coord,
        utc("2026-01-11T06:00:00Z"),
    )
    .await;
    command(
        &db,
        c.id,
        ComplaintCommand::WaitOnPatient,
        &coord,
        utc("2026-01-11T07:00:00Z"),
    )
    .await;
    let k = db.sla_clock(ItemKind::Complaint, c.id).await.unwrap();
    assert!(k.paused);
    assert_eq!(k.next_check_at, None, "a paused clock is not scanned");
    command(
        &db,
        c.id,
        ComplaintCommand::PatientReplied,
        &coord,
        utc("2026-01-11T08:00:00Z"),
    )
    .await;
    let k = db.sla_clock(ItemKind::Complaint, c.id).await.unwrap();
    assert!(!k.paused);
    assert_eq!(k.resolution_due_at, Some(utc("2026-01-11T14:00:00Z")));

    // Nothing is due before the warning (75 % of 8 h = 6 h → Sunday 15:00 local = 12:00Z).
    let out = db
        .sla_scan(utc("2026-01-11T10:00:00Z"), 100, "w1")
        .await
        .unwrap();
    assert_eq!(out.evaluated, 0);
    // After the breach: the warning (level 1, to the assignee) and level 2 (the department's
    // manager) are recorded and notified, each once.
    let out = db
        .sla_scan(utc("2026-01-11T14:00:30Z"), 100, "w1")
        .await
        .unwrap();
    assert_eq!((out.evaluated, out.escalations), (1, 2), "{out:?}");
    let k = db.sla_clock(ItemKind::Complaint, c.id).await.unwrap();
    assert_eq!(k.breached_at, Some(utc("2026-01-11T14:00:00Z")));
    assert!(k.warned_at.is_some());
    // Level 3 (hospital admin) is 4 calendar hours after the breach.
    assert_eq!(k.next_check_at, Some(utc("2026-01-11T18:00:00Z")));
    let out = db
        .sla_scan(utc("2026-01-11T14:00:40Z"), 100, "w2")
        .await
        .unwrap();
    assert_eq!(out.escalations, 0, "retry escalates nothing twice");
    let n = db.notifications_for(o.coordinator, 10).await.unwrap();
    assert_eq!(n.len(), 1, "the warning: {n:?}");
    let n = db.notifications_for(o.manager, 10).await.unwrap();
    assert_eq!(n.len(), 1);
    let out = db
        .sla_scan(utc("2026-01-11T18:00:10Z"), 100, "w1")
        .await
        .unwrap();
    assert_eq!(out.escalations, 1);
    assert_eq!(
        db.notifications_for(o.hospital_admin, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('sla.warn', 'sla.escalate')"
        )
        .await,
        3
    );

    // Resolve, then reopen: a second cycle with fresh clocks.
    let now = Utc::now();
    command(
        &db,
        c.id,
        ComplaintCommand::Resolve {
            summary: "Apologised, fixed signage".into(),
        },
        &coord,
        now,
    )
    .await;
    let k = db.sla_clock(ItemKind::Complaint, c.id).await.unwrap();
    assert!(k.resolved_at.is_some() && k.next_check_at.is_none());
    command(
        &db,
        c.id,
        ComplaintCommand::Reopen {
            reason: "Patient says still wrong".into(),
        },
        &coord,
        now,
    )
    .await;
    let k = db.sla_clock(ItemKind::Complaint, c.id).await.unwrap();
    assert_eq!(k.cycle, 2);
    assert_eq!(k.cycles.as_array().unwrap().len(), 2);
    assert!(k.breached_at.is_none(), "the new cycle starts clean");
    tdb.drop_db().await;
}

fn london() -> CalendarInput {
    let day = vec!["09:00-17:00".to_owned()];
    let hours: BTreeMap<String, Vec<String>> = ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|d| ((*d).to_owned(), day.clone()))
        .collect();
    CalendarInput {
        time_zone: "Europe/London".into(),
        hours,
        holidays: vec![],
    }
}

async fn london_dst_and_recompute(kind: Backend) {
    let tdb = px360_testkit::TestDb::new(kind).await;
    let db = tdb.seeded().await;
    let o = org(&db, "RGH").await;
    let mut tx = db.writer.begin().await.unwrap();
    put_calendar(&mut tx, o.hospital, &london(), None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Spring: Friday 27 March 2026 16:00 GMT; the clocks go forward on Sunday 29 March.
    // Medium: first response 8 business hours (1 h Friday + 7 h Monday → Monday 16:00 BST),
    // resolution 24 (1 + 8 + 8 + 7 → Wednesday 16:00 BST).
    let spring = intake(
        &db,
        &new_complaint(&o, Severity::Medium),
        utc("2026-03-27T16:00:00Z"),
    )
    .await;
    let k = db.sla_clock(ItemKind::Complaint, spring.id).await.unwrap();
    assert_eq!(k.first_response_due_at, Some(utc("2026-03-30T15:00:00Z")));
    assert_eq!(k.resolution_due_at, Some(utc("2026-04-01T15:00:00Z")));
    // Autumn: Friday 23 October 2026 16:00 BST; back to GMT on Sunday 25 October.
    let autumn = intake(
        &db,
        &new_complaint(&o, Severity::Medium),
        utc("2026-10-23T15:00:00Z"),
    )
    .await;
    let k = db.sla_clock(ItemKind::Complaint, autumn.id).await.unwrap();
    assert_eq!(k.first_response_due_at, Some(utc("2026-10-26T16:00:00Z")));
    assert_eq!(k.resolution_due_at, Some(utc("2026-10-28T16:00:00Z")));

    // A holiday on Monday 30 March is added: recompute moves every open item's due moment.
    let mut cal = london();
    cal.holidays.push(px360_store::sla::config::HolidayDoc {
        name: "Closure".into(),
        from: "2026-03-30".into(),
        to: None,
    });
    let mut tx = db.writer.begin().await.unwrap();
    put_calendar(&mut tx, o.hospital, &cal, None).await.unwrap();
    tx.commit().await.unwrap();
    let n = db
        .recompute_hospital(o.hospital, utc("2026-03-27T17:00:00Z"))
        .await
        .unwrap();
    assert_eq!(n, 2);
    let k = db.sla_clock(ItemKind::Complaint, spring.id).await.unwrap();
    assert_eq!(k.first_response_due_at, Some(utc("2026-03-31T15:00:00Z")));
    assert_eq!(k.resolution_due_at, Some(utc("2026-04-02T15:00:00Z")));
    tdb.drop_db().await;
}

#[tokio::test]
async fn riyadh_lifecycle_and_escalation_sqlite() {
    riyadh_lifecycle_and_escalation(Backend::Sqlite).await;
}

#[tokio::test]
async fn riyadh_lifecycle_and_escalation_postgres() {
    riyadh_lifecycle_and_escalation(Backend::Postgres).await;
}

#[tokio::test]
async fn london_dst_and_recompute_sqlite() {
    london_dst_and_recompute(Backend::Sqlite).await;
}

#[tokio::test]
async fn london_dst_and_recompute_postgres() {
    london_dst_and_recompute(Backend::Postgres).await;
}

/// Two workers (two connection pools, as two processes) scan the same overdue clocks at once:
/// every step is recorded once, every recipient notified once, and the breach scan's query uses
/// the partial index.
#[tokio::test]
async fn two_workers_escalate_once_on_postgres() {
    let tdb = px360_testkit::TestDb::new(Backend::Postgres).await;
    let db = tdb.seeded().await;
    let o = org(&db, "RGH").await;
    const N: usize = 120;
    let created = utc("2026-01-04T05:00:00Z"); // Sunday 08:00 Riyadh
    for _ in 0..N {
        intake(&db, &new_complaint(&o, Severity::Critical), created).await;
    }
    let w1 = Db::connect(&tdb.url).await.unwrap();
    let w2 = Db::connect(&tdb.url).await.unwrap();
    // Critical: 1 h / 4 h calendar time; at +30 h every level of the ladder is due.
    let now = utc("2026-01-05T11:00:00Z");
    let run = |db: Db, name: &'static str| async move {
        let mut total = px360_store::sla::scan::ScanOutcome::default();
        loop {
            let out = db.sla_scan(now, 25, name).await.unwrap();
            total.evaluated += out.evaluated;
            total.escalations += out.escalations;
            total.notifications += out.notifications;
            if out.evaluated == 0 {
                return total;
            }
        }
    };
    let (a, b) = tokio::join!(run(w1, "w1"), run(w2, "w2"));
    assert!(
        a.evaluated > 0 && b.evaluated > 0,
        "both workers took part: {a:?} {b:?}"
    );
    let steps = count(&db, "SELECT COUNT(*) FROM sla_escalations").await;
    assert_eq!(steps as usize, N * 4);
    assert_eq!(a.escalations + b.escalations, N * 4);
    let dup = count(&db, "SELECT COUNT(*) FROM (SELECT item_id, cycle, level FROM sla_escalations GROUP BY item_id, cycle, level HAVING COUNT(*) > 1) d").await;
    assert_eq!(dup, 0);
    // No assignee: level 1 goes to the PX coordinator; 2 manager; 3 hospital admin; 4 PX admin.
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM notifications").await as usize,
        N * 4
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('sla.warn', 'sla.escalate')"
        )
        .await as usize,
        N * 4
    );
    // A second pass finds nothing left to do.
    assert_eq!(db.sla_scan(now, 1000, "w3").await.unwrap().escalations, 0);
    // The scan is an index range on the partial index, not a table scan.
    sqlx::query("ANALYZE sla_clocks")
        .execute(&db.pool)
        .await
        .unwrap();
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT item_kind, item_id FROM sla_clocks WHERE is_open = 1 AND next_check_at IS NOT NULL AND next_check_at <= '2026-01-05T11:00:00.000000Z' ORDER BY next_check_at LIMIT 200",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let _ = o;
    assert!(
        plan.iter().any(|l| l.contains("sla_clocks_due")),
        "{plan:#?}"
    );
    tdb.drop_db().await;
}
