//! The allergen of an allergy record, and whether it states that there is no known allergy.
//! C-CDA's allergen (participant CSM) is a substance; GP systems code medication allergies
//! with the drug and others with the allergy ("Peanut-induced anaphylaxis").

use fhir_stu3::AllergyIntolerance;

use crate::cda::Coded;

/// SNOMED CT "no known allergy" concepts.
const NO_KNOWN: &[&str] = &[
    "716186003", // No known allergy
    "409137002", // No known drug allergy
    "429625007", // No known food allergy
    "428607008", // No known environmental allergy
    "428197003", // No known insect allergy
];

/// Whether the allergy record states that there is no known allergy.
pub(crate) fn is_no_known(a: &AllergyIntolerance) -> bool {
    let Some(cc) = a.code.as_ref() else {
        return false;
    };
    cc.code_in("http://snomed.info/sct")
        .is_some_and(|c| NO_KNOWN.contains(&c.trim()))
        || cc
            .coding
            .first()
            .and_then(|c| c.display.as_deref())
            .or(cc.text.as_deref())
            .is_some_and(|d| d.trim().to_ascii_lowercase().starts_with("no known"))
}

/// Whether a concept names a substance or product rather than a disorder or finding: GP
/// systems code medication allergies with the drug ("Amoxicillin 250mg capsules") and
/// others with the allergy ("Peanut-induced anaphylaxis").
fn names_substance(cc: &fhir_stu3::CodeableConcept) -> bool {
    let Some(text) = cc
        .coding
        .iter()
        .find_map(|c| c.display.as_deref())
        .or(cc.text.as_deref())
    else {
        return false;
    };
    let t = text.to_ascii_lowercase();
    if t.ends_with("(substance)") || t.ends_with("(product)") {
        return true;
    }
    ![
        "allerg",
        "intoleran",
        "sensitiv",
        "anaphyla",
        "reaction",
        "adverse",
        "hypersens",
        "(disorder)",
        "(finding)",
        "no known",
    ]
    .iter()
    .any(|w| t.contains(w))
}

/// The allergen and, when the GP's concept is not the allergen, that concept.
pub(crate) fn allergen(a: &AllergyIntolerance) -> (Coded, Option<Coded>) {
    let code = a.code.as_ref();
    if let Some(sub) = a.reaction.iter().find_map(|r| r.substance.as_ref()) {
        return (
            Coded::from_concept(Some(sub)),
            code.map(|c| Coded::from_concept(Some(c))),
        );
    }
    match code {
        Some(c) if names_substance(c) => (Coded::from_concept(Some(c)), None),
        Some(c) => {
            let concept = Coded::from_concept(Some(c));
            (Coded::unknown(Some(concept.label())), Some(concept))
        }
        None => (Coded::unknown(None), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fhir_stu3::{CodeableConcept, Coding};

    fn concept(display: &str) -> CodeableConcept {
        CodeableConcept {
            coding: vec![Coding {
                system: Some("http://snomed.info/sct".into()),
                code: Some("123456".into()),
                display: Some(display.into()),
                ..Coding::default()
            }],
            text: None,
        }
    }

    #[test]
    fn drugs_and_substances_are_allergens_disorders_are_not() {
        for s in [
            "Amoxicillin 250mg capsules",
            "Peanut - dietary",
            "Sesame oil (substance)",
        ] {
            assert!(names_substance(&concept(s)), "{s}");
        }
        for d in [
            "Peanut-induced anaphylaxis",
            "Allergy to peanuts",
            "Transfer-degraded drug allergy",
            "Cow's milk protein sensitivity",
            "Allergic reaction to tattoo ink",
            "No known allergy",
        ] {
            assert!(!names_substance(&concept(d)), "{d}");
        }
    }
}
