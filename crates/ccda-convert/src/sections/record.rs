//! What is in the record: one rule for every resource type.
//!
//! A GP Connect structured record says what it contains through its Lists. The record is
//! 1. every resource a non-deleted `entry.item` of any List references (clinical-area Lists,
//!    secondary "Problems - …"/"Consultations - …" Lists, consultation, topic and heading
//!    Lists, Lists contained in Lists), plus the Encounter a consultation List names;
//! 2. closed over the clinical references of what is in it: any `RelatedClinicalContent`
//!    extension, DiagnosticReport result/specimen/basedOn, Observation related/specimen,
//!    MedicationStatement and MedicationRequest basedOn, Condition actual problem; and the
//!    prescription issues of an authorisation in the record (shown inside its medication).
//!
//! Nothing else is presented as a clinical entry: a clinical resource outside the record is
//! reported unplaced. A Bundle without any List (the GP2GP adaptor's focused test bundles)
//! is not a structured-record answer: then every clinical resource is in the record, with a
//! warning. Administrative resources (Patient, Organization, Practitioner, PractitionerRole,
//! Location, Medication, List) are never items.

use std::collections::HashSet;

use fhir_stu3::{Bundle, ExtValue, List, Reference, Resource};

use crate::model::Section;
use crate::sections::{Build, NOT_IN_RECORD, social, vitals};

/// The resources the record contains (see the module documentation).
pub(crate) struct Record {
    members: HashSet<*const Resource>,
}

/// Resources that describe who and where, never clinical items of their own.
pub(crate) fn is_administrative(r: &Resource) -> bool {
    matches!(
        r,
        Resource::Patient(_)
            | Resource::Organization(_)
            | Resource::Practitioner(_)
            | Resource::PractitionerRole(_)
            | Resource::Location(_)
            | Resource::List(_)
            | Resource::Medication(_)
    )
}

/// Every List of the Bundle: top-level ones and those contained in them.
fn all_lists(bundle: &Bundle) -> Vec<&List> {
    let mut out: Vec<&List> = bundle.lists().collect();
    for l in bundle.lists() {
        out.extend(l.contained.iter().filter_map(|r| match r {
            Resource::List(c) => Some(c),
            _ => None,
        }));
    }
    out
}

/// The clinical references of one resource that bring more into the record.
fn references(r: &Resource) -> Vec<&Reference> {
    let mut out: Vec<&Reference> = r
        .base()
        .extension
        .iter()
        .filter(|e| e.is("RelatedClinicalContent"))
        .filter_map(|e| match &e.value {
            Some(ExtValue::Reference(rf)) => Some(rf),
            _ => None,
        })
        .collect();
    match r {
        Resource::DiagnosticReport(d) => {
            out.extend(d.result.iter().chain(&d.specimen).chain(&d.based_on));
        }
        Resource::Observation(o) => {
            out.extend(o.related.iter().map(|x| &x.target));
            out.extend(o.specimen.iter());
        }
        Resource::MedicationStatement(m) => out.extend(m.based_on.iter()),
        Resource::MedicationRequest(m) => out.extend(m.based_on.iter()),
        Resource::Condition(c) => out.extend(c.actual_problem.iter()),
        _ => {}
    }
    out
}

impl Record {
    /// Applies the rule to `bundle`; the warning is set for a Bundle without Lists.
    pub(crate) fn of(bundle: &Bundle) -> (Self, Option<String>) {
        let contained = || bundle.lists().flat_map(|l| l.contained.iter());
        if bundle.lists().next().is_none() {
            let members = bundle
                .resources()
                .chain(contained())
                .filter(|r| !is_administrative(r))
                .map(std::ptr::from_ref)
                .collect();
            return (
                Self { members },
                Some(
                    "The Bundle has no List, so it is not a GP Connect structured-record answer; \
                     every clinical resource in it is shown"
                        .into(),
                ),
            );
        }
        let mut stack: Vec<&Resource> = Vec::new();
        for l in all_lists(bundle) {
            for e in l.entry.iter().filter(|e| !e.deleted) {
                if let Some(r) = e
                    .item
                    .reference
                    .as_deref()
                    .and_then(|rf| bundle.resolve(rf, Some(l)))
                {
                    stack.push(r);
                }
            }
            if let Some(enc) = l
                .encounter
                .as_ref()
                .and_then(|rf| bundle.resolve(rf.reference.as_deref()?, None))
            {
                stack.push(enc);
            }
        }
        let mut members: HashSet<*const Resource> = HashSet::new();
        while let Some(r) = stack.pop() {
            if is_administrative(r) || !members.insert(std::ptr::from_ref(r)) {
                continue;
            }
            for rf in references(r) {
                if let Some(t) = rf
                    .reference
                    .as_deref()
                    .and_then(|s| bundle.resolve(s, None))
                {
                    stack.push(t);
                }
            }
        }
        // A prescription issue belongs to its authorisation: in the record when that is.
        for r in bundle.resources() {
            if let Resource::MedicationRequest(mr) = r
                && mr.based_on.iter().any(|p| {
                    p.reference
                        .as_deref()
                        .and_then(|s| bundle.resolve(s, None))
                        .is_some_and(|p| members.contains(&std::ptr::from_ref(p)))
                })
            {
                members.insert(std::ptr::from_ref(r));
            }
        }
        (Self { members }, None)
    }

    pub(crate) fn contains(&self, r: &Resource) -> bool {
        self.members.contains(&std::ptr::from_ref(r))
    }
}

/// Whether `r` is of the kind the section with this template shows, to count those left
/// outside the record.
fn of_section_kind(template_root: &str, r: &Resource) -> bool {
    match (template_root, r) {
        ("2.16.840.1.113883.10.20.22.2.6.1", Resource::AllergyIntolerance(_))
        | ("2.16.840.1.113883.10.20.22.2.1.1", Resource::MedicationStatement(_))
        | ("2.16.840.1.113883.10.20.22.2.5.1", Resource::Condition(_))
        | ("2.16.840.1.113883.10.20.22.2.2.1", Resource::Immunization(_))
        | ("2.16.840.1.113883.10.20.22.2.3.1", Resource::DiagnosticReport(_))
        | ("2.16.840.1.113883.10.20.22.2.22.1", Resource::Encounter(_))
        | (
            "2.16.840.1.113883.10.20.22.2.10",
            Resource::ReferralRequest(_) | Resource::ProcedureRequest(_),
        ) => true,
        ("2.16.840.1.113883.10.20.22.2.4.1", Resource::Observation(o)) => vitals::is_vital_sign(o),
        ("2.16.840.1.113883.10.20.22.2.17", Resource::Observation(o)) => social::is_social(o),
        _ => false,
    }
}

/// Replaces an empty section's "nothing recorded" text when the Bundle holds resources of
/// the section's kind outside the record.
pub(crate) fn outside_note(b: &Build<'_>, s: &mut Section) {
    if s.row_count() > 0 {
        return;
    }
    let Some(root) = s.spec.template.map(|t| t.root) else {
        return;
    };
    let n = b
        .unplaced
        .iter()
        .filter(|u| u.reason == NOT_IN_RECORD)
        .filter_map(|u| {
            let (t, id) = u.resource.split_once('/')?;
            b.bundle.get(t, id)
        })
        .filter(|r| of_section_kind(root, r))
        .count();
    if n > 0 {
        s.empty_text = format!(
            "None of the GP record's Lists include any; the GP system sent {n} such item(s) that no List or listed item refers to, so they are not shown (see the conversion report)."
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn bundle(entries: &str) -> Bundle {
        Bundle::parse(
            format!(
                r#"{{"resourceType":"Bundle","entry":[{{"resource":{{"resourceType":"Patient","id":"p"}}}},{entries}]}}"#
            )
            .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn lists_and_their_clinical_references_make_the_record() {
        let b = bundle(
            r#"{"resource":{"resourceType":"List","id":"l","code":{"coding":[{"system":"http://snomed.info/sct","code":"717711000000103"}]},
                 "entry":[{"item":{"reference":"Condition/c"}}]}},
               {"resource":{"resourceType":"Condition","id":"c","extension":[{"url":"https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-RelatedClinicalContent-1","valueReference":{"reference":"Immunization/i"}}]}},
               {"resource":{"resourceType":"Immunization","id":"i"}},
               {"resource":{"resourceType":"Observation","id":"o"}}"#,
        );
        let (rec, warning) = Record::of(&b);
        assert!(warning.is_none());
        assert!(rec.contains(b.get("Condition", "c").unwrap()));
        assert!(rec.contains(b.get("Immunization", "i").unwrap()));
        assert!(!rec.contains(b.get("Observation", "o").unwrap()));
        assert!(!rec.contains(b.get("List", "l").unwrap()));
    }

    #[test]
    fn a_bundle_without_lists_falls_back_to_everything_with_a_warning() {
        let b = bundle(r#"{"resource":{"resourceType":"Observation","id":"o"}}"#);
        let (rec, warning) = Record::of(&b);
        assert!(warning.is_some());
        assert!(rec.contains(b.get("Observation", "o").unwrap()));
        assert!(!rec.contains(b.get("Patient", "p").unwrap()));
    }
}
