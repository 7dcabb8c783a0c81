//! Property test: mutated bundles (values deleted, retyped, wrapped in arrays, numbers as
//! strings, malformed dates, truncated bytes) never make the converter panic; whatever it
//! returns is either a typed error or a well-formed document.
#![allow(clippy::unwrap_used)]

mod common;

use proptest::prelude::*;
use serde_json::Value;

const SEEDS: &[&str] = &[
    "spec-examples/allergies_response1.json",
    "spec-examples/meds_response.json",
    "spec-examples/immunizations_response2.json",
    "spec-examples/diaryentries_response1.json",
    "xhuma/9690937278.json",
];

/// Pointers to every value in the document.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(c, p, out);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(c, p, out);
            }
        }
        _ => {}
    }
}

fn mutate(doc: &mut Value, pointer: &str, kind: u8) {
    let Some(target) = doc.pointer_mut(pointer) else {
        return;
    };
    let old = target.take();
    *target = match kind {
        0 => Value::Null,
        1 => Value::from(19),
        2 => Value::from("19"),
        3 => Value::Array(vec![old]),
        4 => Value::Object(Default::default()),
        5 => Value::Bool(true),
        6 => match old {
            Value::Number(n) => Value::from(n.to_string()),
            Value::String(s) => Value::from(format!("{s}T25:61:00+99:99")),
            other => other,
        },
        _ => Value::from("💥 <&> \u{1}"),
    };
}

fn check(bytes: &[u8]) {
    if let Ok(out) = ccda_convert::convert(bytes, &Default::default()) {
        common::parse_xml(&out.xml).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_bundles_never_panic(
        seed in 0..SEEDS.len(),
        picks in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..6),
    ) {
        let mut doc: Value = serde_json::from_slice(&common::fixture(SEEDS[seed])).unwrap();
        for (idx, kind) in picks {
            let mut ps = Vec::new();
            pointers(&doc, String::new(), &mut ps);
            if ps.is_empty() { break; }
            let p = ps[idx.index(ps.len())].clone();
            mutate(&mut doc, &p, kind);
        }
        check(&serde_json::to_vec(&doc).unwrap());
    }

    #[test]
    fn truncated_or_corrupted_bytes_never_panic(seed in 0..SEEDS.len(), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = common::fixture(SEEDS[seed]);
        let at = cut.index(bytes.len());
        let mut corrupted = bytes.clone();
        corrupted[at] = byte;
        check(&corrupted);
        bytes.truncate(at);
        check(&bytes);
    }
}
