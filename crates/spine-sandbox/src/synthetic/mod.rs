//! The deterministic generator of the sandbox's built-in patients: GP Connect 1.6 Access Record
//! Structured answers (FHIR STU3 `collection` Bundles, one List per clinical area, the
//! CareConnect-GPC profiles and extensions) for a handful of fictitious people, plus the PDS R4
//! records of the restricted, deceased and PDS-only scenario patients.
//!
//! The output is committed under `crates/spine-sandbox/synthetic/` and embedded in the binary
//! (see [`crate::embedded`]); a test fails when the files and this generator disagree, and
//! `spine-sandbox --write-synthetic DIR` rewrites them. Nothing here depends on the clock or on
//! randomness: identifiers are UUID v5 of the patient and the item, dates are fixed.

use serde_json::{Value, json};
use uuid::Uuid;

const SCT: &str = "http://snomed.info/sct";
const UCUM: &str = "http://unitsofmeasure.org";
const NHS_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const XCARE: &str = "https://fhir.nhs.uk/Id/cross-care-setting-identifier";
const GPC_SD: &str = "https://fhir.nhs.uk/STU3/StructureDefinition";
const GPC_CS: &str = "https://fhir.nhs.uk/STU3/CodeSystem";
const UK_SD: &str = "https://fhir.hl7.org.uk/STU3/StructureDefinition";
/// When the generated practice systems "answered": fixed, so the output never changes.
const EXTRACTED: &str = "2025-06-02T09:30:00+01:00";

mod people;

use people::{Allergy, Imm, Med, Obs, PRACTICES, Problem, Record, pds_only, records};

/// One generated file: path relative to the synthetic folder, and its JSON.
pub struct SyntheticFile {
    pub path: String,
    pub json: Value,
}

impl SyntheticFile {
    /// The file's bytes as committed (pretty JSON, trailing newline).
    pub fn text(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.json).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Every generated file, in a fixed order.
pub fn generate() -> Vec<SyntheticFile> {
    let mut files: Vec<SyntheticFile> = records()
        .iter()
        .map(|r| SyntheticFile {
            path: format!("gpconnect/{}.json", r.person.nhs),
            json: bundle(r),
        })
        .collect();
    files.extend(pds_only().into_iter().map(|p| SyntheticFile {
        path: format!("pds/{}.json", p["id"].as_str().unwrap_or_default()),
        json: p,
    }));
    files
}

fn id(nhs: &str, what: &str) -> String {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("urn:xhuma-sandbox:{nhs}:{what}").as_bytes(),
    )
    .to_string()
}

fn profile(name: &str) -> Value {
    json!({ "profile": [format!("{GPC_SD}/{name}")] })
}

fn sct(code: &str, display: &str) -> Value {
    json!({ "coding": [{ "system": SCT, "code": code, "display": display }] })
}

fn at_noon(date: &str) -> String {
    format!("{date}T12:00:00+00:00")
}

struct Ctx<'a> {
    nhs: &'a str,
    patient_ref: Value,
    gp_ref: Value,
    org_ref: Value,
    entries: Vec<Value>,
}

impl Ctx<'_> {
    fn push(&mut self, resource: Value) {
        self.entries.push(json!({ "resource": resource }));
    }
    fn xcare(&self, what: &str) -> Value {
        json!([{ "system": XCARE, "value": id(self.nhs, what) }])
    }
}

/// A List of one clinical area; `display` is the SNOMED CT term when it differs from the title.
fn list(ctx: &Ctx<'_>, (code, display): (&str, &str), title: &str, items: &[String]) -> Value {
    let mut l = json!({
        "resourceType": "List",
        "id": id(ctx.nhs, &format!("list/{code}")),
        "meta": profile("CareConnect-GPC-List-1"),
        "extension": [{
            "url": format!("{GPC_SD}/Extension-CareConnect-GPC-ClinicalSetting-1"),
            "valueCodeableConcept": sct("1060971000000108", "General practice service"),
        }],
        "status": "current",
        "mode": "snapshot",
        "title": title,
        "code": sct(code, display),
        "subject": { "reference": ctx.patient_ref["reference"], "identifier": { "system": NHS_SYSTEM, "value": ctx.nhs } },
        "date": EXTRACTED,
        "orderedBy": { "coding": [{ "system": "http://hl7.org/fhir/list-order", "code": "event-date", "display": "Sorted by Event Date" }] },
    });
    if items.is_empty() {
        l["emptyReason"] = json!({ "coding": [{
            "system": format!("{GPC_CS}/CareConnect-ListEmptyReasonCode-1"),
            "code": "no-content-recorded", "display": "No Content Recorded" }] });
        l["note"] = json!([{ "text": "Information not available" }]);
    } else {
        l["entry"] = Value::Array(
            items
                .iter()
                .map(|r| json!({ "item": { "reference": r } }))
                .collect(),
        );
    }
    l
}

fn bundle(r: &Record) -> Value {
    let p = &r.person;
    let practice = &PRACTICES[p.practice];
    let patient_id = id(p.nhs, "patient");
    let gp_id = id(practice.ods, "gp");
    let org_id = id(practice.ods, "organization");
    let mut ctx = Ctx {
        nhs: p.nhs,
        patient_ref: json!({ "reference": format!("Patient/{patient_id}") }),
        gp_ref: json!({ "reference": format!("Practitioner/{gp_id}") }),
        org_ref: json!({ "reference": format!("Organization/{org_id}") }),
        entries: Vec::new(),
    };
    ctx.push(json!({
        "resourceType": "Patient",
        "id": patient_id,
        "meta": { "versionId": "1", "profile": [format!("{GPC_SD}/CareConnect-GPC-Patient-1")] },
        "extension": [{
            "url": format!("{GPC_SD}/Extension-CareConnect-GPC-RegistrationDetails-1"),
            "extension": [
                { "url": "registrationPeriod", "valuePeriod": { "start": at_noon(p.registered) } },
                { "url": "registrationType", "valueCodeableConcept": { "coding": [{
                    "system": format!("{GPC_CS}/CareConnect-RegistrationType-1"),
                    "code": "R", "display": "Regular" }] } },
            ],
        }],
        "identifier": [{
            "extension": [{
                "url": format!("{GPC_SD}/Extension-CareConnect-GPC-NHSNumberVerificationStatus-1"),
                "valueCodeableConcept": { "coding": [{
                    "system": format!("{GPC_CS}/CareConnect-NHSNumberVerificationStatus-1"),
                    "code": "01", "display": "Number present and verified" }] },
            }],
            "system": NHS_SYSTEM,
            "value": p.nhs,
        }],
        "active": true,
        "name": [{
            "use": "official",
            "text": format!("{} {}", p.given, p.family),
            "family": p.family,
            "given": [p.given],
            "prefix": [p.prefix],
        }],
        "telecom": [{ "system": "phone", "value": "01632 960 000", "use": "home" }],
        "gender": p.gender,
        "birthDate": p.birth,
        "address": [{
            "use": "home", "type": "physical",
            "line": [p.line], "city": p.city, "postalCode": p.postcode,
        }],
        "generalPractitioner": [ctx.gp_ref.clone()],
        "managingOrganization": ctx.org_ref.clone(),
    }));
    let (sds, family, given, prefix) = practice.gp;
    ctx.push(json!({
        "resourceType": "Practitioner",
        "id": gp_id,
        "meta": profile("CareConnect-GPC-Practitioner-1"),
        "identifier": [{ "system": "https://fhir.nhs.uk/Id/sds-user-id", "value": sds }],
        "name": [{ "use": "usual", "family": family, "given": [given], "prefix": [prefix] }],
    }));
    ctx.push(json!({
        "resourceType": "PractitionerRole",
        "id": id(practice.ods, "gp-role"),
        "meta": profile("CareConnect-GPC-PractitionerRole-1"),
        "practitioner": ctx.gp_ref.clone(),
        "organization": ctx.org_ref.clone(),
        "code": [{ "coding": [{
            "system": format!("{GPC_CS}/CareConnect-SDSJobRoleName-1"),
            "code": "R0260", "display": "General Medical Practitioner" }] }],
    }));
    ctx.push(json!({
        "resourceType": "Organization",
        "id": org_id,
        "meta": profile("CareConnect-GPC-Organization-1"),
        "identifier": [{ "system": ODS_SYSTEM, "value": practice.ods }],
        "name": practice.name,
        "telecom": [{ "system": "phone", "value": "0113 496 0000", "use": "work" }],
        "address": [{ "use": "work", "line": practice.lines, "city": practice.city, "postalCode": practice.postcode }],
    }));

    allergies(&mut ctx, r.allergies);
    medications(&mut ctx, r.meds);
    problems(&mut ctx, r.problems);
    immunisations(&mut ctx, r.imms);
    observations(&mut ctx, r.obs);

    json!({
        "resourceType": "Bundle",
        "id": id(p.nhs, "bundle"),
        "meta": profile("GPConnect-StructuredRecord-Bundle-1"),
        "type": "collection",
        "entry": ctx.entries,
    })
}

fn allergies(ctx: &mut Ctx<'_>, all: &[Allergy]) {
    let mut active = Vec::new();
    let mut ended = Vec::new();
    for (n, a) in all.iter().enumerate() {
        let rid = id(ctx.nhs, &format!("allergy/{n}"));
        let mut res = json!({
            "resourceType": "AllergyIntolerance",
            "id": rid,
            "meta": profile("CareConnect-GPC-AllergyIntolerance-1"),
            "identifier": ctx.xcare(&format!("allergy/{n}")),
            "clinicalStatus": if a.ended.is_some() { "resolved" } else { "active" },
            "verificationStatus": "confirmed",
            "type": a.type_,
            "category": [a.category],
            "code": sct(a.code, a.display),
            "patient": ctx.patient_ref.clone(),
            "onsetDateTime": at_noon(a.asserted),
            "assertedDate": at_noon(a.asserted),
            "recorder": ctx.gp_ref.clone(),
        });
        if let Some((code, display, severity)) = a.reaction {
            res["reaction"] =
                json!([{ "manifestation": [sct(code, display)], "severity": severity }]);
        }
        if let Some((date, reason)) = a.ended {
            res["extension"] = json!([{
                "url": format!("{GPC_SD}/Extension-CareConnect-GPC-AllergyIntoleranceEnd-1"),
                "extension": [
                    { "url": "endDate", "valueDateTime": at_noon(date) },
                    { "url": "reasonEnded", "valueString": reason },
                ],
            }]);
            ended.push(format!("AllergyIntolerance/{rid}"));
        } else {
            active.push(format!("AllergyIntolerance/{rid}"));
        }
        ctx.push(res);
    }
    let l = list(
        ctx,
        ("886921000000105", "Allergies and adverse reactions"),
        "Allergies and adverse reactions",
        &active,
    );
    ctx.push(l);
    let l = list(
        ctx,
        ("1103671000000101", "Ended allergies"),
        "Ended allergies",
        &ended,
    );
    ctx.push(l);
}

fn prescription_type(repeat: bool) -> Value {
    let (code, display) = if repeat {
        ("repeat", "Repeat")
    } else {
        ("acute", "Acute")
    };
    json!({
        "url": format!("{GPC_SD}/Extension-CareConnect-GPC-PrescriptionType-1"),
        "valueCodeableConcept": { "coding": [{
            "system": format!("{GPC_CS}/CareConnect-PrescriptionType-1"),
            "code": code, "display": display }] },
    })
}

fn dispense(m: &Med, start: &str, end: &str) -> Value {
    json!({
        "validityPeriod": { "start": start, "end": end },
        "quantity": {
            "extension": [{
                "url": format!("{GPC_SD}/Extension-CareConnect-GPC-MedicationQuantityText-1"),
                "valueString": m.quantity_text,
            }],
            "value": m.quantity,
        },
        "expectedSupplyDuration": { "value": m.days, "unit": "day", "system": UCUM, "code": "d" },
    })
}

/// `date` plus `days`, on the proleptic Gregorian calendar (dates here are always valid).
fn add_days(date: &str, days: u32) -> String {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.checked_add_days(chrono::Days::new(u64::from(days))))
        .map(|d| d.to_string())
        .unwrap_or_else(|| date.to_owned())
}

fn medications(ctx: &mut Ctx<'_>, meds: &[Med]) {
    let mut statements = Vec::new();
    for (n, m) in meds.iter().enumerate() {
        let med_id = id(ctx.nhs, &format!("medication/{n}"));
        let plan_id = id(ctx.nhs, &format!("medication-plan/{n}"));
        let stmt_id = id(ctx.nhs, &format!("medication-statement/{n}"));
        let issues: &[&str] = match m.repeat {
            Some((_, issues)) => issues,
            None => std::slice::from_ref(&m.start),
        };
        let last_issue = issues.last().copied().unwrap_or(m.start);
        let end = m
            .ended
            .map(str::to_owned)
            .unwrap_or_else(|| add_days(last_issue, m.days));
        let status = if m.ended.is_some() {
            "completed"
        } else {
            "active"
        };
        ctx.push(json!({
            "resourceType": "Medication",
            "id": med_id,
            "meta": profile("CareConnect-GPC-Medication-1"),
            "code": sct(m.code, m.display),
        }));
        let mut plan_ext = vec![prescription_type(m.repeat.is_some())];
        if let Some((allowed, issued)) = m.repeat {
            plan_ext.insert(
                0,
                json!({
                    "url": format!("{GPC_SD}/Extension-CareConnect-GPC-MedicationRepeatInformation-1"),
                    "extension": [
                        { "url": "numberOfRepeatPrescriptionsAllowed", "valuePositiveInt": allowed },
                        { "url": "numberOfRepeatPrescriptionsIssued", "valuePositiveInt": issued.len() },
                    ],
                }),
            );
        }
        let group = json!({ "value": id(ctx.nhs, &format!("medication-group/{n}")) });
        ctx.push(json!({
            "resourceType": "MedicationRequest",
            "id": plan_id,
            "meta": profile("CareConnect-GPC-MedicationRequest-1"),
            "extension": plan_ext,
            "identifier": ctx.xcare(&format!("medication-plan/{n}")),
            "groupIdentifier": group,
            "status": status,
            "intent": "plan",
            "medicationReference": { "reference": format!("Medication/{med_id}") },
            "subject": ctx.patient_ref.clone(),
            "authoredOn": m.start,
            "recorder": ctx.gp_ref.clone(),
            "dosageInstruction": [{ "text": m.dose }],
            "dispenseRequest": dispense(m, m.start, &end),
        }));
        for (k, issue) in issues.iter().enumerate() {
            let order_id = id(ctx.nhs, &format!("medication-order/{n}/{k}"));
            ctx.push(json!({
                "resourceType": "MedicationRequest",
                "id": order_id,
                "meta": profile("CareConnect-GPC-MedicationRequest-1"),
                "extension": [prescription_type(m.repeat.is_some())],
                "identifier": ctx.xcare(&format!("medication-order/{n}/{k}")),
                "groupIdentifier": group,
                "basedOn": [{ "reference": format!("MedicationRequest/{plan_id}") }],
                "status": "completed",
                "intent": "order",
                "medicationReference": { "reference": format!("Medication/{med_id}") },
                "subject": ctx.patient_ref.clone(),
                "authoredOn": issue,
                "recorder": ctx.gp_ref.clone(),
                "dosageInstruction": [{ "text": m.dose }],
                "dispenseRequest": dispense(m, issue, &add_days(issue, m.days)),
            }));
        }
        ctx.push(json!({
            "resourceType": "MedicationStatement",
            "id": stmt_id,
            "meta": profile("CareConnect-GPC-MedicationStatement-1"),
            "extension": [
                {
                    "url": format!("{GPC_SD}/Extension-CareConnect-GPC-MedicationStatementLastIssueDate-1"),
                    "valueDateTime": last_issue,
                },
                {
                    "url": format!("{GPC_SD}/Extension-CareConnect-GPC-PrescribingAgency-1"),
                    "valueCodeableConcept": { "coding": [{
                        "system": format!("{GPC_CS}/CareConnect-PrescribingAgency-1"),
                        "code": "prescribed-at-gp-practice", "display": "Prescribed at GP practice" }] },
                },
            ],
            "identifier": ctx.xcare(&format!("medication-statement/{n}")),
            "basedOn": [{ "reference": format!("MedicationRequest/{plan_id}") }],
            "status": status,
            "medicationReference": { "reference": format!("Medication/{med_id}") },
            "effectivePeriod": { "start": m.start, "end": end },
            "dateAsserted": m.start,
            "subject": ctx.patient_ref.clone(),
            "taken": "unk",
            "dosage": [{ "text": m.dose }],
        }));
        statements.push(format!("MedicationStatement/{stmt_id}"));
    }
    let l = list(
        ctx,
        ("933361000000108", "Medications and medical devices"),
        "Medications and medical devices",
        &statements,
    );
    ctx.push(l);
}

fn problems(ctx: &mut Ctx<'_>, all: &[Problem]) {
    let mut items = Vec::new();
    for (n, p) in all.iter().enumerate() {
        let rid = id(ctx.nhs, &format!("problem/{n}"));
        let mut res = json!({
            "resourceType": "Condition",
            "id": rid,
            "meta": profile("CareConnect-GPC-ProblemHeader-Condition-1"),
            "extension": [{
                "url": format!("{UK_SD}/Extension-CareConnect-ProblemSignificance-1"),
                "valueCode": if p.major { "major" } else { "minor" },
            }],
            "identifier": ctx.xcare(&format!("problem/{n}")),
            "clinicalStatus": if p.resolved.is_some() { "inactive" } else { "active" },
            "category": [{ "coding": [{
                "system": "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-ConditionCategory-1",
                "code": "problem-list-item", "display": "Problem List Item" }] }],
            "code": sct(p.code, p.display),
            "subject": ctx.patient_ref.clone(),
            "onsetDateTime": at_noon(p.onset),
            "assertedDate": at_noon(p.onset),
            "asserter": ctx.gp_ref.clone(),
        });
        if let Some(end) = p.resolved {
            res["abatementDateTime"] = json!(at_noon(end));
        }
        items.push(format!("Condition/{rid}"));
        ctx.push(res);
    }
    let l = list(ctx, ("717711000000103", "Problems"), "Problems", &items);
    ctx.push(l);
}

fn immunisations(ctx: &mut Ctx<'_>, all: &[Imm]) {
    let mut items = Vec::new();
    for (n, i) in all.iter().enumerate() {
        let rid = id(ctx.nhs, &format!("immunisation/{n}"));
        ctx.push(json!({
            "resourceType": "Immunization",
            "id": rid,
            "meta": profile("CareConnect-GPC-Immunization-1"),
            "extension": [
                {
                    "url": format!("{UK_SD}/Extension-CareConnect-DateRecorded-1"),
                    "valueDateTime": at_noon(i.date),
                },
                {
                    "url": format!("{UK_SD}/Extension-CareConnect-VaccinationProcedure-1"),
                    "valueCodeableConcept": sct(i.procedure.0, i.procedure.1),
                },
            ],
            "identifier": ctx.xcare(&format!("immunisation/{n}")),
            "status": "completed",
            "notGiven": false,
            "vaccineCode": sct(i.vaccine.0, i.vaccine.1),
            "patient": ctx.patient_ref.clone(),
            "date": at_noon(i.date),
            "primarySource": true,
            "lotNumber": i.lot,
            "site": sct(i.site.0, i.site.1),
            "practitioner": [{ "actor": ctx.gp_ref.clone() }],
            "vaccinationProtocol": [{
                "doseSequence": i.dose.0,
                "seriesDoses": i.dose.1,
                "targetDisease": [sct(i.procedure.0, i.procedure.1)],
                "doseStatus": { "coding": [{
                    "system": "http://hl7.org/fhir/vaccination-protocol-dose-status",
                    "code": "count", "display": "Counts" }] },
            }],
        }));
        items.push(format!("Immunization/{rid}"));
    }
    let l = list(
        ctx,
        ("1102181000000102", "Immunisations"),
        "Immunisations",
        &items,
    );
    ctx.push(l);
}

fn observations(ctx: &mut Ctx<'_>, all: &[Obs]) {
    let mut items = Vec::new();
    for (n, o) in all.iter().enumerate() {
        let rid = id(ctx.nhs, &format!("observation/{n}"));
        ctx.push(json!({
            "resourceType": "Observation",
            "id": rid,
            "meta": profile("CareConnect-GPC-Observation-1"),
            "identifier": ctx.xcare(&format!("observation/{n}")),
            "status": "final",
            "code": sct(o.code, o.display),
            "subject": ctx.patient_ref.clone(),
            "effectiveDateTime": at_noon(o.date),
            "issued": at_noon(o.date),
            "performer": [ctx.gp_ref.clone()],
            "valueQuantity": { "value": o.value, "unit": o.unit, "system": UCUM, "code": o.unit },
        }));
        items.push(format!("Observation/{rid}"));
    }
    let l = list(
        ctx,
        ("826501000000100", "Miscellaneous record"),
        "Uncategorised data",
        &items,
    );
    ctx.push(l);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_numbers_are_valid() {
        let a: Vec<String> = generate().iter().map(SyntheticFile::text).collect();
        let b: Vec<String> = generate().iter().map(SyntheticFile::text).collect();
        assert_eq!(a, b);
        for r in records() {
            nhs_number::NhsNumber::parse(r.person.nhs).unwrap();
        }
    }

    #[test]
    fn repeat_courses_have_a_plan_and_one_order_per_issue() {
        let files = generate();
        let b = &files[0].json;
        let requests: Vec<&Value> = b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .filter(|r| r["resourceType"] == "MedicationRequest")
            .collect();
        let plans = requests.iter().filter(|r| r["intent"] == "plan").count();
        let orders = requests.iter().filter(|r| r["intent"] == "order").count();
        assert_eq!(plans, 4);
        assert_eq!(orders, 3 + 3 + 2 + 1);
    }
}
