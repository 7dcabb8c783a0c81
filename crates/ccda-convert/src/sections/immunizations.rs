//! Immunisations → Immunizations Section (entries required): Immunization Activity 4.52
//! with Immunization Medication Information 4.54; not-given immunisations carry
//! `negationInd="true"` and an Immunization Refusal Reason 4.53.

use fhir_stu3::{FhirDateTime, Immunization, Quantity, Resource};

use crate::cda::{self, Coded};
use crate::model::{Cell, Entry, Row, Section, SectionSpec, Table};
use crate::oids;
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
}

/// The HL7 "No Immunization Reason" for a GP Connect not-given reason: the value set is
/// HL7 ActReason, so a SNOMED CT reason is kept as a translation under `nullFlavor="OTH"`
/// unless it clearly says the patient declined.
fn refusal_reason(i: &Immunization) -> Coded {
    let cc = i.reason_not_given.first();
    let text = cc
        .and_then(|c| c.label())
        .unwrap_or("")
        .to_ascii_lowercase();
    if text.contains("refus") || text.contains("declin") || text.contains("objection") {
        let mut c = Coded::fixed(
            "PATOBJ",
            oids::ACT_REASON,
            "HL7ActReason",
            "patient objection",
        );
        c.text = cc.and_then(|c| c.label()).map(str::to_owned);
        return c;
    }
    let mut c = Coded::from_concept(cc);
    if let Some(p) = c.primary.take() {
        c.translations.insert(0, p);
    }
    c.null_flavor = if cc.is_some() { "OTH" } else { "UNK" };
    c
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
    for (n, item) in items.iter().enumerate() {
        let Resource::Immunization(i) = item.resource else {
            continue;
        };
        b.place(item.resource);
        let (row, entry) = one(b, i, n + 1);
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
    let row = Row {
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
