//! "No current medication" recorded as an Observation → a negated Medication Activity, as
//! in HL7's "No Medications" example.

use fhir_stu3::Observation;

use super::{COLUMNS, MedicationEntry};
use crate::cda::{self, Coded};
use crate::model::{Cell, Row};
use crate::sections::Build;

/// SNOMED CT concepts that state the patient takes no medication.
const NO_MEDICATION: &[&str] = &[
    "787481004", // No known medications
];

/// Whether an Observation states that the patient takes no (current or known) medication.
pub(crate) fn is_no_medication(o: &Observation) -> bool {
    let Some(cc) = o.code.as_ref() else {
        return false;
    };
    cc.code_in("http://snomed.info/sct")
        .is_some_and(|c| NO_MEDICATION.contains(&c.trim()))
        || cc.label().is_some_and(|d| {
            let d = d.trim().to_ascii_lowercase();
            [
                "no current medication",
                "no known medication",
                "not on any medication",
            ]
            .iter()
            .any(|p| d.starts_with(p))
        })
}

/// A "no current medication" statement → a negated Medication Activity whose drug is
/// "Drug or medicament" (410942007) under `nullFlavor="OTH"`, the GP's concept beside it.
pub(super) fn no_medication(
    b: &mut Build<'_>,
    o: &Observation,
    n: usize,
) -> (Row, MedicationEntry) {
    let row_id = format!("medication-{n}");
    let medication_ref = format!("{row_id}-name");
    let source = Coded::from_concept(o.code.as_ref());
    let mut medication = Coded::unknown(Some(source.label()));
    medication.null_flavor = "OTH";
    medication.translations.push(crate::cda::Code {
        code: "410942007".into(),
        system: crate::codesystems::CodeSystem {
            oid: std::borrow::Cow::Borrowed(crate::oids::SNOMED_CT),
            name: "SNOMED CT",
        },
        display: Some("Drug or medicament".into()),
    });
    medication
        .translations
        .extend(source.primary.iter().chain(&source.translations).cloned());
    let start = o.effective.clone().or_else(|| o.issued.clone());
    b.dates.add(start.as_ref());
    let mut cells = vec![Cell::with_id(source.label(), medication_ref.clone())];
    cells.extend((1..COLUMNS.len()).map(|i| {
        Cell::plain(match COLUMNS[i] {
            "Started" => cda::date_text(start.as_ref()),
            "Status" => "No medication".to_owned(),
            "Notes" => o.comment.clone().unwrap_or_default(),
            _ => "—".to_owned(),
        })
    }));
    let entry = MedicationEntry {
        id: b.ids.for_resource(&o.base, "Observation", ""),
        row_id: row_id.clone(),
        medication_ref,
        sig_ref: None,
        instruction: None,
        status: "active",
        start,
        end: None,
        frequency: None,
        prn: None,
        route: None,
        dose: None,
        medication,
        supply: None,
        negated: true,
    };
    (Row { id: row_id, cells }, entry)
}
