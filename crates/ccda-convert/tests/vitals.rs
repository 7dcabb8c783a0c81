//! Uncategorised data → Vital Signs (LOINC-coded readings, blood pressure panels split into
//! systolic and diastolic), Social History (smoking status, alcohol); other observations are
//! findings, never results.
#![allow(clippy::unwrap_used)]

mod common;

use common::{El, convert, fixture, parse_xml, section};

const VITALS: &str = "2.16.840.1.113883.10.20.22.2.4.1";
const SOCIAL: &str = "2.16.840.1.113883.10.20.22.2.17";
const RESULTS: &str = "2.16.840.1.113883.10.20.22.2.3.1";
const HISTORY: &str = "2.16.840.1.113883.10.20.22.2.20";

fn observations(s: &El) -> Vec<&El> {
    let mut out = Vec::new();
    s.walk(None, &mut |e, _| {
        if e.name == "observation" {
            out.push(e);
        }
    });
    out
}

fn code(e: &El) -> Option<&str> {
    e.child("code").and_then(|c| c.attr("code"))
}

fn value<'a>(e: &'a El, attr: &str) -> Option<&'a str> {
    e.child("value").and_then(|v| v.attr(attr))
}

#[test]
fn uncategorised_vital_signs_are_loinc_readings_in_one_organizer() {
    let out = convert(&fixture("spec-examples/uncategorised_response1.json"));
    let doc = parse_xml(&out.xml).unwrap();
    let vitals = section(&doc, VITALS).unwrap();
    assert_eq!(vitals.attr("nullFlavor"), None);
    let entries: Vec<_> = vitals
        .children
        .iter()
        .filter(|c| c.name == "entry")
        .collect();
    assert_eq!(entries.len(), 1, "three readings taken together");
    let org = entries[0].child("organizer").unwrap();
    assert_eq!(org.attr("classCode"), Some("CLUSTER"));
    assert_eq!(code(org), Some("46680005"));
    let obs = observations(vitals);
    let got: Vec<_> = obs
        .iter()
        .map(|o| {
            (
                code(o).unwrap(),
                value(o, "value").unwrap(),
                value(o, "unit").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("8310-5", "36.7", "Cel"),
            ("59408-5", "96", "%"),
            // UCUM as the GP system coded it (`{resps}/min`): valid UCUM is kept as it is.
            ("9279-1", "16", "{resps}/min"),
        ]
    );
    // The GP's SNOMED CT code stays as a translation.
    assert!(out.xml.contains(r#"<translation code="703421000""#));
    assert!(out.report.unplaced.is_empty(), "{:?}", out.report.unplaced);
}

#[test]
fn blood_pressure_panels_become_systolic_and_diastolic_readings() {
    let out = convert(&fixture("gp2gp/gpc-access-structured.json"));
    let doc = parse_xml(&out.xml).unwrap();
    let vitals = section(&doc, VITALS).unwrap();
    let obs = observations(vitals);
    let sys = obs.iter().filter(|o| code(o) == Some("8480-6")).count();
    let dia = obs.iter().filter(|o| code(o) == Some("8462-4")).count();
    assert!(sys >= 2 && sys == dia, "{sys} systolic, {dia} diastolic");
    for o in obs
        .iter()
        .filter(|o| matches!(code(o), Some("8480-6" | "8462-4")))
    {
        assert_eq!(value(o, "unit"), Some("mm[Hg]"));
    }
    // The panel's comment is kept next to its first reading.
    assert!(
        out.xml
            .contains("This is the BP reading in a consultation with a note")
    );
}

#[test]
fn smoking_status_and_alcohol_go_to_social_history() {
    let out = convert(&fixture("xhuma/9690937286.json"));
    let doc = parse_xml(&out.xml).unwrap();
    let social = section(&doc, SOCIAL).unwrap();
    let obs = observations(social);
    let smoking = obs.iter().find(|o| code(o) == Some("72166-2")).unwrap();
    assert!(
        smoking
            .templates()
            .iter()
            .any(|(r, e)| r == "2.16.840.1.113883.10.20.22.4.78"
                && e.as_deref() == Some("2014-06-09"))
    );
    assert_eq!(value(smoking, "code"), Some("266919005"));
    let alcohol = obs
        .iter()
        .find(|o| code(o) == Some("1082641000000106"))
        .unwrap();
    // "units/week" has no UCUM unit: an annotation of unity carries it, with the number.
    assert_eq!(value(alcohol, "nullFlavor"), None);
    assert_eq!(value(alcohol, "unit"), Some("{units}/wk"));
    assert!(value(alcohol, "value").is_some());
}

#[test]
fn other_observations_are_findings_not_results() {
    let out = convert(&fixture(
        "gp2gp/correctPatientStructuredRecordResponseNormal.json",
    ));
    let doc = parse_xml(&out.xml).unwrap();
    let results = section(&doc, RESULTS).unwrap();
    assert!(
        !out.xml
            .contains("Other observations recorded by the GP practice")
    );
    // Cough (49727002) is a finding, not a vital sign, social history or a result.
    assert!(
        !observations(results).iter().any(|o| o
            .child("value")
            .and_then(|v| v.attr("code"))
            .or(code(o))
            == Some("49727002"))
    );
    let history = section(&doc, HISTORY).unwrap();
    assert!(
        observations(history)
            .iter()
            .any(|o| o.child("value").and_then(|v| v.attr("code")) == Some("49727002"))
    );
    let vitals = section(&doc, VITALS).unwrap();
    assert!(
        !observations(vitals)
            .iter()
            .any(|o| code(o) == Some("49727002"))
    );
    // A reading whose unit is not the vital sign's stays out of Vital Signs.
    for o in observations(vitals) {
        assert!(value(o, "unit").is_some(), "vital sign without UCUM unit");
    }
}
