//! "About this record": where the data came from, when it was extracted, and what the
//! document may not contain, in words a clinician can act on.

use std::collections::BTreeMap;

use fhir_stu3::Organization;

use crate::cda;
use crate::header::HeaderFacts;
use crate::model::{Section, SectionSpec};
use crate::sections::Build;

pub(crate) const SPEC: SectionSpec = SectionSpec {
    template: None,
    code: None,
    title: "About this record",
    entries_required: false,
};

pub(crate) fn build(b: &mut Build<'_>, facts: &HeaderFacts<'_>) -> Section {
    let mut s = Section::new(SPEC);
    let practice = match facts.custodian {
        Some(o) => format!(
            "{}{}",
            o.name.as_deref().unwrap_or("an unnamed GP practice"),
            o.ods_code()
                .map(|c| format!(" (ODS code {c})"))
                .unwrap_or_default()
        ),
        None => "an unidentified GP practice".to_owned(),
    };
    s.notes.push(format!(
        "This summary was converted from the patient's GP record at {practice}, retrieved through NHS GP Connect (Access Record: Structured)."
    ));
    let extracted = b
        .bundle
        .lists()
        .filter_map(|l| l.date.as_ref())
        .filter(|d| d.value.is_some())
        .max_by_key(|d| d.value.map(|v| v.sort_key()));
    s.notes.push(match extracted {
        Some(d) => format!(
            "The GP system produced this record on {}.",
            cda::date_text(Some(d))
        ),
        None => "The GP system did not state when it produced this record.".to_owned(),
    });
    s.notes.push(
        "Allergies, medications, problems, immunisations, investigations and results, consultations (with their notes), \
         referrals, diary entries and uncategorised data are converted. Documents held at the practice are listed, \
         without their content. The record is what the GP system's lists include and what those items refer to; \
         anything else it sent is counted below, not shown."
            .to_owned(),
    );
    let mut missing: BTreeMap<&str, usize> = BTreeMap::new();
    for u in &b.unplaced {
        *missing.entry(u.reason.as_str()).or_default() += 1;
    }
    for (reason, n) in missing {
        s.notes
            .push(format!("Not included: {n} item(s) ({reason})."));
    }
    if !b.bundle.warnings.is_empty() {
        s.notes.push(format!(
            "The GP system's data departed from the FHIR standard in {} place(s); these were read as well as possible and may affect dates or quantities shown.",
            b.bundle.warnings.len()
        ));
    }
    s.notes.push(
        "Race and ethnicity are recorded as unknown: they are US-specific fields with no source in a UK GP record."
            .to_owned(),
    );
    if facts.custodian.and_then(Organization::ods_code).is_none() {
        s.notes
            .push("The GP practice could not be identified from the record.".to_owned());
    }
    s
}
