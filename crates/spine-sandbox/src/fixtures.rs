//! The sandbox's world, built once from the fixtures directory: every GP Connect bundle whose
//! patient has a valid NHS number, PDS records consistent with it (same GP practice), an SDS
//! entry for every practice, and the scenario patients for the unhappy paths.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use nhs_number::NhsNumber;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const LIST_WARNING_EXTENSION: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-ListWarningCode-1";
/// The small bundle the scenario patients are cloned from.
const SCENARIO_BASE: &str = "9690937278";

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("fixtures directory {0} has no gpconnect/ or pds/ folder")]
    Missing(PathBuf),
    #[error("no usable GP Connect bundle under {0}")]
    NoBundles(PathBuf),
}

/// What PDS answers for a number.
#[derive(Debug, Clone)]
pub(crate) enum PdsAnswer {
    Record(Value),
    NotFound,
    Invalidated,
    MergedInto(String),
}

/// A bundle and the clinical area it was written for (spec examples cover one area each).
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub area: Option<&'static str>,
    pub bytes: Bytes,
}

/// What GP Connect does for a number.
#[derive(Debug, Clone)]
pub(crate) enum GpBehaviour {
    Records(Vec<Record>),
    Error {
        status: u16,
        code: &'static str,
    },
    /// Answers after the configured slow delay.
    Slow(Record),
    /// 500 every time.
    Failing,
    /// 503 twice, then the record, then again.
    Flaky(Record),
}

#[derive(Debug, Clone)]
pub(crate) struct Patient {
    pub pds: PdsAnswer,
    /// The practice holding the record; GP Connect answers only at that practice's endpoint.
    pub practice: Option<String>,
    pub gp: Option<GpBehaviour>,
    pub info: SandboxPatient,
}

/// One patient of the sandbox, for printing ready-to-paste examples.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SandboxPatient {
    pub nhs_number: String,
    /// Short scenario name: `full record`, `restricted`, `no consent`, `slow GP Connect`, …
    pub scenario: String,
    pub description: String,
    /// ODS code of the GP practice, when PDS gives one.
    pub gp_ods_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Practice {
    pub asid: String,
    pub party_key: String,
}

#[derive(Debug, Default)]
pub(crate) struct Directory {
    pub patients: BTreeMap<String, Patient>,
    pub practices: BTreeMap<String, Practice>,
}

fn area_of(file: &str) -> Option<&'static str> {
    let prefix = file.split('_').next()?;
    Some(match prefix {
        "allergies" => "includeAllergies",
        "meds" => "includeMedication",
        "problems" => "includeProblems",
        "immunizations" => "includeImmunisations",
        "consultations" => "includeConsultations",
        "uncategorised" => "includeUncategorisedData",
        "pathology" => "includeInvestigations",
        "referrals" => "includeReferrals",
        "diaryentries" => "includeDiaryEntries",
        _ => return None,
    })
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| !p.to_string_lossy().contains(".malformed."))
        .collect();
    files.sort();
    files
}

/// Deterministic 12-digit ASID and party key per ODS code, so runs and restarts agree.
fn practice_for(ods: &str) -> Practice {
    let d = Sha256::digest(ods.as_bytes());
    let n = u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
    Practice {
        asid: format!("9{:011}", n % 100_000_000_000),
        party_key: format!("{ods}-{:06}", n % 1_000_000),
    }
}

struct BundlePatient {
    nhs: String,
    ods: Option<String>,
    patient: Value,
}

fn bundle_patient(bundle: &Value) -> Option<BundlePatient> {
    let entries = bundle.get("entry")?.as_array()?;
    let resources = entries.iter().filter_map(|e| e.get("resource"));
    let patient = resources
        .clone()
        .find(|r| r["resourceType"] == "Patient")?
        .clone();
    let nhs = patient["identifier"].as_array()?.iter().find(|i| {
        i["system"]
            .as_str()
            .is_some_and(|s| s.ends_with("/nhs-number"))
    })?["value"]
        .as_str()?
        .to_owned();
    let orgs: Vec<&Value> = resources
        .filter(|r| r["resourceType"] == "Organization")
        .collect();
    let ods_of = |org: &Value| {
        org["identifier"].as_array().and_then(|ids| {
            ids.iter()
                .find(|i| i["system"] == ODS_SYSTEM)
                .and_then(|i| i["value"].as_str())
                .map(str::to_owned)
        })
    };
    let managing = patient["managingOrganization"]["reference"]
        .as_str()
        .and_then(|r| r.strip_prefix("Organization/"))
        .and_then(|id| orgs.iter().find(|o| o["id"] == id))
        .and_then(|o| ods_of(o));
    let ods = managing.or_else(|| orgs.iter().find_map(|o| ods_of(o)));
    Some(BundlePatient { nhs, ods, patient })
}

/// A PDS R4 Patient from a GP Connect STU3 Patient, registered at `ods`.
fn synthesise_pds(nhs: &str, stu3: &Value, ods: Option<&str>) -> Value {
    let mut p = json!({
        "resourceType": "Patient",
        "id": nhs,
        "identifier": [{ "system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs }],
        "meta": { "versionId": "1", "security": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
            "code": "U", "display": "unrestricted" }] },
    });
    for field in ["name", "gender", "birthDate", "address", "telecom"] {
        if let Some(v) = stu3.get(field) {
            p[field] = v.clone();
        }
    }
    if let Some(ods) = ods {
        p["generalPractitioner"] = gp_reference(ods);
    }
    p
}

fn gp_reference(ods: &str) -> Value {
    json!([{ "type": "Organization", "identifier": { "system": ODS_SYSTEM, "value": ods } }])
}

fn pds_gp(record: &Value) -> Option<String> {
    record["generalPractitioner"]
        .as_array()?
        .iter()
        .find_map(|g| {
            (g["identifier"]["system"] == ODS_SYSTEM)
                .then(|| g["identifier"]["value"].as_str().map(str::to_owned))
                .flatten()
        })
}

fn with_warning(bundle: &[u8], code: &str) -> Option<Bytes> {
    let mut v: Value = serde_json::from_slice(bundle).ok()?;
    for entry in v["entry"].as_array_mut()? {
        let r = &mut entry["resource"];
        if r["resourceType"] == "List" {
            let ext = json!({ "url": LIST_WARNING_EXTENSION, "valueCode": code });
            match r["extension"].as_array_mut() {
                Some(list) => list.push(ext),
                None => r["extension"] = json!([ext]),
            }
        }
    }
    Some(Bytes::from(v.to_string()))
}

/// The raw files a directory is built from: PDS R4 Patient reads (earlier wins for one NHS
/// number) and GP Connect bundles with the folder they came from.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    pub pds: Vec<Bytes>,
    /// `(folder, file name, bytes)`; only `spec-examples` bundles carry a clinical area.
    pub gpc: Vec<(&'static str, String, Bytes)>,
}

impl Sources {
    /// A fixtures directory laid out as `../shared/fixtures` (`gpconnect/{xhuma,gp2gp,
    /// spec-examples}`, `pds/{xhuma,patientResponses,sandbox-mocks}`).
    pub(crate) fn from_dir(root: &Path) -> Result<Self, FixtureError> {
        let gpc = root.join("gpconnect");
        let pds = root.join("pds");
        if !gpc.is_dir() || !pds.is_dir() {
            return Err(FixtureError::Missing(root.to_owned()));
        }
        let mut sources = Sources::default();
        // Earlier folders win: the xhuma reads belong to the xhuma bundles.
        for sub in ["xhuma", "patientResponses", "sandbox-mocks"] {
            for file in json_files(&pds.join(sub)) {
                if let Ok(bytes) = std::fs::read(&file) {
                    sources.pds.push(Bytes::from(bytes));
                }
            }
        }
        for sub in ["xhuma", "gp2gp", "spec-examples"] {
            for file in json_files(&gpc.join(sub)) {
                let Ok(bytes) = std::fs::read(&file) else {
                    continue;
                };
                let name = file
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                sources.gpc.push((sub, name, Bytes::from(bytes)));
            }
        }
        Ok(sources)
    }

    /// The synthetic records compiled into the binary.
    pub(crate) fn embedded() -> Self {
        let mut sources = Sources::default();
        for (path, text) in crate::embedded::FILES {
            let bytes = Bytes::from_static(text.as_bytes());
            match path.split_once('/') {
                Some(("pds", _)) => sources.pds.push(bytes),
                Some(("gpconnect", name)) => {
                    sources.gpc.push(("synthetic", name.to_owned(), bytes))
                }
                _ => {}
            }
        }
        sources
    }
}

impl Directory {
    pub(crate) fn load(root: &Path) -> Result<Self, FixtureError> {
        Self::build(Sources::from_dir(root)?, &root.join("gpconnect"))
    }

    /// The built-in synthetic patients (and the scenario patients derived from them).
    pub(crate) fn embedded() -> Result<Self, FixtureError> {
        Self::build(
            Sources::embedded(),
            Path::new("(embedded synthetic records)"),
        )
    }

    fn build(sources: Sources, origin: &Path) -> Result<Self, FixtureError> {
        let mut dir = Directory::default();
        let mut pds_records: BTreeMap<String, Value> = BTreeMap::new();
        for bytes in &sources.pds {
            let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
                continue;
            };
            if v["resourceType"] != "Patient" {
                continue;
            }
            if let Some(id) = v["id"].as_str().filter(|id| NhsNumber::parse(id).is_ok()) {
                pds_records.entry(id.to_owned()).or_insert(v);
            }
        }

        let mut base: Option<(Bytes, Value, Option<String>)> = None;
        for (sub, name, bytes) in sources.gpc {
            let Ok(bundle) = serde_json::from_slice::<Value>(&bytes) else {
                tracing::debug!(file = %name, "skipping unparsable fixture");
                continue;
            };
            if bundle["resourceType"] != "Bundle" {
                continue;
            }
            let Some(bp) = bundle_patient(&bundle) else {
                continue;
            };
            if NhsNumber::parse(&bp.nhs).is_err() {
                // e.g. 1234567890 in the gp2gp fixtures: not answerable by NHS number.
                continue;
            }
            if bp.nhs == SCENARIO_BASE {
                base = Some((bytes.clone(), bp.patient.clone(), bp.ods.clone()));
            }
            let record = Record {
                area: if sub == "spec-examples" {
                    area_of(&name)
                } else {
                    None
                },
                bytes,
            };
            let rel = format!("gpconnect/{sub}/{name}");
            match dir.patients.get_mut(&bp.nhs) {
                Some(Patient {
                    gp: Some(GpBehaviour::Records(records)),
                    info,
                    ..
                }) => {
                    records.push(record);
                    info.description.push_str(&format!(", {rel}"));
                }
                _ => {
                    let mut pds_record = pds_records
                        .remove(&bp.nhs)
                        .unwrap_or_else(|| synthesise_pds(&bp.nhs, &bp.patient, bp.ods.as_deref()));
                    // Keep PDS consistent with the practice that holds the record.
                    if let Some(ods) = &bp.ods {
                        pds_record["generalPractitioner"] = gp_reference(ods);
                    }
                    dir.patients.insert(
                        bp.nhs.clone(),
                        Patient {
                            pds: PdsAnswer::Record(pds_record),
                            practice: bp.ods.clone(),
                            gp: Some(GpBehaviour::Records(vec![record])),
                            info: SandboxPatient {
                                nhs_number: bp.nhs.clone(),
                                scenario: "full record".into(),
                                description: format!("GP Connect record from {rel}"),
                                gp_ods_code: bp.ods.clone(),
                            },
                        },
                    );
                }
            }
        }
        let Some((base_bytes, base_patient, base_ods)) = base.or_else(|| {
            // Any bundle will do as the template when the usual one is absent.
            dir.patients.iter().find_map(|(nhs, p)| match &p.gp {
                Some(GpBehaviour::Records(r)) => {
                    let v: Value = serde_json::from_slice(&r[0].bytes).ok()?;
                    let bp = bundle_patient(&v)?;
                    debug_assert_eq!(&bp.nhs, nhs);
                    Some((r[0].bytes.clone(), bp.patient, bp.ods))
                }
                _ => None,
            })
        }) else {
            return Err(FixtureError::NoBundles(origin.to_owned()));
        };
        let base_nhs = bundle_patient(&serde_json::from_slice(&base_bytes).unwrap_or(Value::Null))
            .map(|b| b.nhs)
            .unwrap_or_default();

        // PDS-only patients (no GP Connect record anywhere).
        for (nhs, record) in pds_records {
            let restricted = record["meta"]["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|c| c["code"] == "R" || c["code"] == "V"));
            let deceased = record.get("deceasedDateTime").is_some();
            let gp = pds_gp(&record);
            let (scenario, description) = if restricted {
                (
                    "restricted",
                    "S-flagged (restricted) PDS record: no address, no GP practice",
                )
            } else if deceased {
                (
                    "deceased",
                    "PDS record with a date of death; the practice has no GP Connect record",
                )
            } else {
                (
                    "PDS only",
                    "PDS record; the practice has no GP Connect record (PATIENT_NOT_FOUND)",
                )
            };
            dir.patients.insert(
                nhs.clone(),
                Patient {
                    pds: PdsAnswer::Record(record),
                    practice: gp.clone(),
                    gp: None,
                    info: SandboxPatient {
                        nhs_number: nhs,
                        scenario: scenario.into(),
                        description: description.into(),
                        gp_ods_code: gp,
                    },
                },
            );
        }

        let merged_description = format!("superseded: PDS answers with the record of {base_nhs}");
        let clone_for = |nhs: &str| Record {
            area: None,
            bytes: Bytes::from(
                String::from_utf8_lossy(&base_bytes).replace(base_nhs.as_str(), nhs),
            ),
        };
        let pds_for =
            |nhs: &str| PdsAnswer::Record(synthesise_pds(nhs, &base_patient, base_ods.as_deref()));
        let in_transit = with_warning(&clone_for("9000000106").bytes, "data-in-transit")
            .map(|bytes| Record { area: None, bytes });
        let scenarios: Vec<(&str, &str, &str, PdsAnswer, Option<GpBehaviour>)> = vec![
            (
                "9000000041",
                "not found",
                "unknown to PDS and to every practice",
                PdsAnswer::NotFound,
                None,
            ),
            (
                "9000000068",
                "merged",
                merged_description.as_str(),
                PdsAnswer::MergedInto(base_nhs.clone()),
                None,
            ),
            (
                "9000000076",
                "invalidated",
                "PDS record marked invalid (404 INVALIDATED_RESOURCE)",
                PdsAnswer::Invalidated,
                None,
            ),
            (
                "9000000084",
                "no consent",
                "patient dissented from sharing: GP Connect 403 NO_PATIENT_CONSENT",
                pds_for("9000000084"),
                Some(GpBehaviour::Error {
                    status: 403,
                    code: "NO_PATIENT_CONSENT",
                }),
            ),
            (
                "9000000092",
                "invalid NHS number at GP",
                "the practice rejects the number: GP Connect 400 INVALID_NHS_NUMBER",
                pds_for("9000000092"),
                Some(GpBehaviour::Error {
                    status: 400,
                    code: "INVALID_NHS_NUMBER",
                }),
            ),
            (
                "9000000106",
                "data in transit",
                "record being transferred (GP2GP): every List carries the data-in-transit warning",
                pds_for("9000000106"),
                in_transit.map(|r| GpBehaviour::Records(vec![r])),
            ),
            (
                "9000000114",
                "slow GP Connect",
                "GP Connect answers only after the slow delay (default 5 s, beyond the 3 s limit)",
                pds_for("9000000114"),
                Some(GpBehaviour::Slow(clone_for("9000000114"))),
            ),
            (
                "9000000122",
                "failing GP Connect",
                "GP Connect answers 500 INTERNAL_SERVER_ERROR every time",
                pds_for("9000000122"),
                Some(GpBehaviour::Failing),
            ),
            (
                "9000000130",
                "flaky GP Connect",
                "GP Connect answers 503 twice, then the record (exercises retries)",
                pds_for("9000000130"),
                Some(GpBehaviour::Flaky(clone_for("9000000130"))),
            ),
            (
                "9000000149",
                "access denied",
                "the practice refuses the requesting organisation: GP Connect 403 ACCESS_DENIED",
                pds_for("9000000149"),
                Some(GpBehaviour::Error {
                    status: 403,
                    code: "ACCESS_DENIED",
                }),
            ),
        ];
        for (nhs, scenario, description, pds, gp) in scenarios {
            let practice = match &pds {
                PdsAnswer::Record(r) => pds_gp(r),
                _ => None,
            };
            dir.patients.insert(
                nhs.to_owned(),
                Patient {
                    pds,
                    practice: practice.clone(),
                    gp,
                    info: SandboxPatient {
                        nhs_number: nhs.into(),
                        scenario: scenario.into(),
                        description: description.into(),
                        gp_ods_code: practice,
                    },
                },
            );
        }

        for p in dir.patients.values() {
            if let Some(ods) = &p.practice {
                dir.practices
                    .entry(ods.clone())
                    .or_insert_with(|| practice_for(ods));
            }
        }
        Ok(dir)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn dir() -> Directory {
        Directory::load(Path::new(crate::SHARED_FIXTURES_DIR)).unwrap()
    }

    #[test]
    fn every_bundle_with_a_valid_nhs_number_is_answerable() {
        let d = dir();
        for nhs in [
            "9690937278",
            "9690937286",
            "9690937472",
            "9690938118",
            "9692136744",
            "9692140466",
            "9465701459",
            "9999999999",
        ] {
            let p = d.patients.get(nhs).unwrap_or_else(|| panic!("{nhs}"));
            assert!(matches!(p.gp, Some(GpBehaviour::Records(_))), "{nhs}");
            let ods = p.practice.as_ref().unwrap();
            assert!(d.practices.contains_key(ods), "{nhs} practice {ods}");
            match &p.pds {
                PdsAnswer::Record(r) => assert_eq!(pds_gp(r).as_ref(), Some(ods), "{nhs}"),
                other => panic!("{nhs}: {other:?}"),
            }
        }
        // spec examples share one patient: one record per clinical area
        let Some(GpBehaviour::Records(r)) = &d.patients["9999999999"].gp else {
            panic!()
        };
        assert!(r.len() > 10);
        assert!(r.iter().any(|r| r.area == Some("includeMedication")));
    }

    #[test]
    fn scenarios_and_pds_fixtures_are_present() {
        let d = dir();
        assert_eq!(d.patients["9000000025"].info.scenario, "restricted");
        assert_eq!(d.patients["9000000009"].info.scenario, "deceased");
        assert_eq!(d.patients["9000000084"].info.scenario, "no consent");
        let Some(GpBehaviour::Records(r)) = &d.patients["9000000106"].gp else {
            panic!()
        };
        let text = String::from_utf8_lossy(&r[0].bytes);
        assert!(text.contains("data-in-transit") && text.contains("9000000106"));
        assert!(!text.contains(SCENARIO_BASE));
    }

    #[test]
    fn the_embedded_patients_need_no_file() {
        let d = Directory::embedded().unwrap();
        for nhs in ["9990000018", "9990000026", "9990000034", "9990000042"] {
            let p = &d.patients[nhs];
            assert!(matches!(p.gp, Some(GpBehaviour::Records(_))), "{nhs}");
            let ods = p.practice.as_ref().unwrap();
            assert!(d.practices.contains_key(ods), "{nhs}");
        }
        for (nhs, scenario) in [
            ("9000000009", "deceased"),
            ("9000000025", "restricted"),
            ("9000000033", "PDS only"),
            ("9000000041", "not found"),
            ("9000000084", "no consent"),
            ("9000000106", "data in transit"),
            ("9000000130", "flaky GP Connect"),
        ] {
            assert_eq!(d.patients[nhs].info.scenario, scenario, "{nhs}");
        }
        // The scenario patients are cloned from the first synthetic record.
        assert!(matches!(
            &d.patients["9000000068"].pds,
            PdsAnswer::MergedInto(n) if n == "9990000018"
        ));
        let Some(GpBehaviour::Records(r)) = &d.patients["9000000106"].gp else {
            panic!()
        };
        let text = String::from_utf8_lossy(&r[0].bytes);
        assert!(text.contains("PEMBERTON") && !text.contains("9990000018"));
    }

    #[test]
    fn practice_identifiers_are_stable_and_well_formed() {
        let a = practice_for("B82617");
        assert_eq!(a, practice_for("B82617"));
        assert_eq!(a.asid.len(), 12);
        assert!(a.asid.bytes().all(|b| b.is_ascii_digit()));
    }
}
