//! Observations of the record that are neither laboratory results, vital signs, social
//! history nor notes: examination findings → Physical Exam Section (V3, 2.10, LOINC
//! 29545-1); history and every other finding → Past Medical History Section (V3, 2.20,
//! LOINC 11348-0, titled "History and other findings"). Never Results: a clinician looks
//! for "Swelling of lower limb" with the examination, not with the laboratory data.
//!
//! A finding recorded as a concept alone is a Problem Observation (4.4) whose code is
//! 404684003 "Clinical finding" (LOINC 75321-0) and whose value is the GP's concept, as
//! C-CDA writes findings; its comment is a Comment Activity (4.64). A finding with a value
//! (a number, text or coded answer) keeps that value: it is a Result Observation (4.2) in a
//! one-result `CLUSTER` organizer (4.1), the C-CDA shape for a measured observation.

use std::collections::HashSet;

use fhir_stu3::{FhirDateTime, Observation, Resource};

use crate::cda::{self, Coded};
use crate::model::{Cell, Entry, Row, Section, SectionSpec, Table};
use crate::oids;
use crate::sections::organizer::{Kind, Organizer};
use crate::sections::{Build, observation, results};
use crate::templates;
use crate::xml::Xml;

pub(crate) const EXAM_SPEC: SectionSpec = SectionSpec {
    template: Some(templates::PHYSICAL_EXAM_SECTION),
    code: Some(("29545-1", "Physical findings Narrative")),
    title: "Examination findings",
    entries_required: false,
};

pub(crate) const HISTORY_SPEC: SectionSpec = SectionSpec {
    template: Some(templates::PAST_MEDICAL_HISTORY_SECTION),
    code: Some(("11348-0", "History of Past illness Narrative")),
    title: "History and other findings",
    entries_required: false,
};

const COLUMNS: &[&str] = &[
    "Observation",
    "Value",
    "Reference range",
    "Interpretation",
    "Date",
    "Comments",
];

/// Consultation heading List code; a heading titled "Examination" holds examination findings.
const HEADING: &str = "24781000000107";

/// A finding recorded as a concept: Problem Observation (4.4).
#[derive(Debug, Clone)]
pub(crate) struct FindingEntry {
    pub id: String,
    pub row_id: String,
    pub value_ref: String,
    pub finding: Coded,
    pub effective: Option<FhirDateTime>,
    pub comment_ref: Option<String>,
}

/// Observations that consultation headings titled "Examination" (or "O/E") reference.
pub(crate) fn examination_items(b: &Build<'_>) -> HashSet<*const Resource> {
    let bundle = b.bundle;
    let mut out = HashSet::new();
    for l in bundle.lists().filter(|l| {
        l.area_code() == Some(HEADING)
            && l.title.as_deref().is_some_and(|t| {
                let t = t.trim().to_ascii_lowercase();
                t.starts_with("examination") || t.starts_with("o/e")
            })
    }) {
        for e in l.entry.iter().filter(|e| !e.deleted) {
            if let Some(r) = e
                .item
                .reference
                .as_deref()
                .and_then(|rf| bundle.resolve(rf, Some(l)))
            {
                out.insert(std::ptr::from_ref(r));
            }
        }
    }
    out
}

/// Whether an observation is an examination finding: category `exam`, an "O/E" concept,
/// or an item of a consultation's Examination heading.
pub(crate) fn is_exam(
    o: &Observation,
    r: &Resource,
    exam_items: &HashSet<*const Resource>,
) -> bool {
    o.category
        .iter()
        .flat_map(|c| &c.coding)
        .any(|c| c.code.as_deref() == Some("exam"))
        || o.code.as_ref().and_then(|c| c.label()).is_some_and(|l| {
            let l = l.trim().to_ascii_lowercase();
            l.starts_with("o/e") || l.starts_with("on examination")
        })
        || exam_items.contains(&std::ptr::from_ref(r))
}

/// Builds the section for `obs` (empty sections are left out by the caller).
pub(crate) fn build(
    b: &mut Build<'_>,
    spec: SectionSpec,
    prefix: &str,
    obs: &[(&Resource, &Observation)],
) -> Section {
    let mut section = Section::new(spec);
    section.empty_text = "No findings are recorded in the GP record.".into();
    let mut table = Table {
        caption: None,
        columns: COLUMNS,
        rows: Vec::new(),
    };
    for (i, &(r, o)) in obs.iter().enumerate() {
        let row_id = format!("{prefix}-{}", i + 1);
        b.link(r, &row_id, spec.title);
        if o.value.is_none() && o.component.is_empty() {
            let (row, entry) = finding(b, o, &row_id);
            table.rows.push(row);
            section.entries.push(Entry::Finding(Box::new(entry)));
        } else {
            let (row, obs) = results::result_obs(b, o, &row_id, None, "");
            // A panel without a value of its own (not a vital-sign panel): its parts are the
            // results, each with its number, after the panel's row.
            let mut rows = vec![row];
            let mut components = Vec::new();
            if o.value.is_none() && !o.component.is_empty() {
                for (k, c) in o.component.iter().enumerate() {
                    let (row, part) = component(b, o, c, &format!("{row_id}-{}", k + 1), k);
                    rows.push(row);
                    components.push(part);
                }
            } else {
                components.push(obs.clone());
            }
            let org = Organizer {
                kind: Kind::Result { battery: false },
                id: b.ids.for_resource(&o.base, "Observation", "organizer"),
                code: obs.code.clone(),
                code_ref: obs.code_ref.clone(),
                status: obs.status,
                low: obs.effective.clone(),
                high: None,
                specimens: Vec::new(),
                performer: o
                    .performer
                    .first()
                    .and_then(|p| observation::performer(b, p)),
                components,
            };
            table.rows.extend(rows);
            section.entries.push(Entry::Organizer(Box::new(org)));
        }
    }
    section.tables.push(table);
    section
}

/// One part of a panel: its own code and value, the panel's time and status.
fn component(
    b: &mut Build<'_>,
    o: &Observation,
    c: &fhir_stu3::ObservationComponent,
    row_id: &str,
    k: usize,
) -> (Row, observation::Obs) {
    let code = Coded::from_concept(c.code.as_ref());
    let value = observation::Value::from_fhir(c.value.as_ref());
    let code_ref = format!("{row_id}-test");
    let value_ref = matches!(value, observation::Value::Cd(_)).then(|| format!("{row_id}-value"));
    let effective = o.effective.clone().or_else(|| o.issued.clone());
    let row = Row {
        id: row_id.to_owned(),
        cells: vec![
            Cell::with_id(format!("– {}", code.label()), code_ref.clone()),
            match &value_ref {
                Some(id) => Cell::with_id(value.text(), id.clone()),
                None => Cell::plain(value.text()),
            },
            Cell::plain(""),
            Cell::plain(observation::interpretation_text(c.interpretation.as_ref())),
            Cell::plain(cda::date_text(effective.as_ref())),
            Cell::plain(""),
        ],
    };
    let obs = observation::Obs {
        id: b
            .ids
            .for_resource(&o.base, "Observation", &format!("component-{k}")),
        row_id: row_id.to_owned(),
        code,
        code_ref: Some(code_ref),
        status: observation::status(o.status.as_deref()),
        effective,
        value,
        value_ref,
        interpretation: observation::interpretation(c.interpretation.as_ref()),
        ranges: Vec::new(),
        comment_ref: None,
    };
    (row, obs)
}

fn finding(b: &mut Build<'_>, o: &Observation, row_id: &str) -> (Row, FindingEntry) {
    let finding = Coded::from_concept(o.code.as_ref());
    let value_ref = format!("{row_id}-finding");
    let effective = o.effective.clone().or_else(|| o.issued.clone());
    b.dates.add(effective.as_ref());
    let comment = o
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let comment_ref = comment.map(|_| format!("{row_id}-comment"));
    let row = Row {
        id: row_id.to_owned(),
        cells: vec![
            Cell::with_id(finding.label(), value_ref.clone()),
            Cell::plain("—"),
            Cell::plain(""),
            Cell::plain(observation::interpretation_text(o.interpretation.as_ref())),
            Cell::plain(cda::date_text(effective.as_ref())),
            match (comment, &comment_ref) {
                (Some(c), Some(id)) => Cell::with_id(c, id.clone()),
                _ => Cell::plain(""),
            },
        ],
    };
    let entry = FindingEntry {
        id: b.ids.for_resource(&o.base, "Observation", ""),
        row_id: row_id.to_owned(),
        value_ref,
        finding,
        effective,
        comment_ref,
    };
    (row, entry)
}

pub(crate) fn render(x: &mut Xml, e: &FindingEntry) {
    x.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
    cda::template(x, templates::PROBLEM_OBSERVATION);
    cda::id(x, &e.id);
    x.open(
        "code",
        &[
            ("code", "404684003"),
            ("codeSystem", oids::SNOMED_CT),
            ("codeSystemName", "SNOMED CT"),
            ("displayName", "Clinical finding"),
        ],
    );
    x.empty(
        "translation",
        &[
            ("code", "75321-0"),
            ("codeSystem", oids::LOINC),
            ("codeSystemName", "LOINC"),
            ("displayName", "Clinical finding"),
        ],
    );
    x.close("code");
    cda::text_ref(x, &e.row_id);
    cda::status(x, "completed");
    cda::ivl_ts(x, "effectiveTime", e.effective.as_ref(), None, false, false);
    cda::cd(x, "value", &e.finding, Some("CD"), Some(&e.value_ref));
    if let Some(r) = &e.comment_ref {
        x.open("entryRelationship", &[("typeCode", "REFR")]);
        x.open("act", &[("classCode", "ACT"), ("moodCode", "EVN")]);
        cda::template(x, templates::COMMENT_ACTIVITY);
        cda::code(x, "48767-8", oids::LOINC, "LOINC", "Annotation comment");
        cda::text_ref(x, r);
        cda::status(x, "completed");
        x.close("act");
        x.close("entryRelationship");
    }
    x.close("observation");
}
