//! Hot paths of the apps cores: matching 10,000 mentions against 500 hospitals' handles and
//! keywords (1,500 patterns, English and Arabic), and run-chart analysis of 1,000 points.
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use px360_domain::qi::run_chart::analyse;
use px360_domain::social::matching::{HospitalTerms, Matcher};
use px360_domain::social::mention::{Mention, Source};
use std::hint::black_box;
use uuid::Uuid;

fn matcher() -> Matcher {
    let terms: Vec<HospitalTerms> = (0..500u128)
        .map(|i| HospitalTerms {
            hospital_id: Uuid::from_u128(i),
            handles: vec![format!("hosp{i}")],
            keywords: vec![format!("General Hospital {i}"), format!("مستشفى رقم {i}")],
        })
        .collect();
    Matcher::new(&terms).unwrap()
}

fn mentions() -> Vec<Mention> {
    (0..10_000)
        .map(|i| Mention {
            source: Source::X,
            external_id: None,
            author_handle: format!("patient{i}"),
            text: if i % 2 == 0 {
                format!("Waited three hours at General Hospital {} today, the staff were kind but the pharmacy was slow", i % 700)
            } else {
                format!("الانتظار طويل جدا في مستشفي رقم {} لكن الممرضات لطيفات والنظافه ممتازه", i % 700)
            },
            rating: None,
            link: None,
            posted_at: Utc::now(),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let m = matcher();
    let ms = mentions();
    c.bench_function("social/locate 10k mentions, 500 hospitals", |b| {
        b.iter(|| {
            for x in &ms {
                black_box(m.locate(black_box(x)));
            }
        })
    });
    c.bench_function("social/build matcher, 500 hospitals", |b| b.iter(matcher));
    let pts: Vec<f64> = (0..1_000)
        .map(|i| 50.0 + ((i * 7919) % 23) as f64 - 11.0 + if i > 600 { 6.0 } else { 0.0 })
        .collect();
    c.bench_function("qi/run chart 1,000 points", |b| {
        b.iter(|| analyse(black_box(&pts), Some(200), &[]).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
