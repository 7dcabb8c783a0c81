//! Investigations → Results: organizers per report, results per test, test groups,
//! filing comments, specimens, performers, comparators, reference ranges and interpretation;
//! and the guarantee that no report, observation or specimen of any fixture is left out.
#![allow(clippy::unwrap_used)]

mod common;

use common::{El, Expect, all_fixtures, convert, expectation, fixture, parse_xml, section, short};
use fhir_stu3::{Bundle, Resource};

const RESULTS: &str = "2.16.840.1.113883.10.20.22.2.3.1";
const RESULT_OBSERVATION: &str = "2.16.840.1.113883.10.20.22.4.2";

fn entries(s: &El) -> Vec<&El> {
    s.children.iter().filter(|c| c.name == "entry").collect()
}

fn organizer(entry: &El) -> &El {
    entry.child("organizer").unwrap()
}

fn components(org: &El) -> Vec<&El> {
    org.children
        .iter()
        .filter(|c| c.name == "component")
        .filter_map(|c| c.child("observation"))
        .collect()
}

fn code(e: &El) -> Option<&str> {
    e.child("code").and_then(|c| c.attr("code"))
}

#[test]
fn a_pathology_report_is_one_organizer_with_its_test_group() {
    let bytes = fixture("spec-examples/pathology_response1.json");
    let out = convert(&bytes);
    let doc = parse_xml(&out.xml).unwrap();
    let results = section(&doc, RESULTS).unwrap();
    assert_eq!(results.attr("nullFlavor"), None);
    let es = entries(results);
    assert_eq!(es.len(), 1, "one DiagnosticReport, one organizer");
    let org = organizer(es[0]);
    assert_eq!(org.attr("classCode"), Some("BATTERY"));
    // The generic report code gives way to its single test group (FBC).
    assert_eq!(code(org), Some("26604007"));
    let obs = components(org);
    assert_eq!(obs.len(), 18, "every member of the FBC group is a result");
    for o in &obs {
        assert!(o.templates().iter().any(|(r, _)| r == RESULT_OBSERVATION));
    }
    // Specimen and performer travel on the organizer.
    let specimen = org.child("specimen").unwrap();
    let entity = specimen
        .child("specimenRole")
        .and_then(|r| r.child("specimenPlayingEntity"))
        .unwrap();
    assert_eq!(code(entity), Some("122555007"));
    assert!(out.xml.contains("<name>GREENTOWN GENERAL HOSPITAL</name>"));
    // Units are UCUM; structured and textual reference ranges are both kept.
    assert!(
        out.xml
            .contains(r#"<value xsi:type="PQ" value="5.7" unit="10*9/L"/>"#)
    );
    // The range has no unit of its own: it is in the result's unit.
    assert!(out.xml.contains(r#"<low value="3.5" unit="10*9/L"/>"#));
    assert!(out.xml.contains("<text>less than 3.8 to 5</text>"));
    // The narrative names the specimen and the request.
    assert!(
        out.xml
            .contains("Specimen: Venous blood specimen, collected")
    );
    assert!(out.xml.contains("Requested as: FBC - Full blood count"));
    for u in &out.report.unplaced {
        assert!(
            !matches!(
                u.resource.split('/').next(),
                Some("DiagnosticReport" | "Observation" | "Specimen" | "ProcedureRequest")
            ),
            "{u:?}"
        );
    }
}

#[test]
fn every_report_is_an_organizer_and_filing_comments_are_text_results() {
    let bytes = fixture("xhuma/9692136744.json");
    let bundle = Bundle::parse(&bytes).unwrap();
    let reports = bundle
        .resources()
        .filter(|r| matches!(r, Resource::DiagnosticReport(_)))
        .count();
    let out = convert(&bytes);
    let doc = parse_xml(&out.xml).unwrap();
    let results = section(&doc, RESULTS).unwrap();
    let batteries = entries(results)
        .into_iter()
        .filter(|e| organizer(e).attr("classCode") == Some("BATTERY"))
        .count();
    assert_eq!(batteries, reports);
    // Filing comments (SNOMED 37331000000100) are results with a text value.
    let mut filing = 0;
    results.walk(None, &mut |e, _| {
        if e.name == "observation" && code(e) == Some("37331000000100") {
            filing += 1;
            let v = e.child("value").unwrap();
            assert_eq!(v.attr("xsi:type"), Some("ST"));
        }
    });
    assert_eq!(filing, 32);
    assert!(out.xml.contains("Filing comment (David McAvenue)"));
}

/// A bundle written here to reach what no fixture has: comparators, coded and string
/// values, interpretation, a unit that is not UCUM, a conclusion.
fn crafted() -> String {
    let obs = |id: &str, value: &str, extra: &str| {
        format!(
            r#"{{"resource": {{"resourceType": "Observation", "id": "{id}", "status": "final",
            "code": {{"coding": [{{"system": "http://snomed.info/sct", "code": "1000731000000107", "display": "Serum creatinine level {id}"}}]}},
            "effectiveDateTime": "2024-02-03T10:00:00+00:00", {value} {extra}}}}}"#
        )
    };
    let entries = [
        r#"{"resource": {"resourceType": "Patient", "id": "p1", "name": [{"family": "Test"}]}}"#.to_owned(),
        r#"{"resource": {"resourceType": "List", "id": "l1", "status": "current", "mode": "snapshot",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "887191000000108"}]},
            "entry": [{"item": {"reference": "DiagnosticReport/dr1"}}]}}"#
            .to_owned(),
        r#"{"resource": {"resourceType": "DiagnosticReport", "id": "dr1", "status": "final",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "721981007", "display": "Diagnostic studies report"}]},
            "issued": "2024-02-04T09:00:00+00:00", "conclusion": "Renal function stable",
            "result": [{"reference": "Observation/lt"}, {"reference": "Observation/ge"}, {"reference": "Observation/st"},
                       {"reference": "Observation/cc"}, {"reference": "Observation/odd"}, {"reference": "Observation/missing"}]}}"#
            .to_owned(),
        obs(
            "lt",
            r#""valueQuantity": {"value": 5, "comparator": "<", "unit": "umol/L"},"#,
            r#""interpretation": {"coding": [{"system": "http://hl7.org/fhir/v2/0078", "code": "L", "display": "Low"}]}"#,
        ),
        obs(
            "ge",
            r#""valueQuantity": {"value": 90, "comparator": ">=", "unit": "mL/min/{1.73_m2}"},"#,
            r#""comment": "eGFR above 90""#,
        ),
        obs("st", r#""valueString": "Haemolysed sample","#, r#""status": "final""#),
        obs(
            "cc",
            r#""valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "260385009", "display": "Negative"}]},"#,
            r#""referenceRange": [{"text": "Negative"}]"#,
        ),
        obs(
            "odd",
            r#""valueQuantity": {"value": 152, "unit": "cells/hpf"},"#,
            r#""referenceRange": [{"low": {"value": 150, "unit": "cells/hpf"}, "high": {"value": 400, "unit": "cells/hpf"}}]"#,
        ),
    ];
    format!(
        r#"{{"resourceType": "Bundle", "type": "collection", "entry": [{}]}}"#,
        entries.join(",")
    )
}

#[test]
fn comparators_values_units_and_interpretation_are_written_as_ccda_expects() {
    let out = convert(crafted().as_bytes());
    let xml = &out.xml;
    // `<` → upper bound, exclusive; `>=` → lower bound, inclusive.
    assert!(xml.contains(r#"<low nullFlavor="NINF"/>"#), "{xml}");
    assert!(
        xml.contains(r#"<high value="5" unit="umol/L" inclusive="false"/>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<low value="90" unit="mL/min/{1.73_m2}" inclusive="true"/>"#),
        "{xml}"
    );
    assert!(xml.contains(r#"<high nullFlavor="PINF"/>"#));
    assert!(xml.contains(r#"<value xsi:type="ST">Haemolysed sample</value>"#));
    assert!(xml.contains(r#"<value xsi:type="CD" code="260385009""#));
    assert!(xml.contains(r#"<interpretationCode code="L" codeSystem="2.16.840.1.113883.5.83""#));
    // A unit that does not map to UCUM: the number stays in @value with the unit as an
    // annotation (UCUM unit 1, no invented unit) and the text as the lab sent it.
    assert!(
        xml.contains(r#"<value xsi:type="PQ" value="152" unit="{cells/hpf}">"#),
        "{xml}"
    );
    assert!(xml.contains(r#"<translation value="152" nullFlavor="OTH">"#));
    assert!(xml.contains("<originalText>cells/hpf</originalText>"));
    assert!(
        xml.contains(r#"<low value="150" unit="{cells/hpf}">"#),
        "{xml}"
    );
    assert!(
        xml.contains("152 cells/hpf"),
        "the narrative shows the unit as sent"
    );
    // The comment is a Comment Activity pointing at its narrative cell.
    assert!(xml.contains(r#"<templateId root="2.16.840.1.113883.10.20.22.4.64"/>"#));
    assert!(xml.contains("eGFR above 90"));
    assert!(xml.contains("Conclusion: Renal function stable"));
    // The missing result is reported, not invented.
    assert!(
        out.report
            .warnings
            .iter()
            .any(|w| w.contains("Observation/missing")),
        "{:?}",
        out.report.warnings
    );
    assert!(out.report.unplaced.is_empty(), "{:?}", out.report.unplaced);
    conformance::cda_xsd(xml).assert_ok();
    conformance::ccda_schematron(xml).assert_ok();
}

/// In every fixture each DiagnosticReport, Observation and Specimen of the record (the
/// placement rule, computed independently in `common::record`) is in the document, and only
/// those outside the record are reported unplaced, with the rule's reason; each report of the
/// record is one organizer of the Results section.
#[test]
fn no_report_observation_or_specimen_is_left_out() {
    let mut checked = 0;
    for p in all_fixtures()
        .into_iter()
        .filter(|p| expectation(p) == Expect::Converts)
    {
        let bytes = std::fs::read(&p).unwrap();
        let bundle = Bundle::parse(&bytes).unwrap();
        let out = convert(&bytes);
        let record = common::record(&bytes);
        for u in &out.report.unplaced {
            let t = u.resource.split('/').next().unwrap_or("");
            assert!(
                !matches!(t, "DiagnosticReport" | "Observation" | "Specimen")
                    || (!record.contains(&u.resource)
                        && u.reason
                            == "not referenced by any clinical-area List or by a listed item"),
                "{}: {} unplaced: {}",
                short(&p),
                u.resource,
                u.reason
            );
        }
        let doc = parse_xml(&out.xml).unwrap();
        // A report is an organizer when it has a result no other report also holds; one
        // whose results are all shared, or that has none, is narrative only.
        let in_record: Vec<&fhir_stu3::DiagnosticReport> = bundle
            .resources()
            .filter_map(|r| match r {
                Resource::DiagnosticReport(d) if record.contains(&r.type_and_id()) => Some(d),
                _ => None,
            })
            .collect();
        let refs = |d: &fhir_stu3::DiagnosticReport| -> Vec<String> {
            d.result
                .iter()
                .filter_map(|r| r.reference.clone())
                .collect()
        };
        let with_results = in_record.iter().filter(|d| !d.result.is_empty()).count();
        let own = in_record
            .iter()
            .filter(|d| {
                refs(d).iter().any(|x| {
                    in_record
                        .iter()
                        .filter(|o| !std::ptr::eq(**o, **d))
                        .all(|o| !refs(o).contains(x))
                })
            })
            .count();
        let batteries = section(&doc, RESULTS).map_or(0, |s| {
            entries(s)
                .into_iter()
                .filter(|e| organizer(e).attr("classCode") == Some("BATTERY"))
                .count()
        });
        assert!(
            own <= batteries && batteries <= with_results,
            "{}: {batteries} organizers, {own}..{with_results} expected",
            short(&p)
        );
        checked += bundle
            .resources()
            .filter(|r| matches!(r, Resource::Observation(_)))
            .count();
    }
    assert!(checked > 1000, "only {checked} observations checked");
}
