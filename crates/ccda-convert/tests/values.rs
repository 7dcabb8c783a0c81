//! Every value keeps its number (issue 12, item 3): the number of every FHIR quantity is
//! `PQ/@value` (never a bare `nullFlavor`), its unit valid UCUM as a UCUM implementation
//! reads it, GP spellings mapped (`u/L` → `U/L`, `miu/L` → `m[IU]/L`, `units/week` →
//! `{units}/wk`), valid UCUM kept as it is, reference ranges and interpretation with it.
//! Read back from the XML with a parser independent of the writer.
#![allow(clippy::unwrap_used)]

mod common;

use common::{El, Expect, all_fixtures, convert, expectation, fixture, parse_xml, short};

/// Every `observation` in the document with this code (in `code`, whatever the section).
fn observations<'a>(doc: &'a El, code: &str) -> Vec<&'a El> {
    let mut out = Vec::new();
    doc.walk(None, &mut |e, _| {
        if e.name == "observation" && e.child("code").and_then(|c| c.attr("code")) == Some(code) {
            out.push(e);
        }
    });
    out
}

fn value(o: &El) -> (&str, Option<&str>, Option<&str>) {
    let v = o.child("value").unwrap();
    (v.attr("xsi:type").unwrap(), v.attr("value"), v.attr("unit"))
}

/// `(low value, low unit, high value, high unit)` of a structured reference range.
type Bounds<'a> = (
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

fn ranges(o: &El) -> Vec<Bounds<'_>> {
    o.children
        .iter()
        .filter(|c| c.name == "referenceRange")
        .filter_map(|r| r.child("observationRange")?.child("value"))
        .map(|v| {
            let low = v.child("low");
            let high = v.child("high");
            (
                low.and_then(|l| l.attr("value")),
                low.and_then(|l| l.attr("unit")),
                high.and_then(|h| h.attr("value")),
                high.and_then(|h| h.attr("unit")),
            )
        })
        .collect()
}

fn interpretation(o: &El) -> Option<&str> {
    o.child("interpretationCode").and_then(|i| i.attr("code"))
}

#[test]
fn alt_above_its_range_keeps_value_unit_range_and_flag() {
    let out = convert(&fixture("xhuma/9692136744.json"));
    let doc = parse_xml(&out.xml).unwrap();
    // Plasma alanine aminotransferase level: 118 u/L, range 5–42, "Above high reference limit".
    let alt = observations(&doc, "1013211000000103");
    assert!(!alt.is_empty());
    for o in alt {
        assert_eq!(value(o), ("PQ", Some("118"), Some("U/L")));
        assert_eq!(o.child("value").unwrap().attr("nullFlavor"), None);
        assert_eq!(
            ranges(o),
            [(Some("5"), Some("U/L"), Some("42"), Some("U/L"))]
        );
        assert_eq!(interpretation(o), Some("H"));
    }
    // The narrative shows the value and its range in the unit as the lab sent it.
    assert!(out.xml.contains("<td>118 u/L</td>"));
    assert!(out.xml.contains("<td>5 – 42 u/L</td>"));
}

#[test]
fn tsh_in_milli_international_units() {
    let out = convert(&fixture("xhuma/9692136744.json"));
    let doc = parse_xml(&out.xml).unwrap();
    // Serum TSH 1.4 miu/L (0.3–4.4) and plasma TSH 3.2 mu/L (0.35–5.5).
    for (code, v, low, high) in [
        ("1022791000000101", "1.4", "0.3", "4.4"),
        ("1022801000000102", "3.2", "0.35", "5.5"),
    ] {
        let found = observations(&doc, code);
        assert!(!found.is_empty(), "{code}");
        for o in found {
            assert_eq!(value(o), ("PQ", Some(v), Some("m[IU]/L")), "{code}");
            assert_eq!(
                ranges(o),
                [(Some(low), Some("m[IU]/L"), Some(high), Some("m[IU]/L"))],
                "{code}"
            );
        }
    }
}

#[test]
fn alcohol_units_per_week_keep_their_number() {
    let mut seen = 0;
    for p in all_fixtures()
        .into_iter()
        .filter(|p| expectation(p) == Expect::Converts)
    {
        let bytes = std::fs::read(&p).unwrap();
        let expected = String::from_utf8_lossy(&bytes)
            .matches(r#""unit": "units/week""#)
            .count();
        if expected == 0 {
            continue;
        }
        let out = convert(&bytes);
        let doc = parse_xml(&out.xml).unwrap();
        let mut found = 0;
        doc.walk(None, &mut |e, _| {
            if e.name == "value" && e.attr("unit") == Some("{units}/wk") {
                assert_eq!(e.attr("xsi:type"), Some("PQ"), "{}", short(&p));
                assert!(e.attr("value").is_some(), "{}", short(&p));
                found += 1;
            }
        });
        assert_eq!(found, expected, "{}", short(&p));
        // The narrative keeps the unit as the GP wrote it.
        assert!(out.xml.contains(" units/week"), "{}", short(&p));
        seen += found;
    }
    assert!(seen >= 12, "only {seen} alcohol values");
}

/// One report whose results have units that already are valid UCUM, and one that is not a
/// unit at all.
fn crafted() -> String {
    let obs = |id: &str, code: &str, quantity: &str| {
        format!(
            r#"{{"resource": {{"resourceType": "Observation", "id": "{id}", "status": "final",
            "code": {{"coding": [{{"system": "http://snomed.info/sct", "code": "{code}", "display": "Test {id}"}}]}},
            "effectiveDateTime": "2024-02-03T10:00:00+00:00", "valueQuantity": {quantity},
            "referenceRange": [{{"low": {{"value": 1}}, "high": {{"value": 2}}}}]}}}}"#
        )
    };
    let results = [
        (
            "peak",
            "1109941000000104",
            r#"{"value": 420, "unit": "L/min"}"#,
        ),
        ("daily", "1000001000000101", r#"{"value": 3, "unit": "/d"}"#),
        (
            "iu",
            "1000002000000102",
            r#"{"value": 0.5, "unit": "[iU]/mL"}"#,
        ),
        (
            "rbc",
            "1000003000000103",
            r#"{"value": 4.5, "unit": "10*12/L"}"#,
        ),
        (
            "ucum",
            "1000004000000104",
            r#"{"value": 62, "unit": "beats per minute", "system": "http://unitsofmeasure.org", "code": "{beats}/min"}"#,
        ),
        (
            "odd",
            "1000005000000105",
            r#"{"value": 7, "unit": "Ehrlich µ {units}"}"#,
        ),
    ];
    // Values that are not one quantity: a range and a ratio keep their numbers too.
    let others = [
        r#"{"resource": {"resourceType": "Observation", "id": "range", "status": "final",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1000006000000106", "display": "Test range"}]},
            "effectiveDateTime": "2024-02-03T10:00:00+00:00",
            "valueRange": {"low": {"value": 2.5, "unit": "mmol/l"}, "high": {"value": 3.1, "unit": "mmol/l"}}}}"#,
        r#"{"resource": {"resourceType": "Observation", "id": "ratio", "status": "final",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1000007000000107", "display": "Test titre"}]},
            "effectiveDateTime": "2024-02-03T10:00:00+00:00",
            "valueRatio": {"numerator": {"value": 1}, "denominator": {"value": 64}}}}"#,
    ];
    let mut entries = vec![
        r#"{"resource": {"resourceType": "Patient", "id": "p1", "name": [{"family": "Test"}]}}"#.to_owned(),
        r#"{"resource": {"resourceType": "List", "id": "l1", "status": "current", "mode": "snapshot",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "887191000000108"}]},
            "entry": [{"item": {"reference": "DiagnosticReport/dr1"}}]}}"#
            .to_owned(),
    ];
    let refs: Vec<String> = results
        .iter()
        .map(|(id, _, _)| *id)
        .chain(["range", "ratio"])
        .map(|id| format!(r#"{{"reference": "Observation/{id}"}}"#))
        .collect();
    entries.push(format!(
        r#"{{"resource": {{"resourceType": "DiagnosticReport", "id": "dr1", "status": "final",
            "code": {{"coding": [{{"system": "http://snomed.info/sct", "code": "721981007", "display": "Diagnostic studies report"}}]}},
            "issued": "2024-02-04T09:00:00+00:00", "result": [{}]}}}}"#,
        refs.join(",")
    ));
    entries.extend(results.iter().map(|(id, code, q)| obs(id, code, q)));
    entries.extend(others.map(str::to_owned));
    format!(
        r#"{{"resourceType": "Bundle", "type": "collection", "entry": [{}]}}"#,
        entries.join(",")
    )
}

#[test]
fn valid_ucum_is_kept_and_an_unknown_unit_keeps_its_number() {
    let out = convert(crafted().as_bytes());
    let doc = parse_xml(&out.xml).unwrap();
    for (code, v, unit) in [
        ("1109941000000104", "420", "L/min"),
        ("1000001000000101", "3", "/d"),
        ("1000002000000102", "0.5", "[iU]/mL"),
        ("1000003000000103", "4.5", "10*12/L"),
        ("1000004000000104", "62", "{beats}/min"),
        // Not a unit: an annotation (UCUM unit 1) of the text, braces stripped and µ as u.
        ("1000005000000105", "7", "{Ehrlich_u_units}"),
    ] {
        let o = observations(&doc, code);
        assert_eq!(o.len(), 1, "{code}");
        assert_eq!(value(o[0]), ("PQ", Some(v), Some(unit)), "{code}");
        // A range without units is in the result's unit.
        assert_eq!(
            ranges(o[0]),
            [(Some("1"), Some(unit), Some("2"), Some(unit))],
            "{code}"
        );
    }
    let range = observations(&doc, "1000006000000106");
    let v = range[0].child("value").unwrap();
    assert_eq!(v.attr("xsi:type"), Some("IVL_PQ"));
    let bound = |n: &str| {
        let b = v.child(n).unwrap();
        (b.attr("value"), b.attr("unit"))
    };
    assert_eq!(bound("low"), (Some("2.5"), Some("mmol/L")));
    assert_eq!(bound("high"), (Some("3.1"), Some("mmol/L")));
    let ratio = observations(&doc, "1000007000000107");
    let v = ratio[0].child("value").unwrap();
    assert_eq!(v.attr("xsi:type"), Some("RTO_PQ_PQ"));
    assert_eq!(v.child("numerator").unwrap().attr("value"), Some("1"));
    assert_eq!(v.child("denominator").unwrap().attr("value"), Some("64"));
    assert!(out.xml.contains("1 / 64"));
    // The unknown unit's text is kept, in the narrative and as the translation's originalText.
    assert!(out.xml.contains("7 Ehrlich µ {units}"));
    assert!(
        out.xml
            .contains("<originalText>Ehrlich µ {units}</originalText>")
    );
    conformance::cda_xsd(&out.xml).assert_ok();
    conformance::ccda_schematron(&out.xml).assert_ok();
}

/// In every fixture: no PQ carries a nullFlavor where the source has a number, and every
/// unit written is valid UCUM per the UCUM implementation.
#[test]
fn every_quantity_in_every_fixture_has_its_number_and_a_valid_unit() {
    let mut checked = 0;
    for p in all_fixtures()
        .into_iter()
        .filter(|p| expectation(p) == Expect::Converts)
    {
        let out = convert(&std::fs::read(&p).unwrap());
        let doc = parse_xml(&out.xml).unwrap();
        doc.walk(None, &mut |e, parent| {
            let pq = matches!(e.attr("xsi:type"), Some("PQ" | "IVL_PQ"))
                || (matches!(e.name.as_str(), "low" | "high" | "center")
                    && parent.is_some_and(|p| p.attr("xsi:type") == Some("IVL_PQ")))
                || matches!(e.name.as_str(), "doseQuantity" | "quantity");
            if !pq || e.attr("xsi:type") == Some("IVL_PQ") {
                return;
            }
            // NINF/PINF are the open ends of a one-sided range, not a missing number.
            let nf = e.attr("nullFlavor");
            assert!(
                nf.is_none() || matches!(nf, Some("NINF" | "PINF" | "UNK")),
                "{}: <{}> with nullFlavor {nf:?}",
                short(&p),
                e.name
            );
            if let Some(u) = e.attr("unit") {
                assert!(
                    octofhir_ucum::validate(u).is_ok(),
                    "{}: unit {u:?} is not UCUM",
                    short(&p)
                );
                checked += 1;
            }
        });
    }
    assert!(checked > 300, "only {checked} units checked");
}

#[test]
fn a_measured_supply_keeps_its_unit_and_a_count_of_tablets_has_none() {
    let out = convert(&fixture("xhuma/9692140466.json"));
    // "quantity": {"value": 1.6, "unit": "gram"} and {"value": 50, "unit": "gram"}.
    assert!(out.xml.contains(r#"<quantity value="1.6" unit="g"/>"#));
    assert!(out.xml.contains(r#"<quantity value="50" unit="g"/>"#));
    let doc = parse_xml(&out.xml).unwrap();
    let mut counted = 0;
    doc.walk(None, &mut |e, _| {
        if e.name == "quantity" && e.attr("unit").is_none() {
            counted += 1;
        }
    });
    assert!(
        counted > 0,
        "tablets and capsules are counted without a unit"
    );
}
