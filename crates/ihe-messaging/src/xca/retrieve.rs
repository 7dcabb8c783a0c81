//! ITI-39: reading `RetrieveDocumentSetRequest`, writing `RetrieveDocumentSetResponse` as
//! MTOM/XOP (documents as attachments) or inline base64, and reading such a response back.

use std::collections::HashMap;

use bytes::Bytes;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::{RS_NS, RegistryError, XDSB_NS, XdsErrorCode, is_our_home, status, write_error_list};
use crate::limits::RequestLimits;
use crate::model::ResponderConfig;
use crate::mtom::{self, Attachment, OutPart};
use crate::soap::{
    ENVELOPE_TAIL, ReplyMeta, SoapFault, SoapHeader, SoapResponse, Transaction, XOP_NS,
    envelope_head, plain_content_type, plain_response,
};
use crate::xml::{self, Element, esc};

/// One `DocumentRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRequest {
    /// Required by XCA; kept optional so a request without it gets
    /// `XDSMissingHomeCommunityId` rather than a Fault.
    pub home_community_id: Option<String>,
    pub repository_unique_id: String,
    pub document_unique_id: String,
}

/// A parsed ITI-39 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrieveRequest {
    /// Distinct documents, in request order: a document named twice is answered once.
    pub documents: Vec<DocumentRequest>,
}

impl RetrieveRequest {
    /// Splits the requests into those addressed to us and registry errors for the others
    /// (`XDSMissingHomeCommunityId`, `XDSUnknownCommunity`, `XDSUnknownRepositoryId`).
    pub fn triage(&self, cfg: &ResponderConfig) -> (Vec<&DocumentRequest>, Vec<RegistryError>) {
        let ours = cfg.home_urn();
        let mut ok = Vec::new();
        let mut errors = Vec::new();
        for d in &self.documents {
            match d.home_community_id.as_deref() {
                Some(h) if is_our_home(h, cfg) => {}
                Some(h) => {
                    errors.push(
                        RegistryError::error(
                            XdsErrorCode::UnknownCommunity,
                            format!("HomeCommunityId {h} is not this community ({ours})"),
                        )
                        .at(d.document_unique_id.clone()),
                    );
                    continue;
                }
                None => {
                    errors.push(
                        RegistryError::error(
                            XdsErrorCode::MissingHomeCommunityId,
                            format!(
                                "DocumentRequest has no HomeCommunityId; XCA requires it \
                                 (this community is {ours})"
                            ),
                        )
                        .at(d.document_unique_id.clone()),
                    );
                    continue;
                }
            }
            if d.repository_unique_id.trim() != cfg.repository_unique_id {
                errors.push(
                    RegistryError::error(
                        XdsErrorCode::UnknownRepositoryId,
                        format!(
                            "RepositoryUniqueId {} is not this community's repository ({})",
                            d.repository_unique_id, cfg.repository_unique_id
                        ),
                    )
                    .at(d.document_unique_id.clone()),
                );
                continue;
            }
            ok.push(d);
        }
        (ok, errors)
    }
}

impl RegistryError {
    /// `XDSDocumentUniqueIdError` for a document we do not have.
    pub fn unknown_document(unique_id: &str) -> Self {
        Self::error(
            XdsErrorCode::DocumentUniqueIdError,
            format!("document {unique_id} is not available from this community"),
        )
        .at(unique_id)
    }
}

/// A document to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrievedDocument {
    pub document_unique_id: String,
    pub mime_type: String,
    /// Shared, not copied: the gateway hands over its cached document as is.
    pub content: Bytes,
    /// `content` already base64-encoded (standard alphabet, padded), for inline responses.
    /// Encoding dominates the cost of serving a cached document inline, so a caller that
    /// serves the same document repeatedly can encode it once and pass it here. Ignored for
    /// MTOM; must encode `content` exactly (it is sent as is).
    pub base64: Option<Bytes>,
}

/// A parsed `RetrieveDocumentSetResponse` (used by round-trip tests and initiating code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrieveResponse {
    pub status: String,
    pub error_codes: Vec<String>,
    pub documents: Vec<(DocumentRequest, RetrievedDocument)>,
}

fn text(el: &Element, local: &str) -> Option<String> {
    el.child(XDSB_NS, local)
        .and_then(Element::text_trimmed)
        .map(str::to_owned)
}

/// Reads the Body child of an ITI-39 request.
pub(crate) fn read(
    root: &Element,
    limits: &RequestLimits,
) -> Result<RetrieveRequest, RegistryError> {
    let bad = |msg: String| RegistryError::error(XdsErrorCode::RepositoryError, msg);
    if !root.is(XDSB_NS, "RetrieveDocumentSetRequest") {
        return Err(bad(format!(
            "the SOAP Body holds {{{}}}{}, expected {{{XDSB_NS}}}RetrieveDocumentSetRequest",
            root.ns, root.local
        )));
    }
    // Each DocumentRequest may cost a conversion and adds a whole document to the answer:
    // bound how many one request may name before reading any.
    let count = root.children_named(XDSB_NS, "DocumentRequest").count();
    if count > limits.max_document_requests {
        return Err(bad(format!(
            "the request names {count} documents; this gateway answers at most {} \
             DocumentRequests per ITI-39 request: split it into several requests",
            limits.max_document_requests
        )));
    }
    let mut documents: Vec<DocumentRequest> = Vec::with_capacity(count);
    for (i, d) in root.children_named(XDSB_NS, "DocumentRequest").enumerate() {
        let field = |local: &str| -> Result<Option<String>, RegistryError> {
            match text(d, local) {
                Some(t) if t.chars().count() > limits.max_id_chars => Err(bad(format!(
                    "the {local} of DocumentRequest #{} is longer than {} characters",
                    i + 1,
                    limits.max_id_chars
                ))),
                t => Ok(t),
            }
        };
        let need = |local: &str| {
            field(local)?.ok_or_else(|| bad(format!("DocumentRequest #{} has no {local}", i + 1)))
        };
        let req = DocumentRequest {
            home_community_id: field("HomeCommunityId")?,
            repository_unique_id: need("RepositoryUniqueId")?,
            document_unique_id: need("DocumentUniqueId")?,
        };
        // Answer each distinct document once (count is small, so a scan is cheapest).
        if !documents.contains(&req) {
            documents.push(req);
        }
    }
    if documents.is_empty() {
        return Err(bad(
            "RetrieveDocumentSetRequest has no DocumentRequest".into()
        ));
    }
    Ok(RetrieveRequest { documents })
}

fn open_response(out: &mut String, errors: &[RegistryError], has_docs: bool) {
    out.push_str("<xdsb:RetrieveDocumentSetResponse xmlns:xdsb=\"");
    out.push_str(XDSB_NS);
    out.push_str("\" xmlns:rs=\"");
    out.push_str(RS_NS);
    out.push_str("\"><rs:RegistryResponse status=\"");
    out.push_str(status(errors, has_docs));
    out.push_str("\">");
    write_error_list(out, errors);
    out.push_str("</rs:RegistryResponse>");
}

fn elem(out: &mut String, local: &str, value: &str) {
    out.push_str("<xdsb:");
    out.push_str(local);
    out.push('>');
    out.push_str(&esc(value));
    out.push_str("</xdsb:");
    out.push_str(local);
    out.push('>');
}

/// Builds the response; MTOM when `mtom`, otherwise inline base64.
///
/// Documents run to megabytes, so each is written exactly once, straight into the final
/// buffer (base64-encoded in place, or copied into its MIME part): no intermediate strings.
pub(crate) fn build(
    request: &SoapHeader,
    mtom: bool,
    documents: &[RetrievedDocument],
    errors: &[RegistryError],
    cfg: &ResponderConfig,
    meta: ReplyMeta<'_>,
) -> SoapResponse {
    let action = Transaction::Iti39.response_action();
    let inline_len: usize = if mtom {
        0
    } else {
        documents
            .iter()
            .map(|d| d.content.len().div_ceil(3) * 4)
            .sum()
    };
    let mut out = String::with_capacity(2048 + 512 * documents.len() + inline_len);
    envelope_head(
        &mut out,
        action,
        meta.message_id,
        request.message_id.as_deref(),
        "",
    );
    open_response(&mut out, errors, !documents.is_empty());
    // At most 40 characters, so that the boundary stays within RFC 2046's 70.
    let uuid_part: String = meta
        .message_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(40)
        .collect();
    let mut parts = Vec::new();
    // Where each inline document's base64 text goes in `out`, filled in by `splice_inline`.
    let mut inline = Vec::new();
    for (i, d) in documents.iter().enumerate() {
        out.push_str("<xdsb:DocumentResponse>");
        elem(&mut out, "HomeCommunityId", &cfg.home_urn());
        elem(&mut out, "RepositoryUniqueId", &cfg.repository_unique_id);
        elem(&mut out, "DocumentUniqueId", &d.document_unique_id);
        elem(&mut out, "mimeType", &d.mime_type);
        if mtom {
            let content_id = format!("doc{i}.{uuid_part}@ihe-messaging");
            out.push_str("<xdsb:Document><xop:Include xmlns:xop=\"");
            out.push_str(XOP_NS);
            out.push_str("\" href=\"cid:");
            out.push_str(&esc(&content_id));
            out.push_str("\"/></xdsb:Document>");
            parts.push(OutPart {
                content_id,
                content_type: &d.mime_type,
                bytes: &d.content,
            });
        } else {
            out.push_str("<xdsb:Document>");
            inline.push((out.len(), d));
            out.push_str("</xdsb:Document>");
        }
        out.push_str("</xdsb:DocumentResponse>");
    }
    out.push_str("</xdsb:RetrieveDocumentSetResponse>");
    out.push_str(ENVELOPE_TAIL);
    if !mtom {
        return SoapResponse {
            status: 200,
            content_type: plain_content_type(Transaction::Iti39),
            body: splice_inline(out, &inline, inline_len),
        };
    }
    // A boundary must not occur inside any part (RFC 2046 §5.1.1); number it until it does
    // not. Each try is one linear search per part, and a part can hold only so many of them.
    let mut boundary = format!("MIMEBoundary_{uuid_part}");
    let mut n = 0u64;
    while parts.iter().any(|p| contains(p.bytes, boundary.as_bytes())) || out.contains(&boundary) {
        n += 1;
        boundary = format!("MIMEBoundary_{uuid_part}_{n}");
    }
    let root_id = format!("root.{uuid_part}@ihe-messaging");
    let (content_type, body) = mtom::write(&boundary, &root_id, action, &out, &parts);
    SoapResponse {
        status: 200,
        content_type,
        body,
    }
}

/// The response bytes with each document's base64 text inserted at its offset: every byte is
/// written once, and a pre-encoded text is copied rather than encoded again.
fn splice_inline(out: String, at: &[(usize, &RetrievedDocument)], inline_len: usize) -> Vec<u8> {
    if at.is_empty() {
        return out.into_bytes();
    }
    let out = out.as_bytes();
    let mut body = Vec::with_capacity(out.len() + inline_len);
    let mut from = 0;
    for (offset, d) in at {
        body.extend_from_slice(&out[from..*offset]);
        match &d.base64 {
            Some(b) => body.extend_from_slice(b),
            None => {
                let start = body.len();
                body.resize(start + d.content.len().div_ceil(3) * 4, 0);
                let n = B64
                    .encode_slice(&d.content, &mut body[start..])
                    .unwrap_or_default();
                body.truncate(start + n);
            }
        }
        from = *offset;
    }
    body.extend_from_slice(&out[from..]);
    body
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

/// A Failure response with only registry errors.
pub(crate) fn build_failure(
    header: &SoapHeader,
    errors: &[RegistryError],
    meta: ReplyMeta<'_>,
) -> SoapResponse {
    let mut out = String::with_capacity(512);
    open_response(&mut out, errors, false);
    out.push_str("</xdsb:RetrieveDocumentSetResponse>");
    plain_response(Transaction::Iti39, header, meta, &out)
}

/// Document bytes: the `xop:Include` attachment or the inline base64 text.
fn document_bytes(
    doc: &Element,
    attachments: &HashMap<String, Attachment>,
) -> Result<Vec<u8>, String> {
    if let Some(inc) = doc.child(XOP_NS, "Include") {
        let href = inc.attr("href").unwrap_or_default();
        let id = mtom::cid_to_content_id(href).ok_or_else(|| format!("bad xop href {href}"))?;
        return attachments
            .get(&id)
            .map(|a| a.bytes.clone())
            .ok_or_else(|| format!("no MIME part with Content-ID {id}"));
    }
    let compact: String = doc.text.chars().filter(|c| !c.is_whitespace()).collect();
    B64.decode(compact.as_bytes())
        .map_err(|e| format!("Document is not base64: {e}"))
}

/// Reads an ITI-39 response (plain or MTOM), resolving XOP attachments.
pub fn parse_response(body: &[u8], content_type: &str) -> Result<RetrieveResponse, SoapFault> {
    let (media, params) = mtom::parse_content_type(content_type);
    let (xml_bytes, attachments) = if media == "multipart/related" {
        let pkg = mtom::parse(body, &params).map_err(|e| SoapFault::sender(e.to_string()))?;
        (pkg.root, pkg.attachments)
    } else {
        (body.to_vec(), HashMap::new())
    };
    let root = xml::parse(&xml_bytes).map_err(|e| SoapFault::sender(e.to_string()))?;
    let resp = root
        .child(crate::soap::SOAP12_NS, "Body")
        .and_then(|b| b.child(XDSB_NS, "RetrieveDocumentSetResponse"))
        .ok_or_else(|| SoapFault::sender("no RetrieveDocumentSetResponse in the Body"))?;
    let rr = resp
        .child(RS_NS, "RegistryResponse")
        .ok_or_else(|| SoapFault::sender("no RegistryResponse"))?;
    let error_codes = rr
        .child(RS_NS, "RegistryErrorList")
        .into_iter()
        .flat_map(|l| l.children_named(RS_NS, "RegistryError"))
        .filter_map(|e| e.attr("errorCode").map(str::to_owned))
        .collect();
    let mut documents = Vec::new();
    for d in resp.children_named(XDSB_NS, "DocumentResponse") {
        let doc = d
            .child(XDSB_NS, "Document")
            .ok_or_else(|| SoapFault::sender("DocumentResponse without Document"))?;
        let content = document_bytes(doc, &attachments).map_err(SoapFault::sender)?;
        let uid = text(d, "DocumentUniqueId").unwrap_or_default();
        documents.push((
            DocumentRequest {
                home_community_id: text(d, "HomeCommunityId"),
                repository_unique_id: text(d, "RepositoryUniqueId").unwrap_or_default(),
                document_unique_id: uid.clone(),
            },
            RetrievedDocument {
                document_unique_id: uid,
                mime_type: text(d, "mimeType").unwrap_or_default(),
                content: content.into(),
                base64: None,
            },
        ));
    }
    Ok(RetrieveResponse {
        status: rr.attr("status").unwrap_or_default().to_owned(),
        error_codes,
        documents,
    })
}
