//! Analytics hot paths: merging a year of daily roll-up rows into one tile's numbers (every
//! dashboard tile over a year), and folding observations into accumulators (the roll-up job).
#![allow(clippy::unwrap_used)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use px360_domain::analytics::Merge;
use px360_domain::analytics::actions::ActionState;
use px360_domain::analytics::complaints::{ComplaintCell, ComplaintSource, Severity};
use px360_domain::analytics::items::ItemsAcc;
use px360_domain::analytics::nps::NpsAcc;
use px360_domain::analytics::rollup::Rollup;
use px360_domain::analytics::sla_compliance::{SlaGoal, SlaOutcome};
use px360_domain::survey::answer::Answer;
use px360_domain::survey::key::Key;
use px360_domain::survey::question::Frequency;
use std::hint::black_box;

fn k(s: &str) -> Key {
    Key::parse(s).unwrap()
}

/// A day's row for one hospital: ~100 invitations, 40 responses over 8 HCAHPS-style items, SLA
/// goals, complaints in 12 cells and actions: 10 KPIs (response rate, NPS, CSAT, item boxes
/// and linear means, two SLA goals, complaints, time to resolve, closure, overdue).
fn day(seed: u64) -> Rollup {
    let mut r = Rollup::default();
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let mut next = |m: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % m
    };
    let keys: Vec<Key> = (0..8).map(|i| k(&format!("q{i}"))).collect();
    for _ in 0..100 {
        r.response_rate.add_invitation(next(10) < 4);
    }
    for _ in 0..40 {
        r.survey.responses += 1;
        r.survey.nps.add(next(11) as u8).unwrap();
        r.survey.csat.add(1 + next(5) as u8).unwrap();
        for (i, key) in keys.iter().enumerate() {
            let a = match i {
                0..=5 => Answer::Frequency(Frequency::ALL[next(4) as usize]),
                6 => Answer::Nps(next(11) as u8),
                _ => Answer::YesNo(next(2) == 1),
            };
            r.survey.items.add(key, &a);
        }
    }
    let outcomes = [SlaOutcome::Open, SlaOutcome::Met, SlaOutcome::Breached];
    for _ in 0..10 {
        r.sla
            .add(SlaGoal::FirstResponse, outcomes[next(3) as usize]);
        r.sla.add(SlaGoal::Resolution, outcomes[next(3) as usize]);
    }
    let cats = [k("waiting"), k("staff"), k("billing")];
    let sev = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];
    for _ in 0..8 {
        let cell = ComplaintCell {
            category: cats[next(3) as usize].clone(),
            severity: sev[next(4) as usize],
            source: ComplaintSource::Phone,
        };
        let s = r.complaints.cell_mut(cell);
        s.add_received();
        s.add_resolved(next(200 * 3600) as i64).unwrap();
    }
    let states = [
        ActionState::Open,
        ActionState::Overdue,
        ActionState::ClosedOnTime,
        ActionState::ClosedLate,
    ];
    for _ in 0..5 {
        r.actions.add(states[next(4) as usize]);
    }
    r
}

fn scores(r: &Rollup) -> f64 {
    let mut acc = 0.0;
    acc += r.response_rate.rate().map_or(0.0, |x| x.to_f64());
    acc += r.survey.nps.nps().map_or(0.0, |x| x.to_f64());
    acc += r.survey.csat.csat().map_or(0.0, |x| x.to_f64());
    for (_, _, s) in r.survey.items.scores() {
        acc += s.top.to_f64() + s.linear_mean.to_f64();
    }
    let keys: Vec<Key> = (0..6).map(|i| k(&format!("q{i}"))).collect();
    acc += r
        .survey
        .items
        .composite(&keys)
        .map_or(0.0, |c| c.linear_mean.to_f64());
    acc += r
        .sla
        .first_response
        .compliance()
        .map_or(0.0, |x| x.to_f64());
    acc += r.sla.resolution.compliance().map_or(0.0, |x| x.to_f64());
    let t = r.complaints.total();
    acc += t.mean_hours().map_or(0.0, |x| x.to_f64());
    acc += t.p90_bucket().and_then(|b| b.at_most_hours).unwrap_or(0) as f64;
    acc += r.complaints.by_category().len() as f64;
    acc += r.actions.closure_rate().map_or(0.0, |x| x.to_f64());
    acc += r.actions.overdue_rate().map_or(0.0, |x| x.to_f64());
    acc
}

fn bench(c: &mut Criterion) {
    let year: Vec<Rollup> = (0..365).map(day).collect();
    c.bench_function("analytics_merge_365_days_10_kpis", |b| {
        b.iter(|| {
            let m = Rollup::merge_all(black_box(&year));
            black_box(scores(&m))
        })
    });
    let json: Vec<String> = year
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    c.bench_function("analytics_load_and_merge_365_stored_rows", |b| {
        b.iter(|| {
            let rows: Vec<Rollup> = json
                .iter()
                .map(|j| serde_json::from_str(black_box(j)).unwrap())
                .collect();
            black_box(scores(&Rollup::merge_all(&rows)))
        })
    });

    let mut g = c.benchmark_group("analytics_add_1m");
    g.sample_size(10);
    let answers: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 11) as u8).collect();
    g.bench_function("nps_answers", |b| {
        b.iter(|| {
            let mut a = NpsAcc::default();
            for x in black_box(&answers) {
                a.add(*x).unwrap();
            }
            black_box(a.nps())
        })
    });
    let keys: Vec<Key> = (0..10).map(|i| k(&format!("q{i}"))).collect();
    let items: Vec<(usize, Answer)> = (0..1_000_000usize)
        .map(|i| (i % 10, Answer::Frequency(Frequency::ALL[i * 13 % 4])))
        .collect();
    g.bench_function("item_answers_10_questions", |b| {
        b.iter_batched(
            ItemsAcc::default,
            |mut acc| {
                for (i, a) in black_box(&items) {
                    acc.add(&keys[*i], a);
                }
                black_box(acc.scores().len())
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
