//! Immunisations → Immunizations Section (entries required): Immunization Activity 4.52
//! with Immunization Medication Information 4.54, performer and Indication 4.19 (the
//! reason given); not-given immunisations carry `negationInd="true"` and an Immunization
//! Refusal Reason 4.53. A not-given or dissent record that GP systems send as an
//! Observation ("No consent for any immunization") is a negated activity too: the vaccine
//! is `nullFlavor="NA"` when it concerns every vaccine, and the GP's concept is the refusal
//! reason's translation.

use fhir_stu3::{FhirDateTime, Immunization, Observation, Quantity, Resource};

use crate::cda::{self, Coded};
use crate::model::{Cell, Entry, Row, Section, SectionSpec, Table};
use crate::oids;
use crate::sections::people::{self, Party};
use crate::sections::{Build, Item, list_notes};
use crate::templates;
use crate::xml::Xml;

pub(crate) const SPEC: SectionSpec = SectionSpec {
    template: Some(templates::IMMUNIZATIONS_SECTION),
    code: Some(("11369-6", "History of Immunization Narrative")),
    title: "Immunisations",
    entries_required: true,
};

const COLUMNS: &[&str] = &[
    "Vaccine",
    "Date",
    "Status",
    "Dose in series",
    "Site",
    "Route",
    "Batch",
    "Reason",
    "Notes",
];

#[derive(Debug, Clone)]
pub(crate) struct ImmunizationEntry {
    pub id: String,
    pub row_id: String,
    pub vaccine_ref: String,
    pub not_given: bool,
    pub date: Option<FhirDateTime>,
    pub vaccine: Coded,
    pub lot: Option<String>,
    pub route: Option<Coded>,
    pub site: Option<Coded>,
    pub dose: Option<Quantity>,
    pub dose_sequence: Option<i64>,
    /// Refusal reason id and code (ActReason, or OTH with the source code as translation).
    pub refusal: Option<(String, Coded)>,
    /// Who gave (or recorded not giving) the immunisation.
    pub performer: Option<Party>,
    /// Why it was given: Indication 4.19 id, value and the narrative cell it references.
    pub indication: Option<(String, Coded, String)>,
}

/// SNOMED CT concepts that record that immunisations were not given or not consented to.
const NOT_GIVEN_CONCEPTS: &[&str] = &[
    "268559007", // No consent for any immunization
];

/// Whether an Observation records an immunisation that was not given, declined or not
/// consented to (GP systems send these as Observations in the Immunisations List).
pub(crate) fn is_not_given_record(o: &Observation) -> bool {
    let Some(cc) = o.code.as_ref() else {
        return false;
    };
    if cc
        .code_in("http://snomed.info/sct")
        .is_some_and(|c| NOT_GIVEN_CONCEPTS.contains(&c.trim()))
    {
        return true;
    }
    let text = cc.label().unwrap_or("").to_ascii_lowercase();
    let about_vaccines = ["immuni", "vaccin"].iter().any(|w| text.contains(w));
    let negative = [
        "no consent",
        "dissent",
        "declin",
        "refus",
        "not given",
        "not wanted",
    ]
    .iter()
    .any(|w| text.contains(w));
    about_vaccines && negative
}

/// The HL7 "No Immunization Reason" (ActReason) a GP's not-given reason states, by its
/// words: the patient declined, a medical precaution, immunity, religion, stock. The GP's
/// own code is always kept as the translation; a reason none of these names is
/// `nullFlavor="OTH"` with the GP's code as translation.
fn no_immunization_reason(cc: Option<&fhir_stu3::CodeableConcept>) -> Coded {
    let text = cc
        .and_then(|c| c.label())
        .unwrap_or("")
        .to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    let reason = if has(&[
        "refus",
        "declin",
        "objection",
        "dissent",
        "no consent",
        "not wanted",
    ]) {
        Some(("PATOBJ", "patient objection"))
    } else if has(&["relig"]) {
        Some(("RELIG", "religious objection"))
    } else if has(&["immune", "immunity"]) {
        Some(("IMMUNE", "immunity"))
    } else if has(&["stock", "unavailable"]) {
        Some(("OSTOCK", "product out of stock"))
    } else if has(&[
        "unwell",
        "illness",
        "contraindicat",
        "allerg",
        "pregnan",
        "fever",
        "medical",
    ]) {
        Some(("MEDPREC", "medical precaution"))
    } else {
        None
    };
    let source = Coded::from_concept(cc);
    let mut c = match reason {
        Some((code, display)) => Coded::fixed(code, oids::ACT_REASON, "HL7ActReason", display),
        None => {
            let mut c = Coded::unknown(None);
            c.null_flavor = if cc.is_some() { "OTH" } else { "UNK" };
            c
        }
    };
    c.translations = source
        .primary
        .iter()
        .chain(&source.translations)
        .cloned()
        .collect();
    c.text = source.text;
    c
}

fn refusal_reason(i: &Immunization) -> Coded {
    no_immunization_reason(i.reason_not_given.first())
}

pub(crate) fn build(b: &mut Build<'_>, items: &[Item<'_>], lists: &[&fhir_stu3::List]) -> Section {
    let mut section = Section::new(SPEC);
    let (notes, empty) = list_notes(lists);
    section.notes = notes;
    section.empty_text = empty.unwrap_or_else(|| {
        if lists.is_empty() {
            "The GP record did not include an immunisations list.".into()
        } else {
            "No immunisations are recorded in the GP record.".into()
        }
    });
    let mut table = Table {
        caption: None,
        columns: COLUMNS,
        rows: Vec::new(),
    };
    if items.iter().any(|i| i.linked_only) {
        section.notes.push(
            "Some immunisations are included because other items in the GP record (a problem or a consultation) refer to them."
                .into(),
        );
    }
    for (n, item) in items.iter().enumerate() {
        let (row, entry) = match item.resource {
            Resource::Immunization(i) => one(b, i, n + 1),
            Resource::Observation(o) => not_given_record(b, o, n + 1),
            _ => continue,
        };
        b.place(item.resource);
        b.link(item.resource, &row.id, SPEC.title);
        table.rows.push(row);
        section.entries.push(Entry::Immunization(Box::new(entry)));
    }
    section.tables = vec![table];
    section
}

fn one(b: &mut Build<'_>, i: &Immunization, n: usize) -> (Row, ImmunizationEntry) {
    let row_id = format!("immunisation-{n}");
    let vaccine_ref = format!("{row_id}-vaccine");
    b.dates.add(i.date.as_ref());
    // The vaccination procedure often carries the meaningful code when the vaccine
    // product itself is "unknown".
    let mut vaccine = Coded::from_concept(i.vaccine_code.as_ref());
    if vaccine.primary.is_none()
        && let Some(p) = &i.vaccination_procedure
    {
        let proc_coded = Coded::from_concept(Some(p));
        vaccine.translations = proc_coded
            .primary
            .into_iter()
            .chain(proc_coded.translations)
            .collect();
        if vaccine
            .text
            .as_deref()
            .is_none_or(|t| t.eq_ignore_ascii_case("unknown"))
        {
            vaccine.text = proc_coded.text;
        }
        vaccine.null_flavor = "OTH";
    }
    let dose_sequence = i.vaccination_protocol.first().and_then(|p| p.dose_sequence);
    let series = i.vaccination_protocol.first().and_then(|p| p.series_doses);
    let reason = if i.not_given {
        i.reason_not_given
            .first()
            .and_then(|c| c.label())
            .unwrap_or("Not stated")
            .to_owned()
    } else {
        i.reason
            .first()
            .and_then(|c| c.label())
            .unwrap_or("—")
            .to_owned()
    };
    let notes: Vec<String> = i.note.iter().filter_map(|n| n.text.clone()).collect();
    let mut row = Row {
        id: row_id.clone(),
        cells: vec![
            Cell::with_id(vaccine.label(), vaccine_ref.clone()),
            Cell::plain(cda::date_text(i.date.as_ref())),
            Cell::plain(if i.not_given { "Not given" } else { "Given" }),
            Cell::plain(match (dose_sequence, series) {
                (Some(d), Some(s)) => format!("{d} of {s}"),
                (Some(d), None) => d.to_string(),
                _ => "—".into(),
            }),
            Cell::plain(i.site.as_ref().and_then(|c| c.label()).unwrap_or("—")),
            Cell::plain(i.route.as_ref().and_then(|c| c.label()).unwrap_or("—")),
            Cell::plain(i.lot_number.clone().unwrap_or_else(|| "—".into())),
            Cell::plain(reason),
            Cell::plain(notes.join("; ")),
        ],
    };
    let refusal = i.not_given.then(|| {
        (
            b.ids.for_resource(&i.base, "Immunization", "refusal"),
            refusal_reason(i),
        )
    });
    let performer = i
        .practitioner
        .iter()
        .find_map(|p| people::party(b, Some(p)));
    let reason_ref = format!("{row_id}-reason");
    let indication = (!i.not_given).then(|| i.reason.first()).flatten().map(|c| {
        (
            b.ids.for_resource(&i.base, "Immunization", "indication"),
            Coded::from_concept(Some(c)),
            reason_ref.clone(),
        )
    });
    if indication.is_some() {
        row.cells[7].id = Some(reason_ref);
    }
    let entry = ImmunizationEntry {
        id: b.ids.for_resource(&i.base, "Immunization", ""),
        row_id,
        vaccine_ref,
        not_given: i.not_given,
        date: i.date.clone(),
        vaccine,
        lot: i.lot_number.clone(),
        route: cda::route(i.route.as_ref()),
        site: i.site.as_ref().map(|s| Coded::from_concept(Some(s))),
        dose: i.dose_quantity.clone(),
        dose_sequence,
        refusal,
        performer,
        indication,
    };
    (row, entry)
}

/// A not-given or dissent record sent as an Observation → a negated activity.
fn not_given_record(b: &mut Build<'_>, o: &Observation, n: usize) -> (Row, ImmunizationEntry) {
    let row_id = format!("immunisation-{n}");
    let vaccine_ref = format!("{row_id}-vaccine");
    let date = o.effective.clone().or_else(|| o.issued.clone());
    b.dates.add(date.as_ref());
    let concept = Coded::from_concept(o.code.as_ref());
    let text = concept.label();
    let lower = text.to_ascii_lowercase();
    // "any"/"all" immunisations: no particular vaccine is concerned.
    let every = lower.contains(" any ") || lower.contains(" all ") || lower.ends_with(" any");
    let mut vaccine = Coded::unknown(Some(if every {
        "Any immunisation".to_owned()
    } else {
        text.clone()
    }));
    vaccine.null_flavor = if every { "NA" } else { "UNK" };
    // A dissent or "no consent" record is the patient's objection (PATOBJ); another
    // not-given record has the reason its words state, else OTH with the GP's code.
    let mut reason = no_immunization_reason(o.code.as_ref());
    reason.text = Some(text.clone());
    let comment = o.comment.clone().filter(|c| !c.trim().is_empty());
    let row = Row {
        id: row_id.clone(),
        cells: vec![
            Cell::with_id(vaccine.label(), vaccine_ref.clone()),
            Cell::plain(cda::date_text(date.as_ref())),
            Cell::plain("Not given"),
            Cell::plain("—"),
            Cell::plain("—"),
            Cell::plain("—"),
            Cell::plain("—"),
            Cell::plain(text),
            Cell::plain(comment.unwrap_or_default()),
        ],
    };
    let entry = ImmunizationEntry {
        id: b.ids.for_resource(&o.base, "Observation", ""),
        row_id,
        vaccine_ref,
        not_given: true,
        date,
        vaccine,
        lot: None,
        route: None,
        site: None,
        dose: None,
        dose_sequence: None,
        refusal: Some((
            b.ids.for_resource(&o.base, "Observation", "refusal"),
            reason,
        )),
        performer: o.performer.iter().find_map(|p| people::party(b, Some(p))),
        indication: None,
    };
    (row, entry)
}

pub(crate) fn render(x: &mut Xml, e: &ImmunizationEntry) {
    x.open(
        "substanceAdministration",
        &[
            ("classCode", "SBADM"),
            ("moodCode", "EVN"),
            ("negationInd", if e.not_given { "true" } else { "false" }),
        ],
    );
    cda::template(x, templates::IMMUNIZATION_ACTIVITY);
    cda::id(x, &e.id);
    cda::text_ref(x, &e.row_id);
    cda::status(x, "completed");
    cda::ts(x, "effectiveTime", e.date.as_ref());
    if let Some(n) = e.dose_sequence {
        x.empty("repeatNumber", &[("value", &n.to_string())]);
    }
    if let Some(r) = &e.route {
        cda::cd(x, "routeCode", r, None, None);
    }
    if let Some(s) = &e.site {
        cda::cd(x, "approachSiteCode", s, None, None);
    }
    if let Some(d) = &e.dose {
        cda::pq(x, "doseQuantity", Some(d));
    }
    x.open("consumable", &[]);
    x.open("manufacturedProduct", &[("classCode", "MANU")]);
    cda::template(x, templates::IMMUNIZATION_MEDICATION_INFORMATION);
    x.open("manufacturedMaterial", &[]);
    cda::cd(x, "code", &e.vaccine, None, Some(&e.vaccine_ref));
    if let Some(l) = &e.lot {
        x.leaf("lotNumberText", &[], l);
    }
    x.close("manufacturedMaterial");
    x.close("manufacturedProduct");
    x.close("consumable");
    if let Some(p) = &e.performer {
        people::performer(x, p);
    }
    if let Some((id, value, text_ref)) = &e.indication {
        x.open("entryRelationship", &[("typeCode", "RSON")]);
        x.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
        cda::template(x, templates::INDICATION);
        cda::id(x, id);
        cda::code(
            x,
            "404684003",
            oids::SNOMED_CT,
            "SNOMED CT",
            "Clinical finding",
        );
        cda::status(x, "completed");
        cda::cd(x, "value", value, Some("CD"), Some(text_ref));
        x.close("observation");
        x.close("entryRelationship");
    }
    if let Some((id, reason)) = &e.refusal {
        x.open("entryRelationship", &[("typeCode", "RSON")]);
        x.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
        cda::template(x, templates::IMMUNIZATION_REFUSAL_REASON);
        cda::id(x, id);
        cda::cd(x, "code", reason, None, None);
        cda::status(x, "completed");
        x.close("observation");
        x.close("entryRelationship");
    }
    x.close("substanceAdministration");
}

#[cfg(test)]
mod tests {
    use super::*;
    use fhir_stu3::{CodeableConcept, Coding};

    fn reason(display: &str) -> Coded {
        no_immunization_reason(Some(&CodeableConcept {
            coding: vec![Coding {
                system: Some("http://snomed.info/sct".into()),
                code: Some("213257006".into()),
                display: Some(display.into()),
                ..Coding::default()
            }],
            text: None,
        }))
    }

    #[test]
    fn not_given_reasons_are_coded_by_their_words_and_keep_the_gp_code() {
        let code = |c: &Coded| c.primary.as_ref().map(|p| p.code.clone());
        assert_eq!(
            code(&reason("Generally unwell")).as_deref(),
            Some("MEDPREC")
        );
        assert_eq!(
            code(&reason("Immunisation declined")).as_deref(),
            Some("PATOBJ")
        );
        assert_eq!(
            code(&reason("No consent for any immunization")).as_deref(),
            Some("PATOBJ")
        );
        let other = reason("Parent wishes to wait");
        assert_eq!(code(&other), None);
        assert_eq!(other.null_flavor, "OTH");
        assert_eq!(other.translations[0].code, "213257006");
    }
}
