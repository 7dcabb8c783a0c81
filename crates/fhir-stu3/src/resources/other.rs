//! Resources of clinical areas the converter does not map yet (investigations,
//! consultations, referrals, documents). Only what identifies and dates them is read, so
//! they can be reported as unplaced; the next clinical areas extend these structs.

use super::Base;
use crate::datatypes::{CodeableConcept, Period, Reference};
use crate::datetime::FhirDateTime;
use crate::read::{Ctx, Obj};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Observation {
    pub base: Base,
    pub status: Option<String>,
    pub code: Option<CodeableConcept>,
    pub effective: Option<FhirDateTime>,
    pub issued: Option<FhirDateTime>,
}

impl Observation {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            base: Base::read(ctx, o),
            status: o.string(ctx, "status"),
            code: o.one(ctx, "code", CodeableConcept::read),
            effective: o.datetime(ctx, "effectiveDateTime").or_else(|| {
                o.one(ctx, "effectivePeriod", Period::read)
                    .and_then(|p| p.start)
            }),
            issued: o.datetime(ctx, "issued"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DiagnosticReport {
    pub base: Base,
    pub status: Option<String>,
    pub code: Option<CodeableConcept>,
    pub issued: Option<FhirDateTime>,
    pub result: Vec<Reference>,
    pub specimen: Vec<Reference>,
}

impl DiagnosticReport {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            base: Base::read(ctx, o),
            status: o.string(ctx, "status"),
            code: o.one(ctx, "code", CodeableConcept::read),
            issued: o.datetime(ctx, "issued"),
            result: o.many(ctx, "result", Reference::read),
            specimen: o.many(ctx, "specimen", Reference::read),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Specimen {
    pub base: Base,
    pub type_: Option<CodeableConcept>,
}

impl Specimen {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            base: Base::read(ctx, o),
            type_: o.one(ctx, "type", CodeableConcept::read),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProcedureRequest {
    pub base: Base,
    pub status: Option<String>,
    pub code: Option<CodeableConcept>,
    pub authored_on: Option<FhirDateTime>,
}

impl ProcedureRequest {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            base: Base::read(ctx, o),
            status: o.string(ctx, "status"),
            code: o.one(ctx, "code", CodeableConcept::read),
            authored_on: o.datetime(ctx, "authoredOn"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReferralRequest {
    pub base: Base,
    pub status: Option<String>,
    pub authored_on: Option<FhirDateTime>,
    pub reason_code: Vec<CodeableConcept>,
    pub description: Option<String>,
}

impl ReferralRequest {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            base: Base::read(ctx, o),
            status: o.string(ctx, "status"),
            authored_on: o.datetime(ctx, "authoredOn"),
            reason_code: o.many(ctx, "reasonCode", CodeableConcept::read),
            description: o.string(ctx, "description"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Encounter {
    pub base: Base,
    pub status: Option<String>,
    pub type_: Vec<CodeableConcept>,
    pub period: Option<Period>,
}

impl Encounter {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            base: Base::read(ctx, o),
            status: o.string(ctx, "status"),
            type_: o.many(ctx, "type", CodeableConcept::read),
            period: o.one(ctx, "period", Period::read),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DocumentReference {
    pub base: Base,
    pub status: Option<String>,
    pub type_: Option<CodeableConcept>,
    pub created: Option<FhirDateTime>,
    pub description: Option<String>,
}

impl DocumentReference {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            base: Base::read(ctx, o),
            status: o.string(ctx, "status"),
            type_: o.one(ctx, "type", CodeableConcept::read),
            created: o.datetime(ctx, "created"),
            description: o.string(ctx, "description"),
        }
    }
}
