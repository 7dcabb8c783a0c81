//! Consultations, consultation notes, referrals, diary entries and documents: every one of
//! them in the Bundle is in the document exactly once (counted independently of the
//! converter from the Bundle itself), a consultation's headings link to rows that exist
//! without repeating them, and the planned entries carry status, priority, recipient,
//! reason and due date.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;

use common::{El, Expect, all_fixtures, convert, expectation, fixture, parse_xml, section, short};
use fhir_stu3::{Bundle, Resource};

const ENCOUNTERS: &str = "2.16.840.1.113883.10.20.22.2.22.1";
const NOTES: &str = "2.16.840.1.113883.10.20.22.2.65";
const PLAN: &str = "2.16.840.1.113883.10.20.22.2.10";

fn entries_with<'a>(s: Option<&'a El>, root: &str) -> Vec<&'a El> {
    s.map(|s| {
        s.children
            .iter()
            .filter(|c| c.name == "entry")
            .filter_map(|e| e.children.first())
            .filter(|e| e.templates().iter().any(|(r, _)| r == root))
            .collect()
    })
    .unwrap_or_default()
}

/// Comment notes a consultation/topic/heading List references, each once, plus the other
/// comment notes of the record that no report of the record holds as a result.
fn consultation_notes(b: &Bundle, record: &HashSet<String>) -> usize {
    let is_note = |o: &fhir_stu3::Observation| {
        o.code.as_ref().is_some_and(|c| {
            c.coding
                .iter()
                .any(|c| c.code.as_deref() == Some("37331000000100"))
        })
    };
    // Results of the record's reports, with their test groups' members.
    let mut stack: Vec<&Resource> = b
        .resources()
        .filter(|r| record.contains(&r.type_and_id()))
        .filter_map(|r| match r {
            Resource::DiagnosticReport(d) => Some(d.result.iter()),
            _ => None,
        })
        .flatten()
        .filter_map(|rf| b.resolve(rf.reference.as_deref()?, None))
        .collect();
    let mut in_reports: HashSet<String> = HashSet::new();
    while let Some(r) = stack.pop() {
        if in_reports.insert(r.type_and_id())
            && let Resource::Observation(o) = r
        {
            stack.extend(
                o.members()
                    .filter_map(|m| b.resolve(m.reference.as_deref()?, None)),
            );
        }
    }
    let mut seen: HashSet<*const Resource> = b
        .resources()
        .filter(|r| {
            matches!(r, Resource::Observation(o) if is_note(o))
                && record.contains(&r.type_and_id())
                && !in_reports.contains(&r.type_and_id())
        })
        .map(std::ptr::from_ref)
        .collect();
    for l in b.lists().filter(|l| {
        matches!(
            l.area_code(),
            Some("325851000000107" | "25851000000105" | "24781000000107")
        )
    }) {
        for e in &l.entry {
            if let Some(r @ Resource::Observation(o)) = e
                .item
                .reference
                .as_deref()
                .and_then(|rf| b.resolve(rf, Some(l)))
                && o.code.as_ref().is_some_and(|c| {
                    c.coding
                        .iter()
                        .any(|c| c.code.as_deref() == Some("37331000000100"))
                })
            {
                seen.insert(std::ptr::from_ref(r));
            }
        }
    }
    seen.len()
}

#[test]
fn every_consultation_referral_diary_entry_and_document_is_placed_once() {
    let (mut encounters, mut notes, mut plans) = (0, 0, 0);
    for p in all_fixtures()
        .into_iter()
        .filter(|p| expectation(p) == Expect::Converts)
    {
        let bytes = std::fs::read(&p).unwrap();
        let bundle = Bundle::parse(&bytes).unwrap();
        let out = convert(&bytes);
        let doc = parse_xml(&out.xml).unwrap();
        // Only what the record holds (placement rule, computed independently) is shown.
        let record = common::record(&bytes);
        let count = |t: &str| {
            bundle
                .resources()
                .filter(|r| r.resource_type() == t && record.contains(&r.type_and_id()))
                .count()
        };
        let answered: HashSet<String> = bundle
            .resources()
            .filter_map(|r| match r {
                Resource::DiagnosticReport(d) => Some(d.based_on.iter()),
                _ => None,
            })
            .flatten()
            .filter_map(|r| r.reference.clone())
            .collect();
        let requests = bundle
            .resources()
            .filter(|r| {
                matches!(r, Resource::ProcedureRequest(_))
                    && !answered.contains(&r.type_and_id())
                    && record.contains(&r.type_and_id())
            })
            .count();
        let name = short(&p);

        let enc = entries_with(section(&doc, ENCOUNTERS), "2.16.840.1.113883.10.20.22.4.49");
        assert_eq!(enc.len(), count("Encounter"), "{name}: encounters");
        let note = entries_with(section(&doc, NOTES), "2.16.840.1.113883.10.20.22.4.202");
        assert_eq!(
            note.len(),
            consultation_notes(&bundle, &record),
            "{name}: notes"
        );
        let plan = section(&doc, PLAN);
        let referrals = entries_with(plan, "2.16.840.1.113883.10.20.22.4.40");
        assert_eq!(
            referrals.len(),
            count("ReferralRequest"),
            "{name}: referrals"
        );
        let acts = entries_with(plan, "2.16.840.1.113883.10.20.22.4.39");
        assert_eq!(acts.len(), requests, "{name}: diary entries and requests");
        let docs = out.xml.matches("<tr ID=\"document-").count();
        assert_eq!(docs, count("DocumentReference"), "{name}: documents");
        for u in &out.report.unplaced {
            assert!(
                ![
                    "Encounter/",
                    "ReferralRequest/",
                    "DocumentReference/",
                    "ProcedureRequest/"
                ]
                .iter()
                .any(|t| u.resource.starts_with(t))
                    || !record.contains(&u.resource),
                "{name}: {} unplaced: {}",
                u.resource,
                u.reason
            );
        }
        encounters += enc.len();
        notes += note.len();
        plans += referrals.len() + acts.len();
    }
    assert!(
        encounters > 20 && notes > 20 && plans > 5,
        "{encounters} encounters, {notes} notes, {plans} plans"
    );
}

#[test]
fn consultation_headings_link_to_the_rows_that_show_their_items() {
    let bytes = fixture("gp2gp/gpc-access-structured.json");
    let bundle = Bundle::parse(&bytes).unwrap();
    let out = convert(&bytes);
    let doc = parse_xml(&out.xml).unwrap();
    let mut ids = HashSet::new();
    doc.walk(None, &mut |e, _| {
        if let Some(id) = e.attr("ID") {
            ids.insert(id.to_owned());
        }
    });
    let text = section(&doc, ENCOUNTERS).unwrap();
    let mut links = Vec::new();
    text.walk(None, &mut |e, _| {
        if e.name == "linkHtml" {
            links.push(e.attr("href").unwrap().trim_start_matches('#').to_owned());
        }
    });
    for l in &links {
        assert!(ids.contains(l), "link #{l} has no target");
    }
    // Every item under a heading is linked exactly once, and the Encounters section has
    // no entry for it (it is shown where it belongs).
    let mut items = 0;
    for l in bundle
        .lists()
        .filter(|l| l.area_code() == Some("24781000000107"))
    {
        items += l.entry.len();
    }
    let item_links = links
        .iter()
        .filter(|l| !l.starts_with("encounter-"))
        .count();
    assert_eq!(item_links, items, "{links:?}");
    let unique: HashSet<_> = links
        .iter()
        .filter(|l| !l.starts_with("encounter-"))
        .collect();
    assert_eq!(unique.len(), items, "an item is linked twice: {links:?}");
    let entries = text.children.iter().filter(|c| c.name == "entry").count();
    assert_eq!(entries, 6, "one Encounter Activity per consultation only");
    // The free-text note is in the Notes section, in full.
    assert!(out.xml.contains("This is some random free text"));
}

#[test]
fn referrals_carry_status_priority_recipient_and_reason() {
    let out = convert(&fixture("spec-examples/referrals_response1.json"));
    let doc = parse_xml(&out.xml).unwrap();
    let refs = entries_with(section(&doc, PLAN), "2.16.840.1.113883.10.20.22.4.40");
    assert_eq!(refs.len(), 2);
    for r in refs {
        assert_eq!(r.attr("moodCode"), Some("INT"));
        assert_eq!(
            r.child("priorityCode").and_then(|p| p.attr("code")),
            Some("R")
        );
        assert!(r.child("performer").is_some(), "recipient");
        // The requester is a Practitioner the Bundle does not hold and has no display.
        assert!(r.child("author").is_none(), "no invented requester");
        let reason = r
            .children
            .iter()
            .find(|c| c.name == "entryRelationship" && c.attr("typeCode") == Some("RSON"))
            .unwrap();
        let value = reason.children[0].child("value").unwrap();
        assert!(matches!(
            value.attr("code"),
            Some("308447003" | "308448008")
        ));
    }
    for t in [
        "Referral to physiotherapist",
        "Referral due to swollen legs",
        "Routine",
        "Unknown",
        "Dr Dave",
    ] {
        assert!(out.xml.contains(t), "narrative lacks {t}");
    }
}

#[test]
fn diary_entries_are_planned_acts_with_their_due_dates() {
    let out = convert(&fixture("spec-examples/diaryentries_response1.json"));
    let doc = parse_xml(&out.xml).unwrap();
    let acts = entries_with(section(&doc, PLAN), "2.16.840.1.113883.10.20.22.4.39");
    assert_eq!(
        acts.len(),
        2,
        "both diary entries (written without `resource`) are read"
    );
    let due: Vec<String> = acts
        .iter()
        .map(|a| {
            let t = a.child("effectiveTime").unwrap();
            t.attr("value")
                .map(str::to_owned)
                .or_else(|| {
                    t.child("low")
                        .and_then(|l| l.attr("value"))
                        .map(str::to_owned)
                })
                .unwrap()
        })
        .collect();
    assert_eq!(due, ["20190502", "20190501"]);
    assert!(out.xml.contains("Medication review due"));
    assert!(
        out.report
            .warnings
            .iter()
            .any(|w| w.contains("written directly as the entry")),
        "{:?}",
        out.report.warnings
    );
}

#[test]
fn documents_are_listed_without_their_content() {
    // The fixtures' DocumentReferences are outside their records' Lists; a consultation
    // heading that names one puts it in the record.
    let json = br#"{"resourceType":"Bundle","entry":[
        {"resource":{"resourceType":"Patient","id":"p"}},
        {"resource":{"resourceType":"List","id":"h","title":"Plan",
          "code":{"coding":[{"system":"http://snomed.info/sct","code":"24781000000107"}]},
          "entry":[{"item":{"reference":"DocumentReference/d"}}]}},
        {"resource":{"resourceType":"DocumentReference","id":"d","status":"current",
          "type":{"text":"Discharge letter"},"created":"2020-01-02",
          "content":[{"attachment":{"title":"Letter","contentType":"application/pdf","data":"AAAA"}}]}},
        {"resource":{"resourceType":"DocumentReference","id":"unlisted","status":"current","type":{"text":"Other"}}}]}"#;
    let out = convert(json);
    assert!(
        out.xml
            .contains("<title>Documents held at the GP practice</title>")
    );
    assert!(out.xml.contains("<tr ID=\"document-1\">"));
    assert!(!out.xml.contains("<tr ID=\"document-2\">"));
    assert!(!out.xml.contains("observationMedia") && !out.xml.contains("nonXMLBody"));
    assert!(
        out.report
            .unplaced
            .iter()
            .any(|u| u.resource == "DocumentReference/unlisted"
                && u.reason == "not referenced by any clinical-area List or by a listed item")
    );
}
