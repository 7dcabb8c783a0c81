//! Medication, MedicationStatement (what the patient takes) and MedicationRequest (the
//! authorisation `plan` and each issue `order`).

use super::Base;
use crate::datatypes::{Annotation, CodeableConcept, ExtValue, Period, Quantity, Reference};
use crate::datetime::FhirDateTime;
use crate::read::{Ctx, Decimal, Obj};

/// `medication[x]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum MedicationRef {
    Reference(Reference),
    Concept(CodeableConcept),
}

fn read_medication(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Option<MedicationRef> {
    o.one(ctx, "medicationReference", Reference::read)
        .map(MedicationRef::Reference)
        .or_else(|| {
            o.one(ctx, "medicationCodeableConcept", CodeableConcept::read)
                .map(MedicationRef::Concept)
        })
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Medication {
    pub base: Base,
    pub code: Option<CodeableConcept>,
    pub form: Option<CodeableConcept>,
}

impl Medication {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            base: Base::read(ctx, o),
            code: o.one(ctx, "code", CodeableConcept::read),
            form: o.one(ctx, "form", CodeableConcept::read),
        }
    }
}

/// `Timing.repeat`, the parts a C-CDA frequency can express.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Timing {
    pub frequency: Option<i64>,
    pub frequency_max: Option<i64>,
    pub period: Option<Decimal>,
    pub period_max: Option<Decimal>,
    pub period_unit: Option<String>,
    /// Event codes such as `MORN`, `NIGHT`, `AC`, `PC`, `CV`.
    pub when: Vec<String>,
    pub bounds_duration: Option<Quantity>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Dosage {
    pub sequence: Option<i64>,
    pub text: Option<String>,
    pub patient_instruction: Option<String>,
    pub additional_instruction: Vec<CodeableConcept>,
    pub timing: Option<Timing>,
    pub as_needed: Option<bool>,
    pub as_needed_reason: Option<CodeableConcept>,
    pub site: Option<CodeableConcept>,
    pub route: Option<CodeableConcept>,
    pub method: Option<CodeableConcept>,
    pub dose_quantity: Option<Quantity>,
}

impl Dosage {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            sequence: o.integer(ctx, "sequence"),
            text: o.string(ctx, "text"),
            patient_instruction: o.string(ctx, "patientInstruction"),
            additional_instruction: o.many(ctx, "additionalInstruction", CodeableConcept::read),
            timing: o
                .one(ctx, "timing", |ctx: &mut Ctx<'_>, t: Obj<'_>| {
                    t.one(ctx, "repeat", |ctx: &mut Ctx<'_>, r: Obj<'_>| Timing {
                        frequency: r.integer(ctx, "frequency"),
                        frequency_max: r.integer(ctx, "frequencyMax"),
                        period: r.decimal(ctx, "period"),
                        period_max: r.decimal(ctx, "periodMax"),
                        period_unit: r.string(ctx, "periodUnit"),
                        when: r.strings(ctx, "when"),
                        bounds_duration: r.one(ctx, "boundsDuration", Quantity::read),
                    })
                })
                .flatten(),
            as_needed: o.boolean(ctx, "asNeededBoolean"),
            as_needed_reason: o.one(ctx, "asNeededCodeableConcept", CodeableConcept::read),
            site: o.one(ctx, "site", CodeableConcept::read),
            route: o.one(ctx, "route", CodeableConcept::read),
            method: o.one(ctx, "method", CodeableConcept::read),
            dose_quantity: o.one(ctx, "doseQuantity", Quantity::read),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MedicationStatement {
    pub base: Base,
    pub based_on: Vec<Reference>,
    pub status: Option<String>,
    pub medication: Option<MedicationRef>,
    pub effective: Period,
    pub date_asserted: Option<FhirDateTime>,
    pub taken: Option<String>,
    pub dosage: Vec<Dosage>,
    pub note: Vec<Annotation>,
    pub reason_code: Vec<CodeableConcept>,
    /// `Extension-CareConnect-GPC-MedicationStatementLastIssueDate-1`.
    pub last_issue_date: Option<FhirDateTime>,
    /// `Extension-CareConnect-GPC-PrescribingAgency-1`.
    pub prescribing_agency: Option<CodeableConcept>,
}

impl MedicationStatement {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        let base = Base::read(ctx, o);
        let last_issue_date = base
            .extension
            .iter()
            .find(|e| crate::datatypes::extension_name(&e.url).ends_with("LastIssueDate"))
            .and_then(|e| match &e.value {
                Some(ExtValue::DateTime(d)) => Some(d.clone()),
                _ => None,
            });
        let prescribing_agency = base.ext("PrescribingAgency").and_then(|e| match &e.value {
            Some(ExtValue::CodeableConcept(c)) => Some(c.clone()),
            _ => None,
        });
        let effective = match o.one(ctx, "effectivePeriod", Period::read) {
            Some(p) => p,
            None => Period {
                start: o.datetime(ctx, "effectiveDateTime"),
                end: None,
            },
        };
        Self {
            based_on: o.many(ctx, "basedOn", Reference::read),
            status: o.string(ctx, "status"),
            medication: read_medication(ctx, o),
            effective,
            date_asserted: o.datetime(ctx, "dateAsserted"),
            taken: o.string(ctx, "taken"),
            dosage: o.many(ctx, "dosage", Dosage::read),
            note: o.many(ctx, "note", Annotation::read),
            reason_code: o.many(ctx, "reasonCode", CodeableConcept::read),
            last_issue_date,
            prescribing_agency,
            base,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct DispenseRequest {
    pub validity_period: Option<Period>,
    pub number_of_repeats_allowed: Option<i64>,
    pub quantity: Option<Quantity>,
    pub expected_supply_duration: Option<Quantity>,
}

/// `Extension-CareConnect-GPC-MedicationRepeatInformation-1`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RepeatInformation {
    pub allowed: Option<i64>,
    pub issued: Option<i64>,
    pub authorisation_expiry: Option<FhirDateTime>,
}

/// `Extension-CareConnect-GPC-MedicationStatusReason-1`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StatusReason {
    pub reason: Option<CodeableConcept>,
    pub date: Option<FhirDateTime>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MedicationRequest {
    pub base: Base,
    pub based_on: Vec<Reference>,
    pub group_identifier: Option<String>,
    pub status: Option<String>,
    /// `plan` (the authorisation) or `order` (one issue).
    pub intent: Option<String>,
    pub medication: Option<MedicationRef>,
    pub authored_on: Option<FhirDateTime>,
    pub recorder: Option<Reference>,
    pub dosage_instruction: Vec<Dosage>,
    pub dispense_request: Option<DispenseRequest>,
    pub note: Vec<Annotation>,
    /// `acute`, `repeat`, `repeat-dispensing`, … (`Extension-CareConnect-GPC-PrescriptionType-1`).
    pub prescription_type: Option<CodeableConcept>,
    pub repeat_information: Option<RepeatInformation>,
    pub status_reason: Option<StatusReason>,
}

impl MedicationRequest {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        let base = Base::read(ctx, o);
        let int = |e: Option<&crate::Extension>| match e.and_then(|e| e.value.as_ref()) {
            Some(ExtValue::Integer(i)) => Some(*i),
            _ => None,
        };
        let date = |e: Option<&crate::Extension>| match e.and_then(|e| e.value.as_ref()) {
            Some(ExtValue::DateTime(d)) => Some(d.clone()),
            _ => None,
        };
        let prescription_type = base.ext("PrescriptionType").and_then(|e| match &e.value {
            Some(ExtValue::CodeableConcept(c)) => Some(c.clone()),
            _ => None,
        });
        let repeat_information =
            base.ext("MedicationRepeatInformation")
                .map(|e| RepeatInformation {
                    allowed: int(e.sub("numberOfRepeatPrescriptionsAllowed")),
                    issued: int(e.sub("numberOfRepeatPrescriptionsIssued")),
                    authorisation_expiry: date(e.sub("authorisationExpiryDate")),
                });
        let status_reason = base.ext("MedicationStatusReason").map(|e| StatusReason {
            reason: e.sub("statusReason").and_then(|s| match &s.value {
                Some(ExtValue::CodeableConcept(c)) => Some(c.clone()),
                Some(ExtValue::Text(t)) => Some(CodeableConcept {
                    coding: Vec::new(),
                    text: Some(t.clone()),
                }),
                _ => None,
            }),
            date: date(e.sub("statusChangeDate")),
        });
        Self {
            based_on: o.many(ctx, "basedOn", Reference::read),
            group_identifier: o
                .one(ctx, "groupIdentifier", crate::datatypes::Identifier::read)
                .and_then(|i| i.value),
            status: o.string(ctx, "status"),
            intent: o.string(ctx, "intent"),
            medication: read_medication(ctx, o),
            authored_on: o.datetime(ctx, "authoredOn"),
            recorder: o.one(ctx, "recorder", Reference::read),
            dosage_instruction: o.many(ctx, "dosageInstruction", Dosage::read),
            dispense_request: o.one(ctx, "dispenseRequest", |ctx: &mut Ctx<'_>, d: Obj<'_>| {
                DispenseRequest {
                    validity_period: d.one(ctx, "validityPeriod", Period::read),
                    number_of_repeats_allowed: d.integer(ctx, "numberOfRepeatsAllowed"),
                    quantity: d.one(ctx, "quantity", Quantity::read),
                    expected_supply_duration: d.one(ctx, "expectedSupplyDuration", Quantity::read),
                }
            }),
            note: o.many(ctx, "note", Annotation::read),
            prescription_type,
            repeat_information,
            status_reason,
            base,
        }
    }
}
