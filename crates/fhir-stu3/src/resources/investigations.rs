//! Investigations and observations: DiagnosticReport, its Observations (results, test
//! groups, filing comments) and Specimen; also the uncategorised Observations (vital signs,
//! smoking status, findings) that share the Observation resource.

use super::Base;
use crate::datatypes::{CodeableConcept, Period, Quantity, Reference};
use crate::datetime::FhirDateTime;
use crate::read::{Ctx, Obj};

/// `Observation.value[x]` in the forms GP Connect sends.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum ObservationValue {
    Quantity(Quantity),
    String(String),
    CodeableConcept(CodeableConcept),
    Boolean(bool),
    Integer(i64),
    DateTime(FhirDateTime),
    Period(Period),
    /// `valueRange`: a low and/or high quantity.
    Range {
        low: Option<Quantity>,
        high: Option<Quantity>,
    },
    /// `valueRatio`: numerator over denominator.
    Ratio {
        numerator: Option<Quantity>,
        denominator: Option<Quantity>,
    },
    /// A value type this model does not read (its JSON key, e.g. `valueSampledData`).
    Other(String),
}

impl ObservationValue {
    /// The `value[x]` (or `component.value[x]`) of `o`, if any.
    fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Option<Self> {
        for (k, _) in o.map.iter() {
            let Some(kind) = k.strip_prefix("value") else {
                continue;
            };
            let key: &str = k.as_str();
            return match kind {
                "Quantity" => o.one(ctx, key, Quantity::read).map(Self::Quantity),
                "String" => o.string(ctx, key).map(Self::String),
                "CodeableConcept" => o
                    .one(ctx, key, CodeableConcept::read)
                    .map(Self::CodeableConcept),
                "Boolean" => o.boolean(ctx, key).map(Self::Boolean),
                "Integer" => o.integer(ctx, key).map(Self::Integer),
                "DateTime" | "Time" => o.datetime(ctx, key).map(Self::DateTime),
                "Period" => o.one(ctx, key, Period::read).map(Self::Period),
                "Range" => o.one(ctx, key, |ctx: &mut Ctx<'_>, r: Obj<'_>| Self::Range {
                    low: r.one(ctx, "low", Quantity::read),
                    high: r.one(ctx, "high", Quantity::read),
                }),
                "Ratio" => o.one(ctx, key, |ctx: &mut Ctx<'_>, r: Obj<'_>| Self::Ratio {
                    numerator: r.one(ctx, "numerator", Quantity::read),
                    denominator: r.one(ctx, "denominator", Quantity::read),
                }),
                _ => Some(Self::Other(k.clone())),
            };
        }
        None
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReferenceRange {
    pub low: Option<Quantity>,
    pub high: Option<Quantity>,
    pub text: Option<String>,
}

/// `Observation.related`: `has-member` links a test group to its results,
/// `derived-from` links a result back to its group.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Related {
    pub type_: Option<String>,
    pub target: Reference,
}

/// `Observation.component`: e.g. the systolic and diastolic parts of a blood pressure.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ObservationComponent {
    pub code: Option<CodeableConcept>,
    pub value: Option<ObservationValue>,
    pub interpretation: Option<CodeableConcept>,
    pub reference_range: Vec<ReferenceRange>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Observation {
    pub base: Base,
    pub status: Option<String>,
    pub category: Vec<CodeableConcept>,
    pub code: Option<CodeableConcept>,
    /// `effectiveDateTime`, or the start of `effectivePeriod`.
    pub effective: Option<FhirDateTime>,
    /// The end of `effectivePeriod`.
    pub effective_end: Option<FhirDateTime>,
    pub issued: Option<FhirDateTime>,
    pub performer: Vec<Reference>,
    pub value: Option<ObservationValue>,
    pub data_absent_reason: Option<CodeableConcept>,
    pub interpretation: Option<CodeableConcept>,
    pub comment: Option<String>,
    pub body_site: Option<CodeableConcept>,
    pub specimen: Option<Reference>,
    pub reference_range: Vec<ReferenceRange>,
    pub related: Vec<Related>,
    pub component: Vec<ObservationComponent>,
    pub context: Option<Reference>,
}

fn reference_range(ctx: &mut Ctx<'_>, o: Obj<'_>) -> ReferenceRange {
    ReferenceRange {
        low: o.one(ctx, "low", Quantity::read),
        high: o.one(ctx, "high", Quantity::read),
        text: o.string(ctx, "text"),
    }
}

impl Observation {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        let period = o.one(ctx, "effectivePeriod", Period::read);
        let (start, end) = period.map_or((None, None), |p| (p.start, p.end));
        Self {
            base: Base::read(ctx, o),
            status: o.string(ctx, "status"),
            category: o.many(ctx, "category", CodeableConcept::read),
            code: o.one(ctx, "code", CodeableConcept::read),
            effective: o.datetime(ctx, "effectiveDateTime").or(start),
            effective_end: end,
            issued: o.datetime(ctx, "issued"),
            performer: o.many(ctx, "performer", Reference::read),
            value: ObservationValue::read(ctx, o),
            data_absent_reason: o.one(ctx, "dataAbsentReason", CodeableConcept::read),
            interpretation: o.one(ctx, "interpretation", CodeableConcept::read),
            comment: o.string(ctx, "comment"),
            body_site: o.one(ctx, "bodySite", CodeableConcept::read),
            specimen: o.one(ctx, "specimen", Reference::read),
            reference_range: o.many(ctx, "referenceRange", reference_range),
            related: o.many(ctx, "related", |ctx: &mut Ctx<'_>, r: Obj<'_>| Related {
                type_: r.string(ctx, "type"),
                target: r.one(ctx, "target", Reference::read).unwrap_or_default(),
            }),
            component: o.many(ctx, "component", |ctx: &mut Ctx<'_>, c: Obj<'_>| {
                ObservationComponent {
                    code: c.one(ctx, "code", CodeableConcept::read),
                    value: ObservationValue::read(ctx, c),
                    interpretation: c.one(ctx, "interpretation", CodeableConcept::read),
                    reference_range: c.many(ctx, "referenceRange", reference_range),
                }
            }),
            context: o.one(ctx, "context", Reference::read),
        }
    }

    /// The results of a test group (`related` of type `has-member`).
    pub fn members(&self) -> impl Iterator<Item = &Reference> {
        self.related
            .iter()
            .filter(|r| r.type_.as_deref() == Some("has-member"))
            .map(|r| &r.target)
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DiagnosticReport {
    pub base: Base,
    pub status: Option<String>,
    pub category: Vec<CodeableConcept>,
    pub code: Option<CodeableConcept>,
    pub effective: Option<FhirDateTime>,
    pub issued: Option<FhirDateTime>,
    /// `performer[].actor`.
    pub performer: Vec<Reference>,
    pub result: Vec<Reference>,
    pub specimen: Vec<Reference>,
    pub based_on: Vec<Reference>,
    pub conclusion: Option<String>,
    pub coded_diagnosis: Vec<CodeableConcept>,
    pub context: Option<Reference>,
}

impl DiagnosticReport {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        let period = o.one(ctx, "effectivePeriod", Period::read);
        Self {
            base: Base::read(ctx, o),
            status: o.string(ctx, "status"),
            // STU3 has one category; suppliers send an object or an array.
            category: o.many(ctx, "category", CodeableConcept::read),
            code: o.one(ctx, "code", CodeableConcept::read),
            effective: o
                .datetime(ctx, "effectiveDateTime")
                .or_else(|| period.and_then(|p| p.start)),
            issued: o.datetime(ctx, "issued"),
            performer: o
                .many(ctx, "performer", |ctx: &mut Ctx<'_>, p: Obj<'_>| {
                    p.one(ctx, "actor", Reference::read)
                })
                .into_iter()
                .flatten()
                .collect(),
            result: o.many(ctx, "result", Reference::read),
            specimen: o.many(ctx, "specimen", Reference::read),
            based_on: o.many(ctx, "basedOn", Reference::read),
            conclusion: o.string(ctx, "conclusion"),
            coded_diagnosis: o.many(ctx, "codedDiagnosis", CodeableConcept::read),
            context: o.one(ctx, "context", Reference::read),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Specimen {
    pub base: Base,
    pub status: Option<String>,
    pub accession_identifier: Option<String>,
    pub type_: Option<CodeableConcept>,
    /// `collection.collectedDateTime`, or the start of `collection.collectedPeriod`.
    pub collected: Option<FhirDateTime>,
    pub received_time: Option<FhirDateTime>,
    pub body_site: Option<CodeableConcept>,
    pub note: Vec<String>,
}

impl Specimen {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        let collection = o.one(ctx, "collection", |ctx: &mut Ctx<'_>, c: Obj<'_>| {
            let collected = c.datetime(ctx, "collectedDateTime").or_else(|| {
                c.one(ctx, "collectedPeriod", Period::read)
                    .and_then(|p| p.start)
            });
            (collected, c.one(ctx, "bodySite", CodeableConcept::read))
        });
        let (collected, body_site) = collection.unwrap_or((None, None));
        Self {
            base: Base::read(ctx, o),
            status: o.string(ctx, "status"),
            accession_identifier: o
                .one(ctx, "accessionIdentifier", crate::Identifier::read)
                .and_then(|i| i.value),
            type_: o.one(ctx, "type", CodeableConcept::read),
            collected,
            received_time: o.datetime(ctx, "receivedTime"),
            body_site,
            note: o
                .many(ctx, "note", crate::Annotation::read)
                .into_iter()
                .filter_map(|a| a.text)
                .collect(),
        }
    }
}
