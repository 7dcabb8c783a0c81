//! Every GP Connect fixture converts (or fails with the right error), and every output
//! passes the CDA SDTC schema and the C-CDA R2.1 Schematron (phase errors).
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Mutex;

use ccda_convert::{ConvertError, ParseError};
use common::{Expect, all_fixtures, expectation, short};

#[test]
fn negative_fixtures_fail_with_clear_errors() {
    for p in all_fixtures() {
        let expect = expectation(&p);
        if expect == Expect::Converts {
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        let err = ccda_convert::convert(&bytes, &Default::default())
            .err()
            .unwrap_or_else(|| panic!("{} converted but should fail", short(&p)));
        let ConvertError::Parse(pe) = &err;
        let ok = matches!(
            (expect, pe),
            (Expect::InvalidJson, ParseError::InvalidJson { .. })
                | (Expect::NotABundle, ParseError::NotABundle { .. })
                | (Expect::NoPatient, ParseError::NoPatient { .. })
        );
        assert!(ok, "{}: expected {expect:?}, got {err}", short(&p));
    }
    let bytes = common::fixture("spec-examples/consultations_response1.malformed.json");
    let err = ccda_convert::convert(&bytes, &Default::default()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid JSON at line 1556, column 9"),
        "{err}"
    );
}

#[test]
fn every_output_passes_xsd_and_schematron() {
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
    let synthetic = common::synthetic_bundles();
    assert!(synthetic.len() >= 4, "synthetic bundles: {synthetic:?}");
    paths.extend(synthetic);
    let queue = Mutex::new(paths);
    let failures = Mutex::new(Vec::<String>::new());
    // Validation runs external tools per document; two workers match the 2-core machine.
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let Some(p) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let bytes = std::fs::read(&p).unwrap();
                    let out = match ccda_convert::convert(&bytes, &Default::default()) {
                        Ok(o) => o,
                        Err(e) => {
                            failures.lock().unwrap().push(format!("{}: {e}", short(&p)));
                            continue;
                        }
                    };
                    for check in [
                        conformance::cda_xsd(&out.xml),
                        conformance::ccda_schematron(&out.xml),
                    ] {
                        if let conformance::Checked::Invalid {
                            validator,
                            messages,
                        } = &check
                        {
                            let shown = summarise(messages);
                            failures.lock().unwrap().push(format!(
                                "{} — {validator}:\n  {}",
                                short(&p),
                                shown.join("\n  ")
                            ));
                        } else {
                            check.assert_ok();
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// One line per distinct message (XPath locations shortened), with a count.
fn summarise(messages: &[String]) -> Vec<String> {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for m in messages {
        let short = shorten(m);
        let key = short.split(" at ").next().unwrap_or(&short).to_owned()
            + &short[short.find(": ").unwrap_or(0)..];
        match seen.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => seen.push((key, 1)),
        }
    }
    seen.into_iter()
        .take(12)
        .map(|(k, n)| format!("{n}× {k}"))
        .collect()
}

fn shorten(m: &str) -> String {
    let mut out = m
        .replace("*[local-name()='", "")
        .replace("' and namespace-uri()='urn:hl7-org:v3']", "");
    out.truncate(400);
    out
}

/// Negative control: the checks above can fail. Our own output with the patient removed
/// must be rejected by both validators.
#[test]
fn validators_reject_a_broken_document() {
    let out = common::convert(&common::fixture("spec-examples/allergies_response1.json"));
    let start = out.xml.find("<recordTarget>").unwrap();
    let end = out.xml.find("</recordTarget>").unwrap() + "</recordTarget>".len();
    let broken = format!("{}{}", &out.xml[..start], &out.xml[end..]);
    conformance::cda_xsd(&broken).assert_invalid();
    let no_entry_code = out
        .xml
        .replacen(r#"<code code="ASSERTION""#, r#"<code code="XXX""#, 1);
    conformance::ccda_schematron(&no_entry_code).assert_invalid();
}
