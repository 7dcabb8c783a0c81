//! The intermediate record model: what a document says, independent of CDA XML.
//!
//! Section builders (`sections/*.rs`) fill it from the Bundle; `render.rs` writes it as
//! CDA. A second renderer (an HTML view) can use the same sections, tables and rows: the
//! cells are the clinician-readable text, the entries carry the coded detail.

use crate::sections::{
    allergies, consultations, immunizations, medications, notes, plan, problems,
};
use crate::sections::{findings, organizer, social};
use crate::templates::Template;

/// The fixed identity of a section kind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SectionSpec {
    pub template: Option<Template>,
    /// LOINC code and display name.
    pub code: Option<(&'static str, &'static str)>,
    pub title: &'static str,
    /// "Entries required" sections carry `nullFlavor="NI"` when they have no entries.
    pub entries_required: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Section {
    pub spec: SectionSpec,
    /// Paragraphs before the tables: List notes, GP Connect warnings, explanations.
    pub notes: Vec<String>,
    pub tables: Vec<Table>,
    /// Shown when there are no rows at all: why the section is empty.
    pub empty_text: String,
    /// Coded entries, in the order of the table rows they belong to.
    pub entries: Vec<Entry>,
    /// Nested lists after the tables (a consultation's topics and headings).
    pub outlines: Vec<Outline>,
}

impl Section {
    pub(crate) fn new(spec: SectionSpec) -> Self {
        Self {
            spec,
            notes: Vec::new(),
            tables: Vec::new(),
            empty_text: String::new(),
            entries: Vec::new(),
            outlines: Vec::new(),
        }
    }

    pub(crate) fn row_count(&self) -> usize {
        self.tables.iter().map(|t| t.rows.len()).sum()
    }
}

/// A titled nested list in the narrative: a consultation with its topics, headings and
/// the items recorded under them, each linking to the row that shows it.
#[derive(Debug, Clone)]
pub(crate) struct Outline {
    pub title: String,
    /// The table row this outline expands (e.g. the consultation's row).
    pub row: Option<String>,
    pub items: Vec<OutlineItem>,
}

#[derive(Debug, Clone)]
pub(crate) struct OutlineItem {
    pub text: String,
    /// `Type/id` of the resource shown, resolved to `link` once every section is built.
    pub resource: Option<String>,
    /// The narrative `ID` of the row that shows the item (`linkHtml href="#…"`).
    pub link: Option<String>,
    /// Where the item is, or why it is not shown, e.g. `Problems`.
    pub note: Option<String>,
    pub children: Vec<OutlineItem>,
}

#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub caption: Option<String>,
    pub columns: &'static [&'static str],
    pub rows: Vec<Row>,
}

/// One narrative row; `id` is the `ID` its entry's `text/reference` points at.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub id: String,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone)]
pub(crate) struct Cell {
    pub text: String,
    /// Set when a coded element's `originalText` references this cell.
    pub id: Option<String>,
}

impl Cell {
    pub(crate) fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            id: None,
        }
    }

    pub(crate) fn with_id(text: impl Into<String>, id: String) -> Self {
        Self {
            text: text.into(),
            id: Some(id),
        }
    }
}

/// A coded clinical statement of one section kind.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    Allergy(Box<allergies::AllergyEntry>),
    Medication(Box<medications::MedicationEntry>),
    Problem(Box<problems::ProblemEntry>),
    Immunization(Box<immunizations::ImmunizationEntry>),
    Encounter(Box<consultations::EncounterEntry>),
    Note(Box<notes::NoteEntry>),
    Plan(Box<plan::PlanEntry>),
    /// Result Organizer (4.1) or Vital Signs Organizer (4.26).
    Organizer(Box<organizer::Organizer>),
    /// Smoking Status (4.78) or Social History Observation (4.38).
    Observation(Box<social::SocialEntry>),
    /// A finding recorded as a concept: Problem Observation (4.4) outside the Problems section.
    Finding(Box<findings::FindingEntry>),
}
