//! The clinician's preview: `GET /preview/{nhs_number}` shows the converted record as HTML.
//!
//! Served only to authenticated callers: behind mutual TLS (the client certificate
//! authenticates the calling system) or with the configured bearer token (`preview.token`),
//! or in sandbox mode on loopback. The gateway refuses to start with the preview enabled and
//! unprotected (`Config::check_exposure`). The page is built from the document's own
//! section titles and narrative blocks (`section/text`), mapped element by element to HTML
//! with every text escaped, so nothing in a record can inject markup or script.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use nhs_number::NhsNumber;
use quick_xml::events::Event;
use service_kit::problem::Problem;

use crate::app::AppState;
use crate::audit::Category;
use crate::flow::{Caller, FlowError};
use crate::security::PeerAddr;

/// The converted GP record of a patient, as HTML.
#[utoipa::path(get, path = "/preview/{nhs_number}", tag = "preview",
    params(("nhs_number" = String, Path, description = "10-digit NHS number")),
    responses(
        (status = 200, description = "the converted record", content_type = "text/html"),
        (status = 400, description = "not a valid NHS number (problem+json)"),
        (status = 401, description = "preview.token configured and not presented (problem+json)"),
        (status = 404, description = "preview disabled, or patient unknown (problem+json)"),
        (status = 403, description = "record not shareable: restricted, no consent (problem+json)"),
        (status = 502, description = "an upstream service failed (problem+json)")))]
pub async fn preview(
    State(st): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<PeerAddr>,
    headers: axum::http::HeaderMap,
    Path(nhs): Path<String>,
) -> Response {
    if !st.flow.cfg.preview_enabled() {
        return Problem::not_found("the preview").into_response();
    }
    if let Some(token) = &st.flow.cfg.preview.token
        && !bearer_matches(&headers, token)
    {
        metrics::counter!("xhuma_preview_refused_total").increment(1);
        let mut r = Problem::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
        )
        .detail("the preview needs `Authorization: Bearer <token>`")
        .into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer realm=\"xhuma-preview\""),
        );
        return r;
    }
    let Ok(nhs) = NhsNumber::parse(nhs.trim()) else {
        return Problem::bad_request("the path does not hold a valid 10-digit NHS number")
            .into_response();
    };
    let started = Instant::now();
    let caller = Caller {
        ctx: crate::spine::requesting_context(None, &st.flow.cfg.gateway),
        client_addr: Some(peer.0.ip().to_string()),
        message_id: None,
    };
    let result = st.flow.document_for(&nhs, &caller).await;
    let mut ev = caller.event(
        Category::Transaction,
        "preview",
        if result.is_ok() { "success" } else { "error" },
    );
    ev.patient_pseudonym = Some(st.flow.pseudonym(&nhs));
    ev.duration_ms = Some(i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX));
    let meta = match result {
        Ok(m) => m,
        Err(e) => {
            ev.error_code = Some(e.code().into());
            st.flow.audit.record(ev).await;
            return problem(&e).into_response();
        }
    };
    ev.document_id = Some(meta.unique_id.clone());
    // The page is shown only once its audit record is durable.
    if let Err(e) = st.flow.audit.record_durable(ev).await {
        tracing::error!(error = %e, "preview refused: its audit record cannot be written");
        metrics::counter!("xhuma_audit_refused_total", "transaction" => "preview").increment(1);
        return Problem::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "audit-unavailable",
            "The audit trail cannot be written",
        )
        .detail("the record is not shown without an audit entry; retry later")
        .into_response();
    }
    let Some(doc) = st.flow.stored_document(&meta.unique_id).await else {
        // Evicted between the two reads (a full cache): a passing condition, not a bug.
        return Problem::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The record cannot be shown",
        )
        .detail("the converted document is no longer cached; try again")
        .into_response();
    };
    let html = render(&doc.xml, &meta.title);
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        html,
    )
        .into_response()
}

/// Whether the request carries `Authorization: Bearer <token>`. Both sides are hashed first
/// and the digests compared without early exit, so neither the length nor a matching prefix
/// of the token shows in the timing.
fn bearer_matches(headers: &axum::http::HeaderMap, token: &secrecy::SecretString) -> bool {
    use secrecy::ExposeSecret;
    use sha2::{Digest, Sha256};
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .unwrap_or("");
    let a = Sha256::digest(presented.trim().as_bytes());
    let b = Sha256::digest(token.expose_secret().as_bytes());
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0 && !presented.is_empty()
}

fn problem(e: &FlowError) -> Problem {
    use axum::http::StatusCode;
    let (status, kind) = match e {
        FlowError::PatientNotFound | FlowError::NotAtPractice => {
            (StatusCode::NOT_FOUND, "not-found")
        }
        FlowError::Restricted
        | FlowError::NoConsent
        | FlowError::AccessDenied
        | FlowError::Deceased => (StatusCode::FORBIDDEN, "not-shareable"),
        FlowError::Upstream { .. }
        | FlowError::NoPractice
        | FlowError::PracticeNotInSds
        | FlowError::InvalidNhsAtPractice => (StatusCode::BAD_GATEWAY, "upstream"),
        FlowError::Conversion | FlowError::Internal => {
            (StatusCode::INTERNAL_SERVER_ERROR, "internal")
        }
    };
    Problem::new(status, kind, "The record cannot be shown").detail(e.to_string())
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// CDA narrative element → HTML element (`None`: keep the content, drop the tag).
fn html_tag(local: &str) -> Option<&'static str> {
    Some(match local {
        "table" => "table",
        "thead" => "thead",
        "tbody" => "tbody",
        "tfoot" => "tfoot",
        "tr" => "tr",
        "th" => "th",
        "td" => "td",
        "caption" => "caption",
        "list" => "ul",
        "item" => "li",
        "paragraph" => "p",
        "content" => "span",
        "sup" => "sup",
        "sub" => "sub",
        "br" => "br",
        _ => return None,
    })
}

/// Builds the page from the CDA XML: title, then each section's title and narrative.
pub fn render(xml: &[u8], title: &str) -> String {
    let mut out = String::with_capacity(xml.len() / 2);
    out.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    out.push_str(&esc(title));
    out.push_str(
        "</title><style>body{font-family:sans-serif;margin:2em;max-width:70em}\
         table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #999;padding:.2em .5em;\
         text-align:left;vertical-align:top}h2{border-bottom:2px solid #005eb8;color:#005eb8}</style>\
         </head><body><h1>",
    );
    out.push_str(&esc(title));
    out.push_str("</h1>");
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    // Depth inside a section <text> (0 = outside), and whether we are in a section <title>.
    let mut text_depth = 0usize;
    let mut in_section_title = false;
    let mut section_depth = 0usize;
    let mut stack: Vec<Option<&'static str>> = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                let local = e.local_name();
                let name = local.as_ref();
                if text_depth > 0 {
                    text_depth += 1;
                    let tag = html_tag(name);
                    if let Some(t) = tag {
                        out.push('<');
                        out.push_str(t);
                        out.push('>');
                    }
                    stack.push(tag);
                } else if name == "section" {
                    section_depth += 1;
                    out.push_str("<section>");
                } else if section_depth > 0 && name == "title" {
                    in_section_title = true;
                    out.push_str("<h2>");
                } else if section_depth > 0 && name == "text" {
                    text_depth = 1;
                }
            }
            Ok(Event::Empty(e)) if text_depth > 0 && e.local_name().as_ref() == "br" => {
                out.push_str("<br>");
            }
            Ok(Event::End(e)) => {
                let local = e.local_name();
                let name = local.as_ref();
                if text_depth > 0 {
                    text_depth -= 1;
                    if text_depth > 0
                        && let Some(Some(t)) = stack.pop()
                        && t != "br"
                    {
                        out.push_str("</");
                        out.push_str(t);
                        out.push('>');
                    }
                } else if in_section_title && name == "title" {
                    in_section_title = false;
                    out.push_str("</h2>");
                } else if name == "section" && section_depth > 0 {
                    section_depth -= 1;
                    out.push_str("</section>");
                }
            }
            Ok(Event::Text(t)) if text_depth > 0 || in_section_title => {
                out.push_str(&esc(&t.xml10_content()));
            }
            Ok(Event::GeneralRef(r)) if text_depth > 0 || in_section_title => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    out.push_str(&esc(&c.to_string()));
                } else {
                    let c = match r.as_ref() {
                        "lt" => "<",
                        "gt" => ">",
                        "amp" => "&",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    };
                    out.push_str(&esc(c));
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
        buf.clear();
    }
    out.push_str("</body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrative_becomes_escaped_html() {
        let xml = br#"<ClinicalDocument xmlns="urn:hl7-org:v3"><component><structuredBody><component>
            <section><title>Allergies &amp; intolerances</title><text><table><thead><tr><th>Substance</th></tr></thead>
            <tbody><tr><td><content ID="a1">Penicillin &lt;script&gt;</content></td></tr></tbody></table>
            <list><item>one<br/>two</item></list></text><entry><observation><code code="x"/></observation></entry>
            </section></component></structuredBody></component></ClinicalDocument>"#;
        let html = render(xml, "GP summary <b>");
        assert!(html.contains("<h1>GP summary &lt;b&gt;</h1>"), "{html}");
        assert!(
            html.contains("<h2>Allergies &amp; intolerances</h2>"),
            "{html}"
        );
        assert!(
            html.contains("<td><span>Penicillin &lt;script&gt;</span></td>"),
            "{html}"
        );
        assert!(html.contains("<ul><li>one<br>two</li></ul>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("observation"), "{html}");
    }
}
