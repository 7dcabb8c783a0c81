//! Issue 12 (clinical fidelity), one test per defect: different drugs are never merged,
//! absence and refusal are negations, one placement rule for every resource type, each
//! observation in its section, and codes in their right roles. Each test reads the
//! produced document back with the tests' own XML reader.
#![allow(clippy::unwrap_used)]

mod common;

use common::{El, convert, fixture, parse_xml, section};

const ALLERGIES: &str = "2.16.840.1.113883.10.20.22.2.6.1";
const MEDICATIONS: &str = "2.16.840.1.113883.10.20.22.2.1.1";
const PROBLEMS: &str = "2.16.840.1.113883.10.20.22.2.5.1";
const IMMUNIZATIONS: &str = "2.16.840.1.113883.10.20.22.2.2.1";
const RESULTS: &str = "2.16.840.1.113883.10.20.22.2.3.1";
const EXAM: &str = "2.16.840.1.113883.10.20.2.10";
const HISTORY: &str = "2.16.840.1.113883.10.20.22.2.20";

/// Elements named `name` anywhere under `e`.
fn all<'a>(e: &'a El, name: &str) -> Vec<&'a El> {
    let mut out = Vec::new();
    e.walk(None, &mut |x, _| {
        if x.name == name {
            out.push(x);
        }
    });
    out
}

/// Every code (`@code` of code, value and their translations) under `e`.
fn codes(e: &El) -> Vec<&str> {
    let mut out = Vec::new();
    e.walk(None, &mut |x, _| {
        if matches!(x.name.as_str(), "code" | "value" | "translation")
            && let Some(c) = x.attr("code")
        {
            out.push(c);
        }
    });
    out
}

fn entries(s: &El) -> Vec<&El> {
    s.children.iter().filter(|c| c.name == "entry").collect()
}

fn has_template(e: &El, root: &str) -> bool {
    e.templates().iter().any(|(r, _)| r == root)
}

#[test]
fn medications_sharing_an_identifier_with_another_drug_all_appear() {
    for f in [
        "gp2gp/correctPatientStructuredRecordResponseNormal.json",
        "gp2gp/correctPatientStructuredRecordLargePayload.json",
        "gp2gp/malformedDateStructuredRecord.json",
    ] {
        let out = convert(&fixture(f));
        let doc = parse_xml(&out.xml).unwrap();
        let meds = section(&doc, MEDICATIONS).unwrap();
        // Medication activities by the drug code of their Medication Information.
        let drug_codes: Vec<&str> = entries(meds)
            .into_iter()
            .filter_map(|e| {
                all(e, "manufacturedMaterial")
                    .first()
                    .and_then(|m| m.child("code"))
                    .and_then(|c| c.attr("code"))
            })
            .collect();
        let n = |c: &str| drug_codes.iter().filter(|x| **x == c).count();
        // Atorvastatin (MedicationStatement/10) and the five that share its identifier:
        // three courses of citalopram (three dates), amlodipine and paracetamol.
        assert!(n("320030001") >= 1, "{f}: atorvastatin missing");
        assert_eq!(n("321987003"), 3, "{f}: citalopram courses");
        assert!(n("319284000") >= 1, "{f}: amlodipine missing");
        assert!(n("322236009") >= 1, "{f}: paracetamol missing");
        // No medication is reported as shown once because of another drug's identifier.
        assert!(
            !out.report
                .warnings
                .iter()
                .any(|w| w.starts_with("MedicationStatement/")
                    && w.contains("MedicationStatement/10;")),
            "{f}: {:?}",
            out.report.warnings
        );
    }
}

#[test]
fn a_consultation_never_says_an_item_is_shown_where_it_is_not() {
    let out = convert(&fixture(
        "gp2gp/correctPatientStructuredRecordResponseNormal.json",
    ));
    // Every heading item that is in the document links to the row that shows it.
    assert!(!out.xml.contains("(shown in another section)"));
    let doc = parse_xml(&out.xml).unwrap();
    let mut ids = std::collections::HashSet::new();
    doc.walk(None, &mut |e, _| {
        if let Some(id) = e.attr("ID") {
            ids.insert(id.to_owned());
        }
    });
    for l in all(&doc, "linkHtml") {
        let href = l.attr("href").unwrap().trim_start_matches('#');
        assert!(ids.contains(href), "link to #{href} has no target");
    }
}

#[test]
fn no_known_allergy_is_a_negated_observation_with_no_allergen() {
    let out = convert(&fixture("spec-examples/allergies_response2.json"));
    let doc = parse_xml(&out.xml).unwrap();
    let s = section(&doc, ALLERGIES).unwrap();
    let obs: Vec<&El> = all(s, "observation")
        .into_iter()
        .filter(|o| has_template(o, "2.16.840.1.113883.10.20.22.4.7"))
        .collect();
    assert_eq!(obs.len(), 1);
    let o = obs[0];
    assert_eq!(o.attr("negationInd"), Some("true"));
    assert_eq!(o.child("value").unwrap().attr("code"), Some("419199007"));
    let entity = all(o, "playingEntity")[0];
    assert_eq!(entity.child("code").unwrap().attr("nullFlavor"), Some("NA"));
    // The GP's concept is kept, but never as an allergen.
    assert!(codes(o).contains(&"716186003"));
    assert!(entity.child("code").unwrap().attr("code").is_none());
}

#[test]
fn the_allergen_is_a_substance_and_the_disorder_is_the_value_translation() {
    let out = convert(&fixture("xhuma/9692136744.json"));
    let doc = parse_xml(&out.xml).unwrap();
    let s = section(&doc, ALLERGIES).unwrap();
    let peanut = all(s, "observation")
        .into_iter()
        .find(|o| {
            has_template(o, "2.16.840.1.113883.10.20.22.4.7") && codes(o).contains(&"241933001")
        })
        .unwrap();
    let allergen = all(peanut, "playingEntity")[0].child("code").unwrap();
    assert_ne!(
        allergen.attr("code"),
        Some("241933001"),
        "disorder as allergen"
    );
    assert_eq!(allergen.attr("nullFlavor"), Some("UNK"));
    let value = peanut.child("value").unwrap();
    assert!(
        value
            .children
            .iter()
            .any(|t| t.name == "translation" && t.attr("code") == Some("241933001"))
    );
    // A drug the GP coded as the allergy is the allergen itself.
    let paracetamol = all(s, "observation")
        .into_iter()
        .find(|o| {
            has_template(o, "2.16.840.1.113883.10.20.22.4.7")
                && codes(o).contains(&"42109411000001106")
        })
        .unwrap();
    let allergen = all(paracetamol, "playingEntity")[0].child("code").unwrap();
    assert_eq!(allergen.attr("code"), Some("42109411000001106"));
}

#[test]
fn reaction_substance_is_the_allergen() {
    let json = br#"{"resourceType":"Bundle","entry":[
        {"resource":{"resourceType":"Patient","id":"p"}},
        {"resource":{"resourceType":"List","id":"l","code":{"coding":[{"system":"http://snomed.info/sct","code":"886921000000105"}]},
          "entry":[{"item":{"reference":"AllergyIntolerance/a"}}]}},
        {"resource":{"resourceType":"AllergyIntolerance","id":"a","clinicalStatus":"active","category":["food"],"type":"allergy",
          "code":{"coding":[{"system":"http://snomed.info/sct","code":"241933001","display":"Peanut-induced anaphylaxis"}]},
          "reaction":[{"substance":{"coding":[{"system":"http://snomed.info/sct","code":"762952008","display":"Peanut"}]},
            "manifestation":[{"coding":[{"system":"http://snomed.info/sct","code":"39579001","display":"Anaphylaxis"}]}]}]}}]}"#;
    let out = convert(json);
    let doc = parse_xml(&out.xml).unwrap();
    let s = section(&doc, ALLERGIES).unwrap();
    let allergen = all(s, "playingEntity")[0].child("code").unwrap();
    assert_eq!(allergen.attr("code"), Some("762952008"));
    let o = all(s, "observation")
        .into_iter()
        .find(|o| has_template(o, "2.16.840.1.113883.10.20.22.4.7"))
        .unwrap();
    assert_eq!(o.child("value").unwrap().attr("code"), Some("414285001"));
    assert!(codes(o.child("value").unwrap()).contains(&"241933001"));
    conformance::cda_xsd(&out.xml).assert_ok();
    conformance::ccda_schematron(&out.xml).assert_ok();
}

#[test]
fn immunisation_dissent_is_a_negated_activity_with_its_reason_not_a_result() {
    let out = convert(&fixture("spec-examples/immunizations_response3.json"));
    let doc = parse_xml(&out.xml).unwrap();
    let s = section(&doc, IMMUNIZATIONS).unwrap();
    let acts = all(s, "substanceAdministration");
    assert_eq!(acts.len(), 1);
    let a = acts[0];
    assert_eq!(a.attr("negationInd"), Some("true"));
    let vaccine = all(a, "manufacturedMaterial")[0].child("code").unwrap();
    assert_eq!(vaccine.attr("nullFlavor"), Some("NA"));
    let reason = all(a, "observation")
        .into_iter()
        .find(|o| has_template(o, "2.16.840.1.113883.10.20.22.4.53"))
        .unwrap();
    let code = reason.child("code").unwrap();
    assert_eq!(code.attr("code"), Some("PATOBJ"));
    assert!(codes(code).contains(&"268559007"));
    assert!(section(&doc, RESULTS).is_none_or(|r| entries(r).is_empty()));
    assert!(out.report.unplaced.is_empty(), "{:?}", out.report.unplaced);
}

#[test]
fn no_current_problems_is_a_negated_problem_observation() {
    let json = br#"{"resourceType":"Bundle","entry":[
        {"resource":{"resourceType":"Patient","id":"p"}},
        {"resource":{"resourceType":"List","id":"l","code":{"coding":[{"system":"http://snomed.info/sct","code":"717711000000103"}]},
          "entry":[{"item":{"reference":"Condition/c"}}]}},
        {"resource":{"resourceType":"Condition","id":"c","clinicalStatus":"active","assertedDate":"2020-01-01",
          "code":{"coding":[{"system":"http://snomed.info/sct","code":"160245001","display":"No current problems or disability"}]}}}]}"#;
    let out = convert(json);
    let doc = parse_xml(&out.xml).unwrap();
    let s = section(&doc, PROBLEMS).unwrap();
    let o = all(s, "observation")
        .into_iter()
        .find(|o| has_template(o, "2.16.840.1.113883.10.20.22.4.4"))
        .unwrap();
    assert_eq!(o.attr("negationInd"), Some("true"));
    let value = o.child("value").unwrap();
    assert_eq!(value.attr("code"), Some("55607006"));
    assert!(codes(value).contains(&"160245001"));
    conformance::cda_xsd(&out.xml).assert_ok();
    conformance::ccda_schematron(&out.xml).assert_ok();
}

#[test]
fn an_immunisation_a_listed_problem_refers_to_is_shown() {
    let out = convert(&fixture("xhuma/9690937286.json"));
    let doc = parse_xml(&out.xml).unwrap();
    let s = section(&doc, IMMUNIZATIONS).unwrap();
    let acts = all(s, "substanceAdministration");
    assert_eq!(acts.len(), 1);
    // The hepatitis A vaccination (procedure 170378007; the product is "unknown").
    assert!(codes(acts[0]).contains(&"170378007"));
    assert!(!out.xml.contains("No immunisations are recorded"));
    // Its performer and reason are structure, not narrative only.
    assert!(all(acts[0], "performer").len() == 1);
    let indication = all(acts[0], "observation")
        .into_iter()
        .find(|o| has_template(o, "2.16.840.1.113883.10.20.22.4.19"))
        .unwrap();
    assert_eq!(
        indication.child("value").unwrap().attr("code"),
        Some("171279008")
    );
}

#[test]
fn unlisted_comment_notes_are_not_results() {
    let out = convert(&fixture(
        "gp2gp/correctPatientStructuredRecordLargePayload.json",
    ));
    let doc = parse_xml(&out.xml).unwrap();
    let results = section(&doc, RESULTS).unwrap();
    let observations = all(results, "observation").len();
    assert!(observations < 20, "{observations} result observations");
    let unlisted = out
        .report
        .unplaced
        .iter()
        .filter(|u| {
            u.resource.starts_with("Observation/")
                && u.reason == "not referenced by any clinical-area List or by a listed item"
        })
        .count();
    assert!(unlisted > 1000, "{unlisted} unlisted observations reported");
    assert!(out.xml.contains("Not included: "));
}

#[test]
fn history_and_examination_findings_are_not_results() {
    let out = convert(&fixture(
        "gp2gp/correctPatientStructuredRecordResponseNormal.json",
    ));
    let doc = parse_xml(&out.xml).unwrap();
    let results = section(&doc, RESULTS).unwrap();
    // "Swelling of lower limb" (a consultation's History heading) and "Walking practice"
    // (its Plan heading) are findings: structured Problem Observations (code "Clinical
    // finding", value the GP's concept) in History and other findings, never results.
    let history = section(&doc, HISTORY).unwrap();
    for finding in ["449614009", "308931006"] {
        assert!(!codes(results).contains(&finding), "{finding} in Results");
        let o = entries(history)
            .into_iter()
            .filter_map(|e| e.children.first())
            .find(|o| o.child("value").and_then(|v| v.attr("code")) == Some(finding))
            .unwrap();
        assert!(has_template(o, "2.16.840.1.113883.10.20.22.4.4"));
        assert_eq!(o.child("code").unwrap().attr("code"), Some("404684003"));
    }
    // The Examination heading's item is in the Physical Exam section.
    let exam = section(&doc, EXAM).unwrap();
    assert!(!entries(exam).is_empty());
    assert!(section(&doc, RESULTS).is_some_and(|r| entries(r).len() == 1));
}

#[test]
fn egton_codes_are_structured_translations() {
    // Blood pressure readings coded by EMIS in Egton codes (2469 systolic, 246A diastolic).
    let out = convert(&fixture("gp2gp/gpc-access-structured.json"));
    let doc = parse_xml(&out.xml).unwrap();
    let mut found = Vec::new();
    doc.walk(None, &mut |e, _| {
        if e.name == "translation" && e.attr("codeSystem") == Some("2.16.840.1.113883.2.1.6.3") {
            found.push(e.attr("code").unwrap_or("").to_owned());
        }
    });
    assert!(found.iter().any(|c| c == "2469") && found.iter().any(|c| c == "246A"));
}

#[test]
fn an_empty_section_never_claims_nothing_is_recorded_when_items_are_outside_the_record() {
    // Two Encounters that no List names: not shown, but the section says they exist.
    let out = convert(&fixture("xhuma/9690937286.json"));
    assert!(
        !out.xml
            .contains("No consultations are recorded in the GP record.")
    );
    assert!(
        out.xml
            .contains("the GP system sent 2 such item(s) that no List or listed item refers to")
    );
    let json = br#"{"resourceType":"Bundle","entry":[
        {"resource":{"resourceType":"Patient","id":"p"}},
        {"resource":{"resourceType":"List","id":"l","code":{"coding":[{"system":"http://snomed.info/sct","code":"1102181000000102"}]},"entry":[]}},
        {"resource":{"resourceType":"Immunization","id":"i","notGiven":false,"date":"2020-01-01",
          "vaccineCode":{"coding":[{"system":"http://snomed.info/sct","code":"1119349007","display":"COVID-19 vaccine"}]}}}]}"#;
    let out = convert(json);
    assert!(!out.xml.contains("No immunisations are recorded"));
    assert!(out.xml.contains("the GP system sent 1 such item(s)"));
    assert_eq!(out.report.unplaced.len(), 1);
}

#[test]
fn no_current_medication_and_problems_recorded_as_observations_are_negations_in_their_sections() {
    let json = br#"{"resourceType":"Bundle","entry":[
        {"resource":{"resourceType":"Patient","id":"p"}},
        {"resource":{"resourceType":"List","id":"u","code":{"coding":[{"system":"http://snomed.info/sct","code":"826501000000100"}]},
          "entry":[{"item":{"reference":"Observation/m"}},{"item":{"reference":"Observation/c"}}]}},
        {"resource":{"resourceType":"Observation","id":"m","status":"final","effectiveDateTime":"2021-02-03",
          "code":{"coding":[{"system":"http://snomed.info/sct","code":"787481004","display":"No known medications"}]}}},
        {"resource":{"resourceType":"Observation","id":"c","status":"final","effectiveDateTime":"2021-02-03",
          "code":{"coding":[{"system":"http://snomed.info/sct","code":"160245001","display":"No current problems or disability"}]}}}]}"#;
    let out = convert(json);
    let doc = parse_xml(&out.xml).unwrap();
    let meds = section(&doc, MEDICATIONS).unwrap();
    let acts = all(meds, "substanceAdministration")
        .into_iter()
        .filter(|a| has_template(a, "2.16.840.1.113883.10.20.22.4.16"))
        .collect::<Vec<_>>();
    assert_eq!(acts.len(), 1);
    assert_eq!(acts[0].attr("negationInd"), Some("true"));
    assert!(codes(acts[0]).contains(&"787481004"));
    let problems = section(&doc, PROBLEMS).unwrap();
    let o = all(problems, "observation")
        .into_iter()
        .find(|o| has_template(o, "2.16.840.1.113883.10.20.22.4.4"))
        .unwrap();
    assert_eq!(o.attr("negationInd"), Some("true"));
    assert!(codes(o).contains(&"160245001"));
    assert!(section(&doc, HISTORY).is_none());
    assert!(out.report.unplaced.is_empty(), "{:?}", out.report.unplaced);
    conformance::cda_xsd(&out.xml).assert_ok();
    conformance::ccda_schematron(&out.xml).assert_ok();
}

#[test]
fn findings_with_values_keep_them_outside_results() {
    let json = br#"{"resourceType":"Bundle","entry":[
        {"resource":{"resourceType":"Patient","id":"p"}},
        {"resource":{"resourceType":"List","id":"u","code":{"coding":[{"system":"http://snomed.info/sct","code":"826501000000100"}]},
          "entry":[{"item":{"reference":"Observation/q"}},{"item":{"reference":"Observation/s"}},{"item":{"reference":"Observation/panel"}}]}},
        {"resource":{"resourceType":"Observation","id":"q","status":"final","effectiveDateTime":"2021-02-03",
          "code":{"coding":[{"system":"http://snomed.info/sct","code":"718087004","display":"QRISK2 cardiovascular disease 10 year risk score"}]},
          "valueQuantity":{"value":12.5,"unit":"%","system":"http://unitsofmeasure.org","code":"%"}}},
        {"resource":{"resourceType":"Observation","id":"s","status":"final","effectiveDateTime":"2021-02-03",
          "code":{"coding":[{"system":"http://snomed.info/sct","code":"365981007","display":"Tobacco smoking behaviour - finding"}]},
          "valueString":"gave up in 2010"}},
        {"resource":{"resourceType":"Observation","id":"panel","status":"final","effectiveDateTime":"2021-02-03",
          "code":{"coding":[{"system":"http://snomed.info/sct","code":"251880004","display":"Respiratory measure"}]},
          "component":[{"code":{"coding":[{"system":"http://snomed.info/sct","code":"251947004","display":"FEV1/FVC percent"}]},
                        "valueQuantity":{"value":72,"unit":"%","system":"http://unitsofmeasure.org","code":"%"}}]}}]}"#;
    let out = convert(json);
    let doc = parse_xml(&out.xml).unwrap();
    assert!(section(&doc, RESULTS).is_none_or(|r| entries(r).is_empty()));
    let history = section(&doc, HISTORY).unwrap();
    let results: Vec<&El> = all(history, "observation")
        .into_iter()
        .filter(|o| has_template(o, "2.16.840.1.113883.10.20.22.4.2"))
        .collect();
    let value_of = |code: &str| {
        results
            .iter()
            .find(|o| o.child("code").and_then(|c| c.attr("code")) == Some(code))
            .and_then(|o| o.child("value"))
            .and_then(|v| v.attr("value"))
            .map(str::to_owned)
    };
    assert_eq!(value_of("718087004").as_deref(), Some("12.5"));
    assert_eq!(value_of("251947004").as_deref(), Some("72"));
    assert!(out.report.unplaced.is_empty(), "{:?}", out.report.unplaced);
    conformance::cda_xsd(&out.xml).assert_ok();
    conformance::ccda_schematron(&out.xml).assert_ok();
}
