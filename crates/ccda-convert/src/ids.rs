//! Stable entry ids: the same bundle always gives the same ids, derived from the FHIR
//! business identifiers (UUID values are used as they are; other values are hashed into a
//! name-based UUID), and no two entries of a document share one.

use std::collections::HashSet;

use fhir_stu3::Base;
use uuid::Uuid;

/// Namespace of all name-based ids this converter derives.
fn namespace() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:xhuma:ccda-convert:ids")
}

pub(crate) struct Ids {
    ns: Uuid,
    used: HashSet<Uuid>,
    /// Scope for resources without an identifier (the patient), so that `Condition/1` of
    /// two patients does not collide.
    scope: String,
    pub(crate) warnings: Vec<String>,
}

fn parse_uuid(v: &str) -> Option<Uuid> {
    let v = v.trim();
    let v = v.strip_prefix("urn:uuid:").unwrap_or(v);
    (v.len() == 36).then(|| Uuid::parse_str(v).ok()).flatten()
}

impl Ids {
    pub(crate) fn new(scope: String) -> Self {
        Self {
            ns: namespace(),
            used: HashSet::new(),
            scope,
            warnings: Vec::new(),
        }
    }

    /// A name-based UUID for any stable text (no uniqueness bookkeeping).
    pub(crate) fn derive(&self, name: &str) -> Uuid {
        Uuid::new_v5(&self.ns, name.as_bytes())
    }

    /// The id of a CDA act derived from a resource. `role` distinguishes the several acts
    /// one resource produces (concern act, observation, supply, …); the main act uses "".
    pub(crate) fn for_resource(&mut self, base: &Base, resource_type: &str, role: &str) -> String {
        let ident = base
            .identifier
            .iter()
            .find(|i| {
                i.system
                    .as_deref()
                    .is_some_and(|s| s.ends_with("cross-care-setting-identifier"))
                    && i.value.is_some()
            })
            .or_else(|| base.identifier.iter().find(|i| i.value.is_some()));
        let mut id = match ident {
            Some(i) => {
                let value = i.value.as_deref().unwrap_or_default();
                match (parse_uuid(value), role.is_empty()) {
                    (Some(u), true) => u,
                    _ => self.derive(&format!(
                        "{}|{}|{}|{role}",
                        i.system.as_deref().unwrap_or(""),
                        value,
                        resource_type
                    )),
                }
            }
            None => self.derive(&format!(
                "{}|{resource_type}/{}|{role}",
                self.scope,
                base.id.as_deref().unwrap_or("")
            )),
        };
        let mut n = 0;
        while !self.used.insert(id) {
            n += 1;
            if n == 1 {
                self.warnings.push(format!(
                    "{resource_type}/{} shares its identifier with another entry; it was given a derived id",
                    base.id.as_deref().unwrap_or("?")
                ));
            }
            id = self.derive(&format!("{id}|{n}"));
        }
        id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fhir_stu3::Identifier;

    fn base(id: &str, value: Option<&str>) -> Base {
        Base {
            id: Some(id.into()),
            identifier: value
                .map(|v| Identifier {
                    system: Some("https://fhir.nhs.uk/Id/cross-care-setting-identifier".into()),
                    value: Some(v.into()),
                })
                .into_iter()
                .collect(),
            ..Base::default()
        }
    }

    #[test]
    fn uuid_identifiers_are_kept_and_others_hashed_stably() {
        let mut ids = Ids::new("p".into());
        let b = base("1", Some("urn:uuid:EBA25AF1-5B74-4790-AA5A-2134FD27AD75"));
        assert_eq!(
            ids.for_resource(&b, "Immunization", ""),
            "eba25af1-5b74-4790-aa5a-2134fd27ad75"
        );
        let concern = ids.for_resource(&b, "Immunization", "concern");
        let mut again = Ids::new("p".into());
        again.for_resource(&b, "Immunization", "");
        assert_eq!(again.for_resource(&b, "Immunization", "concern"), concern);
    }

    #[test]
    fn duplicates_get_distinct_ids_and_a_warning() {
        let mut ids = Ids::new("p".into());
        let a = ids.for_resource(&base("1", Some("X1")), "Condition", "");
        let b = ids.for_resource(&base("2", Some("X1")), "Condition", "");
        assert_ne!(a, b);
        assert_eq!(ids.warnings.len(), 1);
        let c = ids.for_resource(&base("3", None), "Condition", "");
        assert_ne!(c, a);
    }
}
