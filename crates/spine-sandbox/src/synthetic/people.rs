//! Who the synthetic patients are: the practices, people and the clinical items of each
//! record, as plain data for the generator in [`super`]. Fictitious people; NHS numbers from
//! the 999 test range; SNOMED CT and dm+d codes as GP systems send them.

use serde_json::{Value, json};

use super::{NHS_SYSTEM, ODS_SYSTEM};

pub(super) struct Practice {
    pub ods: &'static str,
    pub name: &'static str,
    pub lines: [&'static str; 2],
    pub city: &'static str,
    pub postcode: &'static str,
    pub gp: (&'static str, &'static str, &'static str, &'static str),
}

pub(super) const PRACTICES: [Practice; 2] = [
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

pub(super) struct Person {
    pub nhs: &'static str,
    pub given: &'static str,
    pub family: &'static str,
    pub prefix: &'static str,
    pub gender: &'static str,
    pub birth: &'static str,
    pub line: &'static str,
    pub city: &'static str,
    pub postcode: &'static str,
    pub practice: usize,
    pub registered: &'static str,
}

/// An allergy, or "no known allergy" when `code` is 716186003.
pub(super) struct Allergy {
    pub code: &'static str,
    pub display: &'static str,
    pub category: &'static str,
    pub type_: &'static str,
    pub reaction: Option<(&'static str, &'static str, &'static str)>,
    pub asserted: &'static str,
    /// End date and reason: filed in the "Ended allergies" List.
    pub ended: Option<(&'static str, &'static str)>,
}

pub(super) struct Med {
    pub code: &'static str,
    pub display: &'static str,
    pub dose: &'static str,
    pub quantity: f64,
    pub quantity_text: &'static str,
    pub days: u32,
    pub start: &'static str,
    /// `Some((allowed, issue dates))` for a repeat course, `None` for an acute one.
    pub repeat: Option<(u32, &'static [&'static str])>,
    /// A course that has finished (statement `completed`, plan `completed`).
    pub ended: Option<&'static str>,
}

pub(super) struct Problem {
    pub code: &'static str,
    pub display: &'static str,
    pub onset: &'static str,
    pub resolved: Option<&'static str>,
    pub major: bool,
}

pub(super) struct Imm {
    pub vaccine: (&'static str, &'static str),
    pub procedure: (&'static str, &'static str),
    pub date: &'static str,
    pub dose: (u32, u32),
    pub site: (&'static str, &'static str),
    pub lot: &'static str,
}

pub(super) struct Obs {
    pub code: &'static str,
    pub display: &'static str,
    pub value: f64,
    pub unit: &'static str,
    pub date: &'static str,
}

pub(super) struct Record {
    pub person: Person,
    pub allergies: &'static [Allergy],
    pub meds: &'static [Med],
    pub problems: &'static [Problem],
    pub imms: &'static [Imm],
    pub obs: &'static [Obs],
}

pub(super) const NKA: Allergy = Allergy {
    code: "716186003",
    display: "No known allergy",
    category: "medication",
    type_: "allergy",
    reaction: None,
    asserted: "2019-02-11",
    ended: None,
};

pub(super) const FLU: (&str, &str) = (
    "39114911000001105",
    "Fluenz Tetra vaccine nasal suspension 0.2ml unit dose",
);
pub(super) const FLU_INJ: (&str, &str) = (
    "40384611000001108",
    "Quadrivalent influenza vaccine (split virion, inactivated) suspension for injection 0.5ml pre-filled syringes",
);
pub(super) const FLU_PROC: (&str, &str) = ("822851000000102", "Seasonal influenza vaccination");
pub(super) const LEFT_ARM: (&str, &str) = ("368208006", "Left upper arm structure");
pub(super) const RIGHT_ARM: (&str, &str) = ("368209003", "Right upper arm structure");
pub(super) const NOSE: (&str, &str) = ("1797002", "Naris structure");

pub(super) fn records() -> Vec<Record> {
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

/// PDS R4 records of the scenario patients that have no GP Connect record of their own.
pub(super) fn pds_only() -> Vec<Value> {
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
