//! Event processing end to end against real databases (a SQLite file and PostgreSQL on
//! 127.0.0.1:5432): the set-wise batch path must leave exactly the state the event-by-event
//! path leaves, for batches that exercise every journey rule, and must be the path taken.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Utc;
use px360_domain::event::{EventPayload, InboundEvent};
use px360_store::events::{Caller, Intake};
use px360_store::journeys::Outcome;
use px360_store::{Backend, Db};

/// A fresh migrated database on `backend`, dropped afterwards.
struct TestDb {
    db: Db,
    tdb: px360_testkit::TestDb,
}

impl TestDb {
    async fn new(backend: Backend) -> Self {
        let tdb = px360_testkit::TestDb::new(backend).await;
        Self {
            db: tdb.connect().await,
            tdb,
        }
    }

    async fn drop(self) {
        self.db.pool.close().await;
        self.db.writer.close().await;
        self.tdb.drop_db().await;
    }
}

fn ev(
    code: &str,
    encounter: &str,
    mrn: &str,
    dept: Option<&str>,
    lic: Option<&str>,
) -> InboundEvent {
    InboundEvent {
        source_system: "EPIC".into(),
        event_code: code.into(),
        encounter_id: encounter.into(),
        patient_identifier: mrn.into(),
        payload: EventPayload {
            physician_licence: lic.map(Into::into),
            department_code: dept.map(Into::into),
            timestamp: clinical_time(code, encounter),
            custom_fields: Default::default(),
        },
    }
}

/// A clinical time that differs per event and from the processing moment, the same in every
/// run, so both paths must record exactly these times.
fn clinical_time(code: &str, encounter: &str) -> chrono::DateTime<Utc> {
    let minutes: i64 = code.bytes().chain(encounter.bytes()).map(i64::from).sum();
    chrono::DateTime::parse_from_rfc3339("2026-01-31T06:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
        + chrono::Duration::minutes(minutes)
}

/// Two batches: the first starts journeys (and continues one it started itself), the second
/// continues journeys the first left in the database.
fn batches() -> [Vec<InboundEvent>; 2] {
    let m = "RGH-CARD-0001";
    [
        vec![
            ev("OP_BOOKED", "e1", m, Some("CARD"), Some("GMC111")),
            ev("OP_CHECKIN", "e1", m, Some("CARD"), Some("GMC111")),
            ev(
                "ED_TRIAGE",
                "e2",
                "RGH-UNKNOWN-9",
                Some("NOPE"),
                Some("GMC404"),
            ),
            ev("LAB_RESULT", "e3", m, None, None),
            ev("IP_ADMIT", "e4", m, Some("GMED"), None),
        ],
        vec![
            ev("OP_CHECKOUT", "e1", m, Some("CARD"), None),
            ev("ED_ARRIVAL", "e2", "RGH-UNKNOWN-9", None, None),
            ev("IP_DISCHARGE", "e4", m, None, None),
            ev("IP_ADMIT", "e5", m, None, None),
        ],
    ]
}

type JourneyRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

/// Journeys, stages and event results by natural keys (ids differ between runs).
async fn state(db: &Db) -> Vec<String> {
    let mut out: Vec<String> = sqlx::query_as::<_, JourneyRow>(
        "SELECT ji.encounter_id, jt.code, ji.status, d.code, p.mrn, ji.patient_identifier, ji.completed_at, \
         ji.started_at, ji.started_recorded_at, ji.completed_recorded_at \
         FROM journey_instances ji JOIN journey_templates jt ON jt.id = ji.journey_template_id \
         LEFT JOIN departments d ON d.id = ji.department_id LEFT JOIN patients p ON p.id = ji.patient_id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .into_iter()
    .map(|(a, b, c, d, e, f, done, started, started_rec, done_rec)| {
        // Clinical times compared by value; recorded times exist exactly when the clinical ones
        // do and are the processing moment (after the 2026-01-31 clinical times).
        assert!(started_rec.as_deref().is_some_and(|r| r > started.as_str()));
        assert_eq!(done.is_some(), done_rec.is_some());
        format!("journey {:?}", (a, b, c, d, e, f, done, started))
    })
    .collect();
    out.extend(
        sqlx::query_as::<_, (String, i64, String, String, Option<String>, Option<String>, Option<String>)>(
            "SELECT ji.encounter_id, si.position, si.completing_event_code, si.status, e.event_code, si.completed_at, si.completed_recorded_at \
             FROM stage_instances si JOIN journey_instances ji ON ji.id = si.journey_instance_id \
             LEFT JOIN inbound_events e ON e.id = si.completed_by_event_id",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(a, b, c, d, e, done, done_rec)| {
            assert_eq!(done.is_some(), done_rec.is_some());
            format!("stage {:?}", (a, b, c, d, e, done))
        }),
    );
    out.extend(
        sqlx::query_as::<_, (String, String, String, i64, String)>(
            "SELECT encounter_id, event_code, status, attempts, warnings FROM inbound_events",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|r| format!("event {r:?}")),
    );
    out.sort();
    out
}

async fn run(backend: Backend, set_wise: bool) -> Vec<String> {
    let t = TestDb::new(backend).await;
    t.db.seed_demo(Some("a-long-test-password")).await.unwrap();
    let hospital: String = sqlx::query_scalar("SELECT id FROM hospitals WHERE code = 'RGH'")
        .fetch_one(&t.db.pool)
        .await
        .unwrap();
    let key =
        t.db.create_api_key(&hospital, "t", &["*".into()], None)
            .await
            .unwrap();
    let caller = Caller {
        api_key_id: key.key.id.to_string(),
        hospital_id: hospital,
        ip: None,
        user_agent: None,
    };
    for batch in batches() {
        let items: Vec<_> = batch.iter().map(|e| (&caller, e)).collect();
        let ids: Vec<String> =
            t.db.intake_many(&items)
                .await
                .unwrap()
                .into_iter()
                .map(|i| match i {
                    Intake::Accepted(id) => id,
                    Intake::Duplicate(_) => panic!("no duplicates in this test"),
                })
                .collect();
        let (done, used_set_wise) = t.db.process_events_via(&ids, set_wise).await.unwrap();
        assert_eq!(
            used_set_wise, set_wise,
            "{backend:?}: the requested path applied the batch"
        );
        assert_eq!(done.len(), ids.len());
        assert!(
            done.iter().all(|(_, o)| matches!(o, Outcome::Processed(_))),
            "{done:?}"
        );
        // A second delivery of the same job applies nothing.
        assert!(
            t.db.process_events_via(&ids, set_wise)
                .await
                .unwrap()
                .0
                .is_empty()
        );
    }
    let s = state(&t.db).await;
    t.drop().await;
    s
}

async fn same_state_both_paths(backend: Backend) {
    let set_wise = run(backend, true).await;
    let single = run(backend, false).await;
    assert_eq!(set_wise, single);
    // The scenario really exercised the rules: a completed journey, a skipped stage, warnings.
    let all = set_wise.join("\n");
    // Stages and journeys carry the completing event's clinical time, not the processing moment.
    let checkout = px360_store::ts(clinical_time("OP_CHECKOUT", "e1"));
    let stage_done =
        format!("\"OP_CHECKOUT\", \"completed\", Some(\"OP_CHECKOUT\"), Some({checkout:?})");
    let journey_done = format!(
        "Some({checkout:?}), {:?}",
        px360_store::ts(clinical_time("OP_BOOKED", "e1"))
    );
    for needle in [
        stage_done.as_str(),
        journey_done.as_str(),
        "\"skipped\"",
        "\"OUTPATIENT_VISIT\", \"completed\"",
        "unknown_patient",
        "unknown_department",
        "unknown_physician",
        "no_matching_stage",
        "\"e5\", \"INPATIENT_STAY\", \"active\"",
    ] {
        assert!(all.contains(needle), "{needle} missing from\n{all}");
    }
}

#[tokio::test]
async fn set_wise_equals_event_by_event_sqlite() {
    same_state_both_paths(Backend::Sqlite).await;
}

#[tokio::test]
async fn set_wise_equals_event_by_event_postgres() {
    same_state_both_paths(Backend::Postgres).await;
}
