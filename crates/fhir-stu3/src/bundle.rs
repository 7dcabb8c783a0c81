//! The Bundle: parsing, the Patient it is about, and reference resolution.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::read::{Ctx, Obj, Path};
use crate::resources::{List, Patient, Resource};
use crate::{ParseError, Warning};

/// One `Bundle.entry`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Entry {
    pub full_url: Option<String>,
    pub resource: Resource,
}

/// A parsed GP Connect structured-record Bundle. Always has a Patient.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub id: Option<String>,
    pub entries: Vec<Entry>,
    /// Everything tolerated while reading, in input order.
    pub warnings: Vec<Warning>,
    patient: usize,
    by_type_id: HashMap<String, usize>,
    by_full_url: HashMap<String, usize>,
}

impl Bundle {
    /// Parses a Bundle from JSON bytes, tolerating the deviations described in the crate
    /// documentation (each one becomes a [`Warning`]).
    pub fn parse(json: &[u8]) -> Result<Self, ParseError> {
        let root: Value = serde_json::from_slice(json).map_err(|e| ParseError::InvalidJson {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let Value::Object(map) = &root else {
            return Err(ParseError::NotABundle {
                found: "(not a JSON object)".into(),
            });
        };
        match map.get("resourceType") {
            Some(Value::String(s)) if s == "Bundle" => {}
            Some(Value::String(s)) => return Err(ParseError::NotABundle { found: s.clone() }),
            _ => {
                return Err(ParseError::NotABundle {
                    found: "(missing)".into(),
                });
            }
        }
        let mut warnings = Vec::new();
        let root_obj = Obj::new(map, Path::ROOT);
        let mut ctx = Ctx {
            resource: "Bundle".into(),
            warnings: &mut warnings,
        };
        let id = root_obj.string(&mut ctx, "id");
        let raw_entries = root_obj.objects(&mut ctx, "entry");
        let entry_path = Path::ROOT.key("entry");

        let mut entries = Vec::with_capacity(raw_entries.len());
        for (i, e) in raw_entries {
            let ep = entry_path.index(i);
            let eo = Obj::new(e, ep);
            let mut ctx = Ctx {
                resource: format!("Bundle.entry[{i}]"),
                warnings: &mut warnings,
            };
            let full_url = eo.string(&mut ctx, "fullUrl");
            let (r, rp) = match eo.object(&mut ctx, "resource") {
                Some(r) => (r, ep.key("resource")),
                // Some suppliers write the resource itself as the entry.
                None if e.contains_key("resourceType") => {
                    ctx.warn(
                        ep,
                        "a resource written directly as the entry (no `resource` element); read as the entry's resource",
                    );
                    (e, ep)
                }
                None => {
                    ctx.warn(ep, "an entry without a resource; ignored");
                    continue;
                }
            };
            let ro = Obj::new(r, rp);
            let Some(Value::String(rt)) = r.get("resourceType") else {
                ctx.warn(rp, "a resource without resourceType; ignored");
                continue;
            };
            ctx.resource = format!(
                "{rt}/{}",
                r.get("id").and_then(Value::as_str).unwrap_or("?")
            );
            // Paths inside a resource are reported relative to the resource.
            let resource = Resource::read(&mut ctx, rt, Obj::new(ro.map, Path::ROOT));
            entries.push(Entry { full_url, resource });
        }

        let mut by_type_id = HashMap::with_capacity(entries.len());
        let mut by_full_url = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            if let Some(id) = e.resource.id() {
                let key = format!("{}/{id}", e.resource.resource_type());
                match by_type_id.entry(key) {
                    std::collections::hash_map::Entry::Occupied(o) => warnings.push(Warning {
                        resource: o.key().clone(),
                        path: String::new(),
                        message: "another resource has the same type and id; references resolve to the first".into(),
                    }),
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(i);
                    }
                }
            }
            if let Some(u) = &e.full_url {
                by_full_url.entry(u.clone()).or_insert(i);
            }
        }

        let mut patients = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e.resource, Resource::Patient(_)))
            .map(|(i, _)| i);
        let Some(patient) = patients.next() else {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for e in &entries {
                *counts.entry(e.resource.resource_type()).or_default() += 1;
            }
            let present = if counts.is_empty() {
                "none".to_owned()
            } else {
                counts
                    .iter()
                    .map(|(t, n)| format!("{t} ×{n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(ParseError::NoPatient {
                entries: entries.len(),
                present,
            });
        };
        if patients.next().is_some() {
            warnings.push(Warning {
                resource: "Bundle".into(),
                path: "entry".into(),
                message: "more than one Patient; the first is the subject of the record".into(),
            });
        }
        Ok(Self {
            id,
            entries,
            warnings,
            patient,
            by_type_id,
            by_full_url,
        })
    }

    /// The Patient the record is about (the first Patient entry).
    pub fn patient(&self) -> &Patient {
        match &self.entries[self.patient].resource {
            Resource::Patient(p) => p,
            // `parse` only stores an index that points at a Patient.
            _ => unreachable!("patient index points at a Patient"),
        }
    }

    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.entries.iter().map(|e| &e.resource)
    }

    pub fn lists(&self) -> impl Iterator<Item = &List> {
        self.resources().filter_map(|r| match r {
            Resource::List(l) => Some(l),
            _ => None,
        })
    }

    /// The resource with this type and id.
    pub fn get(&self, resource_type: &str, id: &str) -> Option<&Resource> {
        let key = format!("{resource_type}/{id}");
        self.by_type_id
            .get(&key)
            .map(|&i| &self.entries[i].resource)
    }

    /// Resolves a FHIR reference: `#id` (inside `container`'s contained resources), relative
    /// `Type/id`, `urn:uuid:…` full URLs, and absolute URLs (by fullUrl, else by their
    /// trailing `Type/id`, ignoring `_history`).
    pub fn resolve<'a>(
        &'a self,
        reference: &str,
        container: Option<&'a List>,
    ) -> Option<&'a Resource> {
        let reference = reference.trim();
        if let Some(local) = reference.strip_prefix('#') {
            return container?.contained.iter().find(|r| r.id() == Some(local));
        }
        if let Some(&i) = self.by_full_url.get(reference) {
            return Some(&self.entries[i].resource);
        }
        if reference.starts_with("urn:") {
            return None;
        }
        let path = reference.split(['?', '#']).next().unwrap_or(reference);
        let mut segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        if let Some(pos) = segs.iter().position(|s| *s == "_history") {
            segs.truncate(pos);
        }
        let n = segs.len();
        if n < 2 {
            return None;
        }
        self.get(segs[n - 2], segs[n - 1])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{ObservationValue, Quantity};

    fn bundle(entries: &str) -> Result<Bundle, ParseError> {
        Bundle::parse(format!(r#"{{"resourceType":"Bundle","entry":[{entries}]}}"#).as_bytes())
    }

    const PATIENT: &str =
        r#"{"fullUrl":"urn:uuid:0a1b","resource":{"resourceType":"Patient","id":"p1"}}"#;

    #[test]
    fn invalid_json_has_position() {
        let e =
            Bundle::parse(b"{\n  \"resourceType\": \"Bundle\",\n  \"entry\": [1,]\n}").unwrap_err();
        match e {
            ParseError::InvalidJson { line, column, .. } => assert_eq!((line, column), (3, 15)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn range_and_ratio_values_keep_their_quantities() {
        let b = bundle(&format!(
            r#"{PATIENT},
            {{"resource":{{"resourceType":"Observation","id":"r","valueRange":{{"low":{{"value":2.5,"unit":"mmol/L"}},"high":{{"value":"3.1"}}}}}}}},
            {{"resource":{{"resourceType":"Observation","id":"q","valueRatio":{{"numerator":{{"value":1}},"denominator":{{"value":64}}}}}}}}"#
        ))
        .unwrap();
        let values: Vec<_> = b
            .resources()
            .filter_map(|r| match r {
                Resource::Observation(o) => o.value.clone(),
                _ => None,
            })
            .collect();
        let n = |q: &Option<Quantity>| q.as_ref().and_then(|q| q.value.clone()).map(|v| v.0);
        match &values[..] {
            [
                ObservationValue::Range { low, high },
                ObservationValue::Ratio {
                    numerator,
                    denominator,
                },
            ] => {
                assert_eq!(n(low).as_deref(), Some("2.5"));
                assert_eq!(low.as_ref().and_then(|q| q.unit.as_deref()), Some("mmol/L"));
                assert_eq!(n(high).as_deref(), Some("3.1"));
                assert_eq!(n(numerator).as_deref(), Some("1"));
                assert_eq!(n(denominator).as_deref(), Some("64"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn not_a_bundle() {
        let e = Bundle::parse(br#"{"resourceType":"Parameters"}"#).unwrap_err();
        assert_eq!(
            e,
            ParseError::NotABundle {
                found: "Parameters".into()
            }
        );
        assert!(matches!(
            Bundle::parse(b"[1]").unwrap_err(),
            ParseError::NotABundle { .. }
        ));
    }

    #[test]
    fn no_patient_names_what_is_there() {
        let e = bundle(
            r#"{"resource":{"resourceType":"List","id":"l"}},{"resource":{"resourceType":"List"}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the Bundle has no Patient resource (2 entries; resource types present: List ×2)"
        );
    }

    #[test]
    fn references_resolve_in_all_forms() {
        let b = bundle(&format!(
            r#"{PATIENT},{{"resource":{{"resourceType":"List","id":"l","contained":[{{"resourceType":"AllergyIntolerance","id":"c1"}}]}}}}"#
        ))
        .unwrap();
        assert_eq!(b.resolve("Patient/p1", None).unwrap().id(), Some("p1"));
        assert_eq!(b.resolve("urn:uuid:0a1b", None).unwrap().id(), Some("p1"));
        assert_eq!(
            b.resolve("https://x.nhs.uk/STU3/Patient/p1/_history/2", None)
                .unwrap()
                .id(),
            Some("p1")
        );
        let list = b.lists().next().unwrap();
        assert_eq!(
            b.resolve("#c1", Some(list)).unwrap().resource_type(),
            "AllergyIntolerance"
        );
        assert!(b.resolve("#c1", None).is_none());
        assert!(b.resolve("Patient/none", None).is_none());
    }

    #[test]
    fn quirks_become_warnings() {
        let b = bundle(&format!(
            r#"{PATIENT},{{"resource":{{"resourceType":"MedicationRequest","id":"m","fhir_comments":["x"],
            "dispenseRequest":{{"expectedSupplyDuration":{{"value":"28","code":["d"]}}}},
            "authoredOn":"2019-01-01T10:00:00"}}}},
            {{"resource":{{"id":"no-type"}}}},{{"resource":{{"resourceType":"OperationOutcome","id":"o"}}}},
            {{"resource":{{"resourceType":"Condition","id":"c","meta":{{"profile":["https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Conditon-1"]}}}}}}"#
        ))
        .unwrap();
        let msgs: Vec<String> = b.warnings.iter().map(ToString::to_string).collect();
        let all = msgs.join("\n");
        assert!(all.contains("MedicationRequest/m dispenseRequest.expectedSupplyDuration.value: the number \"28\""), "{all}");
        assert!(
            all.contains("expectedSupplyDuration.code: an array"),
            "{all}"
        );
        assert!(
            all.contains("authoredOn: the dateTime \"2019-01-01T10:00:00\" has no timezone"),
            "{all}"
        );
        assert!(all.contains("fhir_comments"), "{all}");
        assert!(all.contains("without resourceType"), "{all}");
        assert!(
            all.contains("OperationOutcome is not part of this model"),
            "{all}"
        );
        let Resource::MedicationRequest(m) = b.get("MedicationRequest", "m").unwrap() else {
            panic!()
        };
        let d = m
            .dispense_request
            .as_ref()
            .unwrap()
            .expected_supply_duration
            .as_ref()
            .unwrap();
        assert_eq!(d.value.as_ref().unwrap().as_str(), "28");
        assert_eq!(d.code.as_deref(), Some("d"));
    }

    #[test]
    fn an_unwrapped_entry_and_a_bare_occurrence_are_read_with_warnings() {
        let b = bundle(&format!(
            r#"{PATIENT},{{"resourceType":"ProcedureRequest","id":"d","intent":"plan",
            "occurrence":{{"start":"2019-05-01"}},"requester":{{"agent":{{"reference":"Practitioner/1"}}}}}}"#
        ))
        .unwrap();
        let all: Vec<String> = b.warnings.iter().map(ToString::to_string).collect();
        let all = all.join("\n");
        assert!(all.contains("written directly as the entry"), "{all}");
        assert!(all.contains("read as occurrencePeriod"), "{all}");
        let Resource::ProcedureRequest(p) = b.get("ProcedureRequest", "d").unwrap() else {
            panic!()
        };
        let start = p.occurrence.as_ref().unwrap().start.as_ref().unwrap();
        assert_eq!(start.raw, "2019-05-01");
        assert_eq!(
            p.requester.as_ref().unwrap().reference.as_deref(),
            Some("Practitioner/1")
        );
    }
}
