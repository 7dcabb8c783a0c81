//! Issue 12: the structured record is faithful to the GP record. For every convertible fixture,
//! `conformance::fidelity` (Python lxml, sharing nothing with the converter) reads the C-CDA
//! back and compares it item by item with the Bundle: every placed allergy, medication,
//! problem, immunisation, result, vital sign, social history item, other observation and
//! encounter exactly once in its section with the same code, dates, status, dose text, value
//! and negation, and nothing else.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::Mutex;

use common::{Expect, all_fixtures, expectation, short};

/// Runs the checker on one document; `None` when python3/lxml is missing (a loud skip, or a
/// panic under CI=true).
fn discrepancies(bundle: &Path, xml: &str) -> Option<Vec<String>> {
    conformance::fidelity(bundle, xml).unwrap_or_else(|e| panic!("{}: {e}", short(bundle)))
}

#[test]
fn every_fixture_is_faithful() {
    let mut paths: Vec<_> = all_fixtures()
        .into_iter()
        .filter(|p| expectation(p) == Expect::Converts)
        .collect();
    assert!(
        paths.len() >= 40,
        "expected the full fixture set, found {}",
        paths.len()
    );
    // The synthetic patients built into the Spine sandbox (the quick start's records).
    paths.extend(common::synthetic_bundles());
    let queue = Mutex::new(paths);
    let found = Mutex::new(Vec::<(String, Vec<String>)>::new());
    // One python3 per document; two workers match the 2-core machine.
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let Some(p) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let out = common::convert(&std::fs::read(&p).unwrap());
                    if let Some(d) = discrepancies(&p, &out.xml)
                        && !d.is_empty()
                    {
                        found.lock().unwrap().push((short(&p), d));
                    }
                }
            });
        }
    });
    let mut found = found.into_inner().unwrap();
    found.sort();
    let total: usize = found.iter().map(|(_, d)| d.len()).sum();
    let mut text = String::new();
    for (fixture, lines) in &found {
        text.push_str(&format!("\n== {fixture} ({} discrepancies)\n", lines.len()));
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
    }
    assert!(
        found.is_empty(),
        "{total} discrepancies in {} fixtures:{text}",
        found.len()
    );
}

/// The checker's own unit tests: hand-made Bundle/C-CDA pairs for each kind of defect, so a
/// checker bug cannot hide a converter bug.
#[test]
fn checker_unit_tests_pass() {
    match conformance::fidelity_self_test() {
        Ok(_) => {}
        Err(report) => panic!("fidelity.py --self-test failed:\n{report}"),
    }
}

/// Negative controls on real output: the same converted document, damaged the ways issue 12
/// describes, is reported item by item.
#[test]
fn checker_reports_damaged_output() {
    let rel = "spec-examples/meds_response.json";
    let path = Path::new(common::GPCONNECT).join(rel);
    let out = common::convert(&common::fixture(rel));
    let Some(before) = discrepancies(&path, &out.xml) else {
        return;
    };
    let activity = r#"<templateId root="2.16.840.1.113883.10.20.22.4.16"/>"#;
    let at = out.xml.find(activity).unwrap();

    // A medication dropped: its whole entry removed.
    let start = out.xml[..at]
        .rfind("<entry>")
        .max(out.xml[..at].rfind("<entry "))
        .unwrap();
    let end = at + out.xml[at..].find("</entry>").unwrap() + "</entry>".len();
    let dropped = format!("{}{}", &out.xml[..start], &out.xml[end..]);
    let after = discrepancies(&path, &dropped).unwrap();
    assert!(
        after.len() > before.len() && after.iter().any(|l| l.contains("missing from Medications")),
        "{after:#?}"
    );

    // The same entry without its Medication Activity templateIds: no longer what it claims.
    let untemplated = out.xml.replace(activity, "").replace(
        r#"<templateId root="2.16.840.1.113883.10.20.22.4.16" extension="2014-06-09"/>"#,
        "",
    );
    let after = discrepancies(&path, &untemplated).unwrap();
    assert!(
        after
            .iter()
            .any(|l| l.contains("expected a Medication Activity")),
        "{after:#?}"
    );

    // A start date changed.
    let moved = out.xml.replacen(
        r#"<low value="20160811"/>"#,
        r#"<low value="20160812"/>"#,
        1,
    );
    let after = discrepancies(&path, &moved).unwrap();
    assert!(
        after
            .iter()
            .any(|l| l.contains("start 2016-08-11 not in the entry's effectiveTime")),
        "{after:#?}"
    );
}
