//! DocumentReference → "Documents held at the GP practice": title, date and author of each
//! document the record lists, in the narrative only. The binary content is never read or
//! embedded; the clinician asks the practice for a copy.

use std::collections::HashSet;

use fhir_stu3::Resource;

use crate::cda;
use crate::model::{Cell, Row, Section, SectionSpec, Table};
use crate::sections::Build;
use crate::sections::people::{self, Party};

pub(crate) const SPEC: SectionSpec = SectionSpec {
    template: None,
    code: None,
    title: "Documents held at the GP practice",
    entries_required: false,
};

const COLUMNS: &[&str] = &["Document", "Date", "Author", "Description"];

pub(crate) fn build(b: &mut Build<'_>) -> Section {
    let mut section = Section::new(SPEC);
    section.empty_text = "The GP record lists no documents.".into();
    let mut table = Table {
        caption: None,
        columns: COLUMNS,
        rows: Vec::new(),
    };
    let bundle = b.bundle;
    let mut seen = HashSet::new();
    let contained = bundle.lists().flat_map(|l| l.contained.iter());
    for r in bundle.resources().chain(contained) {
        let Resource::DocumentReference(d) = r else {
            continue;
        };
        if b.is_placed(r) || !b.in_record(r) || !seen.insert(std::ptr::from_ref(r)) {
            continue;
        }
        b.place(r);
        let row_id = format!("document-{}", table.rows.len() + 1);
        b.link(r, &row_id, SPEC.title);
        let date = d.created.as_ref().or(d.indexed.as_ref());
        b.dates.add(date);
        let title = d
            .content_titles
            .first()
            .cloned()
            .or_else(|| d.type_.as_ref().and_then(|t| t.label()).map(str::to_owned))
            .unwrap_or_else(|| "Untitled document".into());
        let author = d
            .author
            .iter()
            .find_map(|a| people::party(b, Some(a)))
            .or_else(|| people::party(b, d.custodian.as_ref()));
        let mut description: Vec<String> = Vec::new();
        if let Some(t) = d.type_.as_ref().and_then(|t| t.label())
            && t != title
        {
            description.push(t.to_owned());
        }
        description.extend(d.description.clone());
        table.rows.push(Row {
            id: row_id,
            cells: vec![
                Cell::plain(title),
                Cell::plain(cda::date_text(date)),
                Cell::plain(author.as_ref().map_or("—".into(), Party::text)),
                Cell::plain(if description.is_empty() {
                    "—".to_owned()
                } else {
                    description.join("; ")
                }),
            ],
        });
    }
    if !table.rows.is_empty() {
        section.notes.push(
            "These documents are held by the GP practice; their content is not included in this summary. Ask the practice for a copy."
                .into(),
        );
    }
    section.tables = vec![table];
    section
}
