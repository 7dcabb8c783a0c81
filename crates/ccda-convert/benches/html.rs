//! HTML view rendering (`Converted::html`) for the largest and a typical bundle.
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/gpconnect"
);

fn bench(c: &mut Criterion) {
    let opts = ccda_convert::ConvertOptions::default();
    let mut group = c.benchmark_group("html");
    for f in ["xhuma/9692136744.json", "gp2gp/gpc-access-structured.json"] {
        let bytes = std::fs::read(format!("{DIR}/{f}")).unwrap();
        let out = ccda_convert::convert(&bytes, &opts).unwrap();
        group.bench_function(f, |b| b.iter(|| black_box(&out).html()));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
