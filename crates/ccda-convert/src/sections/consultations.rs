//! Consultations → Encounters Section (entries required, 2.22.1): one Encounter Activity
//! (4.49) per GP Connect Encounter, with date, type, location and performer. Each
//! consultation's own List structure (consultation → topics → headings → items) is written
//! as a nested list whose items link to the rows that show them in other sections, so the
//! clinician sees what was recorded in the consultation without anything being repeated.

use std::collections::HashSet;

use fhir_stu3::{Address, Encounter, FhirDateTime, List, Resource};

use crate::cda::{self, Coded};
use crate::model::{Cell, Entry, Outline, OutlineItem, Row, Section, SectionSpec, Table};
use crate::sections::people::{self, Party};
use crate::sections::{Build, list_notes};
use crate::templates;
use crate::xml::Xml;

pub(crate) const SPEC: SectionSpec = SectionSpec {
    template: Some(templates::ENCOUNTERS_SECTION),
    code: Some(("46240-8", "Encounters")),
    title: "Encounters",
    entries_required: true,
};

const COLUMNS: &[&str] = &[
    "Date",
    "Consultation type",
    "Clinician",
    "Location",
    "Status",
];

/// GP Connect List codes of the consultation structure.
const CONSULTATION: &str = "325851000000107";
const LIST_OF_CONSULTATIONS: &str = "1149501000000101";

#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub name: String,
    pub address: Option<Address>,
}

#[derive(Debug, Clone)]
pub(crate) struct EncounterEntry {
    pub id: String,
    pub row_id: String,
    pub type_ref: String,
    pub code: Coded,
    pub start: Option<FhirDateTime>,
    pub end: Option<FhirDateTime>,
    pub performer: Option<Party>,
    pub location: Option<Place>,
}

/// Every Encounter of the record: those the consultation Lists name first, in their order,
/// then any other (e.g. reached only through "Problems - consultations related to problems").
fn encounters<'a>(b: &Build<'a>) -> Vec<&'a Resource> {
    let bundle = b.bundle;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for l in bundle
        .lists()
        .filter(|l| l.area_code() == Some(LIST_OF_CONSULTATIONS))
    {
        for e in l.entry.iter().filter(|e| !e.deleted) {
            if let Some(r @ Resource::Encounter(_)) = e
                .item
                .reference
                .as_deref()
                .and_then(|rf| bundle.resolve(rf, Some(l)))
                && b.in_record(r)
                && seen.insert(std::ptr::from_ref(r))
            {
                out.push(r);
            }
        }
    }
    for r in bundle.resources() {
        if matches!(r, Resource::Encounter(_))
            && b.in_record(r)
            && seen.insert(std::ptr::from_ref(r))
        {
            out.push(r);
        }
    }
    out
}

fn performer(b: &Build<'_>, e: &Encounter) -> Option<Party> {
    // Primary performer first, then any participant (often only the recorder is given).
    let by_type = |t: Option<&str>| {
        e.participant
            .iter()
            .filter(|p| t.is_none_or(|t| p.type_.iter().any(|c| c == t)))
            .find_map(|p| people::party(b, p.individual.as_ref()))
    };
    by_type(Some("PPRF")).or_else(|| by_type(None))
}

fn location(b: &Build<'_>, e: &Encounter) -> Option<Place> {
    e.location
        .iter()
        .find_map(|r| match b.resolve(Some(r), None) {
            Some(Resource::Location(l)) => Some(Place {
                name: l.name.clone().or_else(|| r.display.clone())?,
                address: l.address.clone(),
            }),
            _ => r.display.clone().map(|name| Place {
                name,
                address: None,
            }),
        })
}

fn status_text(s: Option<&str>) -> &'static str {
    match s {
        Some("finished") => "Finished",
        Some("in-progress") => "In progress",
        Some("planned") => "Planned",
        Some("cancelled") => "Cancelled",
        Some("entered-in-error") => "Entered in error",
        Some(_) => "Other",
        None => "Not recorded",
    }
}

pub(crate) fn build(b: &mut Build<'_>) -> Section {
    let bundle = b.bundle;
    let lists: Vec<&List> = bundle
        .lists()
        .filter(|l| l.area_code() == Some(LIST_OF_CONSULTATIONS))
        .collect();
    let mut section = Section::new(SPEC);
    let (notes, empty) = list_notes(&lists);
    section.notes = notes;
    section.empty_text = empty.unwrap_or_else(|| {
        if lists.is_empty() {
            "The GP record did not include a list of consultations.".into()
        } else {
            "No consultations are recorded in the GP record.".into()
        }
    });
    let mut table = Table {
        caption: Some("Consultations".into()),
        columns: COLUMNS,
        rows: Vec::new(),
    };
    for (n, r) in encounters(b).into_iter().enumerate() {
        let Resource::Encounter(e) = r else { continue };
        b.place(r);
        let row_id = format!("encounter-{}", n + 1);
        b.link(r, &row_id, SPEC.title);
        let code = Coded::from_concept(e.type_.first());
        let start = e.period.as_ref().and_then(|p| p.start.clone());
        let end = e.period.as_ref().and_then(|p| p.end.clone());
        b.dates.add(start.as_ref());
        b.dates.add(end.as_ref());
        let performer = performer(b, e);
        let location = location(b, e);
        let type_ref = format!("{row_id}-type");
        let date = match (&start, &end) {
            (Some(_), Some(_)) => format!(
                "{} to {}",
                cda::date_text(start.as_ref()),
                cda::date_text(end.as_ref())
            ),
            _ => cda::date_text(start.as_ref()),
        };
        table.rows.push(Row {
            id: row_id.clone(),
            cells: vec![
                Cell::plain(date),
                Cell::with_id(code.label(), type_ref.clone()),
                Cell::plain(performer.as_ref().map_or("—".into(), Party::text)),
                Cell::plain(location.as_ref().map_or("—".into(), |l| l.name.clone())),
                Cell::plain(status_text(e.status.as_deref())),
            ],
        });
        if let Some(o) = outline(b, r, &row_id, &code, start.as_ref()) {
            section.outlines.push(o);
        }
        section
            .entries
            .push(Entry::Encounter(Box::new(EncounterEntry {
                id: b.ids.for_resource(&e.base, "Encounter", ""),
                row_id,
                type_ref,
                code,
                start,
                end,
                performer,
                location,
            })));
    }
    section.tables = vec![table];
    section
}

/// The consultation's topics and headings as a nested list (`None` without a consultation
/// List). Item links are filled in by [`resolve_links`] once every section is built.
fn outline(
    b: &Build<'_>,
    enc: &Resource,
    row_id: &str,
    code: &Coded,
    start: Option<&FhirDateTime>,
) -> Option<Outline> {
    let bundle = b.bundle;
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    for l in bundle.lists().filter(|l| {
        l.area_code() == Some(CONSULTATION)
            && b.resolve(l.encounter.as_ref(), None)
                .is_some_and(|e| std::ptr::eq(e, enc))
    }) {
        items.extend(walk(b, l, &mut seen, 0));
    }
    if items.is_empty() {
        return None;
    }
    Some(Outline {
        title: format!(
            "Consultation on {}: {}",
            cda::date_text(start),
            code.label()
        ),
        row: Some(row_id.to_owned()),
        items,
    })
}

/// The items of a consultation List: sub-Lists (topics, headings) become nested items.
fn walk(
    b: &Build<'_>,
    l: &List,
    seen: &mut HashSet<*const Resource>,
    depth: usize,
) -> Vec<OutlineItem> {
    let mut out = Vec::new();
    for e in l.entry.iter().filter(|e| !e.deleted) {
        let Some(r) = e
            .item
            .reference
            .as_deref()
            .and_then(|rf| b.bundle.resolve(rf, Some(l)))
        else {
            if let Some(d) = e.item.display.as_deref().or(e.item.reference.as_deref()) {
                out.push(leaf(
                    d.to_owned(),
                    None,
                    Some("not included in the GP record sent".into()),
                ));
            }
            continue;
        };
        if !seen.insert(std::ptr::from_ref(r)) {
            continue;
        }
        match r {
            // Depth is bounded: GP Connect nests consultation → topic → heading.
            Resource::List(sub) if depth < 4 => {
                let children = walk(b, sub, seen, depth + 1);
                out.push(OutlineItem {
                    text: list_title(b, sub),
                    resource: None,
                    link: None,
                    note: None,
                    children,
                });
            }
            Resource::List(_) => {}
            other => out.push(leaf(
                people::label(b, other),
                Some(other.type_and_id()),
                None,
            )),
        }
    }
    out
}

fn leaf(text: String, resource: Option<String>, note: Option<String>) -> OutlineItem {
    OutlineItem {
        text,
        resource,
        link: None,
        note,
        children: Vec::new(),
    }
}

/// A topic's or heading's title; an untitled topic is named after its related problem.
fn list_title(b: &Build<'_>, l: &List) -> String {
    if let Some(t) = l.title.as_deref().filter(|t| !t.trim().is_empty()) {
        return t.to_owned();
    }
    let problem = l
        .base
        .ext("RelatedProblemHeader")
        .and_then(|e| e.sub("target"))
        .and_then(|t| match &t.value {
            Some(fhir_stu3::ExtValue::Reference(r)) => b.resolve(Some(r), None),
            _ => None,
        });
    match problem {
        Some(p) => people::label(b, p),
        None if l.area_code() == Some("24781000000107") => "Heading".into(),
        None => "Topic".into(),
    }
}

/// Points each outline item at the row that shows its resource, once every section is
/// built. A prescription issue links to its medication's row.
pub(crate) fn resolve_links(b: &Build<'_>, sections: &mut [Section]) {
    fn visit(b: &Build<'_>, items: &mut [OutlineItem]) {
        for it in items {
            if let Some(key) = &it.resource
                && let Some((rt, id)) = key.split_once('/')
                && let Some(r) = b.bundle.get(rt, id)
            {
                match link_for(b, r) {
                    Some(l) => {
                        it.link = Some(l.row.clone());
                        it.note = Some(l.section.to_owned());
                    }
                    None if b.is_placed(r) => it.note = Some("shown in another section".into()),
                    None => it.note = Some("not included in this document".into()),
                }
            }
            visit(b, &mut it.children);
        }
    }
    for s in sections {
        for o in &mut s.outlines {
            visit(b, &mut o.items);
        }
    }
}

fn link_for<'b>(b: &'b Build<'_>, r: &Resource) -> Option<&'b crate::sections::Link> {
    if let Some(l) = b.link_of(r) {
        return Some(l);
    }
    let Resource::MedicationRequest(mr) = r else {
        return None;
    };
    // An issue → its authorisation → the statement based on it.
    let plan = mr
        .based_on
        .iter()
        .find_map(|p| b.resolve(Some(p), None))
        .unwrap_or(r);
    if let Some(l) = b.link_of(plan) {
        return Some(l);
    }
    b.bundle.resources().find_map(|s| match s {
        Resource::MedicationStatement(ms)
            if ms.based_on.iter().any(|p| {
                b.resolve(Some(p), None)
                    .is_some_and(|p| std::ptr::eq(p, plan))
            }) =>
        {
            b.link_of(s)
        }
        _ => None,
    })
}

pub(crate) fn render(x: &mut Xml, e: &EncounterEntry) {
    x.open("encounter", &[("classCode", "ENC"), ("moodCode", "EVN")]);
    cda::template(x, templates::ENCOUNTER_ACTIVITY);
    cda::id(x, &e.id);
    cda::cd(x, "code", &e.code, None, Some(&e.type_ref));
    cda::text_ref(x, &e.row_id);
    match (&e.start, &e.end) {
        (start, Some(_)) => cda::ivl_ts(
            x,
            "effectiveTime",
            start.as_ref(),
            e.end.as_ref(),
            false,
            false,
        ),
        (start, None) => cda::ts(x, "effectiveTime", start.as_ref()),
    }
    if let Some(p) = &e.performer {
        people::performer(x, p);
    }
    if let Some(l) = &e.location {
        x.open("participant", &[("typeCode", "LOC")]);
        x.open("participantRole", &[("classCode", "SDLOC")]);
        cda::template(x, templates::SERVICE_DELIVERY_LOCATION);
        // HL7's HealthcareServiceLocation codes are US facility types; a UK GP surgery has none.
        x.empty("code", &[("nullFlavor", "OTH")]);
        if l.address.is_some() {
            crate::header::addr(x, l.address.as_ref());
        }
        x.open("playingEntity", &[("classCode", "PLC")]);
        x.leaf("name", &[], &l.name);
        x.close("playingEntity");
        x.close("participantRole");
        x.close("participant");
    }
    x.close("encounter");
}
