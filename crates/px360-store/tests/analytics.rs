//! Analytics roll-ups on real databases (a SQLite file and PostgreSQL on 127.0.0.1:5432): the
//! maintained daily rows against an independent recount of the raw responses (counted here
//! from the stored JSON, by local day in each hospital's zone), scope filters, idempotent
//! refresh, incremental refresh and rebuild, physician attribution and comments.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Duration, Utc};
use px360_store::analytics::generate::GenerateSpec;
use px360_store::analytics::{AnalyticsFilter, DayRange, Dimension};
use px360_store::{Db, row};
use px360_testkit::{Kind, TestDb};
use sqlx::Row;
use std::collections::BTreeMap;
use uuid::Uuid;

/// What the raw tables say, counted without any analytics code.
#[derive(Debug, Default, PartialEq, Eq, Clone)]
struct Raw {
    invitations: u64,
    answered: u64,
    responses: u64,
    promoters: u64,
    passives: u64,
    detractors: u64,
    csat_ok: u64,
    csat_n: u64,
    /// Σ frequency points ×3 (Never 0, Sometimes 1, Usually 2, Always 3) and the answer count.
    listened_steps: u64,
    listened_n: u64,
    comments: u64,
}

async fn raw(
    db: &Db,
    hospital: Option<&str>,
    department: Option<&str>,
) -> (Raw, BTreeMap<String, u64>) {
    let mut r = Raw::default();
    let inv = sqlx::query(
        "SELECT i.status AS status FROM survey_invitations i LEFT JOIN journey_instances ji ON ji.id = i.journey_instance_id \
         WHERE i.decision = 'send' AND ($1 IS NULL OR i.hospital_id = $1) AND ($2 IS NULL OR ji.department_id = $2)",
    )
    .bind(hospital)
    .bind(department)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for x in inv {
        r.invitations += 1;
        r.answered += u64::from(x.get::<String, _>("status") == "answered");
    }
    let rows = sqlx::query(
        "SELECT r.answers AS answers, r.submitted_at AS submitted_at, h.timezone AS tz FROM survey_responses r \
         JOIN survey_invitations i ON i.id = r.invitation_id JOIN hospitals h ON h.id = r.hospital_id \
         LEFT JOIN journey_instances ji ON ji.id = i.journey_instance_id \
         WHERE r.is_partial = 0 AND ($1 IS NULL OR r.hospital_id = $1) AND ($2 IS NULL OR ji.department_id = $2)",
    )
    .bind(hospital)
    .bind(department)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut per_day: BTreeMap<String, u64> = BTreeMap::new();
    for x in rows {
        let a: serde_json::Value = serde_json::from_str(&x.get::<String, _>("answers")).unwrap();
        r.responses += 1;
        let at: DateTime<Utc> = row::time(&x, "submitted_at").unwrap();
        assert!(
            at <= Utc::now(),
            "a generated response from the future: {at}"
        );
        let tz: chrono_tz::Tz = x.get::<String, _>("tz").parse().unwrap();
        *per_day
            .entry(at.with_timezone(&tz).format("%Y-%m-%d").to_string())
            .or_default() += 1;
        let nps = a["recommend"]["nps"].as_u64().unwrap();
        match nps {
            9..=10 => r.promoters += 1,
            7..=8 => r.passives += 1,
            _ => r.detractors += 1,
        }
        let rating = a["overall"]["rating"].as_u64().unwrap();
        r.csat_n += 1;
        r.csat_ok += u64::from(rating >= 4);
        if let Some(f) = a["listened"]["frequency"].as_str() {
            r.listened_n += 1;
            r.listened_steps += match f {
                "never" => 0,
                "sometimes" => 1,
                "usually" => 2,
                _ => 3,
            };
        }
        r.comments += u64::from(a.get("comment").is_some());
    }
    (r, per_day)
}

fn everything() -> DayRange {
    let today = Utc::now().date_naive();
    DayRange::new(today - Duration::days(30), today + Duration::days(2))
}

async fn rolled(db: &Db, f: &AnalyticsFilter) -> Raw {
    let range = everything();
    let t = db.analytics_rollup(f, &range).await.unwrap();
    let key = px360_domain::survey::key::Key::parse("listened").unwrap();
    let listened = t
        .survey
        .items
        .0
        .get(&key)
        .and_then(|c| c.frequency)
        .unwrap_or_default();
    Raw {
        invitations: t.response_rate.invitations(),
        answered: t.response_rate.answered(),
        responses: t.survey.responses,
        promoters: t.survey.nps.promoters,
        passives: t.survey.nps.passives,
        detractors: t.survey.nps.detractors,
        csat_ok: t.survey.csat.satisfied,
        csat_n: t.survey.csat.total,
        listened_steps: listened.iter().enumerate().map(|(i, c)| i as u64 * c).sum(),
        listened_n: listened.iter().sum(),
        comments: 0,
    }
}

async fn generate(db: &Db, count: u64, seed: u64) {
    db.analytics_generate(&GenerateSpec {
        count,
        days: 6,
        seed,
        end: Utc::now(),
        batch: 170,
    })
    .await
    .unwrap();
}

async fn rollups(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let db = tdb.seeded().await;
    generate(&db, 600, 1).await;
    let rep = db.analytics_refresh().await.unwrap();
    assert!(rep.days >= 6 && rep.rows > 0, "{rep:?}");

    // Group: every counter equals the recount, and the KPIs follow.
    let (want, per_day) = raw(&db, None, None).await;
    assert!(want.responses > 300 && want.invitations == 600, "{want:?}");
    let mut got = rolled(&db, &AnalyticsFilter::default()).await;
    got.comments = want.comments;
    assert_eq!(got, want);
    let t = db
        .analytics_rollup(&AnalyticsFilter::default(), &everything())
        .await
        .unwrap();
    let nps = t.survey.nps.nps().unwrap().to_f64();
    let hand = 100.0 * (want.promoters as f64 - want.detractors as f64) / want.responses as f64;
    assert!((nps - hand).abs() < 1e-9, "{nps} vs {hand}");
    let key = px360_domain::survey::key::Key::parse("listened").unwrap();
    let (_, item) = t.survey.items.item(&key).unwrap();
    let hand = 100.0 * want.listened_steps as f64 / (3.0 * want.listened_n as f64);
    assert!((item.linear_mean.to_f64() - hand).abs() < 1e-9);

    // Days are local days in each hospital's zone.
    let by_day = db
        .analytics_breakdown(&AnalyticsFilter::default(), &everything(), Dimension::Day)
        .await
        .unwrap();
    let got_days: BTreeMap<String, u64> = by_day
        .iter()
        .filter(|(_, r)| r.survey.responses > 0)
        .map(|(d, r)| (d.clone(), r.survey.responses))
        .collect();
    assert_eq!(got_days, per_day);

    // Scope in SQL: a hospital and a department see exactly their own rows, and departments
    // add up to their hospital.
    let hospitals: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT hospital_id FROM survey_invitations")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert!(
        hospitals.len() >= 2,
        "the generator spreads over the demo hospitals"
    );
    for h in &hospitals {
        let hf = AnalyticsFilter {
            hospital: Some(Uuid::parse_str(h).unwrap()),
            ..Default::default()
        };
        let (want_h, _) = raw(&db, Some(h), None).await;
        let mut got_h = rolled(&db, &hf).await;
        got_h.comments = want_h.comments;
        assert_eq!(got_h, want_h);
        let depts = db
            .analytics_breakdown(&hf, &everything(), Dimension::Department)
            .await
            .unwrap();
        let sum: u64 = depts.iter().map(|(_, r)| r.survey.responses).sum();
        assert_eq!(sum, want_h.responses);
        let (d, _) = depts.first().unwrap();
        let df = AnalyticsFilter {
            department: Some(Uuid::parse_str(d).unwrap()),
            ..hf.clone()
        };
        let (want_d, _) = raw(&db, Some(h), Some(d)).await;
        let mut got_d = rolled(&db, &df).await;
        got_d.comments = want_d.comments;
        assert_eq!(got_d, want_d);
    }

    // Idempotent: refreshing again (the overlap re-reads recent changes) changes nothing.
    let count = |db: &Db| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM analytics_daily")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let rows_before = count(&db).await;
    db.analytics_refresh().await.unwrap();
    assert_eq!(count(&db).await, rows_before);
    assert_eq!(
        rolled(&db, &AnalyticsFilter::default()).await.responses,
        want.responses
    );

    // Incremental: new responses appear after the next refresh.
    generate(&db, 150, 2).await;
    db.analytics_refresh().await.unwrap();
    let (want2, _) = raw(&db, None, None).await;
    assert_eq!(want2.invitations, 750);
    let mut got2 = rolled(&db, &AnalyticsFilter::default()).await;
    got2.comments = want2.comments;
    assert_eq!(got2, want2);

    // Rebuild gives the same rows.
    let r = db.analytics_rebuild().await.unwrap();
    assert!(r.days > 0);
    let mut got3 = rolled(&db, &AnalyticsFilter::default()).await;
    got3.comments = want2.comments;
    assert_eq!(got3, want2);

    // Physicians: every generated response names a physician of its department (the demo seed
    // has physicians in each), rated on the physician-tagged questions only.
    let ph = db
        .analytics_physicians(&AnalyticsFilter::default(), &everything())
        .await
        .unwrap();
    let rated: u64 = ph.iter().map(|p| p.acc.responses()).sum();
    assert_eq!(rated, want2.responses);
    for p in &ph {
        let keys: Vec<String> = p
            .acc
            .0
            .items
            .0
            .keys()
            .map(|k| k.as_str().to_owned())
            .collect();
        assert!(
            keys.iter().all(|k| k == "listened" || k == "explained"),
            "{keys:?}"
        );
        assert_eq!(
            p.acc.0.nps.n(),
            0,
            "the NPS question is not about the physician"
        );
    }
    let one = &ph[0];
    let own = AnalyticsFilter {
        physician: Some(one.physician_id),
        ..Default::default()
    };
    let only = db.analytics_physicians(&own, &everything()).await.unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].acc.responses(), one.acc.responses());

    // Comments: the free-text answers, per physician when asked.
    let all = db
        .analytics_comments(&AnalyticsFilter::default(), &everything(), 10_000)
        .await
        .unwrap();
    assert_eq!(all.len() as u64, want2.comments);
    let mine = db
        .analytics_comments(&own, &everything(), 10_000)
        .await
        .unwrap();
    assert!(
        mine.iter()
            .all(|c| c.physician_id == Some(one.physician_id))
    );
    assert!(mine.len() < all.len());

    tdb.drop_db().await;
}

mod rollups {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::rollups(super::Kind::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::rollups(super::Kind::Postgres).await;
    }
}
