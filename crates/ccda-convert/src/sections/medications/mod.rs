//! Medications and medical devices → Medications Section (entries required): Medication
//! Activity 4.16 with Medication Information 4.23, timing (IVL_TS + PIVL_TS/EIVL_TS), PRN as
//! Precondition 4.25, dose and route, Free-Text Sig 4.147, Instruction 4.20, and Supply
//! Order 4.17 for quantity and repeats.
//!
//! GP Connect models a medication as a MedicationStatement (what the patient takes), its
//! authorisation (MedicationRequest `plan`) and each issue (MedicationRequest `order`).
//! One entry per statement; the plan supplies prescription type, repeats, quantity and
//! status reason; the orders are counted in the narrative.

use std::collections::HashMap;

use fhir_stu3::{
    CodeableConcept, Dosage, FhirDateTime, List, MedicationRef, MedicationRequest,
    MedicationStatement, Quantity, Resource,
};

mod absent;
mod render;
mod timing;

pub(crate) use render::render;
pub(crate) use timing::Frequency;

use crate::cda::{self, Coded};
use crate::model::{Cell, Entry, Row, Section, SectionSpec, Table};
use crate::sections::{Build, Item, list_notes};

use crate::templates;
pub(crate) use absent::is_no_medication;
use absent::no_medication;

pub(crate) const SPEC: SectionSpec = SectionSpec {
    template: Some(templates::MEDICATIONS_SECTION),
    code: Some(("10160-0", "History of Medication use Narrative")),
    title: "Medications",
    entries_required: true,
};

const COLUMNS: &[&str] = &[
    "Medication",
    "Dosage",
    "Instructions",
    "Quantity",
    "Type",
    "Started",
    "Ended",
    "Last issued",
    "Repeats",
    "Status",
    "Notes",
];

#[derive(Debug, Clone)]
pub(crate) struct Supply {
    pub id: String,
    pub start: Option<FhirDateTime>,
    pub end: Option<FhirDateTime>,
    pub repeats: Option<i64>,
    pub quantity: Option<Quantity>,
}

#[derive(Debug, Clone)]
pub(crate) struct MedicationEntry {
    pub id: String,
    pub row_id: String,
    pub medication_ref: String,
    pub sig_ref: Option<String>,
    pub instruction: Option<(String, String)>,
    pub status: &'static str,
    pub start: Option<FhirDateTime>,
    pub end: Option<FhirDateTime>,
    pub frequency: Option<Frequency>,
    pub prn: Option<Option<Coded>>,
    pub route: Option<Coded>,
    pub dose: Option<Quantity>,
    pub medication: Coded,
    pub supply: Option<Supply>,
    /// "No current medication": the activity is negated (HL7's "No Medications" example).
    pub negated: bool,
}

/// A statement with its plan, or a prescription on its own.
struct Med<'a> {
    resource: &'a Resource,
    statement: Option<&'a MedicationStatement>,
    plan: Option<&'a MedicationRequest>,
    container: Option<&'a List>,
}

fn status_code(s: Option<&str>) -> &'static str {
    match s {
        Some("active") => "active",
        Some("stopped") => "aborted",
        Some("on-hold") => "suspended",
        Some("intended") => "active",
        _ => "completed",
    }
}

fn concept_label(c: Option<&CodeableConcept>) -> Option<String> {
    c.and_then(|c| c.label()).map(str::to_owned)
}

pub(crate) fn build(b: &mut Build<'_>, items: &[Item<'_>], lists: &[&List]) -> Section {
    let mut section = Section::new(SPEC);
    let (notes, empty) = list_notes(lists);
    section.notes = notes;
    section.empty_text = empty.unwrap_or_else(|| {
        if lists.is_empty() {
            "The GP record did not include a medications list.".into()
        } else {
            "No medications are recorded in the GP record.".into()
        }
    });
    let bundle = b.bundle;
    // Issues (orders) by the authorisation (plan) they are based on.
    let mut orders: HashMap<*const Resource, Vec<&MedicationRequest>> = HashMap::new();
    for r in bundle.resources() {
        if let Resource::MedicationRequest(mr) = r
            && mr.intent.as_deref() == Some("order")
            && b.in_record(r)
        {
            for p in &mr.based_on {
                if let Some(plan) = b.resolve(Some(p), None) {
                    orders.entry(std::ptr::from_ref(plan)).or_default().push(mr);
                    b.place(r);
                }
            }
        }
    }
    let mut meds: Vec<Med<'_>> = Vec::new();
    let mut covered_plans: Vec<*const Resource> = Vec::new();
    for item in items {
        if let Resource::MedicationStatement(ms) = item.resource {
            let plan_res = ms
                .based_on
                .iter()
                .find_map(|r| b.resolve(Some(r), item.container));
            let plan = match plan_res {
                Some(Resource::MedicationRequest(p)) => Some(p),
                _ => None,
            };
            if let Some(p) = plan_res {
                covered_plans.push(std::ptr::from_ref(p));
                b.place(p);
            }
            meds.push(Med {
                resource: item.resource,
                statement: Some(ms),
                plan,
                container: item.container,
            });
        }
    }
    // A prescription reached directly (usually through a secondary List) is shown through
    // its statement when it has one, and never twice.
    for item in items {
        let Resource::MedicationRequest(mr) = item.resource else {
            continue;
        };
        let plan_res = if mr.intent.as_deref() == Some("order") {
            mr.based_on
                .iter()
                .find_map(|r| b.resolve(Some(r), item.container))
                .unwrap_or(item.resource)
        } else {
            item.resource
        };
        b.place(item.resource);
        if covered_plans.contains(&std::ptr::from_ref(plan_res)) {
            continue;
        }
        covered_plans.push(std::ptr::from_ref(plan_res));
        b.place(plan_res);
        let plan = match plan_res {
            Resource::MedicationRequest(p) => p,
            _ => mr,
        };
        let statement = bundle.resources().find(|r| match r {
            Resource::MedicationStatement(ms) => ms.based_on.iter().any(|bo| {
                b.resolve(Some(bo), None)
                    .is_some_and(|p| std::ptr::eq(p, plan_res))
            }),
            _ => false,
        });
        match statement {
            Some(r @ Resource::MedicationStatement(ms))
                if !meds.iter().any(|m| std::ptr::eq(m.resource, r)) =>
            {
                meds.push(Med {
                    resource: r,
                    statement: Some(ms),
                    plan: Some(plan),
                    container: item.container,
                })
            }
            Some(_) => {}
            None => meds.push(Med {
                resource: plan_res,
                statement: None,
                plan: Some(plan),
                container: item.container,
            }),
        }
    }

    let mut current = Table {
        caption: Some("Current medication".into()),
        columns: COLUMNS,
        rows: Vec::new(),
    };
    let mut past = Table {
        caption: Some("Past medication".into()),
        columns: COLUMNS,
        rows: Vec::new(),
    };
    let (mut current_entries, mut past_entries) = (Vec::new(), Vec::new());
    for (n, m) in meds.iter().enumerate() {
        b.place(m.resource);
        let issues = m
            .plan
            .and_then(|p| bundle.get("MedicationRequest", p.base.id.as_deref()?))
            .and_then(|p| orders.get(&std::ptr::from_ref(p)))
            .map_or(0, Vec::len);
        let (row, entry) = one(b, m, n + 1, issues);
        b.link(m.resource, &row.id, SPEC.title);
        if entry.status == "active" {
            current.rows.push(row);
            current_entries.push(Entry::Medication(Box::new(entry)));
        } else {
            past.rows.push(row);
            past_entries.push(Entry::Medication(Box::new(entry)));
        }
    }
    // "No current medication" statements, after the medications themselves.
    for item in items {
        let Resource::Observation(o) = item.resource else {
            continue;
        };
        b.place(item.resource);
        let (row, entry) = no_medication(b, o, current.rows.len() + past.rows.len() + 1);
        b.link(item.resource, &row.id, SPEC.title);
        current.rows.push(row);
        current_entries.push(Entry::Medication(Box::new(entry)));
    }
    section.tables = vec![current, past];
    section.entries = current_entries;
    section.entries.append(&mut past_entries);
    section
}

fn one(b: &mut Build<'_>, m: &Med<'_>, n: usize, issues: usize) -> (Row, MedicationEntry) {
    let row_id = format!("medication-{n}");
    let ms = m.statement;
    let plan = m.plan;
    let medication_ref = ms
        .and_then(|s| s.medication.as_ref())
        .or_else(|| plan.and_then(|p| p.medication.as_ref()));
    let medication = match medication_ref {
        Some(MedicationRef::Concept(c)) => Coded::from_concept(Some(c)),
        Some(MedicationRef::Reference(r)) => match b.resolve(Some(r), m.container) {
            Some(Resource::Medication(med)) => Coded::from_concept(med.code.as_ref()),
            _ => {
                b.warnings.push(format!(
                    "{}: its Medication {} is not in the Bundle",
                    m.resource.type_and_id(),
                    r.reference.as_deref().unwrap_or("?")
                ));
                Coded::unknown(r.display.clone())
            }
        },
        None => Coded::unknown(None),
    };
    let dosage: Option<&Dosage> = ms
        .and_then(|s| s.dosage.first())
        .or_else(|| plan.and_then(|p| p.dosage_instruction.first()));
    let (start, end) = match ms {
        Some(s) => (s.effective.start.clone(), s.effective.end.clone()),
        None => (
            plan.and_then(|p| {
                p.dispense_request
                    .as_ref()?
                    .validity_period
                    .as_ref()?
                    .start
                    .clone()
            })
            .or_else(|| plan.and_then(|p| p.authored_on.clone())),
            plan.and_then(|p| {
                p.dispense_request
                    .as_ref()?
                    .validity_period
                    .as_ref()?
                    .end
                    .clone()
            }),
        ),
    };
    let last_issue = ms.and_then(|s| s.last_issue_date.clone());
    for d in [start.as_ref(), end.as_ref(), last_issue.as_ref()] {
        b.dates.add(d);
    }
    let status = status_code(
        ms.and_then(|s| s.status.as_deref())
            .or_else(|| plan.and_then(|p| p.status.as_deref())),
    );
    // Every dosage line's text: a regimen in steps ("Two on the first day", "Then one each
    // day") is one instruction.
    let dosages: &[Dosage] = match ms {
        Some(s) if !s.dosage.is_empty() => &s.dosage,
        _ => plan.map_or(&[][..], |p| &p.dosage_instruction),
    };
    let texts: Vec<&str> = dosages
        .iter()
        .filter_map(|d| d.text.as_deref())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    let sig = (!texts.is_empty()).then(|| texts.join("; "));
    let sig_ref = sig.as_ref().map(|_| format!("{row_id}-sig"));
    let instruction_text = dosage.and_then(|d| {
        let mut parts: Vec<String> = d.patient_instruction.iter().cloned().collect();
        parts.extend(
            d.additional_instruction
                .iter()
                .filter_map(|c| c.label().map(str::to_owned)),
        );
        (!parts.is_empty()).then(|| parts.join("; "))
    });
    let instruction_ref = instruction_text
        .as_ref()
        .map(|_| format!("{row_id}-instruction"));
    let dispense = plan.and_then(|p| p.dispense_request.as_ref());
    let quantity = dispense.and_then(|d| d.quantity.clone());
    let repeat = plan.and_then(|p| p.repeat_information.as_ref());
    let repeats_allowed = repeat
        .and_then(|r| r.allowed)
        .or_else(|| dispense.and_then(|d| d.number_of_repeats_allowed));
    let prescription_type = plan
        .and_then(|p| p.prescription_type.as_ref())
        .and_then(|c| c.label().map(str::to_owned));
    let status_text = {
        let base = match status {
            "active" => "Active",
            "aborted" => "Stopped",
            "suspended" => "On hold",
            _ => "Completed",
        };
        match plan.and_then(|p| p.status_reason.as_ref()) {
            Some(r) => format!(
                "{base}: {} ({})",
                concept_label(r.reason.as_ref()).unwrap_or_else(|| "reason not stated".into()),
                cda::date_text(r.date.as_ref())
            ),
            None => base.to_owned(),
        }
    };
    let mut notes: Vec<String> = ms
        .map(|s| s.note.iter().filter_map(|n| n.text.clone()).collect())
        .unwrap_or_default();
    if let Some(p) = plan {
        notes.extend(p.note.iter().filter_map(|n| n.text.clone()));
    }
    if let Some(a) = ms.and_then(|s| concept_label(s.prescribing_agency.as_ref())) {
        notes.push(a);
    }
    // Statement and authorisation often carry the same note.
    let mut unique: Vec<String> = Vec::with_capacity(notes.len());
    for n in notes {
        if !unique.contains(&n) {
            unique.push(n);
        }
    }
    let notes = unique;
    let repeats_text = match (repeat.and_then(|r| r.issued), repeats_allowed) {
        (Some(i), Some(a)) => format!("{i} of {a} issued"),
        (Some(i), None) => format!("{i} issued"),
        (None, Some(a)) => format!("{a} allowed"),
        (None, None) if issues > 0 => format!("{issues} issue(s) in record"),
        _ => "—".into(),
    };
    let medication_cell_ref = format!("{row_id}-name");
    let mut cells = vec![
        Cell::with_id(medication.label(), medication_cell_ref.clone()),
        match (&sig, &sig_ref) {
            (Some(s), Some(r)) => Cell::with_id(s.clone(), r.clone()),
            _ => Cell::plain("—"),
        },
        match (&instruction_text, &instruction_ref) {
            (Some(t), Some(r)) => Cell::with_id(t.clone(), r.clone()),
            _ => Cell::plain("—"),
        },
        Cell::plain(cda::quantity_text(quantity.as_ref()).unwrap_or_else(|| "—".into())),
        Cell::plain(prescription_type.unwrap_or_else(|| "—".into())),
        Cell::plain(cda::date_text(start.as_ref())),
        Cell::plain(if end.is_some() {
            cda::date_text(end.as_ref())
        } else {
            "—".into()
        }),
        Cell::plain(if last_issue.is_some() {
            cda::date_text(last_issue.as_ref())
        } else {
            "—".into()
        }),
        Cell::plain(repeats_text),
        Cell::plain(status_text),
        Cell::plain(notes.join("; ")),
    ];
    cells.shrink_to_fit();
    let rtype = m.resource.resource_type();
    let base = &m.resource.base();
    let timing = dosage.and_then(|d| d.timing.as_ref());
    let supply = plan.map(|p| Supply {
        id: b.ids.for_resource(&p.base, "MedicationRequest", "supply"),
        start: dispense
            .and_then(|d| d.validity_period.as_ref()?.start.clone())
            .or_else(|| p.authored_on.clone()),
        end: dispense.and_then(|d| d.validity_period.as_ref()?.end.clone()),
        repeats: repeats_allowed,
        quantity: quantity.clone(),
    });
    let entry = MedicationEntry {
        id: b.ids.for_resource(base, rtype, ""),
        row_id: row_id.clone(),
        medication_ref: medication_cell_ref,
        sig_ref,
        instruction: instruction_ref.map(|r| (b.ids.for_resource(base, rtype, "instruction"), r)),
        status,
        start,
        end,
        frequency: timing.and_then(|t| timing::pivl(t).or_else(|| timing::eivl(t))),
        prn: dosage.and_then(|d| {
            (d.as_needed == Some(true) || d.as_needed_reason.is_some()).then(|| {
                d.as_needed_reason
                    .as_ref()
                    .map(|c| Coded::from_concept(Some(c)))
            })
        }),
        route: cda::route(dosage.and_then(|d| d.route.as_ref())),
        dose: dosage.and_then(|d| d.dose_quantity.clone()),
        medication,
        supply,
        negated: false,
    };
    (Row { id: row_id, cells }, entry)
}
