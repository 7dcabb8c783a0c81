//! Reading the ITI-38 `query:AdhocQueryRequest` (FindDocuments, GetDocuments).

use nhs_number::{NHS_NUMBER_OID, NhsNumber, NhsNumberError};

use super::{
    FIND_DOCUMENTS, GET_DOCUMENTS, ON_DEMAND_ENTRY, QUERY_NS, RIM_NS, RegistryError, STABLE_ENTRY,
    XdsErrorCode, is_our_home,
};
use crate::limits::RequestLimits;
use crate::model::ResponderConfig;
use crate::xml::Element;

/// `ResponseOption/@returnType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnType {
    LeafClass,
    ObjectRef,
}

/// DocumentEntry type asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    Stable,
    OnDemand,
}

/// An HL7 v2 CX patient identifier `id^^^&oid&ISO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientId {
    pub id: String,
    /// Assigning authority universal id (an OID).
    pub assigning_authority: String,
}

impl PatientId {
    /// Parses `id^^^&1.2.3&ISO` (lenient about the trailing `&ISO`).
    pub fn parse_cx(cx: &str) -> Option<Self> {
        let mut comps = cx.trim().split('^');
        let id = comps.next()?.trim();
        let authority = comps.nth(2)?;
        let oid = authority.split('&').nth(1)?.trim();
        (!id.is_empty() && !oid.is_empty()).then(|| Self {
            id: id.to_owned(),
            assigning_authority: oid.to_owned(),
        })
    }

    /// The NHS number, when the assigning authority is the NHS number OID.
    pub fn nhs_number(&self) -> Option<Result<NhsNumber, NhsNumberError>> {
        (self.assigning_authority == NHS_NUMBER_OID).then(|| NhsNumber::parse(&self.id))
    }
}

/// A code-valued query parameter, `code^^scheme` (ITI TF-2a 3.18.4.1.2.3.4); `code^^^&scheme&ISO`
/// is read too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeParam {
    pub code: String,
    pub scheme: Option<String>,
}

/// Parameters of FindDocuments (ITI TF-2a 3.18.4.1.2.3.7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindDocuments {
    pub patient_id: PatientId,
    pub statuses: Vec<String>,
    /// Stable only when the parameter is absent (ITI-18 default).
    pub entry_types: Vec<EntryType>,
    pub class_codes: Vec<CodeParam>,
    pub type_codes: Vec<CodeParam>,
    pub format_codes: Vec<CodeParam>,
    pub practice_setting_codes: Vec<CodeParam>,
    pub healthcare_facility_type_codes: Vec<CodeParam>,
    /// One list per `Slot`: OR within a list, AND across lists (ITI-18 AND/OR semantics).
    pub event_codes: Vec<Vec<CodeParam>>,
    /// One list per `Slot`, like `event_codes`.
    pub confidentiality_codes: Vec<Vec<CodeParam>>,
    /// `$XDSDocumentEntryAuthorPerson` patterns (`%` any run, `_` one character); OR.
    pub author_persons: Vec<String>,
    /// DTM bounds as sent (`YYYY[MM[DD[hh[mm[ss]]]]]`).
    pub creation_time_from: Option<String>,
    pub creation_time_to: Option<String>,
    pub service_start_time_from: Option<String>,
    pub service_start_time_to: Option<String>,
    pub service_stop_time_from: Option<String>,
    pub service_stop_time_to: Option<String>,
}

/// Parameters of GetDocuments: either entryUUIDs or uniqueIds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GetDocuments {
    EntryUuids(Vec<String>),
    UniqueIds(Vec<String>),
}

/// The stored query asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredQuery {
    FindDocuments(Box<FindDocuments>),
    GetDocuments(GetDocuments),
}

/// A parsed ITI-38 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XcaQuery {
    pub query: StoredQuery,
    pub return_type: ReturnType,
    /// `AdhocQuery/@home`: the homeCommunityId the initiator addressed (XCA requires it
    /// for queries by id; the gateway checks it against ours).
    pub home: Option<String>,
}

/// Splits slot values: `('a','b')`, `'a'`, `a`, across several `Value` elements.
fn slot_values(slot: &Element) -> Vec<String> {
    let mut out = Vec::new();
    for v in slot
        .child(RIM_NS, "ValueList")
        .into_iter()
        .flat_map(|l| l.children_named(RIM_NS, "Value"))
    {
        let t = v.text.trim();
        let t = t
            .strip_prefix('(')
            .and_then(|t| t.strip_suffix(')'))
            .unwrap_or(t);
        let mut cur = String::new();
        let mut quoted = false;
        for c in t.chars() {
            match c {
                '\'' => quoted = !quoted,
                ',' if !quoted => out.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            }
        }
        out.push(cur);
    }
    out.into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn code_param(v: &str) -> CodeParam {
    let mut parts = v.split('^');
    let code = parts.next().unwrap_or_default().trim().to_owned();
    let third = parts.nth(1).map(str::trim).unwrap_or_default();
    let scheme = if third.is_empty() {
        // `code^^^&oid&ISO`: the scheme as an HD universal id in the fourth component.
        parts
            .next()
            .and_then(|hd| hd.split('&').nth(1))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    } else {
        Some(third.to_owned())
    };
    CodeParam { code, scheme }
}

fn param_error(context: String) -> RegistryError {
    RegistryError::error(XdsErrorCode::StoredQueryParamNumber, context)
}

impl XcaQuery {
    /// Checks the `home` attribute against our community (ITI TF-2b 3.38.4.1.2.1): a query by
    /// id (GetDocuments) must carry it (`XDSMissingHomeCommunityId`, ITI38-012); a query
    /// addressed to another community is `XDSUnknownCommunity`.
    pub fn check_community(&self, cfg: &ResponderConfig) -> Result<(), RegistryError> {
        match (&self.home, &self.query) {
            (None, StoredQuery::GetDocuments(_)) => Err(RegistryError::error(
                XdsErrorCode::MissingHomeCommunityId,
                "GetDocuments requires AdhocQuery/@home (the homeCommunityId of the \
                 community holding the documents)",
            )),
            (None, _) => Ok(()),
            (Some(h), _) if is_our_home(h, cfg) => Ok(()),
            (Some(_), _) => Err(RegistryError::error(
                XdsErrorCode::UnknownCommunity,
                format!(
                    "AdhocQuery/@home is not this community ({})",
                    cfg.home_urn()
                ),
            )
            .at(cfg.home_urn())),
        }
    }
}

/// Reads the Body child of an ITI-38 request. Errors are registry errors for a Failure
/// response.
pub(crate) fn read(root: &Element, limits: &RequestLimits) -> Result<XcaQuery, RegistryError> {
    if !root.is(QUERY_NS, "AdhocQueryRequest") {
        return Err(RegistryError::error(
            XdsErrorCode::RegistryError,
            format!(
                "the SOAP Body holds {{{}}}{}, expected {{{QUERY_NS}}}AdhocQueryRequest",
                root.ns, root.local
            ),
        ));
    }
    let return_type = match root
        .child(QUERY_NS, "ResponseOption")
        .and_then(|r| r.attr("returnType"))
        .map(str::trim)
    {
        Some("ObjectRef") => ReturnType::ObjectRef,
        Some("LeafClass") | None => ReturnType::LeafClass,
        Some(other) => {
            return Err(RegistryError::error(
                XdsErrorCode::RegistryError,
                format!("returnType `{other}` is not supported; use LeafClass or ObjectRef"),
            ));
        }
    };
    let adhoc = root.child(RIM_NS, "AdhocQuery").ok_or_else(|| {
        RegistryError::error(
            XdsErrorCode::RegistryError,
            "AdhocQueryRequest has no rim:AdhocQuery",
        )
    })?;
    let slots: Vec<(&str, Vec<String>)> = adhoc
        .children_named(RIM_NS, "Slot")
        .filter_map(|s| Some((s.attr("name")?.trim(), slot_values(s))))
        .collect();
    // Every value may be echoed in an error or audited, and may cost a lookup: bound both its
    // length and how many one parameter has.
    let mut per_name: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (name, values) in &slots {
        if values
            .iter()
            .any(|v| v.chars().count() > limits.max_id_chars)
        {
            return Err(RegistryError::error(
                XdsErrorCode::RegistryError,
                format!(
                    "a value of {} is longer than {} characters",
                    crate::limits::clip(name, 64),
                    limits.max_id_chars
                ),
            ));
        }
        let n = per_name.entry(name).or_default();
        *n += values.len();
        if *n > limits.max_query_values {
            let code = if name.contains("EntryUUID") || name.contains("UniqueId") {
                XdsErrorCode::TooManyResults
            } else {
                XdsErrorCode::RegistryError
            };
            return Err(RegistryError::error(
                code,
                format!(
                    "{} has more than {} values; this gateway accepts at most {} per parameter",
                    crate::limits::clip(name, 64),
                    limits.max_query_values,
                    limits.max_query_values
                ),
            ));
        }
    }
    let all = |name: &str| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for v in slots
            .iter()
            .filter(|(n, _)| *n == name)
            .flat_map(|(_, v)| v.iter())
        {
            // Each distinct value once: a repeated id is one lookup, not many.
            if !out.contains(v) {
                out.push(v.clone());
            }
        }
        out
    };
    let groups = |name: &str| -> Vec<Vec<CodeParam>> {
        slots
            .iter()
            .filter(|(n, v)| *n == name && !v.is_empty())
            .map(|(_, v)| v.iter().map(|c| code_param(c)).collect())
            .collect()
    };
    let single = |name: &str| -> Result<Option<String>, RegistryError> {
        let v = all(name);
        if v.len() > 1 {
            return Err(param_error(format!(
                "{name} takes one value, {} were sent",
                v.len()
            )));
        }
        Ok(v.into_iter().next())
    };
    let codes = |name: &str| all(name).iter().map(|v| code_param(v)).collect::<Vec<_>>();
    let query_id = adhoc.attr("id").map(str::trim).unwrap_or_default();
    let query = match query_id {
        FIND_DOCUMENTS => {
            let pid = single("$XDSDocumentEntryPatientId")?.ok_or_else(|| {
                param_error("FindDocuments requires $XDSDocumentEntryPatientId".into())
            })?;
            let patient_id = PatientId::parse_cx(&pid).ok_or_else(|| {
                param_error(
                    "$XDSDocumentEntryPatientId is not a CX identifier `id^^^&oid&ISO`".into(),
                )
            })?;
            let statuses = all("$XDSDocumentEntryStatus");
            if statuses.is_empty() {
                return Err(param_error(
                    "FindDocuments requires $XDSDocumentEntryStatus".into(),
                ));
            }
            let mut entry_types = Vec::new();
            for t in all("$XDSDocumentEntryType") {
                match t.as_str() {
                    STABLE_ENTRY => entry_types.push(EntryType::Stable),
                    ON_DEMAND_ENTRY => entry_types.push(EntryType::OnDemand),
                    other => {
                        return Err(RegistryError::error(
                            XdsErrorCode::RegistryError,
                            format!("$XDSDocumentEntryType `{other}` is not a DocumentEntry type"),
                        ));
                    }
                }
            }
            if entry_types.is_empty() {
                entry_types.push(EntryType::Stable);
            }
            StoredQuery::FindDocuments(Box::new(FindDocuments {
                patient_id,
                statuses,
                entry_types,
                class_codes: codes("$XDSDocumentEntryClassCode"),
                type_codes: codes("$XDSDocumentEntryTypeCode"),
                format_codes: codes("$XDSDocumentEntryFormatCode"),
                practice_setting_codes: codes("$XDSDocumentEntryPracticeSettingCode"),
                healthcare_facility_type_codes: codes(
                    "$XDSDocumentEntryHealthcareFacilityTypeCode",
                ),
                event_codes: groups("$XDSDocumentEntryEventCodeList"),
                confidentiality_codes: groups("$XDSDocumentEntryConfidentialityCode"),
                author_persons: all("$XDSDocumentEntryAuthorPerson"),
                creation_time_from: single("$XDSDocumentEntryCreationTimeFrom")?,
                creation_time_to: single("$XDSDocumentEntryCreationTimeTo")?,
                service_start_time_from: single("$XDSDocumentEntryServiceStartTimeFrom")?,
                service_start_time_to: single("$XDSDocumentEntryServiceStartTimeTo")?,
                service_stop_time_from: single("$XDSDocumentEntryServiceStopTimeFrom")?,
                service_stop_time_to: single("$XDSDocumentEntryServiceStopTimeTo")?,
            }))
        }
        GET_DOCUMENTS => {
            let uuids = all("$XDSDocumentEntryEntryUUID");
            let unique = all("$XDSDocumentEntryUniqueId");
            StoredQuery::GetDocuments(match (uuids.is_empty(), unique.is_empty()) {
                (false, true) => GetDocuments::EntryUuids(uuids),
                (true, false) => GetDocuments::UniqueIds(unique),
                _ => {
                    return Err(param_error(
                        "GetDocuments takes exactly one of $XDSDocumentEntryEntryUUID and \
                         $XDSDocumentEntryUniqueId"
                            .into(),
                    ));
                }
            })
        }
        other => {
            return Err(RegistryError::error(
                XdsErrorCode::UnknownStoredQuery,
                format!(
                    "stored query `{other}` is not supported; this gateway answers FindDocuments \
                     ({FIND_DOCUMENTS}) and GetDocuments ({GET_DOCUMENTS})"
                ),
            ));
        }
    };
    Ok(XcaQuery {
        query,
        return_type,
        home: adhoc
            .attr("home")
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_owned),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cx_identifiers() {
        let p = PatientId::parse_cx("9692136744^^^&2.16.840.1.113883.2.1.4.1&ISO").unwrap();
        assert_eq!(p.id, "9692136744");
        assert!(p.nhs_number().unwrap().is_ok());
        assert!(PatientId::parse_cx("nohat").is_none());
        assert!(PatientId::parse_cx("^^^&1.2&ISO").is_none());
    }

    #[test]
    fn code_params() {
        assert_eq!(
            code_param("34133-9^^2.16.840.1.113883.6.1"),
            CodeParam {
                code: "34133-9".into(),
                scheme: Some("2.16.840.1.113883.6.1".into())
            }
        );
        assert_eq!(code_param("x").scheme, None);
        assert_eq!(
            code_param("N^^^&2.16.840.1.113883.5.25&ISO"),
            CodeParam {
                code: "N".into(),
                scheme: Some("2.16.840.1.113883.5.25".into())
            }
        );
    }
}
