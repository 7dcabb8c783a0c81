//! `px360 analytics …`: rebuild and refresh the roll-ups, generate synthetic responses, and
//! benchmark the dashboard's tile queries (README, "Analytics", for the numbers).

use chrono::{Datelike, NaiveDate, Utc};
use px360_store::Db;
use px360_store::analytics::generate::GenerateSpec;
use px360_store::analytics::{AnalyticsFilter, DayRange, Dimension};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Generate `count` invitations (≈70 % answered) over the last `days` days, then refresh.
pub async fn generate(db: &Db, count: u64, days: u32, seed: u64) -> anyhow::Result<()> {
    db.seed_demo(None).await?;
    let started = Instant::now();
    let n = db
        .analytics_generate(&GenerateSpec {
            count,
            days,
            seed,
            end: Utc::now(),
            batch: 2000,
        })
        .await?;
    let generated = started.elapsed();
    let started = Instant::now();
    let r = db.analytics_refresh().await?;
    println!(
        "generated {n} invitations in {:.1} s; roll-ups: {} hospital-days, {} rows in {:.1} s",
        generated.as_secs_f64(),
        r.days,
        r.rows,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    // Nearest rank.
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied().unwrap_or_default()
}

/// Time each dashboard tile query `iterations` times for the group, a hospital and a
/// department over the current month and quarter; prints p50 / p95 / max per query.
pub async fn bench(db: &Db, iterations: usize) -> anyhow::Result<Vec<(String, Duration)>> {
    let today = Utc::now().date_naive();
    let month = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    let quarter_start =
        NaiveDate::from_ymd_opt(today.year(), (today.month0() / 3) * 3 + 1, 1).unwrap_or(today);
    let next = |d: NaiveDate, m: u32| d.checked_add_months(chrono::Months::new(m)).unwrap_or(d);
    let h: Option<String> = sqlx::query_scalar(
        "SELECT id FROM hospitals WHERE deleted_at IS NULL ORDER BY code LIMIT 1",
    )
    .fetch_optional(&db.pool)
    .await?;
    let d: Option<String> = match &h {
        Some(h) => {
            sqlx::query_scalar(
                "SELECT id FROM departments WHERE hospital_id = $1 ORDER BY code LIMIT 1",
            )
            .bind(h)
            .fetch_optional(&db.pool)
            .await?
        }
        None => None,
    };
    let uuid = |s: &Option<String>| s.as_deref().and_then(|s| Uuid::parse_str(s).ok());
    let scopes = [
        ("group", AnalyticsFilter::default()),
        (
            "hospital",
            AnalyticsFilter {
                hospital: uuid(&h),
                ..Default::default()
            },
        ),
        (
            "department",
            AnalyticsFilter {
                hospital: uuid(&h),
                department: uuid(&d),
                ..Default::default()
            },
        ),
    ];
    let ranges = [
        ("month", DayRange::new(month, next(month, 1))),
        (
            "quarter",
            DayRange::new(quarter_start, next(quarter_start, 3)),
        ),
    ];
    let mut p95s = Vec::new();
    println!(
        "{:<42} {:>9} {:>9} {:>9}",
        "query", "p50 ms", "p95 ms", "max ms"
    );
    for (sname, f) in &scopes {
        for (rname, range) in &ranges {
            for q in [
                "totals",
                "items",
                "by_department",
                "by_day",
                "physicians",
                "cases",
            ] {
                let mut times = Vec::with_capacity(iterations);
                for _ in 0..iterations {
                    let t = Instant::now();
                    match q {
                        "totals" => {
                            std::hint::black_box(db.analytics_totals(f, range).await?);
                        }
                        "items" => {
                            std::hint::black_box(db.analytics_items(f, range).await?);
                        }
                        "by_department" => {
                            std::hint::black_box(
                                db.analytics_breakdown(f, range, Dimension::Department)
                                    .await?,
                            );
                        }
                        "by_day" => {
                            std::hint::black_box(
                                db.analytics_breakdown(f, range, Dimension::Day).await?,
                            );
                        }
                        "physicians" => {
                            std::hint::black_box(db.analytics_physicians(f, range).await?);
                        }
                        _ => {
                            std::hint::black_box(db.analytics_cases(f, range, Utc::now()).await?);
                        }
                    }
                    times.push(t.elapsed());
                }
                times.sort();
                let name = format!("{q} {sname} {rname}");
                let (p50, p95) = (percentile(&times, 0.5), percentile(&times, 0.95));
                let max = times.last().copied().unwrap_or_default();
                println!(
                    "{name:<42} {:>9.1} {:>9.1} {:>9.1}",
                    p50.as_secs_f64() * 1e3,
                    p95.as_secs_f64() * 1e3,
                    max.as_secs_f64() * 1e3
                );
                p95s.push((name, p95));
            }
        }
    }
    Ok(p95s)
}
