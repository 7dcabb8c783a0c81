//! Accounting: every allergy, medication, problem and immunisation that a clinical-area
//! List references appears exactly once as an entry of its section; secondary "Problems - …"
//! Lists may add items but never duplicate; no two entries share an id; every narrative
//! reference resolves; every `II/@root` is an OID or a UUID.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{HashMap, HashSet};

use common::{El, Expect, all_fixtures, expectation, parse_xml, section, short};
use fhir_stu3::{Bundle, Resource};

/// Section, List codes, and the resource types whose items become its entries (a
/// secondary List may reference a MedicationRequest rather than its statement).
const AREAS: &[(&str, &[&str], &[&str])] = &[
    (
        "2.16.840.1.113883.10.20.22.2.6.1",
        &["886921000000105", "1103671000000101"],
        &["AllergyIntolerance"],
    ),
    (
        "2.16.840.1.113883.10.20.22.2.1.1",
        &["933361000000108"],
        &["MedicationStatement", "MedicationRequest"],
    ),
    (
        "2.16.840.1.113883.10.20.22.2.5.1",
        &["717711000000103"],
        &["Condition"],
    ),
    (
        "2.16.840.1.113883.10.20.22.2.2.1",
        &["1102181000000102"],
        &["Immunization"],
    ),
];

fn is_oid(s: &str) -> bool {
    s.contains('.')
        && s.split('.')
            .all(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::parse_str(s).is_ok() && s == s.to_ascii_lowercase()
}

#[test]
fn every_listed_item_is_an_entry_exactly_once() {
    let mut checked = 0;
    for p in all_fixtures()
        .into_iter()
        .filter(|p| expectation(p) == Expect::Converts)
    {
        let bytes = std::fs::read(&p).unwrap();
        let bundle = Bundle::parse(&bytes).unwrap();
        let out = common::convert(&bytes);
        let doc = parse_xml(&out.xml).unwrap();
        let record = common::record(&bytes);
        // Repeats of an item (same identifier, code and date) are shown once, with a warning.
        let repeats = |t: &str| {
            out.report
                .warnings
                .iter()
                .filter(|w| w.starts_with(&format!("{t}/")) && w.contains("it is shown once"))
                .count()
        };
        let unplaced: HashSet<&str> = out
            .report
            .unplaced
            .iter()
            .map(|u| u.resource.as_str())
            .collect();
        for (root, codes, rtype) in AREAS {
            let mut listed: HashSet<String> = HashSet::new();
            let mut secondary: HashSet<String> = HashSet::new();
            for l in bundle.lists() {
                let code = l.area_code().unwrap_or("");
                // A List without a real SNOMED code counts when all its items are of this
                // area (the converter infers its area the same way, with a warning).
                let inferred = !code.bytes().all(|b| b.is_ascii_digit())
                    && !code.contains('-')
                    && !l.entry.is_empty()
                    && l.entry.iter().all(|e| {
                        e.item
                            .reference
                            .as_deref()
                            .and_then(|r| bundle.resolve(r, Some(l)))
                            .is_some_and(|r| rtype.contains(&r.resource_type()))
                    });
                let primary = codes.contains(&code) || inferred;
                if !primary && !code.starts_with("problems-") && !code.starts_with("consultations-")
                {
                    continue;
                }
                for e in &l.entry {
                    let Some(r) = e
                        .item
                        .reference
                        .as_deref()
                        .and_then(|r| bundle.resolve(r, Some(l)))
                    else {
                        continue;
                    };
                    // Immunisation not-given and dissent records may be Observations.
                    let imm_obs = primary
                        && *root == "2.16.840.1.113883.10.20.22.2.2.1"
                        && r.resource_type() == "Observation";
                    if !rtype.contains(&r.resource_type()) && !imm_obs {
                        continue;
                    }
                    let k = r.type_and_id();
                    assert!(
                        !unplaced.contains(k.as_str()),
                        "{}: listed {k} is reported unplaced",
                        short(&p)
                    );
                    if primary {
                        listed.insert(k)
                    } else {
                        secondary.insert(k)
                    };
                }
            }
            let entries = section(&doc, root).map_or(0, |s| {
                s.children.iter().filter(|c| c.name == "entry").count()
            });
            // Items of the record that only a listed item refers to are added too.
            for r in bundle.resources() {
                let k = r.type_and_id();
                if record.contains(&k)
                    && rtype.contains(&r.resource_type())
                    && r.resource_type() != "MedicationRequest"
                    && !listed.contains(&k)
                {
                    secondary.insert(k);
                }
            }
            let extra: HashSet<_> = secondary.difference(&listed).collect();
            let shown_once: usize = rtype.iter().map(|t| repeats(t)).sum();
            assert!(
                entries + shown_once >= listed.len() && entries <= listed.len() + extra.len(),
                "{} {rtype:?}: {entries} entries for {} listed (+{} only in secondary Lists)",
                short(&p),
                listed.len(),
                extra.len()
            );
            checked += entries;
        }
    }
    assert!(checked > 250, "only {checked} entries checked");
}

#[test]
fn ids_are_unique_valid_and_stable_and_references_resolve() {
    for p in all_fixtures()
        .into_iter()
        .filter(|p| expectation(p) == Expect::Converts)
    {
        let bytes = std::fs::read(&p).unwrap();
        let a = common::convert(&bytes);
        assert_eq!(
            a.xml,
            common::convert(&bytes).xml,
            "{}: output is not deterministic",
            short(&p)
        );
        let doc = parse_xml(&a.xml).unwrap();
        let mut ids: HashMap<(String, Option<String>), usize> = HashMap::new();
        let mut narrative_ids: HashSet<String> = HashSet::new();
        let mut refs: Vec<String> = Vec::new();
        doc.walk(None, &mut |e: &El, parent| {
            if let Some(id) = e.attr("ID") {
                assert!(
                    narrative_ids.insert(id.to_owned()),
                    "{}: narrative ID {id} twice",
                    short(&p)
                );
            }
            if e.name == "reference"
                && let Some(v) = e.attr("value")
            {
                refs.push(v.to_owned());
            }
            let root = e.attr("root");
            if let Some(root) = root
                && matches!(e.name.as_str(), "id" | "setId")
            {
                assert!(
                    is_oid(root) || is_uuid(root),
                    "{}: II/@root {root} is neither OID nor UUID",
                    short(&p)
                );
                // The gateway's id and its organisation's id may share a root.
                if parent.is_some_and(|p| p.name != "representedOrganization") {
                    *ids.entry((root.to_owned(), e.attr("extension").map(str::to_owned)))
                        .or_default() += 1;
                }
            }
            if let Some(cs) = e.attr("codeSystem") {
                assert!(is_oid(cs), "{}: codeSystem {cs:?} is not an OID", short(&p));
            }
        });
        let dup: Vec<_> = ids.iter().filter(|(_, n)| **n > 1).collect();
        assert!(dup.is_empty(), "{}: duplicate ids {dup:?}", short(&p));
        for r in refs {
            let id = r.strip_prefix('#').unwrap_or(&r);
            assert!(
                narrative_ids.contains(id),
                "{}: reference {r} has no target",
                short(&p)
            );
        }
    }
}

#[test]
fn resources_of_other_areas_are_reported_never_dropped() {
    for f in [
        "gp2gp/correctPatientStructuredRecordResponseNormal.json",
        "gp2gp/correctPatientStructuredRecordLargePayload.json",
        "xhuma/9690937286.json",
    ] {
        let bytes = common::fixture(f);
        let bundle = Bundle::parse(&bytes).unwrap();
        let out = common::convert(&bytes);
        let record = common::record(&bytes);
        let unplaced: HashMap<&str, &str> = out
            .report
            .unplaced
            .iter()
            .map(|u| (u.resource.as_str(), u.reason.as_str()))
            .collect();
        // Every clinical resource of the record is in the document; every other one is
        // reported with the placement rule's reason (the rule is computed independently).
        for r in bundle.resources() {
            let k = r.type_and_id();
            if matches!(
                r,
                Resource::Patient(_)
                    | Resource::Organization(_)
                    | Resource::Practitioner(_)
                    | Resource::PractitionerRole(_)
                    | Resource::Location(_)
                    | Resource::List(_)
                    | Resource::Medication(_)
            ) {
                continue;
            }
            if record.contains(&k) {
                assert!(
                    !unplaced.contains_key(k.as_str()),
                    "{f}: {k} is reported unplaced"
                );
            } else {
                assert_eq!(
                    unplaced.get(k.as_str()).copied(),
                    Some("not referenced by any clinical-area List or by a listed item"),
                    "{f}: {k} is outside the record"
                );
            }
        }
        // Anything still missing, the about section says so in words.
        assert!(
            out.report.unplaced.is_empty() || out.xml.contains("Not included: "),
            "about section lists what is missing"
        );
    }
}
