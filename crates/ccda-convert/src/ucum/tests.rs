#![allow(clippy::unwrap_used)]

use super::*;
use proptest::prelude::*;

/// Checked with the library's public validator, as a consumer would.
fn valid(u: &str) -> bool {
    octofhir_ucum::validate(u).is_ok()
}

#[test]
fn valid_ucum_passes_as_it_is() {
    for u in [
        "L/min",
        "/d",
        "[iU]/mL",
        "10*12/L",
        "10*9/L",
        "mmol/L",
        "m[IU]/L",
        "mU/L",
        "U/L",
        "{beats}/min",
        "{resps}/min",
        "mL/min/{1.73_m2}",
        "mm[Hg]",
        "kPa",
        "Cel",
        "%",
        "kg/m2",
        "{units}/wk",
        "mmol/mol",
        "mg/(24.h)",
        "[stone_av]",
        "fL",
        "pg",
    ] {
        assert_eq!(ucum(u).as_deref(), Some(u), "{u}");
    }
}

#[test]
fn uk_spellings_map_to_ucum() {
    for (gp, expected) in [
        // case variants of the litre
        ("mmol/l", "mmol/L"),
        ("MMOL/L", "mmol/L"),
        ("Mmol/L", "mmol/L"),
        ("umol/l", "umol/L"),
        ("ml", "mL"),
        ("U/l", "U/L"),
        ("G/L", "g/L"),
        ("KG", "kg"),
        ("ML", "mL"),
        // valid UCUM that means something else in GP data
        ("u/L", "U/L"),
        ("C", "Cel"),
        ("st", "[stone_av]"),
        // international units
        ("iu/L", "[IU]/L"),
        ("IU/L", "[IU]/L"),
        ("IU/l", "[IU]/L"),
        ("miu/L", "m[IU]/L"),
        ("mIU/L", "m[IU]/L"),
        ("mu/L", "m[IU]/L"),
        ("MU/L", "m[IU]/L"),
        ("iu/mL", "[IU]/mL"),
        // counted things
        ("units/week", "{units}/wk"),
        ("Units per week", "{units}/wk"),
        ("units  per  week", "{units}/wk"),
        ("units/day", "{units}/d"),
        // powers of ten
        ("10^9/L", "10*9/L"),
        ("x10^9/L", "10*9/L"),
        ("x10*9/L", "10*9/L"),
        ("X10^9/l", "10*9/L"),
        ("×10⁹/L", "10*9/L"),
        ("10^12/L", "10*12/L"),
        ("THOUS/MCL", "10*3/uL"),
        // others
        ("mm/hr", "mm/h"),
        ("kg/m²", "kg/m2"),
        ("kg/m^2", "kg/m2"),
        ("mmHg", "mm[Hg]"),
        ("mm Hg", "mm[Hg]"),
        ("°C", "Cel"),
        ("degC", "Cel"),
        ("bpm", "{beats}/min"),
        ("beats/min", "{beats}/min"),
        ("per minute", "/min"),
        ("breaths per minute", "{breaths}/min"),
        ("µmol/L", "umol/L"),
        ("mcg", "ug"),
        ("mL/min/1.73m2", "mL/min/{1.73_m2}"),
        ("mL/min/1.73m²", "mL/min/{1.73_m2}"),
        ("mOsm/kg", "mosm/kg"),
        ("secs", "s"),
        ("gram", "g"),
        ("l/min", "L/min"),
        ("LPM", "L/min"),
        (" % ", "%"),
    ] {
        assert_eq!(ucum(gp).as_deref(), Some(expected), "{gp}");
    }
}

#[test]
fn text_that_is_not_a_unit_is_not_mapped() {
    for t in [
        "",
        "   ",
        "tablet",
        "Puff - unit of product usage",
        "5ml spoonful",
        "capsule",
        "dose",
        "428673006",
        "10",
        "cells/hpf",
        "hello world",
        "{}",
    ] {
        assert_eq!(ucum(t), None, "{t}");
    }
}

#[test]
fn an_unmapped_unit_becomes_a_valid_annotation() {
    assert_eq!(annotation("cells/hpf"), "{cells/hpf}");
    assert_eq!(
        annotation(" per {high} power field "),
        "{per_high_power_field}"
    );
    assert_eq!(annotation("µkat/l²"), "{ukat/l2}");
    assert_eq!(annotation("{}"), "{unit}");
    assert_eq!(annotation("€/☃"), "{_/_}");
    for t in [
        "cells/hpf",
        "per high power field",
        "µkat/l²",
        "{}",
        "€/☃",
        "a}b{c",
    ] {
        assert!(valid(&annotation(t)), "{t}");
    }
}

#[test]
fn the_tables_are_consistent() {
    for (k, u) in EXACT {
        assert!(valid(u), "{k} → {u}");
        // Only spellings that UCUM reads differently belong here; others go to ALIASES.
        assert!(valid(k), "{k} is not valid UCUM: put it in ALIASES");
    }
    let mut keys = std::collections::HashSet::new();
    for (k, u) in ALIASES {
        assert!(valid(u), "{k} → {u}");
        assert_eq!(
            *k,
            tidy(k).to_ascii_lowercase(),
            "key {k} is not tidy lower case"
        );
        assert!(keys.insert(*k), "{k} twice");
    }
}

/// Every unit that occurs in the GP Connect fixtures, with what it becomes. A new fixture
/// with a new unit fails here until someone decides what it maps to (or that it takes the
/// annotation fallback, `None`).
const FIXTURE_UNITS: &[(&str, Option<&str>)] = &[
    ("%", Some("%")),
    ("10*12/L", Some("10*12/L")),
    ("10*9/L", Some("10*9/L")),
    ("10^12/L", Some("10*12/L")),
    ("10^9/L", Some("10*9/L")),
    ("C", Some("Cel")),
    ("Cel", Some("Cel")),
    ("breaths per minute", Some("{breaths}/min")),
    ("fL", Some("fL")),
    ("g/L", Some("g/L")),
    ("g/dL", Some("g/dL")),
    ("iu/L", Some("[IU]/L")),
    ("mg/L", Some("mg/L")),
    ("miu/L", Some("m[IU]/L")),
    ("mmHg", Some("mm[Hg]")),
    ("mm[Hg]", Some("mm[Hg]")),
    ("mmol/L", Some("mmol/L")),
    ("mu/L", Some("m[IU]/L")),
    ("ng/L", Some("ng/L")),
    ("per minute", Some("/min")),
    ("pg", Some("pg")),
    ("pmol/L", Some("pmol/L")),
    ("u/L", Some("U/L")),
    ("ug/L", Some("ug/L")),
    ("umol/L", Some("umol/L")),
    ("umol/l", Some("umol/L")),
    ("units/week", Some("{units}/wk")),
    ("{beats}/min", Some("{beats}/min")),
    ("{resps}/min", Some("{resps}/min")),
    // Doses: product units are counted, not measured (written without a unit).
    (
        "5 millilitre medicine spoonful - unit of product usage",
        None,
    ),
    ("5ml spoonful", None),
    ("Drop - unit of product usage", None),
    ("Pastille - unit of product usage", None),
    ("Puff - unit of product usage", None),
    ("Spray - unit of product usage", None),
    ("capsule", None),
    ("dose", None),
    ("drop", None),
    ("lozenge", None),
    ("ml", Some("mL")),
    ("suppository", None),
    ("tablet", None),
];

/// Unit texts and UCUM codes of the quantities the converter writes as PQ: observation
/// values and components, reference ranges, doses.
fn fixture_units(v: &serde_json::Value, key: &str, out: &mut std::collections::BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            if matches!(key, "valueQuantity" | "low" | "high" | "doseQuantity") {
                let system = m.get("system").and_then(|s| s.as_str());
                if let Some(u) = m.get("unit").and_then(|u| u.as_str()) {
                    out.insert(u.to_owned());
                }
                if let Some(c) = m.get("code").and_then(|c| c.as_str())
                    && system.is_none_or(|s| s == "http://unitsofmeasure.org")
                {
                    out.insert(c.to_owned());
                }
            }
            for (k, v) in m {
                fixture_units(v, k, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| fixture_units(v, key, out)),
        _ => {}
    }
}

#[test]
fn every_unit_in_the_fixtures_is_decided() {
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/gpconnect");
    let mut units = std::collections::BTreeSet::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                let text = std::fs::read_to_string(&p).unwrap();
                // The deliberately malformed fixture is not JSON.
                if let Ok(v) =
                    serde_json::from_str::<serde_json::Value>(text.trim_start_matches('\u{feff}'))
                {
                    fixture_units(&v, "", &mut units);
                }
            }
        }
    }
    assert!(units.len() > 30, "{units:?}");
    for u in &units {
        let decided = FIXTURE_UNITS.iter().find(|(t, _)| t == u);
        assert!(
            decided.is_some(),
            "fixture unit {u:?} is not in FIXTURE_UNITS: decide what it maps to"
        );
        assert_eq!(ucum(u).as_deref(), decided.and_then(|d| d.1), "{u}");
    }
}

/// Unit-like text: pieces of real units, prefixes, operators, brackets, case changes,
/// white space and a few non-ASCII characters.
fn unit_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        proptest::sample::select(
            ALIASES
                .iter()
                .map(|(k, _)| (*k).to_owned())
                .collect::<Vec<_>>()
        ),
        proptest::sample::select(
            ALIASES
                .iter()
                .map(|(_, u)| (*u).to_owned())
                .collect::<Vec<_>>()
        ),
        proptest::sample::select(
            EXACT
                .iter()
                .map(|(k, _)| (*k).to_owned())
                .collect::<Vec<_>>()
        ),
        proptest::sample::select(
            [
                "/", ".", "10*", "10^", "x", "(", ")", "[", "]", "{", "}", " ", "2", "-1", "µ",
                "²", "°", "l", "L", "IU", "m", "u"
            ]
            .map(str::to_owned)
            .to_vec()
        ),
        "[ -~]{1,6}",
    ];
    (proptest::collection::vec(piece, 1..4), any::<u8>()).prop_map(|(parts, case)| {
        let s = parts.concat();
        match case % 3 {
            0 => s,
            1 => s.to_ascii_uppercase(),
            _ => s.to_ascii_lowercase(),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Whatever the text, the mapper either declines or emits valid UCUM, and the fallback
    /// annotation is valid UCUM too.
    #[test]
    fn every_unit_emitted_is_valid_ucum(s in prop_oneof![unit_like(), any::<String>()]) {
        if let Some(u) = ucum(&s) {
            prop_assert!(valid(&u), "{s:?} → {u:?}");
        }
        let a = annotation(&s);
        prop_assert!(valid(&a), "{s:?} → {a:?}");
    }

    /// Valid UCUM is never changed in meaning: what comes out is the same unit.
    #[test]
    fn valid_ucum_keeps_its_meaning(s in unit_like()) {
        let as_is = !capitals(&s) && !s.bytes().all(|b| b.is_ascii_digit());
        if as_is && valid(&s) && !EXACT.iter().any(|(k, _)| *k == s) {
            let u = ucum(&s);
            prop_assert!(u.is_some(), "{s:?} dropped");
            let u = u.unwrap();
            prop_assert_eq!(eval(&s, Case::Sensitive), eval(&u, Case::Sensitive), "{:?} → {:?}", s, u);
        }
    }
}
