//! Investigations → Results Section (entries required): one Result Organizer (4.1) per
//! DiagnosticReport, one Result Observation (4.2) per test result. Test groups (an
//! Observation whose `related` has-member links name its results) are shown as a heading
//! row with their results beneath; filing comments (SNOMED 37331000000100 "Comment note")
//! are results with a text value, as GP Connect sends them; specimen, performer, request
//! and conclusion are written on the organizer and in the table caption.
//!
//! Only the record's reports and observations are shown (placement rule, `record.rs`). An
//! observation no report holds is filed by what it is: vital signs, social history,
//! examination findings or history and other findings (`findings.rs`), never as a result.
//! A result two reports share is shown once, under the first.

use std::collections::HashSet;

use fhir_stu3::{DiagnosticReport, FhirDateTime, List, Observation, Resource};

use crate::cda::{self, Coded};
use crate::model::{Cell, Entry, Row, Section, SectionSpec, Table};
use crate::sections::observation::{self, Obs, Value};
use crate::sections::organizer::{self, Kind, Organizer};
use crate::sections::{Area, Build, findings, list_notes, social, vitals};
use crate::templates;

pub(crate) const SPEC: SectionSpec = SectionSpec {
    template: Some(templates::RESULTS_SECTION),
    code: Some((
        "30954-2",
        "Relevant diagnostic tests/laboratory data Narrative",
    )),
    title: "Results",
    entries_required: true,
};

const COLUMNS: &[&str] = &[
    "Test",
    "Result",
    "Reference range",
    "Interpretation",
    "Date",
    "Comments",
];

/// SNOMED CT "Comment note": GP Connect's filing comments and free-text notes.
pub(crate) const COMMENT_NOTE: &str = "37331000000100";

fn snomed(o: &Observation) -> Option<&str> {
    o.code
        .as_ref()
        .and_then(|c| c.code_in("http://snomed.info/sct"))
        .map(str::trim)
}

pub(crate) fn is_comment_note(o: &Observation) -> bool {
    snomed(o) == Some(COMMENT_NOTE)
}

fn key(r: &Resource) -> *const Resource {
    std::ptr::from_ref(r)
}

fn area(l: &List) -> Area {
    l.area_code().map_or(Area::Unknown, Area::of_code)
}

/// The resources the Lists reference, in List order.
fn listed<'a>(bundle: &'a fhir_stu3::Bundle, lists: &[&'a List]) -> Vec<&'a Resource> {
    lists
        .iter()
        .flat_map(|l| {
            l.entry
                .iter()
                .filter(|e| !e.deleted)
                .filter_map(move |e| bundle.resolve(e.item.reference.as_deref()?, Some(l)))
        })
        .collect()
}

/// Builds Results, Vital Signs, Social History, and (when they have rows) Examination
/// findings and History and other findings, from every DiagnosticReport and Observation of
/// the record the other sections have not placed.
pub(crate) fn build(b: &mut Build<'_>) -> Vec<Section> {
    let bundle = b.bundle;
    let inv_lists: Vec<&List> = bundle
        .lists()
        .filter(|l| area(l) == Area::Investigations)
        .collect();
    let unc_lists: Vec<&List> = bundle
        .lists()
        .filter(|l| area(l) == Area::Uncategorised)
        .collect();
    // Everything any List names, so that a request a diary List shows stays in its section.
    let mut in_lists: HashSet<*const Resource> = HashSet::new();
    for l in bundle.lists() {
        for e in l.entry.iter().filter(|e| !e.deleted) {
            if let Some(r) = e
                .item
                .reference
                .as_deref()
                .and_then(|rf| bundle.resolve(rf, Some(l)))
            {
                in_lists.insert(key(r));
            }
        }
    }

    let mut section = Section::new(SPEC);
    let (mut notes, empty) = list_notes(&inv_lists);
    section.notes.append(&mut notes);
    section.empty_text = empty.unwrap_or_else(|| {
        if inv_lists.is_empty() {
            "The GP record sent did not include investigations and results.".into()
        } else {
            "No investigation results are recorded in the GP record.".into()
        }
    });

    let mut reports: Vec<&Resource> = Vec::new();
    let mut seen: HashSet<*const Resource> = HashSet::new();
    let listed_reports = listed(bundle, &inv_lists);
    for r in listed_reports
        .iter()
        .copied()
        .chain(bundle.resources())
        .filter(|r| matches!(r, Resource::DiagnosticReport(_)) && b.in_record(r))
    {
        if seen.insert(key(r)) {
            reports.push(r);
        }
    }
    let unlisted = reports.len()
        - listed_reports
            .iter()
            .filter(|r| matches!(r, Resource::DiagnosticReport(_)))
            .count();
    if unlisted > 0 && !reports.is_empty() {
        section.notes.push(format!(
            "{unlisted} report(s) are included although no Investigations list of the GP record refers to them."
        ));
    }
    let mut n = 0;
    for r in reports {
        let Resource::DiagnosticReport(dr) = r else {
            continue;
        };
        if b.is_placed(r) {
            continue;
        }
        b.place(r);
        let (table, org) = report(b, dr, &in_lists, &mut n);
        if let Some(first) = table.rows.first() {
            b.link(r, &first.id, SPEC.title);
        }
        section.tables.push(table);
        if let Some(org) = org {
            section.entries.push(Entry::Organizer(Box::new(org)));
        }
    }

    // A specimen no report refers to is still part of the record: say what it was.
    for r in bundle.resources() {
        if let Resource::Specimen(sp) = r
            && !b.is_placed(r)
            && b.in_record(r)
        {
            b.place(r);
            let mut t = format!(
                "A specimen is recorded without a report: {}",
                Coded::from_concept(sp.type_.as_ref()).label()
            );
            if let Some(c) = &sp.collected {
                t.push_str(&format!(", collected {}", cda::date_text(Some(c))));
            }
            if let Some(c) = &sp.received_time {
                t.push_str(&format!(", received {}", cda::date_text(Some(c))));
            }
            if let Some(a) = &sp.accession_identifier {
                t.push_str(&format!(" (laboratory number {a})"));
            }
            t.push('.');
            section.notes.push(t);
        }
    }

    // Observations not part of a report: vital signs, social history, examination
    // findings, or history and other findings.
    let exam_items = findings::examination_items(b);
    let mut vital: Vec<(&Resource, &Observation)> = Vec::new();
    let mut social_items: Vec<(&Resource, &Observation)> = Vec::new();
    let mut exam: Vec<(&Resource, &Observation)> = Vec::new();
    let mut other: Vec<(&Resource, &Observation)> = Vec::new();
    let contained = bundle.lists().flat_map(|l| l.contained.iter());
    for r in bundle.resources().chain(contained) {
        let Resource::Observation(o) = r else {
            continue;
        };
        // Sections built before this one (notes, immunisations) have taken theirs; what is
        // outside the record is reported, never shown.
        if b.is_placed(r) || !b.in_record(r) {
            continue;
        }
        b.place(r);
        if vitals::is_vital_sign(o) {
            vital.push((r, o));
        } else if social::is_social(o) {
            social_items.push((r, o));
        } else if findings::is_exam(o, r, &exam_items) {
            exam.push((r, o));
        } else {
            other.push((r, o));
        }
    }
    let vitals_section = vitals::build(b, &vital, &unc_lists);
    let social_section = social::build(b, &social_items);
    let mut out = vec![section, vitals_section, social_section];
    if !exam.is_empty() {
        out.push(findings::build(b, findings::EXAM_SPEC, "exam", &exam));
    }
    if !other.is_empty() {
        out.push(findings::build(
            b,
            findings::HISTORY_SPEC,
            "finding",
            &other,
        ));
    }
    out
}

/// One report: its table and its organizer (none when it has no result of its own).
fn report(
    b: &mut Build<'_>,
    dr: &DiagnosticReport,
    in_lists: &HashSet<*const Resource>,
    n: &mut usize,
) -> (Table, Option<Organizer>) {
    let bundle = b.bundle;
    let dr_key = dr.base.id.as_deref().unwrap_or("?").to_owned();
    let mut specimens = Vec::new();
    let mut specimen_text = Vec::new();
    let mut collected: Option<FhirDateTime> = None;
    for s in &dr.specimen {
        let Some(r) = b.resolve(Some(s), None) else {
            continue;
        };
        let Resource::Specimen(sp) = r else {
            continue;
        };
        let first = !b.is_placed(r);
        b.place(r);
        let code = Coded::from_concept(sp.type_.as_ref());
        let mut t = code.label();
        if let Some(c) = &sp.collected {
            t.push_str(&format!(", collected {}", cda::date_text(Some(c))));
            if collected.is_none() {
                collected = Some(c.clone());
            }
        }
        if let Some(a) = &sp.accession_identifier {
            t.push_str(&format!(" (laboratory number {a})"));
        }
        specimen_text.push(t);
        let role = if first {
            String::new()
        } else {
            format!("report:{dr_key}")
        };
        specimens.push(organizer::Specimen {
            id: b.ids.for_resource(&sp.base, "Specimen", &role),
            code,
        });
    }
    let mut requested = Vec::new();
    for req in &dr.based_on {
        if let Some(r @ Resource::ProcedureRequest(pr)) = b.resolve(Some(req), None) {
            if let Some(l) = pr.code.as_ref().and_then(|c| c.label()) {
                requested.push(l.to_owned());
            }
            // A request a diary List shows is that section's; otherwise it lives here.
            if !in_lists.contains(&key(r)) {
                b.place(r);
            }
        }
    }
    let performer = dr
        .performer
        .iter()
        .find_map(|p| observation::performer(b, p));
    let fallback = collected
        .clone()
        .or_else(|| dr.effective.clone())
        .or_else(|| dr.issued.clone());
    b.dates.add(fallback.as_ref());

    let mut rows = Vec::new();
    let mut components = Vec::new();
    let mut groups = Vec::new();
    let mut visited: HashSet<*const Resource> = HashSet::new();
    for rf in &dr.result {
        let Some(r) = b.resolve(Some(rf), None) else {
            b.warnings.push(format!(
                "DiagnosticReport/{dr_key} refers to {}, which is not in the Bundle",
                rf.reference
                    .as_deref()
                    .unwrap_or("a result without a reference")
            ));
            continue;
        };
        let Resource::Observation(o) = r else {
            continue;
        };
        add_result(
            b,
            r,
            o,
            fallback.as_ref(),
            0,
            &mut visited,
            n,
            &mut rows,
            &mut components,
            &mut groups,
        );
    }
    // A report with no result of its own is narrative only: a Result Organizer needs a
    // result, and an invented one would be an item the GP never recorded.
    let own_results = !components.is_empty();
    if !own_results {
        *n += 1;
        let row_id = format!("result-{n}");
        let code = Coded::from_concept(dr.code.as_ref());
        let text = if dr.result.is_empty() {
            "No results were included in this report."
        } else {
            "Its results are shown with an earlier report in this section."
        };
        rows.push(Row {
            id: row_id.clone(),
            cells: vec![
                Cell::plain(code.label()),
                Cell::plain(text),
                Cell::plain(""),
                Cell::plain(""),
                Cell::plain(cda::date_text(fallback.as_ref())),
                Cell::plain(""),
            ],
        });
    }
    // A generic report code ("Diagnostic studies report") says less than its one test group.
    let mut code = Coded::from_concept(dr.code.as_ref());
    let mut code_ref = None;
    let generic = code.primary.as_ref().is_some_and(|p| p.code == "721981007");
    if let [(g_code, g_ref)] = groups.as_slice()
        && (generic || code.primary.is_none())
    {
        code = g_code.clone();
        code_ref = Some(g_ref.clone());
    }
    let mut caption = Coded::from_concept(dr.code.as_ref()).label();
    if let Some(i) = &dr.issued {
        caption.push_str(&format!(", issued {}", cda::date_text(Some(i))));
    }
    if let Some(s) = dr.status.as_deref().filter(|s| *s != "final") {
        caption.push_str(&format!(" (status: {s})"));
    }
    if !specimen_text.is_empty() {
        caption.push_str(&format!(". Specimen: {}", specimen_text.join("; ")));
    }
    if let Some(p) = &performer {
        caption.push_str(&format!(". Performed by {}", p.name));
    }
    if !requested.is_empty() {
        caption.push_str(&format!(". Requested as: {}", requested.join("; ")));
    }
    if let Some(c) = dr.conclusion.as_deref().filter(|c| !c.trim().is_empty()) {
        caption.push_str(&format!(". Conclusion: {c}"));
    }
    let diagnoses: Vec<&str> = dr
        .coded_diagnosis
        .iter()
        .filter_map(|c| c.label())
        .collect();
    if !diagnoses.is_empty() {
        caption.push_str(&format!(". Coded diagnosis: {}", diagnoses.join("; ")));
    }
    let _ = bundle;
    let org = own_results.then(|| Organizer {
        kind: Kind::Result { battery: true },
        id: b.ids.for_resource(&dr.base, "DiagnosticReport", ""),
        code,
        code_ref,
        status: observation::status(dr.status.as_deref()),
        low: fallback,
        high: None,
        specimens,
        performer,
        components,
    });
    (
        Table {
            caption: Some(caption),
            columns: COLUMNS,
            rows,
        },
        org,
    )
}

/// Adds one result of a report (recursing into test groups) as rows and observations.
#[allow(clippy::too_many_arguments)]
fn add_result<'a>(
    b: &mut Build<'a>,
    r: &'a Resource,
    o: &'a Observation,
    fallback: Option<&FhirDateTime>,
    depth: usize,
    visited: &mut HashSet<*const Resource>,
    n: &mut usize,
    rows: &mut Vec<Row>,
    components: &mut Vec<Obs>,
    groups: &mut Vec<(Coded, String)>,
) {
    // A result two reports share is shown once, under the first report.
    if !visited.insert(key(r)) || b.is_placed(r) {
        return;
    }
    b.place(r);
    *n += 1;
    let row_id = format!("result-{n}");
    b.link(r, &row_id, SPEC.title);
    let members: Vec<&'a Resource> = o
        .members()
        .filter_map(|m| b.resolve(Some(m), None))
        .collect();
    // Narrative whitespace collapses, so a visible mark shows a result belongs to its group.
    let indent = "– ".repeat(depth);
    if members.is_empty() || o.value.is_some() {
        let (mut row, obs) = result_obs(b, o, &row_id, fallback, "");
        if is_comment_note(o) {
            row.cells[0].text = match o
                .performer
                .first()
                .and_then(|p| observation::performer(b, p))
            {
                Some(p) => format!("Filing comment ({})", p.name),
                None => "Filing comment".into(),
            };
        }
        row.cells[0].text = format!("{indent}{}", row.cells[0].text);
        rows.push(row);
        components.push(obs);
    } else {
        // The group heading: its results follow. A heading with a comment keeps it.
        let code = Coded::from_concept(o.code.as_ref());
        let test_ref = format!("{row_id}-test");
        groups.push((code.clone(), test_ref.clone()));
        rows.push(Row {
            id: row_id,
            cells: vec![
                Cell::with_id(format!("{indent}{}", code.label()), test_ref),
                Cell::plain(format!("Test group: {} result(s) below", members.len())),
                Cell::plain(""),
                Cell::plain(observation::interpretation_text(o.interpretation.as_ref())),
                Cell::plain(cda::date_text(o.effective.as_ref().or(fallback))),
                Cell::plain(o.comment.clone().unwrap_or_default()),
            ],
        });
    }
    for m in members {
        if let Resource::Observation(mo) = m {
            add_result(
                b,
                m,
                mo,
                fallback,
                depth + 1,
                visited,
                n,
                rows,
                components,
                groups,
            );
        }
    }
}

/// A Result Observation and its narrative row.
pub(crate) fn result_obs(
    b: &mut Build<'_>,
    o: &Observation,
    row_id: &str,
    fallback: Option<&FhirDateTime>,
    role: &str,
) -> (Row, Obs) {
    let code = Coded::from_concept(o.code.as_ref());
    let test_ref = format!("{row_id}-test");
    let mut value = Value::from_fhir(o.value.as_ref());
    let mut comment = o.comment.clone().filter(|c| !c.trim().is_empty());
    if matches!(value, Value::Null(_)) {
        if let Some(c) = comment.take() {
            // GP systems put a text result (and filing comments) in `comment`.
            value = Value::St(c.trim().to_owned());
        } else if let Some(r) = o.data_absent_reason.as_ref().and_then(|r| r.label()) {
            value = Value::St(format!("No value: {r}"));
        }
    }
    let value_ref = matches!(value, Value::Cd(_)).then(|| format!("{row_id}-value"));
    let comment_ref = comment.as_ref().map(|_| format!("{row_id}-comment"));
    let ranges = observation::ranges(o);
    let effective = o
        .effective
        .clone()
        .or_else(|| fallback.cloned())
        .or_else(|| o.issued.clone());
    b.dates.add(effective.as_ref());
    let value_cell = match &value_ref {
        Some(id) => Cell::with_id(value.text(), id.clone()),
        None => Cell::plain(value.text()),
    };
    let comment_cell = match (&comment, &comment_ref) {
        (Some(c), Some(id)) => Cell::with_id(c.trim(), id.clone()),
        _ => Cell::plain(""),
    };
    let row = Row {
        id: row_id.to_owned(),
        cells: vec![
            Cell::with_id(code.label(), test_ref.clone()),
            value_cell,
            Cell::plain(observation::ranges_text(&ranges)),
            Cell::plain(observation::interpretation_text_of(o)),
            Cell::plain(cda::date_text(effective.as_ref())),
            comment_cell,
        ],
    };
    let obs = Obs {
        id: b.ids.for_resource(&o.base, "Observation", role),
        row_id: row_id.to_owned(),
        code,
        code_ref: Some(test_ref),
        status: observation::status(o.status.as_deref()),
        effective,
        value,
        value_ref,
        interpretation: observation::interpretation_of(o),
        ranges,
        comment_ref,
    };
    (row, obs)
}
