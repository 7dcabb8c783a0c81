//! SOAP 1.2 envelopes with WS-Addressing 1.0: reading requests (plain or MTOM), checking the
//! Action and `mustUnderstand` headers, and writing response envelopes and Faults.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::limits::{RequestLimits, clip};
use crate::mtom::{self, Attachment};
use crate::saml::{self, SamlAssertion};
use crate::xml::{self, Element, esc};

pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const WSA_NS: &str = "http://www.w3.org/2005/08/addressing";
pub const WSSE_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
pub const XOP_NS: &str = "http://www.w3.org/2004/08/xop/include";
const WSA_ANONYMOUS: &str = "http://www.w3.org/2005/08/addressing/anonymous";
const ROLE_NONE: &str = "http://www.w3.org/2003/05/soap-envelope/role/none";
const ROLE_NEXT: &str = "http://www.w3.org/2003/05/soap-envelope/role/next";
const ROLE_ULTIMATE: &str = "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver";

/// The four IHE transactions this crate answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transaction {
    /// XCPD Cross Gateway Patient Discovery.
    Iti55,
    /// PDQv3 Patient Demographics Query.
    Iti47,
    /// XCA Cross Gateway Query.
    Iti38,
    /// XCA Cross Gateway Retrieve.
    Iti39,
}

impl Transaction {
    /// `wsa:Action` a request must carry (ITI TF-2b and the IHE WSDLs).
    pub fn request_action(self) -> &'static str {
        match self {
            Self::Iti55 => "urn:hl7-org:v3:PRPA_IN201305UV02:CrossGatewayPatientDiscovery",
            Self::Iti47 => "urn:hl7-org:v3:PRPA_IN201305UV02",
            Self::Iti38 => "urn:ihe:iti:2007:CrossGatewayQuery",
            Self::Iti39 => "urn:ihe:iti:2007:CrossGatewayRetrieve",
        }
    }

    /// `wsa:Action` of our response.
    pub fn response_action(self) -> &'static str {
        match self {
            Self::Iti55 => "urn:hl7-org:v3:PRPA_IN201306UV02:CrossGatewayPatientDiscovery",
            Self::Iti47 => "urn:hl7-org:v3:PRPA_IN201306UV02",
            Self::Iti38 => "urn:ihe:iti:2007:CrossGatewayQueryResponse",
            Self::Iti39 => "urn:ihe:iti:2007:CrossGatewayRetrieveResponse",
        }
    }

    /// Short human name for error texts.
    pub fn label(self) -> &'static str {
        match self {
            Self::Iti55 => "ITI-55 Cross Gateway Patient Discovery",
            Self::Iti47 => "ITI-47 Patient Demographics Query",
            Self::Iti38 => "ITI-38 Cross Gateway Query",
            Self::Iti39 => "ITI-39 Cross Gateway Retrieve",
        }
    }
}

/// SOAP 1.2 fault codes (SOAP 1.2 Part 1 §5.4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    VersionMismatch,
    MustUnderstand,
    Sender,
    Receiver,
}

impl FaultCode {
    fn local(self) -> &'static str {
        match self {
            Self::VersionMismatch => "VersionMismatch",
            Self::MustUnderstand => "MustUnderstand",
            Self::Sender => "Sender",
            Self::Receiver => "Receiver",
        }
    }
}

/// Fault subcodes: WS-Addressing 1.0 SOAP Binding §6.4, and the two WS-Security 1.1 (SOAP
/// Message Security §12) faults a refused SAML assertion answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsaSubcode {
    InvalidAddressingHeader,
    MessageAddressingHeaderRequired,
    ActionNotSupported,
    /// `wsse:FailedAuthentication`: the security token could not be authenticated.
    FailedAuthentication,
    /// `wsse:InvalidSecurity`: an error processing the `wsse:Security` header.
    InvalidSecurity,
}

impl WsaSubcode {
    fn local(self) -> &'static str {
        match self {
            Self::InvalidAddressingHeader => "InvalidAddressingHeader",
            Self::MessageAddressingHeaderRequired => "MessageAddressingHeaderRequired",
            Self::ActionNotSupported => "ActionNotSupported",
            Self::FailedAuthentication => "FailedAuthentication",
            Self::InvalidSecurity => "InvalidSecurity",
        }
    }

    fn is_wsse(self) -> bool {
        matches!(self, Self::FailedAuthentication | Self::InvalidSecurity)
    }
}

/// A SOAP 1.2 Fault to send back instead of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapFault {
    pub code: FaultCode,
    pub subcode: Option<WsaSubcode>,
    /// Reason text for the developer at the other end; never contains patient data.
    pub reason: String,
    /// Header blocks that were `mustUnderstand` but not understood: (namespace, local name).
    pub not_understood: Vec<(String, String)>,
    /// The request's MessageID when it could be read, for `wsa:RelatesTo`.
    pub relates_to: Option<String>,
}

impl SoapFault {
    pub fn sender(reason: impl Into<String>) -> Self {
        Self {
            code: FaultCode::Sender,
            subcode: None,
            reason: reason.into(),
            not_understood: Vec::new(),
            relates_to: None,
        }
    }

    pub fn receiver(reason: impl Into<String>) -> Self {
        Self {
            code: FaultCode::Receiver,
            ..Self::sender(reason)
        }
    }

    fn wsa(subcode: WsaSubcode, reason: impl Into<String>) -> Self {
        Self {
            subcode: Some(subcode),
            ..Self::sender(reason)
        }
    }

    /// HTTP status per the SOAP 1.2 HTTP binding (Part 2 §7.5.2.2, table 20): only
    /// `env:Sender` is a client error.
    pub fn http_status(&self) -> u16 {
        match self.code {
            FaultCode::Sender => 400,
            _ => 500,
        }
    }

    /// Renders the Fault envelope. `message_id` is this response's new `wsa:MessageID`.
    pub fn to_response(&self, message_id: &str) -> SoapResponse {
        let action = if self.subcode.is_some_and(|s| !s.is_wsse()) {
            "http://www.w3.org/2005/08/addressing/fault"
        } else {
            "http://www.w3.org/2005/08/addressing/soap/fault"
        };
        let mut extra_headers = String::new();
        for (ns, local) in &self.not_understood {
            extra_headers.push_str(&format!(
                "<env:NotUnderstood xmlns:nu=\"{}\" qname=\"nu:{}\"/>",
                esc(ns),
                esc(local)
            ));
        }
        let mut body = String::from("<env:Fault><env:Code><env:Value>env:");
        body.push_str(self.code.local());
        body.push_str("</env:Value>");
        if let Some(sub) = self.subcode {
            body.push_str(if sub.is_wsse() {
                "<env:Subcode><env:Value xmlns:wsse=\"http://docs.oasis-open.org/wss/2004/01/\
                 oasis-200401-wss-wssecurity-secext-1.0.xsd\">wsse:"
            } else {
                "<env:Subcode><env:Value>wsa:"
            });
            body.push_str(sub.local());
            body.push_str("</env:Value></env:Subcode>");
        }
        body.push_str("</env:Code><env:Reason><env:Text xml:lang=\"en\">");
        body.push_str(&esc(&self.reason));
        body.push_str("</env:Text></env:Reason></env:Fault>");
        let envelope = envelope(
            action,
            message_id,
            self.relates_to.as_deref(),
            &extra_headers,
            &body,
        );
        SoapResponse {
            status: self.http_status(),
            content_type: format!("application/soap+xml; charset=UTF-8; action=\"{action}\""),
            body: envelope.into_bytes(),
        }
    }
}

impl std::fmt::Display for SoapFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SOAP fault {}: {}", self.code.local(), self.reason)
    }
}

impl std::error::Error for SoapFault {}

/// An HTTP response ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// What the gateway needs from the SOAP header of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapHeader {
    pub action: String,
    /// `wsa:MessageID`; optional in WS-Addressing, echoed in our `wsa:RelatesTo` when present.
    pub message_id: Option<String>,
    pub reply_to: Option<String>,
    pub to: Option<String>,
    /// The WS-Security SAML 2.0 assertion, when one was sent.
    pub saml: Option<SamlAssertion>,
}

/// A request that passed envelope checks, with its typed body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapRequest<T> {
    pub header: SoapHeader,
    pub body: T,
    /// The request came as MTOM/XOP; ITI-39 answers in kind.
    pub mtom: bool,
}

/// The parsed envelope handed to the transaction readers.
pub(crate) struct Envelope {
    pub header: SoapHeader,
    pub body_child: Element,
    pub mtom: bool,
    #[allow(dead_code)]
    pub attachments: HashMap<String, Attachment>,
}

/// Reads a request for `tx` from raw HTTP body bytes and the Content-Type header.
pub(crate) fn read_request(
    body: &[u8],
    content_type: &str,
    tx: Transaction,
    limits: &RequestLimits,
) -> Result<Envelope, SoapFault> {
    let (media, params) = mtom::parse_content_type(content_type);
    let (xml_bytes, attachments, mtom) = match media.as_str() {
        "multipart/related" => {
            let pkg = mtom::parse(body, &params).map_err(|e| {
                SoapFault::sender(format!("the MTOM/XOP multipart body cannot be read: {e}"))
            })?;
            (pkg.root, pkg.attachments, true)
        }
        // text/xml is SOAP 1.1's media type; the namespace check below gives the precise fault
        // (VersionMismatch for a SOAP 1.1 envelope, Sender for a SOAP 1.2 one).
        "application/soap+xml" | "text/xml" => (body.to_vec(), HashMap::new(), false),
        "" => {
            return Err(SoapFault::sender(
                "the Content-Type header is missing: send application/soap+xml (SOAP 1.2) or \
                 multipart/related with type=\"application/xop+xml\" (MTOM)",
            ));
        }
        other => {
            // Quoted only in part and printable: the header is the client's, not ours to echo
            // (the fuzzer found control characters and kilobytes here).
            let shown: String = clip(other, 64)
                .chars()
                .filter(|c| !c.is_control() && xml::is_xml_char(*c))
                .collect();
            return Err(SoapFault::sender(format!(
                "Content-Type `{shown}` is not supported: send application/soap+xml (SOAP 1.2) \
                 or multipart/related with type=\"application/xop+xml\" (MTOM)"
            )));
        }
    };
    let root = xml::parse(&xml_bytes)
        .map_err(|e| SoapFault::sender(format!("the SOAP message cannot be parsed: {e}")))?;
    if root.local != "Envelope" || root.ns != SOAP12_NS {
        if root.local == "Envelope" && root.ns == SOAP11_NS {
            return Err(SoapFault {
                code: FaultCode::VersionMismatch,
                ..SoapFault::sender(format!(
                    "this is a SOAP 1.1 envelope; {} requires SOAP 1.2 ({SOAP12_NS})",
                    tx.label()
                ))
            });
        }
        return Err(SoapFault::sender(format!(
            "the root element is {{{}}}{}, expected a SOAP 1.2 Envelope ({{{SOAP12_NS}}}Envelope)",
            root.ns, root.local
        )));
    }
    if media == "text/xml" {
        return Err(SoapFault::sender(format!(
            "Content-Type text/xml is SOAP 1.1's; a SOAP 1.2 envelope is sent as \
             application/soap+xml ({})",
            tx.label()
        )));
    }
    let header_el = root.child(SOAP12_NS, "Header");
    let message_id = header_el
        .and_then(|h| h.child(WSA_NS, "MessageID"))
        .and_then(|m| m.text_trimmed())
        .map(str::to_owned);
    // Echoed in RelatesTo and kept in the audit: a sane length or a Fault (without RelatesTo,
    // since echoing it is what must not happen).
    if let Some(m) = &message_id
        && m.chars().count() > limits.max_id_chars
    {
        return Err(SoapFault::wsa(
            WsaSubcode::InvalidAddressingHeader,
            format!(
                "wsa:MessageID is longer than {} characters; send a UUID URN",
                limits.max_id_chars
            ),
        ));
    }
    let with_relates = |mut f: SoapFault| {
        f.relates_to.clone_from(&message_id);
        f
    };
    // SOAP 1.2 allows at most one Header and exactly one Body; a second Body would let two
    // readers of the same message see different requests.
    for (local, what) in [("Header", "Header"), ("Body", "Body")] {
        let n = root
            .children
            .iter()
            .filter(|c| c.ns == SOAP12_NS && c.local == local)
            .count();
        if n > 1 {
            return Err(with_relates(SoapFault::sender(format!(
                "the SOAP Envelope has {n} {what} elements; SOAP 1.2 allows one"
            ))));
        }
    }
    if let Some(h) = header_el {
        check_must_understand(h).map_err(with_relates)?;
    }
    // WS-Addressing 1.0 (Metadata, 3.3): a request that expects a reply carries a MessageID;
    // it is what the answer's RelatesTo and the audit trail refer to.
    if message_id.is_none() {
        return Err(SoapFault::wsa(
            WsaSubcode::MessageAddressingHeaderRequired,
            format!(
                "the wsa:MessageID header is missing or empty; {} requests must carry one",
                tx.label()
            ),
        ));
    }
    let action = header_el
        .and_then(|h| h.child(WSA_NS, "Action"))
        .and_then(|a| a.text_trimmed())
        .map(str::to_owned)
        // Lenient: some initiators put the action only in the Content-Type parameter.
        .or_else(|| params.get("action").map(|a| a.trim().to_owned()))
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            with_relates(SoapFault::wsa(
                WsaSubcode::MessageAddressingHeaderRequired,
                format!(
                    "the wsa:Action header is missing; {} requires `{}`",
                    tx.label(),
                    tx.request_action()
                ),
            ))
        })?;
    if action != tx.request_action() {
        return Err(with_relates(SoapFault::wsa(
            WsaSubcode::ActionNotSupported,
            format!(
                "wsa:Action `{}` is not supported at this endpoint; {} expects `{}`",
                clip(&action, 200),
                tx.label(),
                tx.request_action()
            ),
        )));
    }
    let reply_to = header_el
        .and_then(|h| h.child(WSA_NS, "ReplyTo"))
        .and_then(|r| r.child(WSA_NS, "Address"))
        .and_then(|a| a.text_trimmed())
        .map(str::to_owned);
    if let Some(addr) = &reply_to
        && addr != WSA_ANONYMOUS
    {
        return Err(with_relates(SoapFault::wsa(
            WsaSubcode::InvalidAddressingHeader,
            format!(
                "wsa:ReplyTo must be the anonymous address ({WSA_ANONYMOUS}): this gateway answers \
                 synchronously on the same HTTP connection, not at `{}`",
                clip(addr, 200)
            ),
        )));
    }
    let to = header_el
        .and_then(|h| h.child(WSA_NS, "To"))
        .and_then(|a| a.text_trimmed())
        .map(str::to_owned);
    // The To address is an endpoint URL; it is kept, so it is bounded like an identifier
    // (URLs get four times the room).
    if to
        .as_ref()
        .is_some_and(|t| t.chars().count() > 4 * limits.max_id_chars)
    {
        return Err(with_relates(SoapFault::wsa(
            WsaSubcode::InvalidAddressingHeader,
            format!(
                "wsa:To is longer than {} characters",
                4 * limits.max_id_chars
            ),
        )));
    }
    let saml = match header_el
        .and_then(|h| h.child(WSSE_NS, "Security"))
        .and_then(|s| s.child(saml::SAML2_NS, "Assertion"))
    {
        Some(a) => Some(
            saml::read(a, &xml_bytes)
                .map_err(|e| with_relates(SoapFault::sender(e.to_string())))?,
        ),
        None => None,
    };
    let Some(body_el) = root.child(SOAP12_NS, "Body") else {
        return Err(with_relates(SoapFault::sender(
            "the SOAP Envelope has no Body element",
        )));
    };
    let Some(body_child) = body_el.first_child().cloned() else {
        return Err(with_relates(SoapFault::sender(format!(
            "the SOAP Body is empty; {} needs a request element in it",
            tx.label()
        ))));
    };
    Ok(Envelope {
        header: SoapHeader {
            action,
            message_id,
            reply_to,
            to,
            saml,
        },
        body_child,
        mtom,
        attachments,
    })
}

/// Faults on any header block addressed to us with `mustUnderstand` that we do not process.
fn check_must_understand(header: &Element) -> Result<(), SoapFault> {
    let mut not_understood = Vec::new();
    for block in &header.children {
        let mu = block
            .attr_ns(SOAP12_NS, "mustUnderstand")
            .unwrap_or("false");
        if !matches!(mu.trim(), "1" | "true") {
            continue;
        }
        let role = block.attr_ns(SOAP12_NS, "role").unwrap_or(ROLE_ULTIMATE);
        if role == ROLE_NONE || (role != ROLE_NEXT && role != ROLE_ULTIMATE) {
            continue;
        }
        if block.ns == WSA_NS || block.ns == WSSE_NS {
            continue;
        }
        not_understood.push((block.ns.clone(), block.local.clone()));
    }
    if not_understood.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = not_understood
        .iter()
        .map(|(ns, l)| format!("{{{ns}}}{l}"))
        .collect();
    Err(SoapFault {
        code: FaultCode::MustUnderstand,
        not_understood,
        ..SoapFault::sender(format!(
            "header block(s) {} are marked mustUnderstand but this gateway does not process \
             them; remove them or the mustUnderstand attribute",
            names.join(", ")
        ))
    })
}

/// Writes a SOAP 1.2 envelope with WS-Addressing headers around `body_xml`.
pub(crate) fn envelope(
    action: &str,
    message_id: &str,
    relates_to: Option<&str>,
    extra_headers: &str,
    body_xml: &str,
) -> String {
    let mut s = String::with_capacity(body_xml.len() + 600);
    envelope_head(&mut s, action, message_id, relates_to, extra_headers);
    s.push_str(body_xml);
    s.push_str(ENVELOPE_TAIL);
    s
}

/// Everything of an envelope before the Body's content. Split from [`envelope`] so that large
/// bodies (ITI-39 documents) can be written straight into the final buffer.
pub(crate) fn envelope_head(
    s: &mut String,
    action: &str,
    message_id: &str,
    relates_to: Option<&str>,
    extra_headers: &str,
) {
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    s.push_str("<env:Envelope xmlns:env=\"");
    s.push_str(SOAP12_NS);
    s.push_str("\" xmlns:wsa=\"");
    s.push_str(WSA_NS);
    s.push_str("\"><env:Header><wsa:Action env:mustUnderstand=\"true\">");
    s.push_str(&esc(action));
    s.push_str("</wsa:Action><wsa:MessageID>");
    s.push_str(&esc(message_id));
    s.push_str("</wsa:MessageID>");
    if let Some(r) = relates_to {
        s.push_str("<wsa:RelatesTo>");
        s.push_str(&esc(r));
        s.push_str("</wsa:RelatesTo>");
    }
    s.push_str(extra_headers);
    s.push_str("</env:Header><env:Body>");
}

pub(crate) const ENVELOPE_TAIL: &str = "</env:Body></env:Envelope>";

/// Identity of the response being built: its new `wsa:MessageID` (e.g. `urn:uuid:…`, the
/// caller generates it) and the time it is created. Passed in so that output is deterministic.
#[derive(Debug, Clone, Copy)]
pub struct ReplyMeta<'a> {
    pub message_id: &'a str,
    pub now: DateTime<Utc>,
}

/// `Content-Type` of a non-MTOM response of `tx`.
pub(crate) fn plain_content_type(tx: Transaction) -> String {
    format!(
        "application/soap+xml; charset=UTF-8; action=\"{}\"",
        tx.response_action()
    )
}

pub(crate) fn plain_response(
    tx: Transaction,
    request: &SoapHeader,
    meta: ReplyMeta<'_>,
    body_xml: &str,
) -> SoapResponse {
    let env = envelope(
        tx.response_action(),
        meta.message_id,
        request.message_id.as_deref(),
        "",
        body_xml,
    );
    SoapResponse {
        status: 200,
        content_type: plain_content_type(tx),
        body: env.into_bytes(),
    }
}
