//! `analyse` on a 300-character comment in each language (a long survey comment), plus the
//! maximum input to show the per-call ceiling.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn cut_to_chars(s: &str, n: usize) -> String {
    s.chars().cycle().take(n).collect()
}

fn bench(c: &mut Criterion) {
    let en = cut_to_chars(
        "We waited nearly four hours in the emergency department and nobody told us what was \
         happening, which was really frustrating. The nurses were kind though, especially Nurse \
         Mary, but the toilets were not clean and the parking fees are ridiculous. The doctor \
         explained everything clearly in the end. ",
        300,
    );
    let ar = cut_to_chars(
        "انتظرنا تقريباً أربع ساعات في الطوارئ ومحد قال لنا شو يصير، وهذا شي مزعج وايد. \
         الممرضات كانوا طيبين خصوصاً الممرضة مريم، بس الحمامات مو نظيفة ورسوم المواقف غالية. \
         الدكتور شرح كل شي بوضوح في النهاية، الله يعطيهم العافية. والأكل كان بارد وما له طعم للأسف ",
        300,
    );
    // Build the lexicon before timing.
    black_box(px360_sentiment::analyse("warm up"));
    c.bench_function("analyse/en_300_chars", |b| {
        b.iter(|| px360_sentiment::analyse(black_box(&en)))
    });
    c.bench_function("analyse/ar_300_chars", |b| {
        b.iter(|| px360_sentiment::analyse(black_box(&ar)))
    });
    let max = "the nurses were wonderful but the wait was long. ".repeat(200);
    c.bench_function("analyse/en_max_input_8KiB", |b| {
        b.iter(|| px360_sentiment::analyse(black_box(&max)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
