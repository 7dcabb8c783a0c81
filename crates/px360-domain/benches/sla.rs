//! SLA hot paths: due dates over a business calendar with a year of holidays, a 30-business-day
//! target (week skipping), and replaying a 50-event complaint history into SLA state.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use px360_domain::action::complaint::{self, ComplaintStatus};
use px360_domain::sla::calendar::presets::{riyadh, saudi_holidays_2026};
use px360_domain::sla::clock::{ClockContext, History, SlaEvent, SlaEventKind, evaluate};
use px360_domain::sla::escalation::{Ladder, decide};
use px360_domain::sla::{Holiday, Severity, SlaDuration, SlaPolicy, Target};
use std::hint::black_box;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The Saudi holidays plus one closure day a month (hospital-specific), 16 entries over 2026.
fn year_of_holidays() -> Vec<Holiday> {
    let mut h = saudi_holidays_2026();
    for m in 1..=12 {
        h.push(Holiday::day(
            "closure",
            NaiveDate::from_ymd_opt(2026, m, 10).unwrap(),
        ));
    }
    h
}

fn history_50() -> Vec<SlaEvent<ComplaintStatus>> {
    use ComplaintStatus::*;
    let t0 = utc("2026-01-11T05:00:00Z");
    let mut h = vec![SlaEvent {
        at: t0,
        kind: SlaEventKind::Opened { state: New },
    }];
    h.push(SlaEvent {
        at: t0 + TimeDelta::minutes(20),
        kind: SlaEventKind::Status {
            state: Acknowledged,
        },
    });
    h.push(SlaEvent {
        at: t0 + TimeDelta::minutes(40),
        kind: SlaEventKind::Status { state: InProgress },
    });
    // Alternating waiting on the patient and back, with updates sent, over three weeks.
    let mut t = t0 + TimeDelta::hours(1);
    while h.len() < 50 {
        t += TimeDelta::hours(7);
        let kind = match h.len() % 3 {
            0 => SlaEventKind::Status {
                state: WaitingOnPatient,
            },
            1 => SlaEventKind::Status { state: InProgress },
            _ => SlaEventKind::UpdateSent,
        };
        h.push(SlaEvent { at: t, kind });
    }
    h
}

fn bench(c: &mut Criterion) {
    let cal = riyadh(&year_of_holidays());
    let start = utc("2026-01-04T07:30:00Z");

    let mut g = c.benchmark_group("sla_add_business_days");
    for days in [1u32, 5, 30, 120] {
        let d = SlaDuration::hours(days * 8).unwrap();
        g.bench_with_input(BenchmarkId::from_parameter(days), &d, |b, d| {
            b.iter(|| cal.add_business_duration(black_box(start), *d))
        });
    }
    g.finish();

    // Due date for one item, as at creation: high-severity resolution target (1 business day),
    // starts spread over the year so that holidays and weekends are crossed.
    let policy = SlaPolicy::demo_default();
    let target: Target = policy
        .targets_for("nursing", Severity::High)
        .unwrap()
        .resolution
        .unwrap();
    let starts: Vec<DateTime<Utc>> = (0..1000)
        .map(|i| start + TimeDelta::minutes(i * 517))
        .collect();
    c.bench_function("sla_due_date_per_item", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % starts.len();
            target.due_from(black_box(starts[i]), &cal)
        })
    });

    let a = utc("2026-01-04T07:30:00Z");
    let z = utc("2026-03-01T07:30:00Z");
    c.bench_function("sla_between_8_weeks", |b| {
        b.iter(|| cal.business_duration_between(black_box(a), z))
    });

    let hist = History::new(history_50()).unwrap();
    let rules = complaint::clock_rules();
    let targets = policy.targets_for("nursing", Severity::Medium).unwrap();
    let ctx = ClockContext {
        rules: &rules,
        targets,
        warn_at: policy.warn_at(),
        calendar: &cal,
    };
    let now = utc("2026-02-01T10:00:00Z");
    c.bench_function("sla_state_50_events", |b| {
        b.iter(|| evaluate(black_box(&hist), &ctx, now))
    });
    let ladder = Ladder::standard();
    c.bench_function("sla_state_and_escalation_50_events", |b| {
        b.iter(|| decide(&evaluate(black_box(&hist), &ctx, now), &ladder, now))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
