//! Reading PRPA_IN201305UV02 (the ITI-55 / ITI-47 query).

use nhs_number::{NHS_NUMBER_OID, NhsNumber, NhsNumberError};

use super::HL7_NS;
use crate::limits::RequestLimits;
use crate::model::{Address, Gender, Hl7Id, PersonName};
use crate::soap::SoapFault;
use crate::xml::Element;

/// One `livingSubjectId` of the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectId {
    /// Under the NHS number OID and valid.
    Nhs(NhsNumber),
    /// Under the NHS number OID but not a valid NHS number (the value is not kept, so that a
    /// mistyped number cannot end up in a log).
    InvalidNhs(NhsNumberError),
    /// Any other identifier (e.g. the initiating community's MRN), kept for matching or audit.
    Other(Hl7Id),
}

/// A parsed PRPA_IN201305UV02.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientQuery {
    /// The message id, echoed in `acknowledgement/targetMessage`.
    pub message_id: Hl7Id,
    pub sender_device: Option<Hl7Id>,
    pub sender_organization: Option<Hl7Id>,
    pub receiver_device: Option<Hl7Id>,
    pub query_id: Option<Hl7Id>,
    pub subject_ids: Vec<SubjectId>,
    pub names: Vec<PersonName>,
    /// HL7 TS as sent (`YYYYMMDD` or longer).
    pub birth_time: Option<String>,
    pub gender: Option<Gender>,
    pub addresses: Vec<Address>,
    /// The `queryByParameter` element, echoed in the response (HL7 requires it).
    pub(crate) query_by_parameter: Element,
}

impl PatientQuery {
    /// The NHS numbers queried for (valid ones only).
    pub fn nhs_numbers(&self) -> impl Iterator<Item = &NhsNumber> {
        self.subject_ids.iter().filter_map(|s| match s {
            SubjectId::Nhs(n) => Some(n),
            _ => None,
        })
    }

    /// The first problem with an identifier under the NHS number OID, if any.
    pub fn invalid_nhs_number(&self) -> Option<&NhsNumberError> {
        self.subject_ids.iter().find_map(|s| match s {
            SubjectId::InvalidNhs(e) => Some(e),
            _ => None,
        })
    }
}

fn ii(el: &Element) -> Option<Hl7Id> {
    let root = el.attr("root")?.trim();
    if root.is_empty() {
        return None;
    }
    Some(Hl7Id {
        root: root.to_owned(),
        extension: el
            .attr("extension")
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned),
    })
}

fn texts(el: &Element, local: &str) -> Vec<String> {
    el.children_named(HL7_NS, local)
        .filter_map(Element::text_trimmed)
        .map(str::to_owned)
        .collect()
}

pub(crate) fn person_name(v: &Element) -> PersonName {
    PersonName {
        use_code: v.attr("use").map(str::to_owned),
        prefixes: texts(v, "prefix"),
        given: texts(v, "given"),
        // Several family parts (e.g. birth name + current) are joined: PDS takes one family.
        family: {
            let f = texts(v, "family");
            (!f.is_empty()).then(|| f.join(" "))
        },
        suffixes: texts(v, "suffix"),
    }
}

pub(crate) fn address(v: &Element) -> Address {
    let one = |l: &str| {
        v.child(HL7_NS, l)
            .and_then(Element::text_trimmed)
            .map(str::to_owned)
    };
    Address {
        use_code: v.attr("use").map(str::to_owned),
        lines: texts(v, "streetAddressLine"),
        city: one("city"),
        state: one("state").or_else(|| one("county")),
        postal_code: one("postalCode"),
        country: one("country"),
    }
}

/// Refuses attribute values and texts longer than the limits anywhere in the message: ids,
/// codes and the whole `queryByParameter` are echoed in the response and may be audited.
fn check_sizes(el: &Element, limits: &RequestLimits) -> Result<(), SoapFault> {
    if let Some(a) = el
        .attrs
        .iter()
        .find(|a| a.value.chars().count() > limits.max_id_chars)
    {
        return Err(SoapFault::sender(format!(
            "the attribute {} of {} is longer than {} characters",
            a.local, el.local, limits.max_id_chars
        )));
    }
    if el.text.trim().chars().count() > limits.max_text_chars {
        return Err(SoapFault::sender(format!(
            "the text of {} is longer than {} characters",
            el.local, limits.max_text_chars
        )));
    }
    el.children.iter().try_for_each(|c| check_sizes(c, limits))
}

/// Refuses a query that repeats one parameter, or one parameter's values, more often than
/// the limit: each value may cost a lookup.
fn check_repetitions(params: &Element, limits: &RequestLimits) -> Result<(), SoapFault> {
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for p in &params.children {
        let n = counts.entry(p.local.as_str()).or_default();
        *n += 1;
        let values = p.children.iter().filter(|v| v.local == "value").count();
        if *n > limits.max_query_values || values > limits.max_query_values {
            return Err(SoapFault::sender(format!(
                "the query repeats {} more than {} times; send at most {} values per parameter",
                p.local, limits.max_query_values, limits.max_query_values
            )));
        }
    }
    Ok(())
}

/// Like [`Element::path`], but each step may also be un-namespaced: some initiators (Epic)
/// send the transmission wrapper's `sender`/`receiver` without the HL7 namespace.
fn path_lenient<'a>(root: &'a Element, path: &[&str]) -> Option<&'a Element> {
    let mut cur = root;
    for step in path {
        cur = cur.child(HL7_NS, step).or_else(|| cur.child("", step))?;
    }
    Some(cur)
}

/// Reads the Body child of an ITI-55 or ITI-47 request.
pub(crate) fn read(root: &Element, limits: &RequestLimits) -> Result<PatientQuery, SoapFault> {
    if !root.is(HL7_NS, "PRPA_IN201305UV02") {
        return Err(SoapFault::sender(format!(
            "the SOAP Body holds {{{}}}{}, expected {{{HL7_NS}}}PRPA_IN201305UV02",
            root.ns, root.local
        )));
    }
    check_sizes(root, limits)?;
    let message_id = root.child(HL7_NS, "id").and_then(ii).ok_or_else(|| {
        SoapFault::sender("PRPA_IN201305UV02 has no id/@root; the response must reference it")
    })?;
    let device_id = |side: &str| path_lenient(root, &[side, "device", "id"]).and_then(ii);
    let qbp = root
        .path(HL7_NS, &["controlActProcess", "queryByParameter"])
        .ok_or_else(|| {
            SoapFault::sender("PRPA_IN201305UV02 has no controlActProcess/queryByParameter")
        })?;
    let params = qbp.child(HL7_NS, "parameterList");
    if let Some(p) = params {
        check_repetitions(p, limits)?;
    }
    let values = |local: &'static str| {
        params
            .into_iter()
            .flat_map(move |p| p.children_named(HL7_NS, local))
            .flat_map(|param| param.children_named(HL7_NS, "value"))
    };
    let subject_ids = values("livingSubjectId")
        .filter_map(ii)
        .map(|id| {
            if id.root == NHS_NUMBER_OID {
                match NhsNumber::parse(id.extension.as_deref().unwrap_or_default()) {
                    Ok(n) => SubjectId::Nhs(n),
                    Err(e) => SubjectId::InvalidNhs(e),
                }
            } else {
                SubjectId::Other(id)
            }
        })
        .collect();
    Ok(PatientQuery {
        message_id,
        sender_device: device_id("sender"),
        sender_organization: path_lenient(
            root,
            &[
                "sender",
                "device",
                "asAgent",
                "representedOrganization",
                "id",
            ],
        )
        .and_then(ii),
        receiver_device: device_id("receiver"),
        query_id: qbp.child(HL7_NS, "queryId").and_then(ii),
        subject_ids,
        names: values("livingSubjectName").map(person_name).collect(),
        birth_time: values("livingSubjectBirthTime")
            .find_map(|v| v.attr("value"))
            .map(|v| v.trim().to_owned()),
        gender: values("livingSubjectAdministrativeGender")
            .find_map(|v| v.attr("code"))
            .and_then(Gender::from_hl7),
        addresses: values("patientAddress").map(address).collect(),
        query_by_parameter: qbp.clone(),
    })
}
