//! The US Realm Header + CCD header: document identity, recordTarget (the patient with
//! UK identifiers), author (the gateway as a device), custodian (the GP practice) and
//! documentationOf/serviceEvent.

use fhir_stu3::{Address, Bundle, ContactPoint, HumanName, Organization, Patient, Resource};
use nhs_number::{NHS_NUMBER_SYSTEM, NhsNumber};

use crate::cda;
use crate::oids;
use crate::templates;
use crate::xml::Xml;
use crate::{ConvertOptions, DocumentSummary};

pub(crate) const TITLE: &str = "GP Connect structured record summary";

/// The header facts, gathered once and used for the XML and the [`DocumentSummary`].
pub(crate) struct HeaderFacts<'a> {
    pub patient: &'a Patient,
    pub nhs_number: Option<NhsNumber>,
    pub custodian: Option<&'a Organization>,
}

impl<'a> HeaderFacts<'a> {
    pub(crate) fn gather(bundle: &'a Bundle, warnings: &mut Vec<String>) -> Self {
        let patient = bundle.patient();
        let raw_nhs = patient
            .base
            .identifier
            .iter()
            .find(|i| i.system.as_deref() == Some(NHS_NUMBER_SYSTEM))
            .and_then(|i| i.value.as_deref());
        let nhs_number = match raw_nhs {
            Some(v) => match NhsNumber::parse(v) {
                Ok(n) => Some(n),
                Err(e) => {
                    // The value itself is not logged: it is patient data.
                    warnings.push(format!(
                        "the Patient's NHS number is not valid ({e}); the document identifies the patient without it"
                    ));
                    None
                }
            },
            None => {
                warnings.push("the Patient has no NHS number".into());
                None
            }
        };
        let custodian = patient
            .managing_organization
            .as_ref()
            .and_then(|r| r.reference.as_deref())
            .and_then(|r| bundle.resolve(r, None))
            .or_else(|| {
                bundle
                    .resources()
                    .find(|r| matches!(r, Resource::Organization(o) if o.ods_code().is_some()))
            })
            .and_then(|r| match r {
                Resource::Organization(o) => Some(o),
                _ => None,
            });
        if custodian.is_none() {
            warnings.push(
                "no GP practice (managingOrganization) was found; the custodian is unknown".into(),
            );
        }
        Self {
            patient,
            nhs_number,
            custodian,
        }
    }

    pub(crate) fn set_id(&self, ids: &crate::ids::Ids) -> uuid::Uuid {
        // Stable per patient and practice: later documents for the same record form a set.
        ids.derive(&format!(
            "setId|{}|{}",
            self.nhs_number
                .as_ref()
                .map(NhsNumber::as_str)
                .unwrap_or("?"),
            self.custodian
                .and_then(Organization::ods_code)
                .unwrap_or("?")
        ))
    }

    pub(crate) fn gender_code(&self) -> Option<(&'static str, &'static str)> {
        match self.patient.gender.as_deref() {
            Some("male") => Some(("M", "Male")),
            Some("female") => Some(("F", "Female")),
            Some("other") => Some(("UN", "Undifferentiated")),
            _ => None,
        }
    }

    pub(crate) fn summary(
        &self,
        opts: &ConvertOptions,
        set_id: uuid::Uuid,
        range: (Option<String>, Option<String>),
    ) -> DocumentSummary {
        let name = self.patient.main_name();
        DocumentSummary {
            document_id: opts.document_id,
            set_id,
            title: TITLE.into(),
            creation_time: opts.effective_time,
            service_start: range.0,
            service_stop: range.1,
            patient_nhs_number: self.nhs_number.clone(),
            patient_given: name.map(|n| n.given.clone()).unwrap_or_default(),
            patient_family: name.and_then(|n| n.family.clone()),
            birth_date: cda::ts_value(self.patient.birth_date.as_ref()),
            gender: self.gender_code().map(|g| g.0.to_owned()),
            custodian_ods_code: self.custodian.and_then(|o| o.ods_code().map(str::to_owned)),
            custodian_name: self.custodian.and_then(|o| o.name.clone()),
            language: "en-GB",
            mime_type: "text/xml",
        }
    }
}

fn hl7_time(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    t.format("%Y%m%d%H%M%S%z").to_string()
}

fn addr_use(u: Option<&str>) -> Option<&'static str> {
    match u? {
        "home" => Some("H"),
        "work" => Some("WP"),
        "temp" => Some("TMP"),
        "old" => Some("OLD"),
        _ => None,
    }
}

/// A US Realm Address (AD.US.FIELDED) from a UK address: up to four street lines, city
/// (the town, or the district, or UNK), postcode and country GB.
pub(crate) fn addr(x: &mut Xml, a: Option<&Address>) {
    let Some(a) = a else {
        x.empty("addr", &[("nullFlavor", "UNK")]);
        return;
    };
    match addr_use(a.use_.as_deref()) {
        Some(u) => x.open("addr", &[("use", u)]),
        None => x.open("addr", &[]),
    }
    let mut lines: Vec<&str> = a
        .line
        .iter()
        .map(String::as_str)
        .filter(|l| !l.trim().is_empty())
        .collect();
    if lines.len() > 4 {
        let rest = lines.split_off(3).join(", ");
        for l in &lines {
            x.leaf("streetAddressLine", &[], l);
        }
        x.leaf("streetAddressLine", &[], &rest);
    } else if lines.is_empty() {
        x.empty("streetAddressLine", &[("nullFlavor", "UNK")]);
    } else {
        for l in &lines {
            x.leaf("streetAddressLine", &[], l);
        }
    }
    match a.city.as_deref().or(a.district.as_deref()) {
        Some(c) => x.leaf("city", &[], c),
        None => x.empty("city", &[("nullFlavor", "UNK")]),
    }
    if let Some(s) = a.district.as_deref().filter(|_| a.city.is_some()) {
        x.leaf("county", &[], s);
    }
    match a.postal_code.as_deref() {
        Some(p) => x.leaf("postalCode", &[], p),
        None => x.empty("postalCode", &[("nullFlavor", "UNK")]),
    }
    x.leaf("country", &[], a.country.as_deref().unwrap_or("GB"));
    x.close("addr");
}

pub(crate) fn telecoms(x: &mut Xml, t: &[ContactPoint]) {
    let mut any = false;
    for c in t {
        let Some(v) = c.value.as_deref() else {
            continue;
        };
        let v: String = v.chars().filter(|c| !c.is_whitespace()).collect();
        let scheme = match c.system.as_deref() {
            Some("email") => "mailto:",
            Some("fax") => "fax:",
            Some("url") => "",
            _ => "tel:",
        };
        let value = format!("{scheme}{v}");
        let u = match c.use_.as_deref() {
            Some("home") => Some("HP"),
            Some("work") => Some("WP"),
            Some("mobile") => Some("MC"),
            Some("temp") => Some("TMP"),
            _ => None,
        };
        match u {
            Some(u) => x.empty("telecom", &[("use", u), ("value", &value)]),
            None => x.empty("telecom", &[("value", &value)]),
        }
        any = true;
    }
    if !any {
        x.empty("telecom", &[("nullFlavor", "UNK")]);
    }
}

/// A US Realm Person Name (PN.US.FIELDED).
pub(crate) fn name(x: &mut Xml, n: Option<&HumanName>) {
    let Some(n) = n else {
        x.empty("name", &[("nullFlavor", "UNK")]);
        return;
    };
    let legal = matches!(n.use_.as_deref(), Some("official" | "usual") | None);
    if legal {
        x.open("name", &[("use", "L")]);
    } else {
        x.open("name", &[]);
    }
    for p in &n.prefix {
        x.leaf("prefix", &[], p);
    }
    if n.given.is_empty() {
        x.empty("given", &[("nullFlavor", "UNK")]);
    }
    for g in &n.given {
        x.leaf("given", &[], g);
    }
    match n.family.as_deref() {
        Some(f) => x.leaf("family", &[], f),
        None => x.empty("family", &[("nullFlavor", "UNK")]),
    }
    for s in &n.suffix {
        x.leaf("suffix", &[], s);
    }
    x.close("name");
}

pub(crate) fn write(
    x: &mut Xml,
    facts: &HeaderFacts<'_>,
    opts: &ConvertOptions,
    set_id: uuid::Uuid,
    range: &(Option<String>, Option<String>),
) {
    x.open(
        "ClinicalDocument",
        &[
            ("xmlns", "urn:hl7-org:v3"),
            ("xmlns:sdtc", "urn:hl7-org:sdtc"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
        ],
    );
    // C-CDA is a US-realm guide and its header requires realmCode US; GB says where the
    // data come from.
    x.empty("realmCode", &[("code", "US")]);
    x.empty("realmCode", &[("code", "GB")]);
    x.empty(
        "typeId",
        &[("root", oids::CDA_TYPE_ID), ("extension", "POCD_HD000040")],
    );
    cda::template(x, templates::US_REALM_HEADER);
    cda::template(x, templates::CCD);
    cda::id(x, &opts.document_id.to_string());
    cda::code(
        x,
        "34133-9",
        oids::LOINC,
        "LOINC",
        "Summarization of Episode Note",
    );
    x.leaf("title", &[], TITLE);
    let now = hl7_time(&opts.effective_time);
    x.empty("effectiveTime", &[("value", &now)]);
    x.empty(
        "confidentialityCode",
        &[
            ("code", "N"),
            ("codeSystem", oids::CONFIDENTIALITY),
            ("displayName", "normal"),
        ],
    );
    x.empty("languageCode", &[("code", "en-GB")]);
    x.empty("setId", &[("root", &set_id.to_string())]);
    x.empty("versionNumber", &[("value", "1")]);

    record_target(x, facts);

    x.open("author", &[]);
    x.empty("time", &[("value", &now)]);
    x.open("assignedAuthor", &[]);
    let g = &opts.gateway;
    match &g.id_extension {
        Some(e) => x.empty("id", &[("root", &g.id_root), ("extension", e)]),
        None => x.empty("id", &[("root", &g.id_root)]),
    }
    x.empty("addr", &[("nullFlavor", "NA")]);
    x.empty("telecom", &[("nullFlavor", "NA")]);
    x.open("assignedAuthoringDevice", &[]);
    x.leaf("manufacturerModelName", &[], &g.model_name);
    x.leaf("softwareName", &[], &g.software_name);
    x.close("assignedAuthoringDevice");
    x.open("representedOrganization", &[]);
    x.empty("id", &[("root", &g.organization_oid)]);
    x.leaf("name", &[], &g.organization_name);
    x.close("representedOrganization");
    x.close("assignedAuthor");
    x.close("author");

    x.open("custodian", &[]);
    x.open("assignedCustodian", &[]);
    x.open("representedCustodianOrganization", &[]);
    match facts.custodian {
        Some(org) => {
            match org.ods_code() {
                Some(ods) => x.empty(
                    "id",
                    &[("root", oids::ODS_ORGANISATION), ("extension", ods)],
                ),
                None => x.empty("id", &[("nullFlavor", "UNK")]),
            }
            match &org.name {
                Some(n) => x.leaf("name", &[], n),
                None => x.empty("name", &[("nullFlavor", "UNK")]),
            }
            match org.telecom.iter().find(|t| t.value.is_some()) {
                Some(t) => telecoms(x, std::slice::from_ref(t)),
                None => x.empty("telecom", &[("nullFlavor", "UNK")]),
            }
            addr(x, org.address.first());
        }
        None => {
            x.empty("id", &[("nullFlavor", "UNK")]);
            x.empty("name", &[("nullFlavor", "UNK")]);
            x.empty("telecom", &[("nullFlavor", "UNK")]);
            x.empty("addr", &[("nullFlavor", "UNK")]);
        }
    }
    x.close("representedCustodianOrganization");
    x.close("assignedCustodian");
    x.close("custodian");

    x.open("documentationOf", &[]);
    x.open("serviceEvent", &[("classCode", "PCPR")]);
    x.open("effectiveTime", &[]);
    // With no clinical dates at all, the record covers the patient's life up to now.
    let low = range
        .0
        .clone()
        .or_else(|| cda::ts_value(facts.patient.birth_date.as_ref()));
    match low {
        Some(v) => x.empty("low", &[("value", &v)]),
        None => x.empty("low", &[("nullFlavor", "UNK")]),
    }
    x.empty("high", &[("value", range.1.as_deref().unwrap_or(&now))]);
    x.close("effectiveTime");
    x.close("serviceEvent");
    x.close("documentationOf");
}

fn record_target(x: &mut Xml, facts: &HeaderFacts<'_>) {
    let p = facts.patient;
    x.open("recordTarget", &[]);
    x.open("patientRole", &[]);
    match &facts.nhs_number {
        Some(n) => x.empty(
            "id",
            &[("root", oids::NHS_NUMBER), ("extension", n.as_str())],
        ),
        None => x.empty("id", &[("nullFlavor", "UNK")]),
    }
    let home = p
        .address
        .iter()
        .find(|a| a.use_.as_deref() == Some("home"))
        .or_else(|| p.address.first());
    addr(x, home);
    telecoms(x, &p.telecom);
    x.open("patient", &[]);
    name(x, p.main_name());
    match facts.gender_code() {
        Some((c, d)) => x.empty(
            "administrativeGenderCode",
            &[
                ("code", c),
                ("codeSystem", oids::ADMINISTRATIVE_GENDER),
                ("displayName", d),
            ],
        ),
        None => x.empty("administrativeGenderCode", &[("nullFlavor", "UNK")]),
    }
    cda::ts(x, "birthTime", p.birth_date.as_ref());
    // Race and ethnicity are US-only concepts with no source in a UK GP record.
    x.empty("raceCode", &[("nullFlavor", "UNK")]);
    x.empty("ethnicGroupCode", &[("nullFlavor", "UNK")]);
    x.close("patient");
    x.close("patientRole");
    x.close("recordTarget");
}
