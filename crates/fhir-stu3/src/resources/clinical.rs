//! Allergies, problems (Condition) and immunisations.

use super::Base;
use crate::datatypes::{Annotation, CodeableConcept, ExtValue, Quantity, Reference};
use crate::datetime::FhirDateTime;
use crate::read::{Ctx, Obj};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AllergyIntolerance {
    pub base: Base,
    pub clinical_status: Option<String>,
    pub verification_status: Option<String>,
    /// `allergy` or `intolerance`.
    pub type_: Option<String>,
    /// `food`, `medication`, `environment`, `biologic`.
    pub category: Vec<String>,
    pub criticality: Option<String>,
    pub code: Option<CodeableConcept>,
    pub onset: Option<FhirDateTime>,
    pub asserted_date: Option<FhirDateTime>,
    pub last_occurrence: Option<FhirDateTime>,
    pub recorder: Option<Reference>,
    pub reaction: Vec<Reaction>,
    pub note: Vec<Annotation>,
    /// `Extension-CareConnect-GPC-AllergyIntoleranceEnd-1` (resolved allergies).
    pub end: Option<AllergyEnd>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AllergyEnd {
    pub date: Option<FhirDateTime>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Reaction {
    pub substance: Option<CodeableConcept>,
    pub manifestation: Vec<CodeableConcept>,
    pub description: Option<String>,
    pub onset: Option<FhirDateTime>,
    /// `mild`, `moderate`, `severe`.
    pub severity: Option<String>,
    pub exposure_route: Option<CodeableConcept>,
    pub note: Vec<Annotation>,
}

impl AllergyIntolerance {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        let base = Base::read(ctx, o);
        let end = base.ext("AllergyIntoleranceEnd").map(|e| AllergyEnd {
            date: e.sub("endDate").and_then(|s| match &s.value {
                Some(ExtValue::DateTime(d)) => Some(d.clone()),
                _ => None,
            }),
            reason: e
                .sub("reasonEnded")
                .and_then(|s| s.text().map(str::to_owned)),
        });
        Self {
            clinical_status: o.string(ctx, "clinicalStatus"),
            verification_status: o.string(ctx, "verificationStatus"),
            type_: o.string(ctx, "type"),
            category: o.strings(ctx, "category"),
            criticality: o.string(ctx, "criticality"),
            code: o.one(ctx, "code", CodeableConcept::read),
            onset: o.datetime(ctx, "onsetDateTime"),
            asserted_date: o.datetime(ctx, "assertedDate"),
            last_occurrence: o.datetime(ctx, "lastOccurrence"),
            recorder: o.one(ctx, "recorder", Reference::read),
            reaction: o.many(ctx, "reaction", |ctx: &mut Ctx<'_>, r: Obj<'_>| Reaction {
                substance: r.one(ctx, "substance", CodeableConcept::read),
                manifestation: r.many(ctx, "manifestation", CodeableConcept::read),
                description: r.string(ctx, "description"),
                onset: r.datetime(ctx, "onset"),
                severity: r.string(ctx, "severity"),
                exposure_route: r.one(ctx, "exposureRoute", CodeableConcept::read),
                note: r.many(ctx, "note", Annotation::read),
            }),
            note: o.many(ctx, "note", Annotation::read),
            end,
            base,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Condition {
    pub base: Base,
    pub clinical_status: Option<String>,
    pub verification_status: Option<String>,
    pub category: Vec<CodeableConcept>,
    pub code: Option<CodeableConcept>,
    pub body_site: Vec<CodeableConcept>,
    pub onset: Option<FhirDateTime>,
    pub abatement: Option<FhirDateTime>,
    pub asserted_date: Option<FhirDateTime>,
    pub asserter: Option<Reference>,
    pub note: Vec<Annotation>,
    /// `major` or `minor` (`Extension-CareConnect-ProblemSignificance-1`).
    pub significance: Option<String>,
    /// The clinical item that is the actual problem (`Extension-CareConnect-ActualProblem-1`).
    pub actual_problem: Option<Reference>,
    /// Items linked to this problem (`Extension-CareConnect-RelatedClinicalContent-1`).
    pub related_clinical_content: Vec<Reference>,
}

impl Condition {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        let base = Base::read(ctx, o);
        let reference = |e: &crate::Extension| match &e.value {
            Some(ExtValue::Reference(r)) => Some(r.clone()),
            _ => None,
        };
        let significance = base
            .ext("ProblemSignificance")
            .and_then(|e| e.text().map(str::to_owned));
        let actual_problem = base.ext("ActualProblem").and_then(reference);
        let related = base
            .extension
            .iter()
            .filter(|e| e.is("RelatedClinicalContent"))
            .filter_map(reference)
            .collect();
        let abatement = o.datetime(ctx, "abatementDateTime").or_else(|| {
            o.one(ctx, "abatementPeriod", crate::datatypes::Period::read)
                .and_then(|p| p.start)
        });
        Self {
            clinical_status: o.string(ctx, "clinicalStatus"),
            verification_status: o.string(ctx, "verificationStatus"),
            category: o.many(ctx, "category", CodeableConcept::read),
            code: o.one(ctx, "code", CodeableConcept::read),
            body_site: o.many(ctx, "bodySite", CodeableConcept::read),
            onset: o.datetime(ctx, "onsetDateTime").or_else(|| {
                o.one(ctx, "onsetPeriod", crate::datatypes::Period::read)
                    .and_then(|p| p.start)
            }),
            abatement,
            asserted_date: o.datetime(ctx, "assertedDate"),
            asserter: o.one(ctx, "asserter", Reference::read),
            note: o.many(ctx, "note", Annotation::read),
            significance,
            actual_problem,
            related_clinical_content: related,
            base,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Immunization {
    pub base: Base,
    pub status: Option<String>,
    pub not_given: bool,
    pub vaccine_code: Option<CodeableConcept>,
    pub date: Option<FhirDateTime>,
    pub primary_source: Option<bool>,
    pub location: Option<Reference>,
    pub manufacturer: Option<Reference>,
    pub lot_number: Option<String>,
    pub expiration_date: Option<FhirDateTime>,
    pub site: Option<CodeableConcept>,
    pub route: Option<CodeableConcept>,
    pub dose_quantity: Option<Quantity>,
    pub practitioner: Vec<Reference>,
    pub note: Vec<Annotation>,
    pub reason: Vec<CodeableConcept>,
    pub reason_not_given: Vec<CodeableConcept>,
    pub vaccination_protocol: Vec<VaccinationProtocol>,
    /// `Extension-CareConnect-VaccinationProcedure-1`: the procedure as recorded.
    pub vaccination_procedure: Option<CodeableConcept>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VaccinationProtocol {
    pub dose_sequence: Option<i64>,
    pub description: Option<String>,
    pub series: Option<String>,
    pub series_doses: Option<i64>,
    pub target_disease: Vec<CodeableConcept>,
}

impl Immunization {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        let base = Base::read(ctx, o);
        let vaccination_procedure = base
            .ext("VaccinationProcedure")
            .and_then(|e| match &e.value {
                Some(ExtValue::CodeableConcept(c)) => Some(c.clone()),
                _ => None,
            });
        let (reason, reason_not_given) = o
            .one(ctx, "explanation", |ctx: &mut Ctx<'_>, e: Obj<'_>| {
                let mut not_given = e.many(ctx, "reasonNotGiven", CodeableConcept::read);
                if e.raw("notGivenReason").is_some() {
                    ctx.warn(
                        e.path.key("notGivenReason"),
                        "notGivenReason is not STU3 (the element is reasonNotGiven); read as reasonNotGiven",
                    );
                    not_given.extend(e.many(ctx, "notGivenReason", CodeableConcept::read));
                }
                (e.many(ctx, "reason", CodeableConcept::read), not_given)
            })
            .unwrap_or_default();
        Self {
            status: o.string(ctx, "status"),
            not_given: o.boolean(ctx, "notGiven").unwrap_or(false),
            vaccine_code: o.one(ctx, "vaccineCode", CodeableConcept::read),
            date: o.datetime(ctx, "date"),
            primary_source: o.boolean(ctx, "primarySource"),
            location: o.one(ctx, "location", Reference::read),
            manufacturer: o.one(ctx, "manufacturer", Reference::read),
            lot_number: o.string(ctx, "lotNumber"),
            expiration_date: o.datetime(ctx, "expirationDate"),
            site: o.one(ctx, "site", CodeableConcept::read),
            route: o.one(ctx, "route", CodeableConcept::read),
            dose_quantity: o.one(ctx, "doseQuantity", Quantity::read),
            practitioner: o
                .many(ctx, "practitioner", |ctx: &mut Ctx<'_>, p: Obj<'_>| {
                    p.one(ctx, "actor", Reference::read)
                })
                .into_iter()
                .flatten()
                .collect(),
            note: o.many(ctx, "note", Annotation::read),
            reason,
            reason_not_given,
            vaccination_protocol: o.many(
                ctx,
                "vaccinationProtocol",
                |ctx: &mut Ctx<'_>, p: Obj<'_>| VaccinationProtocol {
                    dose_sequence: p.integer(ctx, "doseSequence"),
                    description: p.string(ctx, "description"),
                    series: p.string(ctx, "series"),
                    series_doses: p.integer(ctx, "seriesDoses"),
                    target_disease: p.many(ctx, "targetDisease", CodeableConcept::read),
                },
            ),
            vaccination_procedure,
            base,
        }
    }
}
