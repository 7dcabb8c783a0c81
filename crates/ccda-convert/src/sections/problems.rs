//! Problems → Problem Section (entries required): Problem Concern Act 4.3 → Problem
//! Observation 4.4 with Problem Status 4.6, onset and abatement. Significance (major/minor)
//! is shown in the narrative. A "no current problems" statement is a negated Problem
//! Observation (value 55607006 Problem, the GP's concept as its translation), as in HL7's
//! "No Known Problems" example.

use fhir_stu3::{Condition, FhirDateTime, Resource};

use crate::cda::{self, Coded};
use crate::model::{Cell, Entry, Row, Section, SectionSpec};
use crate::oids;
use crate::sections::{Build, CurrentAndEnded, Item, list_notes};
use crate::templates;
use crate::xml::Xml;

pub(crate) const SPEC: SectionSpec = SectionSpec {
    template: Some(templates::PROBLEMS_SECTION),
    code: Some(("11450-4", "Problem list - Reported")),
    title: "Problems",
    entries_required: true,
};

const COLUMNS: &[&str] = &[
    "Problem",
    "Significance",
    "Status",
    "Onset",
    "Ended",
    "Recorded",
    "Notes",
];

#[derive(Debug, Clone)]
pub(crate) struct ProblemEntry {
    pub concern_id: String,
    pub observation_id: String,
    pub row_id: String,
    pub value_ref: String,
    pub active: bool,
    pub recorded: Option<FhirDateTime>,
    pub onset: Option<FhirDateTime>,
    pub abatement: Option<FhirDateTime>,
    pub problem: Coded,
    /// "No current problems": the observation is negated.
    pub negated: bool,
    /// Problem Status value (SNOMED CT): active, inactive or resolved.
    pub status: (&'static str, &'static str),
}

/// SNOMED CT concepts that state the absence of problems.
const NO_PROBLEMS: &[&str] = &[
    "160245001", // No current problems or disability
];

/// Whether a Condition states that the patient has no (current or known) problems.
pub(crate) fn is_no_problems(c: &Condition) -> bool {
    states_no_problems(c.code.as_ref())
}

/// Whether a concept states that the patient has no (current or known) problems.
pub(crate) fn states_no_problems(cc: Option<&fhir_stu3::CodeableConcept>) -> bool {
    let Some(cc) = cc else {
        return false;
    };
    cc.code_in("http://snomed.info/sct")
        .is_some_and(|k| NO_PROBLEMS.contains(&k.trim()))
        || cc.label().is_some_and(|d| {
            let d = d.trim().to_ascii_lowercase();
            d.starts_with("no current problem") || d.starts_with("no known problem")
        })
}

fn is_active(c: &Condition) -> bool {
    c.abatement.is_none()
        && !matches!(
            c.clinical_status.as_deref(),
            Some("inactive" | "resolved" | "remission")
        )
}

fn status(c: &Condition) -> (&'static str, &'static str) {
    match c.clinical_status.as_deref() {
        Some("resolved") => ("413322009", "Resolved"),
        _ if is_active(c) => ("55561003", "Active"),
        _ => ("73425007", "Inactive"),
    }
}

pub(crate) fn build(b: &mut Build<'_>, items: &[Item<'_>], lists: &[&fhir_stu3::List]) -> Section {
    let mut section = Section::new(SPEC);
    let (notes, empty) = list_notes(lists);
    section.notes = notes;
    section.empty_text = empty.unwrap_or_else(|| {
        if lists.is_empty() {
            "The GP record did not include a problems list.".into()
        } else {
            "No problems are recorded in the GP record.".into()
        }
    });
    let mut tables = CurrentAndEnded::new(COLUMNS, "Active problems", "Inactive and past problems");
    let mut linked = false;
    for (n, item) in items.iter().enumerate() {
        let (row, entry) = match item.resource {
            Resource::Condition(c) => one(b, c, n + 1),
            // "No current problems" recorded as an observation.
            Resource::Observation(o) => no_problems(b, o, n + 1),
            _ => continue,
        };
        b.place(item.resource);
        linked |= item.linked_only && matches!(item.resource, Resource::Condition(_));
        b.link(item.resource, &row.id, SPEC.title);
        tables.push(entry.active, row, Entry::Problem(Box::new(entry)));
    }
    if linked {
        section.notes.push(
            "Some problems are included because they are linked to other items in the GP record."
                .into(),
        );
    }
    tables.finish(&mut section);
    section
}

fn one(b: &mut Build<'_>, c: &Condition, n: usize) -> (Row, ProblemEntry) {
    let row_id = format!("problem-{n}");
    let value_ref = format!("{row_id}-name");
    let negated = is_no_problems(c);
    let problem = if negated {
        negated_problem(c.code.as_ref())
    } else {
        Coded::from_concept(c.code.as_ref())
    };
    for d in [
        c.onset.as_ref(),
        c.abatement.as_ref(),
        c.asserted_date.as_ref(),
    ] {
        b.dates.add(d);
    }
    let status = status(c);
    let significance = match c.significance.as_deref() {
        Some("major") => "Major".to_owned(),
        Some("minor") => "Minor".to_owned(),
        Some(other) => other.to_owned(),
        None => "—".to_owned(),
    };
    let notes: Vec<String> = c.note.iter().filter_map(|n| n.text.clone()).collect();
    let row = Row {
        id: row_id.clone(),
        cells: vec![
            Cell::with_id(problem.label(), value_ref.clone()),
            Cell::plain(significance),
            Cell::plain(status.1),
            Cell::plain(cda::date_text(c.onset.as_ref())),
            Cell::plain(if c.abatement.is_some() {
                cda::date_text(c.abatement.as_ref())
            } else {
                "—".into()
            }),
            Cell::plain(cda::date_text(c.asserted_date.as_ref())),
            Cell::plain(notes.join("; ")),
        ],
    };
    let entry = ProblemEntry {
        concern_id: b.ids.for_resource(&c.base, "Condition", "concern"),
        observation_id: b.ids.for_resource(&c.base, "Condition", ""),
        row_id,
        value_ref,
        active: is_active(c),
        recorded: c.asserted_date.clone(),
        onset: c.onset.clone(),
        abatement: c.abatement.clone(),
        problem,
        negated,
        status,
    };
    (row, entry)
}

/// The negated problem a "no current problems" concept states.
fn negated_problem(cc: Option<&fhir_stu3::CodeableConcept>) -> Coded {
    let source = Coded::from_concept(cc);
    let mut p = Coded::fixed("55607006", oids::SNOMED_CT, "SNOMED CT", "Problem");
    p.translations = source
        .primary
        .iter()
        .chain(&source.translations)
        .cloned()
        .collect();
    p.text = Some(source.label());
    p
}

/// A "no current problems" Observation → a negated Problem Observation.
fn no_problems(b: &mut Build<'_>, o: &fhir_stu3::Observation, n: usize) -> (Row, ProblemEntry) {
    let row_id = format!("problem-{n}");
    let value_ref = format!("{row_id}-name");
    let problem = negated_problem(o.code.as_ref());
    let date = o.effective.clone().or_else(|| o.issued.clone());
    b.dates.add(date.as_ref());
    let row = Row {
        id: row_id.clone(),
        cells: vec![
            Cell::with_id(problem.label(), value_ref.clone()),
            Cell::plain("—"),
            Cell::plain("No current problems"),
            Cell::plain("—"),
            Cell::plain("—"),
            Cell::plain(cda::date_text(date.as_ref())),
            Cell::plain(o.comment.clone().unwrap_or_default()),
        ],
    };
    let entry = ProblemEntry {
        concern_id: b.ids.for_resource(&o.base, "Observation", "concern"),
        observation_id: b.ids.for_resource(&o.base, "Observation", ""),
        row_id,
        value_ref,
        active: true,
        recorded: date,
        onset: None,
        abatement: None,
        problem,
        negated: true,
        status: ("55561003", "Active"),
    };
    (row, entry)
}

pub(crate) fn render(x: &mut Xml, e: &ProblemEntry) {
    x.open("act", &[("classCode", "ACT"), ("moodCode", "EVN")]);
    cda::template(x, templates::PROBLEM_CONCERN_ACT);
    cda::id(x, &e.concern_id);
    cda::code(x, "CONC", oids::ACT_CLASS, "HL7ActClass", "Concern");
    cda::text_ref(x, &e.row_id);
    cda::status(x, if e.active { "active" } else { "completed" });
    let low = e.recorded.as_ref().or(e.onset.as_ref());
    cda::ivl_ts(
        x,
        "effectiveTime",
        low,
        if e.active { None } else { e.abatement.as_ref() },
        !e.active,
        false,
    );
    x.open("entryRelationship", &[("typeCode", "SUBJ")]);
    let mut attrs = vec![("classCode", "OBS"), ("moodCode", "EVN")];
    if e.negated {
        attrs.push(("negationInd", "true"));
    }
    x.open("observation", &attrs);
    cda::template(x, templates::PROBLEM_OBSERVATION);
    cda::id(x, &e.observation_id);
    x.open(
        "code",
        &[
            ("code", "55607006"),
            ("codeSystem", oids::SNOMED_CT),
            ("codeSystemName", "SNOMED CT"),
            ("displayName", "Problem"),
        ],
    );
    x.empty(
        "translation",
        &[
            ("code", "75326-9"),
            ("codeSystem", oids::LOINC),
            ("codeSystemName", "LOINC"),
            ("displayName", "Problem"),
        ],
    );
    x.close("code");
    cda::text_ref(x, &e.row_id);
    cda::status(x, "completed");
    cda::ivl_ts(
        x,
        "effectiveTime",
        e.onset.as_ref(),
        e.abatement.as_ref(),
        false,
        false,
    );
    cda::cd(x, "value", &e.problem, Some("CD"), Some(&e.value_ref));
    x.open("entryRelationship", &[("typeCode", "REFR")]);
    x.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
    cda::template(x, templates::PROBLEM_STATUS);
    cda::code(x, "33999-4", oids::LOINC, "LOINC", "Status");
    cda::status(x, "completed");
    cda::cd(
        x,
        "value",
        &Coded::fixed(e.status.0, oids::SNOMED_CT, "SNOMED CT", e.status.1),
        Some("CD"),
        None,
    );
    x.close("observation");
    x.close("entryRelationship");
    x.close("observation");
    x.close("entryRelationship");
    x.close("act");
}
