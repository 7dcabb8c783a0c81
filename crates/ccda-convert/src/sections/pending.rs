//! Sections the CCD requires (Results, Vital Signs, Social History) whose GP Connect areas
//! are converted in a later issue. They say so in words instead of pretending to be empty.

use crate::model::{Section, SectionSpec};
use crate::sections::Build;
use crate::templates;

const RESULTS: SectionSpec = SectionSpec {
    template: Some(templates::RESULTS_SECTION),
    code: Some((
        "30954-2",
        "Relevant diagnostic tests/laboratory data Narrative",
    )),
    title: "Results",
    entries_required: true,
};

const VITAL_SIGNS: SectionSpec = SectionSpec {
    template: Some(templates::VITAL_SIGNS_SECTION),
    code: Some(("8716-3", "Vital signs")),
    title: "Vital signs",
    entries_required: true,
};

const SOCIAL_HISTORY: SectionSpec = SectionSpec {
    template: Some(templates::SOCIAL_HISTORY_SECTION),
    code: Some(("29762-2", "Social history Narrative")),
    title: "Social history",
    entries_required: false,
};

pub(crate) fn sections(b: &Build<'_>) -> Vec<Section> {
    let pending = |area: &str| {
        b.unplaced
            .iter()
            .filter(|u| u.reason.contains(area))
            .count()
    };
    let text = |what: &str, n: usize| {
        if n == 0 {
            format!("No {what} are included in this document.")
        } else {
            format!(
                "The GP record holds {n} item(s) of {what} that this version of the converter does not include yet; \
                 ask the GP practice for them if needed."
            )
        }
    };
    let mut results = Section::new(RESULTS);
    results.empty_text = text("investigations and results", pending("investigations"));
    let mut vitals = Section::new(VITAL_SIGNS);
    vitals.empty_text = text(
        "observations (including vital signs)",
        pending("observations"),
    );
    let mut social = Section::new(SOCIAL_HISTORY);
    social.empty_text = text(
        "uncategorised data (which includes social history)",
        pending("uncategorised"),
    );
    vec![results, vitals, social]
}
