//! Conversion latency for every bundle in `shared/fixtures/gpconnect/xhuma`.
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/gpconnect/xhuma"
);

fn bench(c: &mut Criterion) {
    let mut paths: Vec<_> = std::fs::read_dir(DIR)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let opts = ccda_convert::ConvertOptions::default();
    let mut group = c.benchmark_group("convert");
    for p in paths {
        let bytes = std::fs::read(&p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        group.bench_function(name, |b| {
            b.iter(|| ccda_convert::convert(black_box(&bytes), &opts).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
