//! Hot paths of the apps cores: matching 10,000 mentions against 500 hospitals' handles and
//! keywords (1,500 patterns, English and Arabic), parsing a 10,000-row import (JSON and CSV,
//! the import's row limit), run-chart analysis of 200 points (four years of weeks: a
//! project's chart) and 1,000, and the call centre's phone-number key in its typed forms.
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use px360_domain::callcentre::lookup::PatientKey;
use px360_domain::qi::run_chart::analyse;
use px360_domain::social::import;
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
    let (json, csv) = import_files();
    c.bench_function("social/import parse 10k rows JSON", |b| {
        b.iter(|| {
            let r = import::from_json(black_box(&json)).unwrap();
            assert_eq!(r.mentions.len(), 10_000);
        })
    });
    c.bench_function("social/import parse 10k rows CSV", |b| {
        b.iter(|| {
            let r = import::from_csv(black_box(&csv)).unwrap();
            assert_eq!(r.mentions.len(), 10_000);
        })
    });
    let pts = |n: usize, change: usize| -> Vec<f64> {
        (0..n)
            .map(|i| 50.0 + ((i * 7919) % 23) as f64 - 11.0 + if i > change { 6.0 } else { 0.0 })
            .collect()
    };
    let p200 = pts(200, 120);
    c.bench_function("qi/run chart 200 points", |b| {
        b.iter(|| analyse(black_box(&p200), Some(100), &[]).unwrap())
    });
    let p1000 = pts(1_000, 600);
    c.bench_function("qi/run chart 1,000 points", |b| {
        b.iter(|| analyse(black_box(&p1000), Some(200), &[]).unwrap())
    });
    let phones = [
        "+966 50 123 4567",
        "00966501234567",
        "050-123-4567",
        "(050) 123.45.67",
    ];
    c.bench_function("callcentre/phone key, 4 typed forms", |b| {
        b.iter(|| {
            for p in &phones {
                black_box(PatientKey::phone(black_box(p), "966").unwrap());
            }
        })
    });
}

/// 10,000 mentions (half English, half Arabic) as a JSON array and as CSV: about 2 MB each.
fn import_files() -> (Vec<u8>, Vec<u8>) {
    let rows: Vec<(String, String)> = (0..10_000)
        .map(|i| {
            let text = if i % 2 == 0 {
                format!("Waited three hours at General Hospital {i} today, the staff were kind but the pharmacy was slow")
            } else {
                format!("الانتظار طويل جدا في مستشفي رقم {i} لكن الممرضات لطيفات والنظافه ممتازه")
            };
            (format!("post-{i}"), text)
        })
        .collect();
    let json = serde_json::to_vec(
        &rows
            .iter()
            .map(|(id, text)| {
                serde_json::json!({"source": "google_reviews", "id": id, "author": "patient", "text": text,
                    "rating": "2", "link": "https://maps.example/r/1", "time": "2026-03-01T10:00:00+03:00"})
            })
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let mut csv = String::from("id,source,author,text,rating,link,time\n");
    for (id, text) in &rows {
        csv.push_str(&format!(
            "{id},google_reviews,patient,\"{text}\",2,https://maps.example/r/1,2026-03-01T10:00:00+03:00\n"
        ));
    }
    (json, csv.into_bytes())
}

criterion_group!(benches, bench);
criterion_main!(benches);
