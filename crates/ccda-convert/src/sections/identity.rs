//! When two resources are the same clinical item (issue 12): same resource type, an
//! identifier with the same system and value, the same clinical code and the same recorded
//! date. Only then is the second shown once, through the first; otherwise both appear.

use std::collections::HashMap;

use fhir_stu3::Resource;

use crate::sections::Build;

/// Items taken so far, by (type, identifier system, identifier value, code, date).
pub(crate) type Identities<'a> = HashMap<(&'a str, String, String, String, String), &'a Resource>;

/// The date an item happened or started, as recorded: three courses of the same drug under
/// one copied identifier are three items, a problem header repeated under several ids is one.
fn clinical_date(r: &Resource) -> String {
    let d = match r {
        Resource::MedicationStatement(m) => m.effective.start.as_ref(),
        Resource::Condition(c) => c.onset.as_ref().or(c.asserted_date.as_ref()),
        Resource::AllergyIntolerance(a) => a.onset.as_ref().or(a.asserted_date.as_ref()),
        Resource::Immunization(i) => i.date.as_ref(),
        Resource::Observation(o) => o.effective.as_ref(),
        _ => None,
    };
    d.map(|d| d.raw.trim().to_owned()).unwrap_or_default()
}

/// The first coding (system and code) of a resource's main clinical code: a medication's
/// is its Medication's code.
fn clinical_code(b: &Build<'_>, r: &Resource) -> String {
    let concept = match r {
        Resource::MedicationStatement(m) => match m.medication.as_ref() {
            Some(fhir_stu3::MedicationRef::Concept(c)) => Some(c),
            Some(fhir_stu3::MedicationRef::Reference(rf)) => match b.resolve(Some(rf), None) {
                Some(Resource::Medication(med)) => med.code.as_ref(),
                _ => None,
            },
            None => None,
        },
        Resource::Condition(c) => c.code.as_ref(),
        Resource::AllergyIntolerance(a) => a.code.as_ref(),
        Resource::Immunization(i) => i.vaccine_code.as_ref(),
        Resource::Observation(o) => o.code.as_ref(),
        _ => None,
    };
    concept
        .and_then(|c| c.coding.first())
        .map(|c| {
            format!(
                "{}|{}",
                c.system.as_deref().unwrap_or("").trim(),
                c.code.as_deref().unwrap_or("").trim()
            )
        })
        .unwrap_or_default()
}

/// Whether `r` is the same clinical item as one already taken: same resource type, an
/// identifier with the same system and value, the same clinical code and the same
/// recorded date (GP systems repeat a problem header under several ids). A repeat counts as placed: it is shown
/// once, through the first, which consultation links then point at. Resources that share
/// an identifier but not their code are different items and both appear.
pub(crate) fn duplicate<'a>(
    b: &mut Build<'_>,
    identities: &mut Identities<'a>,
    r: &'a Resource,
) -> bool {
    let rt = r.resource_type();
    let code = clinical_code(b, r);
    let date = clinical_date(r);
    let keys: Vec<(&'a str, String, String, String, String)> = r
        .base()
        .identifier
        .iter()
        .filter_map(|i| {
            let v = i
                .value
                .as_deref()?
                .trim()
                .trim_start_matches("urn:uuid:")
                .to_ascii_lowercase();
            (!v.is_empty()).then(|| {
                (
                    rt,
                    i.system.as_deref().unwrap_or("").trim().to_owned(),
                    v,
                    code.clone(),
                    date.clone(),
                )
            })
        })
        .collect();
    if let Some(first) = keys.iter().find_map(|k| identities.get(k).copied()) {
        b.warnings.push(format!(
            "{} has the same identifier, code and date as {}; it is shown once, as {}",
            r.type_and_id(),
            first.type_and_id(),
            first.type_and_id()
        ));
        b.place(r);
        b.alias(r, first);
        // Its authorisation is the first's too: shown once, through the first.
        if let Resource::MedicationStatement(ms) = r {
            let plans: Vec<&Resource> = ms
                .based_on
                .iter()
                .filter_map(|p| b.resolve(Some(p), None))
                .collect();
            for p in plans {
                b.place(p);
            }
        }
        return true;
    }
    for k in keys {
        identities.entry(k).or_insert(r);
    }
    false
}
