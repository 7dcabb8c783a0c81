//! Writing PRPA_IN201306UV02 (the ITI-55 / ITI-47 response).

use nhs_number::NHS_NUMBER_OID;

use super::HL7_NS;
use super::query::PatientQuery;
use crate::model::{
    Address, Hl7Id, ODS_ORG_CODE_OID, PatientDemographics, PersonName, ResponderConfig, hl7_date,
    hl7_ts,
};
use crate::soap::{ReplyMeta, Transaction};
use crate::xml::{XSI_NS, esc, write_element};

/// HL7 table 0357 (message error condition codes), used in acknowledgementDetail/code.
const HL7_ERROR_CODES: &str = "2.16.840.1.113883.12.357";

/// `queryAck/queryResponseCode` for an error (HL7 QueryResponse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorResponseCode {
    /// Application error: we could not process a valid query.
    ApplicationError,
    /// Query parameter error: the query itself is wrong.
    QueryParameterError,
}

/// Why a patient query is answered with AE, as a code the initiator can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryErrorDetail {
    pub code: String,
    pub code_system: String,
    /// Human-readable; never contains patient data.
    pub text: String,
    /// XPath-like location of the offending parameter, when there is one.
    pub location: Option<String>,
    pub response_code: ErrorResponseCode,
}

impl QueryErrorDetail {
    /// The identifier domain of a livingSubjectId is not one we know (ITI TF-2b 3.47.4.2.3
    /// case 3: HL7 error 204, queryResponseCode AE).
    pub fn unknown_domain(root: &str) -> Self {
        Self {
            code: "204".into(),
            code_system: HL7_ERROR_CODES.into(),
            text: format!(
                "patient identifier domain {root} is not recognised; query by NHS number \
                 ({NHS_NUMBER_OID}) or demographics"
            ),
            location: Some(
                "/PRPA_IN201305UV02/controlActProcess/queryByParameter/parameterList/livingSubjectId/value"
                    .into(),
            ),
            response_code: ErrorResponseCode::ApplicationError,
        }
    }

    /// A parameter has a value we cannot use (e.g. an NHS number failing its check digit).
    pub fn bad_parameter(parameter: &str, why: &str) -> Self {
        Self {
            code: "102".into(),
            code_system: HL7_ERROR_CODES.into(),
            text: format!("query parameter {parameter} is invalid: {why}"),
            location: Some(format!(
                "/PRPA_IN201305UV02/controlActProcess/queryByParameter/parameterList/{parameter}"
            )),
            response_code: ErrorResponseCode::QueryParameterError,
        }
    }

    /// A required parameter is missing (e.g. neither NHS number nor enough demographics).
    pub fn missing_parameter(what: &str) -> Self {
        Self {
            code: "101".into(),
            code_system: HL7_ERROR_CODES.into(),
            text: format!("required query parameter missing: {what}"),
            location: Some(
                "/PRPA_IN201305UV02/controlActProcess/queryByParameter/parameterList".into(),
            ),
            response_code: ErrorResponseCode::QueryParameterError,
        }
    }

    /// We could not answer (e.g. PDS unavailable). `text` must not contain patient data.
    pub fn internal(text: impl Into<String>) -> Self {
        Self {
            code: "207".into(),
            code_system: HL7_ERROR_CODES.into(),
            text: text.into(),
            location: None,
            response_code: ErrorResponseCode::ApplicationError,
        }
    }
}

/// The answer to a patient query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientQueryOutcome {
    /// One or more patients (AA / OK).
    Match(Vec<PatientDemographics>),
    /// No patient (AA / NF, no subject), as ITI TF-2b requires for both XCPD and PDQv3.
    NoMatch,
    /// AE with an acknowledgementDetail.
    Error(QueryErrorDetail),
}

fn write_ii(out: &mut String, tag: &str, id: &Hl7Id) {
    out.push('<');
    out.push_str(tag);
    out.push_str(" root=\"");
    out.push_str(&esc(&id.root));
    out.push('"');
    if let Some(ext) = &id.extension {
        out.push_str(" extension=\"");
        out.push_str(&esc(ext));
        out.push('"');
    }
    out.push_str("/>");
}

fn elem(out: &mut String, tag: &str, text: &str) {
    out.push('<');
    out.push_str(tag);
    out.push('>');
    out.push_str(&esc(text));
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

fn use_attr(out: &mut String, use_code: Option<&str>) {
    if let Some(u) = use_code {
        out.push_str(" use=\"");
        out.push_str(&esc(u));
        out.push('"');
    }
}

fn write_name(out: &mut String, n: &PersonName) {
    out.push_str("<name");
    use_attr(out, n.use_code.as_deref());
    out.push('>');
    for p in &n.prefixes {
        elem(out, "prefix", p);
    }
    for g in &n.given {
        elem(out, "given", g);
    }
    if let Some(f) = &n.family {
        elem(out, "family", f);
    }
    for s in &n.suffixes {
        elem(out, "suffix", s);
    }
    out.push_str("</name>");
}

fn write_addr(out: &mut String, a: &Address) {
    out.push_str("<addr");
    use_attr(out, a.use_code.as_deref());
    out.push('>');
    for l in &a.lines {
        elem(out, "streetAddressLine", l);
    }
    if let Some(c) = &a.city {
        elem(out, "city", c);
    }
    if let Some(s) = &a.state {
        elem(out, "state", s);
    }
    if let Some(p) = &a.postal_code {
        elem(out, "postalCode", p);
    }
    if let Some(c) = &a.country {
        elem(out, "country", c);
    }
    out.push_str("</addr>");
}

fn write_device(
    out: &mut String,
    id: Option<&Hl7Id>,
    name: Option<&str>,
    org: Option<(&str, Option<&str>)>,
) {
    out.push_str("<device classCode=\"DEV\" determinerCode=\"INSTANCE\">");
    match id {
        Some(id) => write_ii(out, "id", id),
        None => out.push_str("<id nullFlavor=\"UNK\"/>"),
    }
    if let Some(n) = name {
        elem(out, "name", n);
    }
    if let Some((org_root, org_name)) = org {
        out.push_str(
            "<asAgent classCode=\"AGNT\"><representedOrganization classCode=\"ORG\" determinerCode=\"INSTANCE\">",
        );
        write_ii(
            out,
            "id",
            &Hl7Id {
                root: org_root.to_owned(),
                extension: None,
            },
        );
        if let Some(n) = org_name {
            elem(out, "name", n);
        }
        out.push_str("</representedOrganization></asAgent>");
    }
    out.push_str("</device>");
}

fn write_patient(out: &mut String, p: &PatientDemographics) {
    out.push_str("<subject1 typeCode=\"SBJ\"><patient classCode=\"PAT\">");
    write_ii(
        out,
        "id",
        &Hl7Id {
            root: NHS_NUMBER_OID.into(),
            extension: Some(p.nhs_number.as_str().to_owned()),
        },
    );
    out.push_str("<statusCode code=\"active\"/>");
    out.push_str("<patientPerson classCode=\"PSN\" determinerCode=\"INSTANCE\">");
    if p.names.is_empty() {
        // PN is 1..*; an unnamed patient (rare, e.g. newborn) is sent with a null flavor.
        out.push_str("<name nullFlavor=\"UNK\"/>");
    }
    for n in &p.names {
        write_name(out, n);
    }
    for t in &p.telecoms {
        out.push_str("<telecom value=\"");
        out.push_str(&esc(&t.value));
        out.push('"');
        use_attr(out, t.use_code.as_deref());
        out.push_str("/>");
    }
    if let Some(g) = p.gender {
        out.push_str("<administrativeGenderCode code=\"");
        out.push_str(g.hl7_code());
        out.push_str("\" codeSystem=\"2.16.840.1.113883.5.1\"/>");
    }
    if let Some(b) = p.birth_date {
        out.push_str("<birthTime value=\"");
        out.push_str(&hl7_date(b));
        out.push_str("\"/>");
    }
    for a in &p.addresses {
        write_addr(out, a);
    }
    out.push_str("</patientPerson>");
    if let Some(gp) = &p.gp_practice {
        out.push_str("<providerOrganization classCode=\"ORG\" determinerCode=\"INSTANCE\">");
        write_ii(
            out,
            "id",
            &Hl7Id {
                root: ODS_ORG_CODE_OID.into(),
                extension: Some(gp.ods_code.clone()),
            },
        );
        if let Some(n) = &gp.name {
            elem(out, "name", n);
        }
        out.push_str("<contactParty classCode=\"CON\" nullFlavor=\"UNK\"/></providerOrganization>");
    }
    out.push_str(
        "<subjectOf1><queryMatchObservation classCode=\"COND\" moodCode=\"EVN\"><code code=\"IHE_PDQ\"/>",
    );
    out.push_str(&format!(
        "<value xsi:type=\"INT\" value=\"{}\"/></queryMatchObservation></subjectOf1>",
        p.match_score.min(100)
    ));
    out.push_str("</patient></subject1>");
}

/// Builds the PRPA_IN201306UV02 Body element.
pub(crate) fn build(
    tx: Transaction,
    query: &PatientQuery,
    outcome: &PatientQueryOutcome,
    cfg: &ResponderConfig,
    meta: ReplyMeta<'_>,
) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str("<PRPA_IN201306UV02 xmlns=\"");
    out.push_str(HL7_NS);
    out.push_str("\" xmlns:xsi=\"");
    out.push_str(XSI_NS);
    out.push_str("\" ITSVersion=\"XML_1.0\">");
    // The HL7 message id is the WS-Addressing MessageID's UUID: one identity per message.
    let uuid = meta
        .message_id
        .trim()
        .trim_start_matches("urn:uuid:")
        .to_ascii_uppercase();
    write_ii(
        &mut out,
        "id",
        &Hl7Id {
            root: uuid,
            extension: None,
        },
    );
    out.push_str("<creationTime value=\"");
    out.push_str(&hl7_ts(meta.now));
    out.push_str("\"/>");
    out.push_str(
        "<interactionId root=\"2.16.840.1.113883.1.6\" extension=\"PRPA_IN201306UV02\"/>\
         <processingCode code=\"P\"/><processingModeCode code=\"T\"/><acceptAckCode code=\"NE\"/>",
    );
    out.push_str("<receiver typeCode=\"RCV\">");
    let sender_org = query
        .sender_organization
        .as_ref()
        .map(|o| (o.root.as_str(), None));
    write_device(&mut out, query.sender_device.as_ref(), None, sender_org);
    out.push_str("</receiver><sender typeCode=\"SND\">");
    // XCPD identifies the responding community by its homeCommunityId here (ITI TF-2b 3.55.4.2.2).
    let our_org = match tx {
        Transaction::Iti55 => cfg.home_community_id.as_str(),
        _ => cfg.organization_oid.as_str(),
    };
    write_device(
        &mut out,
        Some(&Hl7Id {
            root: cfg.device_oid.clone(),
            extension: None,
        }),
        Some(&cfg.device_name),
        Some((our_org, Some(&cfg.organization_name))),
    );
    out.push_str("</sender><acknowledgement><typeCode code=\"");
    out.push_str(match outcome {
        PatientQueryOutcome::Error(_) => "AE",
        _ => "AA",
    });
    out.push_str("\"/><targetMessage>");
    write_ii(&mut out, "id", &query.message_id);
    out.push_str("</targetMessage>");
    if let PatientQueryOutcome::Error(e) = outcome {
        out.push_str("<acknowledgementDetail typeCode=\"E\"><code code=\"");
        out.push_str(&esc(&e.code));
        out.push_str("\" codeSystem=\"");
        out.push_str(&esc(&e.code_system));
        out.push_str("\"/>");
        elem(&mut out, "text", &e.text);
        if let Some(l) = &e.location {
            elem(&mut out, "location", l);
        }
        out.push_str("</acknowledgementDetail>");
    }
    out.push_str(
        "</acknowledgement><controlActProcess classCode=\"CACT\" moodCode=\"EVN\">\
         <code code=\"PRPA_TE201306UV02\" codeSystem=\"2.16.840.1.113883.1.6\"/>",
    );
    let matches: &[PatientDemographics] = match outcome {
        PatientQueryOutcome::Match(p) => p,
        _ => &[],
    };
    for p in matches {
        out.push_str(
            "<subject typeCode=\"SUBJ\" contextConductionInd=\"false\">\
             <registrationEvent classCode=\"REG\" moodCode=\"EVN\"><id nullFlavor=\"NA\"/>\
             <statusCode code=\"active\"/>",
        );
        write_patient(&mut out, p);
        out.push_str("<custodian typeCode=\"CST\"><assignedEntity classCode=\"ASSIGNED\">");
        write_ii(
            &mut out,
            "id",
            &Hl7Id {
                root: match tx {
                    Transaction::Iti55 => cfg.home_community_id.clone(),
                    _ => cfg.organization_oid.clone(),
                },
                extension: None,
            },
        );
        if tx == Transaction::Iti55 {
            // XCPD: we are not a Health Data Locator.
            out.push_str(
                "<code code=\"NotHealthDataLocator\" codeSystem=\"1.3.6.1.4.1.19376.1.2.27.2\"/>",
            );
        }
        out.push_str("</assignedEntity></custodian></registrationEvent></subject>");
    }
    out.push_str("<queryAck>");
    if let Some(q) = &query.query_id {
        write_ii(&mut out, "queryId", q);
    }
    out.push_str("<statusCode code=\"deliveredResponse\"/><queryResponseCode code=\"");
    out.push_str(match outcome {
        PatientQueryOutcome::Match(p) if !p.is_empty() => "OK",
        PatientQueryOutcome::Match(_) | PatientQueryOutcome::NoMatch => "NF",
        PatientQueryOutcome::Error(e) => match e.response_code {
            ErrorResponseCode::ApplicationError => "AE",
            ErrorResponseCode::QueryParameterError => "QE",
        },
    });
    out.push_str("\"/>");
    if !matches!(outcome, PatientQueryOutcome::Error(_)) {
        out.push_str(&format!(
            "<resultTotalQuantity value=\"{n}\"/><resultCurrentQuantity value=\"{n}\"/>\
             <resultRemainingQuantity value=\"0\"/>",
            n = matches.len()
        ));
    }
    out.push_str("</queryAck>");
    write_element(&echoable(&query.query_by_parameter), HL7_NS, &mut out);
    out.push_str("</controlActProcess></PRPA_IN201306UV02>");
    out
}

/// The query's `queryByParameter` as it may be echoed: a birth-time parameter whose value is
/// not an HL7 TS literal is left out, so that a malformed query cannot make our answer (an AE
/// naming that parameter) schema-invalid. Everything else is echoed as received.
fn echoable(qbp: &crate::xml::Element) -> std::borrow::Cow<'_, crate::xml::Element> {
    let bad_birth_time = |el: &crate::xml::Element| {
        el.local == "livingSubjectBirthTime"
            && el
                .children
                .iter()
                .filter(|v| v.local == "value")
                .flat_map(|v| {
                    v.attrs
                        .iter()
                        .chain(v.children.iter().flat_map(|c| c.attrs.iter()))
                })
                .any(|a| a.local == "value" && a.ns.is_empty() && !is_hl7_ts(&a.value))
    };
    let mut stripped = None::<crate::xml::Element>;
    for (i, child) in qbp.children.iter().enumerate() {
        if child.local == "parameterList" && child.children.iter().any(bad_birth_time) {
            let copy = stripped.get_or_insert_with(|| qbp.clone());
            copy.children[i].children.retain(|p| !bad_birth_time(p));
        }
    }
    match stripped {
        Some(el) => std::borrow::Cow::Owned(el),
        None => std::borrow::Cow::Borrowed(qbp),
    }
}

/// The HL7 V3 `TS` lexical pattern of the NE2008 datatypes schema:
/// `[0-9]{1,8}|([0-9]{9,14}|[0-9]{14,14}\.[0-9]+)([+\-][0-9]{1,4})?`.
fn is_hl7_ts(v: &str) -> bool {
    let (main, zone) = match v.find(['+', '-']) {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let main_ok = match main.split_once('.') {
        Some((whole, frac)) => whole.len() == 14 && digits(whole) && digits(frac),
        None => digits(main) && main.len() <= 14,
    };
    let zone_ok = match zone {
        None => true,
        Some(z) => main.len() >= 9 && digits(z) && z.len() <= 4,
    };
    main_ok && zone_ok
}

#[cfg(test)]
mod echo_tests {
    use super::is_hl7_ts;

    #[test]
    fn ts_pattern() {
        for ok in [
            "1938",
            "19381211",
            "193812111030",
            "20240101120000.123+0000",
            "202401011200-05",
        ] {
            assert!(is_hl7_ts(ok), "{ok}");
        }
        for bad in [
            "",
            "1938-12-11",
            "1938-12-11x",
            "19381211+0000",
            "abc",
            "20240101120000.+00",
        ] {
            assert!(!is_hl7_ts(bad), "{bad}");
        }
    }
}
