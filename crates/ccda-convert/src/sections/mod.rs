//! The section framework: which List feeds which section (by the List's SNOMED CT code),
//! the shared build context, List notes and warnings, and the report of what could not be
//! placed. Each clinical area is one module here.

pub(crate) mod about;
mod allergen;
pub(crate) mod allergies;
pub(crate) mod consultations;
pub(crate) mod documents;
pub(crate) mod findings;
mod identity;
pub(crate) mod immunizations;
pub(crate) mod medications;
pub(crate) mod notes;
pub(crate) mod observation;
pub(crate) mod organizer;
pub(crate) mod people;
pub(crate) mod plan;
pub(crate) mod problems;
pub(crate) mod record;
pub(crate) mod results;
pub(crate) mod social;
pub(crate) mod vital_codes;
pub(crate) mod vitals;

use std::collections::{HashMap, HashSet};

use fhir_stu3::{Bundle, FhirDateTime, List, PartialDateTime, Reference, Resource};

use crate::Unplaced;
use crate::header::HeaderFacts;
use crate::ids::Ids;
use crate::model::{Entry, Row, Section, Table};

/// GP Connect clinical areas, from the List codes of the Access Record Structured spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Area {
    Allergies,
    Medications,
    Problems,
    Immunisations,
    /// Secondary Lists ("Problems - …", "Consultations - …"): items linked to problems or
    /// consultations that the query's own Lists may not hold.
    Secondary,
    Investigations,
    Consultations,
    Uncategorised,
    Referrals,
    Diary,
    Unknown,
}

impl Area {
    pub(crate) fn of_code(code: &str) -> Self {
        match code {
            "886921000000105" | "1103671000000101" => Self::Allergies,
            "933361000000108" => Self::Medications,
            "717711000000103" => Self::Problems,
            "1102181000000102" => Self::Immunisations,
            "887191000000108" => Self::Investigations,
            "1149501000000101" | "325851000000107" | "25851000000105" | "24781000000107" => {
                Self::Consultations
            }
            "826501000000100" => Self::Uncategorised,
            "792931000000107" | "886721000000107" => Self::Referrals,
            "714311000000108" => Self::Diary,
            c if c.starts_with("problems-") || c.starts_with("consultations-") => Self::Secondary,
            _ => Self::Unknown,
        }
    }

    /// The section a resource type belongs to, for the areas converted so far.
    fn of_resource(r: &Resource) -> Option<Self> {
        Some(match r {
            Resource::AllergyIntolerance(_) => Self::Allergies,
            Resource::MedicationStatement(_) | Resource::MedicationRequest(_) => Self::Medications,
            Resource::Condition(_) => Self::Problems,
            Resource::Immunization(_) => Self::Immunisations,
            _ => return None,
        })
    }

    fn slot(self) -> Option<usize> {
        match self {
            Self::Allergies => Some(0),
            Self::Medications => Some(1),
            Self::Problems => Some(2),
            Self::Immunisations => Some(3),
            _ => None,
        }
    }
}

/// A resource a section should show.
/// Rows split into a current and an ended table (allergies, problems). Entries keep the
/// tables' row order, current first, so the coded entries read in the narrative's order.
pub(crate) struct CurrentAndEnded {
    current: Table,
    ended: Table,
    current_entries: Vec<Entry>,
    ended_entries: Vec<Entry>,
}

impl CurrentAndEnded {
    pub(crate) fn new(columns: &'static [&'static str], current: &str, ended: &str) -> Self {
        let table = |caption: &str| Table {
            caption: Some(caption.into()),
            columns,
            rows: Vec::new(),
        };
        Self {
            current: table(current),
            ended: table(ended),
            current_entries: Vec::new(),
            ended_entries: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, active: bool, row: Row, entry: Entry) {
        if active {
            self.current.rows.push(row);
            self.current_entries.push(entry);
        } else {
            self.ended.rows.push(row);
            self.ended_entries.push(entry);
        }
    }

    pub(crate) fn finish(mut self, section: &mut Section) {
        section.tables = vec![self.current, self.ended];
        self.current_entries.append(&mut self.ended_entries);
        section.entries = self.current_entries;
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Item<'a> {
    pub resource: &'a Resource,
    /// The List that contains it, for `#id` references.
    pub container: Option<&'a List>,
    /// Only a secondary "Problems - …" List references it.
    pub linked_only: bool,
}

/// Earliest and latest clinical dates, for serviceEvent and XDS metadata.
#[derive(Default)]
pub(crate) struct DateRange {
    min: Option<PartialDateTime>,
    max: Option<PartialDateTime>,
}

impl DateRange {
    pub(crate) fn add(&mut self, d: Option<&FhirDateTime>) {
        let Some(v) = d.and_then(|d| d.value) else {
            return;
        };
        if self.min.is_none_or(|m| v.sort_key() < m.sort_key()) {
            self.min = Some(v);
        }
        if self.max.is_none_or(|m| v.sort_key() > m.sort_key()) {
            self.max = Some(v);
        }
    }

    pub(crate) fn range(&self) -> (Option<String>, Option<String>) {
        (self.min.map(|v| v.to_hl7()), self.max.map(|v| v.to_hl7()))
    }
}

/// Shared state while building the sections of one document.
pub(crate) struct Build<'a> {
    pub bundle: &'a Bundle,
    pub ids: Ids,
    pub dates: DateRange,
    pub warnings: Vec<String>,
    pub unplaced: Vec<Unplaced>,
    placed: HashSet<*const Resource>,
    /// The narrative row that shows each placed resource, for links from consultations.
    links: HashMap<*const Resource, Link>,
    /// A repeat of an item (same type, identifier, code and date) → the item shown for both.
    aliases: HashMap<*const Resource, *const Resource>,
    /// What the record contains (`record.rs`): nothing else is shown as a clinical entry.
    pub record: record::Record,
}

/// Where a resource is shown: its row's narrative `ID` and the section's title.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub row: String,
    pub section: &'static str,
}

impl<'a> Build<'a> {
    pub(crate) fn new(bundle: &'a Bundle, ids: Ids) -> Self {
        let (record, warning) = record::Record::of(bundle);
        Self {
            bundle,
            ids,
            dates: DateRange::default(),
            warnings: warning.into_iter().collect(),
            unplaced: Vec::new(),
            placed: HashSet::new(),
            links: HashMap::new(),
            aliases: HashMap::new(),
            record,
        }
    }

    /// Whether `r` is part of the record (placement rule, `record.rs`).
    pub(crate) fn in_record(&self, r: &Resource) -> bool {
        self.record.contains(r)
    }

    /// Marks a resource as shown in the document.
    pub(crate) fn place(&mut self, r: &Resource) {
        self.placed.insert(std::ptr::from_ref(r));
    }

    pub(crate) fn is_placed(&self, r: &Resource) -> bool {
        self.placed.contains(&std::ptr::from_ref(r))
    }

    /// Records the narrative row that shows `r` (the first row wins), so a consultation's
    /// headings can link to it instead of repeating it. Every section should call this for
    /// each resource its rows show.
    pub(crate) fn link(&mut self, r: &Resource, row: &str, section: &'static str) {
        self.links
            .entry(std::ptr::from_ref(r))
            .or_insert_with(|| Link {
                row: row.to_owned(),
                section,
            });
    }

    /// Records that `r` repeats `first` (same item): links to `r` go to `first`'s row.
    pub(crate) fn alias(&mut self, r: &Resource, first: &Resource) {
        self.aliases.insert(key(r), key(first));
    }

    /// The row that shows `r`, or the row of the item it repeats.
    pub(crate) fn link_of(&self, r: &Resource) -> Option<&Link> {
        let k = std::ptr::from_ref(r);
        self.links
            .get(&k)
            .or_else(|| self.aliases.get(&k).and_then(|a| self.links.get(a)))
    }

    pub(crate) fn resolve(
        &self,
        r: Option<&Reference>,
        container: Option<&'a List>,
    ) -> Option<&'a Resource> {
        self.bundle.resolve(r?.reference.as_deref()?, container)
    }
}

fn key(r: &Resource) -> *const Resource {
    std::ptr::from_ref(r)
}

/// Clinician-readable text for a GP Connect List warning code.
pub(crate) fn warning_text(code: &str) -> String {
    match code {
        "confidential-items" => "Some items are not shown because the GP practice has marked them as confidential.".into(),
        "data-in-transit" => "This record may be incomplete: the patient has recently moved practice and part of the record is still being transferred from the previous practice.".into(),
        "data-awaiting-filing" => "Some information received by the GP practice (for example letters or results) is still awaiting filing and is not shown.".into(),
        other => format!("The GP system reported a warning about this list: {other}."),
    }
}

/// Notes, warnings and empty reasons of the Lists behind one section.
pub(crate) fn list_notes(lists: &[&List]) -> (Vec<String>, Option<String>) {
    let mut notes = Vec::new();
    let mut empty = None;
    for l in lists {
        for w in &l.warnings {
            let t = warning_text(w);
            if !notes.contains(&t) {
                notes.push(t);
            }
        }
        for n in l.note.iter().filter_map(|n| n.text.as_deref()) {
            let t = format!("Note from the GP record: {n}");
            if !notes.contains(&t) {
                notes.push(t);
            }
        }
        if l.entry.is_empty()
            && let Some(r) = &l.empty_reason
        {
            empty = r.label().map(|t| format!("{t}."));
        }
    }
    (notes, empty)
}

/// The section slot an item of a List of `area` goes to: its resource type's; for an
/// Observation that states an absence or refusal, the section it negates (immunisation
/// not-given or dissent records, "no current medication", "no current problems").
fn item_slot(area: Area, r: &Resource) -> Option<usize> {
    match r {
        Resource::Observation(o)
            if area == Area::Immunisations || immunizations::is_not_given_record(o) =>
        {
            Some(3)
        }
        Resource::Observation(o) if medications::is_no_medication(o) => Some(1),
        Resource::Observation(o) if problems::states_no_problems(o.code.as_ref()) => Some(2),
        _ => Area::of_resource(r).and_then(Area::slot),
    }
}

/// Builds every section, in document order, and fills `b.unplaced`.
pub(crate) fn build_all(b: &mut Build<'_>, facts: &HeaderFacts<'_>) -> Vec<Section> {
    let bundle = b.bundle;
    let mut items: [Vec<Item<'_>>; 4] = Default::default();
    let mut lists: [Vec<&List>; 4] = Default::default();
    let mut seen: HashSet<*const Resource> = HashSet::new();
    let mut secondary: Vec<&List> = Vec::new();
    let mut identities = identity::Identities::default();
    // Free-text notes go to the Notes section, whichever Lists also name them.
    let free_text_notes = notes::notes_in_record(b);
    seen.extend(free_text_notes.iter().map(|r| key(r)));

    for list in bundle.lists() {
        let secondary_system = list.code.as_ref().is_some_and(|c| {
            c.coding.iter().any(|c| {
                c.system
                    .as_deref()
                    .is_some_and(|s| s.contains("GPConnect-SecondaryListValues"))
            })
        });
        let mut area = if secondary_system {
            Area::Secondary
        } else {
            list.area_code().map_or(Area::Unknown, Area::of_code)
        };
        if area == Area::Unknown {
            // Infer the area from the items when the code is not one we know (the spec's
            // own examples use a placeholder code "TBD" for resolved allergies).
            let mut inferred = list
                .entry
                .iter()
                .filter_map(|e| bundle.resolve(e.item.reference.as_deref()?, Some(list)))
                .map(Area::of_resource);
            if let Some(Some(first)) = inferred.next()
                && inferred.all(|a| a == Some(first))
            {
                b.warnings.push(format!(
                    "List \"{}\" has an unrecognised code ({}); its clinical area was inferred from its items",
                    list.title.as_deref().unwrap_or("untitled"),
                    list.area_code().unwrap_or("none")
                ));
                area = first;
            }
        }
        if area == Area::Secondary {
            secondary.push(list);
            continue;
        }
        if let Some(slot) = area.slot() {
            lists[slot].push(list);
        }
        for e in list.entry.iter().filter(|e| !e.deleted) {
            let Some(reference) = e.item.reference.as_deref() else {
                continue;
            };
            let Some(r) = bundle.resolve(reference, Some(list)) else {
                b.warnings.push(format!(
                    "List \"{}\" references {reference}, which is not in the Bundle",
                    list.title.as_deref().unwrap_or("untitled")
                ));
                continue;
            };
            if area.slot().is_some()
                && let Some(slot) = item_slot(area, r)
                && seen.insert(key(r))
                && !identity::duplicate(b, &mut identities, r)
            {
                items[slot].push(Item {
                    resource: r,
                    container: Some(list),
                    linked_only: false,
                });
            }
        }
    }
    // Items that only the secondary Lists reference are added once, never duplicated.
    for list in secondary {
        for e in list.entry.iter().filter(|e| !e.deleted) {
            let Some(r) = e
                .item
                .reference
                .as_deref()
                .and_then(|rf| bundle.resolve(rf, Some(list)))
            else {
                continue;
            };
            if let Some(slot) = item_slot(Area::Secondary, r)
                && seen.insert(key(r))
                && !identity::duplicate(b, &mut identities, r)
            {
                items[slot].push(Item {
                    resource: r,
                    container: Some(list),
                    linked_only: true,
                });
            }
        }
    }
    // Then everything else the record holds of these areas: items that a listed item
    // references (a problem's related clinical content, consultation headings' items).
    // Prescriptions are shown only through their medication, never on their own.
    let contained = bundle
        .lists()
        .flat_map(|l| l.contained.iter().map(move |r| (r, Some(l))));
    for (r, container) in bundle.resources().map(|r| (r, None)).chain(contained) {
        if !b.in_record(r) || matches!(r, Resource::MedicationRequest(_)) {
            continue;
        }
        if let Some(slot) = item_slot(Area::Secondary, r)
            && seen.insert(key(r))
            && !identity::duplicate(b, &mut identities, r)
        {
            items[slot].push(Item {
                resource: r,
                container,
                linked_only: true,
            });
        }
    }

    let [allergy_items, med_items, problem_items, imm_items] = &items;
    let mut out = vec![
        allergies::build(b, allergy_items, &lists[0]),
        medications::build(b, med_items, &lists[1]),
        problems::build(b, problem_items, &lists[2]),
        immunizations::build(b, imm_items, &lists[3]),
    ];
    out.push(consultations::build(b));
    out.push(plan::build(b));
    // Notes and documents are optional sections: shown only when the record has some.
    out.extend(
        [notes::build(b, &free_text_notes), documents::build(b)]
            .into_iter()
            .filter(|s| s.row_count() > 0),
    );
    // Results, vital signs, social history, physical exam and history take every report
    // and observation of the record the sections above did not; shown after Immunisations.
    let observations = results::build(b);
    out.splice(4..4, observations);
    collect_unplaced(b);
    // An empty section never says nothing is recorded when the Bundle holds such items
    // outside the record.
    for s in &mut out {
        record::outside_note(b, s);
    }
    // Last: consultation headings link to rows of every other section.
    consultations::resolve_links(b, &mut out);
    out.push(about::build(b, facts));
    out
}

/// The reason for a clinical resource outside the record (placement rule, `record.rs`).
pub(crate) const NOT_IN_RECORD: &str =
    "not referenced by any clinical-area List or by a listed item";

fn collect_unplaced(b: &mut Build<'_>) {
    let bundle = b.bundle;
    let contained = bundle.lists().flat_map(|l| l.contained.iter());
    for r in bundle.resources().chain(contained) {
        if record::is_administrative(r) || b.is_placed(r) {
            continue;
        }
        let reason = match r {
            Resource::Other { resource_type, .. } => {
                format!("resource type {resource_type} is not part of a GP Connect clinical area")
            }
            _ if !b.in_record(r) => NOT_IN_RECORD.to_owned(),
            Resource::MedicationRequest(_) => {
                "a prescription not linked to any medication in the Medications List".into()
            }
            _ => "in the record, but of a kind no section of this document shows".into(),
        };
        b.unplaced.push(Unplaced {
            resource: r.type_and_id(),
            reason,
        });
    }
}
