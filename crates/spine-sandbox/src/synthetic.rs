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

struct Practice {
    ods: &'static str,
    name: &'static str,
    lines: [&'static str; 2],
    city: &'static str,
    postcode: &'static str,
    gp: (&'static str, &'static str, &'static str, &'static str),
}

const PRACTICES: [Practice; 2] = [
    Practice {
        ods: "Y90001",
        name: "ELMFIELD MEDICAL PRACTICE",
        lines: ["1 Elmfield Road", "Holbeck"],
        city: "Leeds",
        postcode: "LS11 9ZZ",
        gp: ("G9000011", "Okafor", "Adaeze", "Dr"),
    },
    Practice {
        ods: "Y90002",
        name: "RIVERSIDE HEALTH CENTRE",
        lines: ["Riverside House", "Quay Street"],
        city: "Bristol",
        postcode: "BS1 9ZZ",
        gp: ("G9000029", "Lindqvist", "Erik", "Dr"),
    },
];

struct Person {
    nhs: &'static str,
    given: &'static str,
    family: &'static str,
    prefix: &'static str,
    gender: &'static str,
    birth: &'static str,
    line: &'static str,
    city: &'static str,
    postcode: &'static str,
    practice: usize,
    registered: &'static str,
}

/// An allergy, or "no known allergy" when `code` is 716186003.
struct Allergy {
    code: &'static str,
    display: &'static str,
    category: &'static str,
    type_: &'static str,
    reaction: Option<(&'static str, &'static str, &'static str)>,
    asserted: &'static str,
    /// End date and reason: filed in the "Ended allergies" List.
    ended: Option<(&'static str, &'static str)>,
}

struct Med {
    code: &'static str,
    display: &'static str,
    dose: &'static str,
    quantity: f64,
    quantity_text: &'static str,
    days: u32,
    start: &'static str,
    /// `Some((allowed, issue dates))` for a repeat course, `None` for an acute one.
    repeat: Option<(u32, &'static [&'static str])>,
    /// A course that has finished (statement `completed`, plan `completed`).
    ended: Option<&'static str>,
}

struct Problem {
    code: &'static str,
    display: &'static str,
    onset: &'static str,
    resolved: Option<&'static str>,
    major: bool,
}

struct Imm {
    vaccine: (&'static str, &'static str),
    procedure: (&'static str, &'static str),
    date: &'static str,
    dose: (u32, u32),
    site: (&'static str, &'static str),
    lot: &'static str,
}

struct Obs {
    code: &'static str,
    display: &'static str,
    value: f64,
    unit: &'static str,
    date: &'static str,
}

struct Record {
    person: Person,
    allergies: &'static [Allergy],
    meds: &'static [Med],
    problems: &'static [Problem],
    imms: &'static [Imm],
    obs: &'static [Obs],
}

const NKA: Allergy = Allergy {
    code: "716186003",
    display: "No known allergy",
    category: "medication",
    type_: "allergy",
    reaction: None,
    asserted: "2019-02-11",
    ended: None,
};

const FLU: (&str, &str) = (
    "39114911000001105",
    "Fluenz Tetra vaccine nasal suspension 0.2ml unit dose",
);
const FLU_INJ: (&str, &str) = (
    "40384611000001108",
    "Quadrivalent influenza vaccine (split virion, inactivated) suspension for injection 0.5ml pre-filled syringes",
);
const FLU_PROC: (&str, &str) = ("822851000000102", "Seasonal influenza vaccination");
const LEFT_ARM: (&str, &str) = ("368208006", "Left upper arm structure");
const RIGHT_ARM: (&str, &str) = ("368209003", "Right upper arm structure");
const NOSE: (&str, &str) = ("1797002", "Naris structure");

fn records() -> Vec<Record> {
    vec![
        Record {
            person: Person {
                nhs: "9990000018",
                given: "Harold",
                family: "PEMBERTON",
                prefix: "MR",
                gender: "male",
                birth: "1948-03-14",
                line: "12 Cranbrook Avenue",
                city: "LEEDS",
                postcode: "LS11 9ZA",
                practice: 0,
                registered: "1989-05-02",
            },
            allergies: &[
                Allergy {
                    code: "91936005",
                    display: "Allergy to penicillin",
                    category: "medication",
                    type_: "allergy",
                    reaction: Some(("271807003", "Eruption of skin", "moderate")),
                    asserted: "1994-08-19",
                    ended: None,
                },
                Allergy {
                    code: "293586001",
                    display: "Allergy to sticking plaster",
                    category: "environment",
                    type_: "allergy",
                    reaction: Some(("247472004", "Weal", "mild")),
                    asserted: "2003-11-04",
                    ended: Some(("2016-05-20", "No reaction on re-exposure")),
                },
            ],
            meds: &[
                Med {
                    code: "39720311000001101",
                    display: "Metformin 500mg tablets",
                    dose: "One tablet twice a day with meals",
                    quantity: 112.0,
                    quantity_text: "tablet",
                    days: 56,
                    start: "2014-06-10",
                    repeat: Some((6, &["2025-01-06", "2025-03-03", "2025-04-28"])),
                    ended: None,
                },
                Med {
                    code: "39722611000001107",
                    display: "Ramipril 5mg capsules",
                    dose: "One capsule once a day",
                    quantity: 56.0,
                    quantity_text: "capsule",
                    days: 56,
                    start: "2012-09-21",
                    repeat: Some((6, &["2025-01-06", "2025-03-03", "2025-04-28"])),
                    ended: None,
                },
                Med {
                    code: "42211411000001107",
                    display: "Atorvastatin 20mg tablets",
                    dose: "One tablet at night",
                    quantity: 56.0,
                    quantity_text: "tablet",
                    days: 56,
                    start: "2014-06-10",
                    repeat: Some((6, &["2025-03-03", "2025-04-28"])),
                    ended: None,
                },
                Med {
                    code: "39695211000001102",
                    display: "Clarithromycin 500mg tablets",
                    dose: "One tablet twice a day for 5 days",
                    quantity: 10.0,
                    quantity_text: "tablet",
                    days: 5,
                    start: "2024-12-02",
                    repeat: None,
                    ended: Some("2024-12-07"),
                },
            ],
            problems: &[
                Problem {
                    code: "44054006",
                    display: "Type 2 diabetes mellitus",
                    onset: "2014-06-10",
                    resolved: None,
                    major: true,
                },
                Problem {
                    code: "38341003",
                    display: "Hypertensive disorder",
                    onset: "2012-09-21",
                    resolved: None,
                    major: true,
                },
                Problem {
                    code: "80146002",
                    display: "Appendicectomy",
                    onset: "1971-07-03",
                    resolved: Some("1971-07-10"),
                    major: false,
                },
            ],
            imms: &[
                Imm {
                    vaccine: FLU_INJ,
                    procedure: FLU_PROC,
                    date: "2024-10-08",
                    dose: (1, 1),
                    site: LEFT_ARM,
                    lot: "FL2410A",
                },
                Imm {
                    vaccine: (
                        "3439211000001108",
                        "Pneumovax II vaccine solution for injection 0.5ml pre-filled syringes",
                    ),
                    procedure: (
                        "1239861000000100",
                        "Administration of first dose of pneumococcal polysaccharide vaccine",
                    ),
                    date: "2013-11-12",
                    dose: (1, 1),
                    site: RIGHT_ARM,
                    lot: "PN1311K",
                },
            ],
            obs: &[
                Obs {
                    code: "72313002",
                    display: "Systolic arterial pressure",
                    value: 138.0,
                    unit: "mm[Hg]",
                    date: "2025-03-03",
                },
                Obs {
                    code: "1091811000000102",
                    display: "Diastolic arterial pressure",
                    value: 82.0,
                    unit: "mm[Hg]",
                    date: "2025-03-03",
                },
                Obs {
                    code: "27113001",
                    display: "Body weight",
                    value: 88.4,
                    unit: "kg",
                    date: "2025-03-03",
                },
                Obs {
                    code: "999791000000106",
                    display: "Haemoglobin A1c level - International Federation of Clinical Chemistry and Laboratory Medicine standardised",
                    value: 53.0,
                    unit: "mmol/mol",
                    date: "2025-02-24",
                },
            ],
        },
        Record {
            person: Person {
                nhs: "9990000026",
                given: "Priya",
                family: "RAMANATHAN",
                prefix: "MS",
                gender: "female",
                birth: "1986-09-02",
                line: "Flat 4, 27 Gloucester Road",
                city: "BRISTOL",
                postcode: "BS7 9ZB",
                practice: 1,
                registered: "2011-01-17",
            },
            allergies: &[NKA],
            meds: &[
                Med {
                    code: "39113611000001102",
                    display: "Salbutamol 100micrograms/dose inhaler CFC free",
                    dose: "Two puffs when required",
                    quantity: 1.0,
                    quantity_text: "inhaler",
                    days: 30,
                    start: "2011-03-08",
                    repeat: Some((12, &["2024-11-19", "2025-02-10", "2025-05-06"])),
                    ended: None,
                },
                Med {
                    code: "34680411000001107",
                    display: "Clenil Modulite 100micrograms/dose inhaler",
                    dose: "Two puffs twice a day",
                    quantity: 1.0,
                    quantity_text: "inhaler",
                    days: 50,
                    start: "2016-04-12",
                    repeat: Some((12, &["2025-02-10", "2025-04-01"])),
                    ended: None,
                },
            ],
            problems: &[
                Problem {
                    code: "195967001",
                    display: "Asthma",
                    onset: "1995-05-01",
                    resolved: None,
                    major: true,
                },
                Problem {
                    code: "35489007",
                    display: "Depressive disorder",
                    onset: "2018-02-20",
                    resolved: Some("2019-08-14"),
                    major: false,
                },
            ],
            imms: &[
                Imm {
                    vaccine: FLU_INJ,
                    procedure: FLU_PROC,
                    date: "2024-09-30",
                    dose: (1, 1),
                    site: LEFT_ARM,
                    lot: "FL2409C",
                },
                Imm {
                    vaccine: (
                        "40813311000001105",
                        "Comirnaty JN.1 COVID-19 mRNA Vaccine 30micrograms/0.3ml dose dispersion for injection multidose vials",
                    ),
                    procedure: (
                        "1362591000000103",
                        "Immunisation course to maintain protection against SARS-CoV-2",
                    ),
                    date: "2024-10-21",
                    dose: (1, 1),
                    site: LEFT_ARM,
                    lot: "HH2071",
                },
            ],
            obs: &[
                Obs {
                    code: "27113001",
                    display: "Body weight",
                    value: 63.5,
                    unit: "kg",
                    date: "2025-02-10",
                },
                Obs {
                    code: "50373000",
                    display: "Body height",
                    value: 164.0,
                    unit: "cm",
                    date: "2025-02-10",
                },
                Obs {
                    code: "60621009",
                    display: "Body mass index",
                    value: 23.6,
                    unit: "kg/m2",
                    date: "2025-02-10",
                },
            ],
        },
        Record {
            person: Person {
                nhs: "9990000034",
                given: "Oliver",
                family: "ASHWORTH",
                prefix: "MASTER",
                gender: "male",
                birth: "2019-04-27",
                line: "3 Sandpiper Close",
                city: "LEEDS",
                postcode: "LS27 9ZC",
                practice: 0,
                registered: "2019-05-09",
            },
            allergies: &[Allergy {
                code: "91935009",
                display: "Allergy to peanut",
                category: "food",
                type_: "allergy",
                reaction: Some(("39579001", "Anaphylaxis", "severe")),
                asserted: "2021-06-15",
                ended: None,
            }],
            meds: &[Med {
                code: "39693811000001102",
                display: "Cetirizine 1mg/ml oral solution sugar free",
                dose: "5ml once a day when required",
                quantity: 200.0,
                quantity_text: "ml",
                days: 40,
                start: "2021-06-15",
                repeat: Some((6, &["2025-03-18"])),
                ended: None,
            }],
            problems: &[Problem {
                code: "91935009",
                display: "Allergy to peanut",
                onset: "2021-06-15",
                resolved: None,
                major: true,
            }],
            imms: &[
                Imm {
                    vaccine: (
                        "34765811000001105",
                        "Infanrix hexa vaccine powder and suspension for suspension for injection 0.5ml pre-filled syringes",
                    ),
                    procedure: (
                        "1082441000000108",
                        "Administration of first dose of vaccine product containing only Bordetella pertussis and Clostridium tetani and Corynebacterium diphtheriae and Haemophilus influenzae type b and Hepatitis B virus and inactivated whole Human poliovirus antigens",
                    ),
                    date: "2019-06-24",
                    dose: (1, 3),
                    site: LEFT_ARM,
                    lot: "A21CD119A",
                },
                Imm {
                    vaccine: (
                        "34925111000001104",
                        "M-M-RVAXPRO vaccine powder and solvent for suspension for injection 0.5ml pre-filled syringes",
                    ),
                    procedure: ("38598009", "Measles-mumps-rubella vaccination"),
                    date: "2020-05-04",
                    dose: (1, 2),
                    site: RIGHT_ARM,
                    lot: "T004512",
                },
                Imm {
                    vaccine: FLU,
                    procedure: FLU_PROC,
                    date: "2024-10-15",
                    dose: (1, 1),
                    site: NOSE,
                    lot: "LA2310",
                },
            ],
            obs: &[
                Obs {
                    code: "27113001",
                    display: "Body weight",
                    value: 21.2,
                    unit: "kg",
                    date: "2025-03-18",
                },
                Obs {
                    code: "50373000",
                    display: "Body height",
                    value: 113.0,
                    unit: "cm",
                    date: "2025-03-18",
                },
            ],
        },
        Record {
            person: Person {
                nhs: "9990000042",
                given: "Margaret",
                family: "OYELARAN",
                prefix: "MRS",
                gender: "female",
                birth: "1962-12-01",
                line: "88 Wellington Hill West",
                city: "BRISTOL",
                postcode: "BS9 9ZD",
                practice: 1,
                registered: "1998-10-05",
            },
            allergies: &[Allergy {
                code: "371595002",
                display: "Codeine intolerance",
                category: "medication",
                type_: "intolerance",
                reaction: Some(("422587007", "Nausea", "moderate")),
                asserted: "2008-02-27",
                ended: None,
            }],
            meds: &[
                Med {
                    code: "42109611000001109",
                    display: "Levothyroxine sodium 100microgram tablets",
                    dose: "One tablet each morning",
                    quantity: 56.0,
                    quantity_text: "tablet",
                    days: 56,
                    start: "2009-07-14",
                    repeat: Some((6, &["2025-01-20", "2025-03-17", "2025-05-12"])),
                    ended: None,
                },
                Med {
                    code: "39109611000001108",
                    display: "Sertraline 50mg tablets",
                    dose: "One tablet once a day",
                    quantity: 28.0,
                    quantity_text: "tablet",
                    days: 28,
                    start: "2023-02-06",
                    repeat: Some((6, &["2023-07-24", "2023-08-21"])),
                    ended: Some("2023-09-18"),
                },
            ],
            problems: &[
                Problem {
                    code: "40930008",
                    display: "Hypothyroidism",
                    onset: "2009-07-14",
                    resolved: None,
                    major: true,
                },
                Problem {
                    code: "197480006",
                    display: "Anxiety disorder",
                    onset: "2023-02-06",
                    resolved: Some("2023-09-18"),
                    major: false,
                },
            ],
            imms: &[Imm {
                vaccine: FLU_INJ,
                procedure: FLU_PROC,
                date: "2024-10-11",
                dose: (1, 1),
                site: LEFT_ARM,
                lot: "FL2410B",
            }],
            obs: &[
                Obs {
                    code: "1022791000000101",
                    display: "Serum TSH (thyroid stimulating hormone) level",
                    value: 2.1,
                    unit: "m[IU]/L",
                    date: "2025-01-13",
                },
                Obs {
                    code: "72313002",
                    display: "Systolic arterial pressure",
                    value: 124.0,
                    unit: "mm[Hg]",
                    date: "2025-01-13",
                },
                Obs {
                    code: "1091811000000102",
                    display: "Diastolic arterial pressure",
                    value: 76.0,
                    unit: "mm[Hg]",
                    date: "2025-01-13",
                },
            ],
        },
    ]
}

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

/// PDS R4 records of the scenario patients that have no GP Connect record of their own.
fn pds_only() -> Vec<Value> {
    let security = |code: &str, display: &str| {
        json!({ "versionId": "1", "security": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
            "code": code, "display": display }] })
    };
    let ident = |nhs: &str| json!([{ "system": NHS_SYSTEM, "value": nhs }]);
    let gp = |ods: &str| json!([{ "type": "Organization", "identifier": { "system": ODS_SYSTEM, "value": ods } }]);
    vec![
        json!({
            "resourceType": "Patient",
            "id": "9000000009",
            "identifier": ident("9000000009"),
            "meta": security("U", "unrestricted"),
            "name": [{ "use": "usual", "given": ["Edith"], "family": "HARGREAVES", "prefix": ["Mrs"] }],
            "gender": "female",
            "birthDate": "1931-02-17",
            "deceasedDateTime": "2024-11-30T08:15:00+00:00",
            "address": [{ "use": "home", "line": ["7 Orchard Lane"], "city": "LEEDS", "postalCode": "LS6 9ZE" }],
            "generalPractitioner": gp(PRACTICES[0].ods),
        }),
        json!({
            "resourceType": "Patient",
            "id": "9000000025",
            "identifier": ident("9000000025"),
            "meta": security("R", "restricted"),
            "name": [{ "use": "usual", "given": ["Janine"], "family": "CALLOWAY", "prefix": ["Ms"] }],
            "gender": "female",
            "birthDate": "1979-08-23",
        }),
        json!({
            "resourceType": "Patient",
            "id": "9000000033",
            "identifier": ident("9000000033"),
            "meta": security("U", "unrestricted"),
            "name": [{ "use": "usual", "given": ["Tomasz"], "family": "NOWAKOWSKI", "prefix": ["Mr"] }],
            "gender": "male",
            "birthDate": "1990-01-05",
            "address": [{ "use": "home", "line": ["19 Mill Street"], "city": "BRISTOL", "postalCode": "BS3 9ZF" }],
            "generalPractitioner": gp(PRACTICES[1].ods),
        }),
    ]
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
