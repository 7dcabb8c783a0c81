//! Referrals and diary entries → Plan of Treatment Section (2.10): a Planned Encounter
//! (4.40) per ReferralRequest and a Planned Act (4.39) per diary entry (ProcedureRequest
//! with a due date) or test request no report answers, each with status and priority
//! (narrative and `priorityCode`), recipient (`performer`), requester (`author`), reason
//! (Indication 4.19) and due date (`effectiveTime`).

use std::collections::HashSet;

use fhir_stu3::{CodeableConcept, FhirDateTime, Period, Resource};

use crate::cda::{self, Coded};
use crate::model::{Cell, Entry, Row, Section, SectionSpec, Table};
use crate::oids;
use crate::sections::people::{self, Party};
use crate::sections::{Build, list_notes};
use crate::templates;
use crate::xml::Xml;

pub(crate) const SPEC: SectionSpec = SectionSpec {
    template: Some(templates::PLAN_OF_TREATMENT_SECTION),
    code: Some(("18776-5", "Plan of care note")),
    title: "Plan of treatment",
    entries_required: false,
};

const REFERRAL_COLUMNS: &[&str] = &[
    "Referral",
    "Status",
    "Priority",
    "Referred to",
    "Referred by",
    "Reason",
    "Requested",
    "Due",
];
const PLAN_COLUMNS: &[&str] = &[
    "Planned activity",
    "Status",
    "Priority",
    "Performer",
    "Requested by",
    "Reason",
    "Recorded",
    "Due",
];

const REFERRAL_LISTS: [&str; 2] = ["792931000000107", "886721000000107"];
const DIARY_LIST: &str = "714311000000108";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlanKind {
    /// A referral: Planned Encounter.
    Referral,
    /// A diary entry or test request: Planned Act.
    Act,
}

#[derive(Debug, Clone)]
pub(crate) struct PlanEntry {
    pub kind: PlanKind,
    pub id: String,
    pub indication_id: String,
    pub row_id: String,
    pub code_ref: String,
    pub code: Coded,
    pub due: Option<Period>,
    /// ActPriority code (R, UR, A, S).
    pub priority: Option<(&'static str, &'static str)>,
    pub recipient: Option<Party>,
    pub requester: Option<Party>,
    pub requested: Option<FhirDateTime>,
    pub reason: Option<(Coded, String)>,
}

fn priority(p: Option<&str>) -> Option<(&'static str, &'static str)> {
    Some(match p? {
        "routine" => ("R", "Routine"),
        "urgent" => ("UR", "Urgent"),
        "asap" => ("A", "ASAP"),
        "stat" => ("S", "Stat"),
        _ => return None,
    })
}

fn status_text(s: Option<&str>) -> String {
    match s {
        Some("active") => "Active".into(),
        Some("draft") => "Draft".into(),
        Some("suspended") => "Suspended".into(),
        Some("completed") => "Completed".into(),
        Some("cancelled") => "Cancelled".into(),
        Some("entered-in-error") => "Entered in error".into(),
        Some("unknown") => "Unknown".into(),
        Some(other) => other.to_owned(),
        None => "Not recorded".into(),
    }
}

fn due_text(p: Option<&Period>) -> String {
    match p {
        Some(Period {
            start: Some(s),
            end: Some(e),
        }) if s.raw != e.raw => {
            format!("{} to {}", cda::date_text(Some(s)), cda::date_text(Some(e)))
        }
        Some(p) => cda::date_text(p.start.as_ref().or(p.end.as_ref())),
        None => "—".into(),
    }
}

/// Referrals, then diary entries, each in the order their Lists give, then any other
/// ReferralRequest or ProcedureRequest no section shows (a test request that no report
/// answers is a pending plan too).
fn items<'a>(
    b: &Build<'a>,
) -> (
    Vec<&'a Resource>,
    Vec<&'a Resource>,
    Vec<&'a fhir_stu3::List>,
) {
    let bundle = b.bundle;
    let mut seen = HashSet::new();
    let (mut referrals, mut acts, mut lists) = (Vec::new(), Vec::new(), Vec::new());
    let answered: HashSet<*const Resource> = bundle
        .resources()
        .filter_map(|r| match r {
            Resource::DiagnosticReport(d) => Some(&d.based_on),
            _ => None,
        })
        .flatten()
        .filter_map(|rf| b.resolve(Some(rf), None))
        .map(std::ptr::from_ref)
        .collect();
    for l in bundle.lists() {
        let code = l.area_code().unwrap_or("");
        if !REFERRAL_LISTS.contains(&code) && code != DIARY_LIST {
            continue;
        }
        lists.push(l);
        for e in l.entry.iter().filter(|e| !e.deleted) {
            let Some(r) = e
                .item
                .reference
                .as_deref()
                .and_then(|rf| bundle.resolve(rf, Some(l)))
            else {
                continue;
            };
            if !b.is_placed(r) && seen.insert(std::ptr::from_ref(r)) {
                match r {
                    Resource::ReferralRequest(_) => referrals.push(r),
                    Resource::ProcedureRequest(_) => acts.push(r),
                    _ => {}
                }
            }
        }
    }
    for r in bundle.resources() {
        if b.is_placed(r) || !b.in_record(r) || answered.contains(&std::ptr::from_ref(r)) {
            continue;
        }
        match r {
            Resource::ReferralRequest(_) if seen.insert(std::ptr::from_ref(r)) => referrals.push(r),
            Resource::ProcedureRequest(_) if seen.insert(std::ptr::from_ref(r)) => acts.push(r),
            _ => {}
        }
    }
    (referrals, acts, lists)
}

pub(crate) fn build(b: &mut Build<'_>) -> Section {
    let (referrals, acts, lists) = items(b);
    let mut section = Section::new(SPEC);
    let (notes, empty) = list_notes(&lists);
    section.notes = notes;
    section.empty_text = empty
        .unwrap_or_else(|| "No referrals or diary entries are recorded in the GP record.".into());
    let mut ref_table = Table {
        caption: Some("Referrals".into()),
        columns: REFERRAL_COLUMNS,
        rows: Vec::new(),
    };
    let mut act_table = Table {
        caption: Some("Diary entries and planned activities".into()),
        columns: PLAN_COLUMNS,
        rows: Vec::new(),
    };
    for (n, r) in referrals.into_iter().enumerate() {
        let Resource::ReferralRequest(rr) = r else {
            continue;
        };
        let row_id = format!("referral-{}", n + 1);
        let concept = rr
            .specialty
            .as_ref()
            .or(rr.type_.as_ref())
            .or(rr.service_requested.first());
        let mut code = Coded::from_concept(concept);
        if code.text.is_none() {
            code.text = rr.description.clone().or_else(|| Some("Referral".into()));
        }
        let recipient = rr.recipient.iter().find_map(|p| people::party(b, Some(p)));
        let requester = people::party(b, rr.requester.as_ref());
        let (row, entry) = one(
            b,
            r,
            Fields {
                kind: PlanKind::Referral,
                row_id,
                code,
                status: rr.status.as_deref(),
                priority: rr.priority.as_deref(),
                recipient,
                requester,
                reason: rr.reason_code.first(),
                requested: rr.authored_on.clone(),
                due: rr.occurrence.clone(),
                extra: rr
                    .description
                    .clone()
                    .into_iter()
                    .chain(rr.note.iter().filter_map(|n| n.text.clone()))
                    .collect(),
            },
        );
        ref_table.rows.push(row);
        section.entries.push(Entry::Plan(Box::new(entry)));
    }
    for (n, r) in acts.into_iter().enumerate() {
        let Resource::ProcedureRequest(p) = r else {
            continue;
        };
        let row_id = format!("plan-{}", n + 1);
        let recipient = people::party(b, p.performer.as_ref());
        let requester = people::party(b, p.requester.as_ref());
        let (row, entry) = one(
            b,
            r,
            Fields {
                kind: PlanKind::Act,
                row_id,
                code: Coded::from_concept(p.code.as_ref()),
                status: p.status.as_deref(),
                priority: p.priority.as_deref(),
                recipient,
                requester,
                reason: p.reason_code.first(),
                requested: p.authored_on.clone(),
                due: p.occurrence.clone(),
                extra: p.note.iter().filter_map(|n| n.text.clone()).collect(),
            },
        );
        act_table.rows.push(row);
        section.entries.push(Entry::Plan(Box::new(entry)));
    }
    section.tables = vec![ref_table, act_table];
    section
}

struct Fields<'s> {
    kind: PlanKind,
    row_id: String,
    code: Coded,
    status: Option<&'s str>,
    priority: Option<&'s str>,
    recipient: Option<Party>,
    requester: Option<Party>,
    reason: Option<&'s CodeableConcept>,
    requested: Option<FhirDateTime>,
    due: Option<Period>,
    /// Description and notes, shown after the name.
    extra: Vec<String>,
}

fn one(b: &mut Build<'_>, r: &Resource, f: Fields<'_>) -> (Row, PlanEntry) {
    b.place(r);
    b.link(r, &f.row_id, SPEC.title);
    b.dates.add(f.requested.as_ref());
    let code_ref = format!("{}-name", f.row_id);
    let reason_ref = format!("{}-reason", f.row_id);
    let reason = f
        .reason
        .map(|c| (Coded::from_concept(Some(c)), reason_ref.clone()));
    let mut name = f.code.label();
    let extra: Vec<&String> = f.extra.iter().filter(|e| **e != name).collect();
    if !extra.is_empty() {
        name = format!(
            "{name} ({})",
            extra
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let priority = priority(f.priority);
    let row = Row {
        id: f.row_id.clone(),
        cells: vec![
            Cell::with_id(name, code_ref.clone()),
            Cell::plain(status_text(f.status)),
            Cell::plain(
                priority.map_or_else(|| f.priority.unwrap_or("—").to_owned(), |p| p.1.to_owned()),
            ),
            Cell::plain(f.recipient.as_ref().map_or("—".into(), Party::text)),
            Cell::plain(f.requester.as_ref().map_or("—".into(), Party::text)),
            match &reason {
                Some((c, id)) => Cell::with_id(c.label(), id.clone()),
                None => Cell::plain("—"),
            },
            Cell::plain(cda::date_text(f.requested.as_ref())),
            Cell::plain(due_text(f.due.as_ref())),
        ],
    };
    let base = &r.base().clone();
    let rt = r.resource_type().to_owned();
    let entry = PlanEntry {
        kind: f.kind,
        id: b.ids.for_resource(base, &rt, ""),
        indication_id: b.ids.for_resource(base, &rt, "indication"),
        row_id: f.row_id,
        code_ref,
        code: f.code,
        due: f.due,
        priority,
        recipient: f.recipient,
        requester: f.requester,
        requested: f.requested,
        reason,
    };
    (row, entry)
}

pub(crate) fn render(x: &mut Xml, e: &PlanEntry) {
    // A referral is an intended encounter (INT, as HL7's examples); a diary entry or test
    // request asks for something to be done (RQO).
    let (tag, class, mood, template) = match e.kind {
        PlanKind::Referral => ("encounter", "ENC", "INT", templates::PLANNED_ENCOUNTER),
        PlanKind::Act => ("act", "ACT", "RQO", templates::PLANNED_ACT),
    };
    x.open(tag, &[("classCode", class), ("moodCode", mood)]);
    cda::template(x, template);
    cda::id(x, &e.id);
    cda::cd(x, "code", &e.code, None, Some(&e.code_ref));
    cda::text_ref(x, &e.row_id);
    // Planned templates fix statusCode to active; the source status is in the narrative.
    cda::status(x, "active");
    match &e.due {
        Some(Period {
            start,
            end: Some(end),
        }) => cda::ivl_ts(x, "effectiveTime", start.as_ref(), Some(end), false, false),
        Some(Period {
            start: Some(s),
            end: None,
        }) => cda::ts(x, "effectiveTime", Some(s)),
        _ => {}
    }
    if let Some((code, display)) = e.priority {
        x.empty(
            "priorityCode",
            &[
                ("code", code),
                ("codeSystem", oids::ACT_PRIORITY),
                ("codeSystemName", "ActPriority"),
                ("displayName", display),
            ],
        );
    }
    if let Some(p) = &e.recipient {
        people::performer(x, p);
    }
    if let Some(p) = &e.requester {
        people::author(x, p, e.requested.as_ref());
    }
    if let Some((reason, reason_ref)) = &e.reason {
        x.open("entryRelationship", &[("typeCode", "RSON")]);
        x.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
        cda::template(x, templates::INDICATION);
        cda::id(x, &e.indication_id);
        cda::code(
            x,
            "404684003",
            oids::SNOMED_CT,
            "SNOMED CT",
            "Clinical finding",
        );
        cda::status(x, "completed");
        cda::cd(x, "value", reason, Some("CD"), Some(reason_ref));
        x.close("observation");
        x.close("entryRelationship");
    }
    x.close(tag);
}
