//! Free-text consultation notes → Notes Section (2.65) with one Note Activity (4.202) per
//! note. A consultation note is an Observation coded "Comment note" (37331000000100) that a
//! consultation's List structure references; the Encounters narrative links to its row.

use std::collections::HashSet;

use fhir_stu3::{Bundle, FhirDateTime, List, Resource};

use crate::cda;
use crate::model::{Cell, Entry, Row, Section, SectionSpec, Table};
use crate::oids;
use crate::sections::Build;
use crate::sections::people::{self, Party};
use crate::templates;
use crate::xml::Xml;

pub(crate) const SPEC: SectionSpec = SectionSpec {
    template: Some(templates::NOTES_SECTION),
    code: Some(("34109-9", "Note")),
    title: "Consultation notes",
    entries_required: false,
};

const COLUMNS: &[&str] = &["Date", "Consultation", "Author", "Note"];

const COMMENT_NOTE: &str = "37331000000100";
/// Consultation, topic and heading Lists.
const STRUCTURE: [&str; 3] = ["325851000000107", "25851000000105", "24781000000107"];

#[derive(Debug, Clone)]
pub(crate) struct NoteEntry {
    pub id: String,
    pub text_ref: String,
    pub time: Option<FhirDateTime>,
    pub author: Option<Party>,
}

pub(crate) fn is_comment_note(r: &Resource) -> bool {
    matches!(r, Resource::Observation(o) if o.code.as_ref().is_some_and(|c| c.coding.iter().any(|c| c.code.as_deref() == Some(COMMENT_NOTE))))
}

/// The comment notes that consultations reference, in List order, each once. They are
/// claimed before the other sections collect their items, so no other section shows them.
fn consultation_notes(bundle: &Bundle) -> Vec<&Resource> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for l in bundle
        .lists()
        .filter(|l| l.area_code().is_some_and(|c| STRUCTURE.contains(&c)))
    {
        for e in l.entry.iter().filter(|e| !e.deleted) {
            if let Some(r) = e
                .item
                .reference
                .as_deref()
                .and_then(|rf| bundle.resolve(rf, Some(l)))
                && is_comment_note(r)
                && seen.insert(std::ptr::from_ref(r))
            {
                out.push(r);
            }
        }
    }
    out
}

/// The free-text notes of the record, each once: those consultations reference first, in
/// List order, then any other comment note in the record that no report holds as a filing
/// comment (e.g. one a problem refers to). They are claimed before the other sections
/// collect their items, so no other section shows them.
pub(crate) fn notes_in_record<'a>(b: &Build<'a>) -> Vec<&'a Resource> {
    let bundle = b.bundle;
    let mut out = consultation_notes(bundle);
    let mut seen: HashSet<*const Resource> = out.iter().map(|r| std::ptr::from_ref(*r)).collect();
    // Filing comments (and any result) of the record's reports stay with their report.
    let mut stack: Vec<&Resource> = Vec::new();
    for r in bundle.resources().filter(|r| b.in_record(r)) {
        if let Resource::DiagnosticReport(d) = r {
            stack.extend(d.result.iter().filter_map(|rf| b.resolve(Some(rf), None)));
        }
    }
    let mut in_reports: HashSet<*const Resource> = HashSet::new();
    while let Some(r) = stack.pop() {
        if !in_reports.insert(std::ptr::from_ref(r)) {
            continue;
        }
        if let Resource::Observation(o) = r {
            stack.extend(o.members().filter_map(|m| b.resolve(Some(m), None)));
        }
    }
    let contained = bundle.lists().flat_map(|l| l.contained.iter());
    for r in bundle.resources().chain(contained) {
        if is_comment_note(r)
            && b.in_record(r)
            && !in_reports.contains(&std::ptr::from_ref(r))
            && seen.insert(std::ptr::from_ref(r))
        {
            out.push(r);
        }
    }
    out
}

/// The consultation a note belongs to: its `context`, else the Encounter of the List that holds it.
fn consultation<'a>(b: &Build<'a>, r: &Resource) -> Option<&'a Resource> {
    let Resource::Observation(o) = r else {
        return None;
    };
    if let Some(e) = b.resolve(o.context.as_ref(), None) {
        return Some(e);
    }
    b.bundle
        .lists()
        .filter(|l: &&List| {
            l.entry.iter().any(|e| {
                e.item
                    .reference
                    .as_deref()
                    .and_then(|rf| b.bundle.resolve(rf, Some(l)))
                    .is_some_and(|x| std::ptr::eq(x, r))
            })
        })
        .find_map(|l| b.resolve(l.encounter.as_ref(), None))
}

pub(crate) fn build(b: &mut Build<'_>, notes: &[&Resource]) -> Section {
    let mut section = Section::new(SPEC);
    section.empty_text = "No free-text consultation notes are recorded in the GP record.".into();
    let mut table = Table {
        caption: None,
        columns: COLUMNS,
        rows: Vec::new(),
    };
    let mut n = 0;
    for &r in notes {
        let Resource::Observation(o) = r else {
            continue;
        };
        // Another section may already show it (never twice).
        if b.is_placed(r) {
            continue;
        }
        n += 1;
        b.place(r);
        let row_id = format!("note-{n}");
        b.link(r, &row_id, SPEC.title);
        let text_ref = format!("{row_id}-text");
        let time = o.effective.clone().or_else(|| o.issued.clone());
        b.dates.add(time.as_ref());
        let author = o.performer.iter().find_map(|p| people::party(b, Some(p)));
        let consultation = consultation(b, r).map_or_else(
            || "—".to_owned(),
            |e| match e {
                Resource::Encounter(enc) => format!(
                    "{} ({})",
                    people::label(b, e),
                    cda::date_text(enc.period.as_ref().and_then(|p| p.start.as_ref()))
                ),
                other => people::label(b, other),
            },
        );
        let text = o
            .comment
            .clone()
            .filter(|c| !c.trim().is_empty())
            .unwrap_or_else(|| "(empty note)".into());
        table.rows.push(Row {
            id: row_id.clone(),
            cells: vec![
                Cell::plain(cda::date_text(time.as_ref())),
                Cell::plain(consultation),
                Cell::plain(author.as_ref().map_or("—".into(), Party::text)),
                Cell::with_id(text, text_ref.clone()),
            ],
        });
        section.entries.push(Entry::Note(Box::new(NoteEntry {
            id: b.ids.for_resource(&o.base, "Observation", ""),
            text_ref,
            time,
            author,
        })));
    }
    section.tables = vec![table];
    section
}

pub(crate) fn render(x: &mut Xml, e: &NoteEntry) {
    x.open("act", &[("classCode", "ACT"), ("moodCode", "EVN")]);
    cda::template(x, templates::NOTE_ACTIVITY);
    cda::id(x, &e.id);
    cda::code(x, "34109-9", oids::LOINC, "LOINC", "Note");
    cda::text_ref(x, &e.text_ref);
    cda::status(x, "completed");
    cda::ts(x, "effectiveTime", e.time.as_ref());
    let unknown = Party::Text("Not recorded".into());
    people::author(x, e.author.as_ref().unwrap_or(&unknown), e.time.as_ref());
    x.close("act");
}
