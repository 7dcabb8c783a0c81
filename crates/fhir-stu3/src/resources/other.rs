//! Consultations (Encounter), referrals (ReferralRequest), diary entries and test requests
//! (ProcedureRequest) and documents (DocumentReference, without their binary content).

use super::Base;
use crate::datatypes::{Annotation, CodeableConcept, Period, Reference};
use crate::datetime::FhirDateTime;
use crate::read::{Ctx, Obj};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProcedureRequest {
    pub base: Base,
    pub status: Option<String>,
    pub intent: Option<String>,
    pub priority: Option<String>,
    pub code: Option<CodeableConcept>,
    pub authored_on: Option<FhirDateTime>,
    /// When it is due: `occurrenceDateTime` (as `start`) or `occurrencePeriod`.
    pub occurrence: Option<Period>,
    /// `requester.agent`.
    pub requester: Option<Reference>,
    pub performer: Option<Reference>,
    pub reason_code: Vec<CodeableConcept>,
    pub note: Vec<Annotation>,
    /// The consultation it was recorded in.
    pub context: Option<Reference>,
}

impl ProcedureRequest {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            base: Base::read(ctx, o),
            status: o.string(ctx, "status"),
            intent: o.string(ctx, "intent"),
            priority: o.string(ctx, "priority"),
            code: o.one(ctx, "code", CodeableConcept::read),
            authored_on: o.datetime(ctx, "authoredOn"),
            occurrence: occurrence(ctx, o),
            requester: agent(ctx, o),
            performer: o.one(ctx, "performer", Reference::read),
            reason_code: o.many(ctx, "reasonCode", CodeableConcept::read),
            note: o.many(ctx, "note", Annotation::read),
            context: o.one(ctx, "context", Reference::read),
        }
    }
}

/// `occurrence[x]` as a period (a dateTime is its `start`). GP systems also send a bare
/// `occurrence` (string or period), which is read with a warning.
fn occurrence(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Option<Period> {
    if let Some(d) = o.datetime(ctx, "occurrenceDateTime") {
        return Some(Period {
            start: Some(d),
            end: None,
        });
    }
    if let Some(p) = o.one(ctx, "occurrencePeriod", Period::read) {
        return Some(p);
    }
    match o.raw("occurrence")? {
        serde_json::Value::Object(_) => {
            ctx.warn(
                o.path.key("occurrence"),
                "occurrence without its type suffix; read as occurrencePeriod",
            );
            o.one(ctx, "occurrence", Period::read)
        }
        _ => {
            ctx.warn(
                o.path.key("occurrence"),
                "occurrence without its type suffix; read as occurrenceDateTime",
            );
            o.datetime(ctx, "occurrence").map(|d| Period {
                start: Some(d),
                end: None,
            })
        }
    }
}

/// `requester.agent` (STU3 request resources).
fn agent(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Option<Reference> {
    o.one(ctx, "requester", |ctx: &mut Ctx<'_>, r: Obj<'_>| {
        r.one(ctx, "agent", Reference::read)
    })
    .flatten()
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReferralRequest {
    pub base: Base,
    pub status: Option<String>,
    pub intent: Option<String>,
    /// `routine`, `urgent`, `asap`, `stat`.
    pub priority: Option<String>,
    pub type_: Option<CodeableConcept>,
    pub specialty: Option<CodeableConcept>,
    pub service_requested: Vec<CodeableConcept>,
    pub authored_on: Option<FhirDateTime>,
    pub occurrence: Option<Period>,
    /// `requester.agent`.
    pub requester: Option<Reference>,
    pub recipient: Vec<Reference>,
    pub reason_code: Vec<CodeableConcept>,
    pub description: Option<String>,
    pub note: Vec<Annotation>,
    pub context: Option<Reference>,
}

impl ReferralRequest {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            base: Base::read(ctx, o),
            status: o.string(ctx, "status"),
            intent: o.string(ctx, "intent"),
            priority: o.string(ctx, "priority"),
            type_: o.one(ctx, "type", CodeableConcept::read),
            specialty: o.one(ctx, "specialty", CodeableConcept::read),
            service_requested: o.many(ctx, "serviceRequested", CodeableConcept::read),
            authored_on: o.datetime(ctx, "authoredOn"),
            occurrence: occurrence(ctx, o),
            requester: agent(ctx, o),
            recipient: o.many(ctx, "recipient", Reference::read),
            reason_code: o.many(ctx, "reasonCode", CodeableConcept::read),
            description: o.string(ctx, "description"),
            note: o.many(ctx, "note", Annotation::read),
            context: o.one(ctx, "context", Reference::read),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Encounter {
    pub base: Base,
    pub status: Option<String>,
    pub type_: Vec<CodeableConcept>,
    pub period: Option<Period>,
    pub participant: Vec<EncounterParticipant>,
    /// `location[].location`.
    pub location: Vec<Reference>,
    pub service_provider: Option<Reference>,
}

/// Who took part in a consultation: GP Connect types `PPRF` (primary performer), `REC`
/// (recorder), `PART`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EncounterParticipant {
    /// The participation type codes.
    pub type_: Vec<String>,
    pub individual: Option<Reference>,
}

impl Encounter {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            base: Base::read(ctx, o),
            status: o.string(ctx, "status"),
            type_: o.many(ctx, "type", CodeableConcept::read),
            period: o.one(ctx, "period", Period::read),
            participant: o.many(ctx, "participant", |ctx: &mut Ctx<'_>, p: Obj<'_>| {
                EncounterParticipant {
                    type_: p
                        .many(ctx, "type", CodeableConcept::read)
                        .into_iter()
                        .flat_map(|c| c.coding.into_iter().filter_map(|c| c.code))
                        .collect(),
                    individual: p.one(ctx, "individual", Reference::read),
                }
            }),
            location: o
                .many(ctx, "location", |ctx: &mut Ctx<'_>, l: Obj<'_>| {
                    l.one(ctx, "location", Reference::read)
                })
                .into_iter()
                .flatten()
                .collect(),
            service_provider: o.one(ctx, "serviceProvider", Reference::read),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DocumentReference {
    pub base: Base,
    pub status: Option<String>,
    pub type_: Option<CodeableConcept>,
    pub created: Option<FhirDateTime>,
    pub indexed: Option<FhirDateTime>,
    pub author: Vec<Reference>,
    pub custodian: Option<Reference>,
    pub description: Option<String>,
    /// `content[].attachment.title` (the binary content itself is never read).
    pub content_titles: Vec<String>,
}

impl DocumentReference {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            base: Base::read(ctx, o),
            status: o.string(ctx, "status"),
            type_: o.one(ctx, "type", CodeableConcept::read),
            created: o.datetime(ctx, "created"),
            indexed: o.datetime(ctx, "indexed"),
            author: o.many(ctx, "author", Reference::read),
            custodian: o.one(ctx, "custodian", Reference::read),
            description: o.string(ctx, "description"),
            content_titles: o
                .many(ctx, "content", |ctx: &mut Ctx<'_>, c: Obj<'_>| {
                    c.one(ctx, "attachment", |ctx: &mut Ctx<'_>, a: Obj<'_>| {
                        a.string(ctx, "title")
                    })
                    .flatten()
                })
                .into_iter()
                .flatten()
                .collect(),
        }
    }
}
