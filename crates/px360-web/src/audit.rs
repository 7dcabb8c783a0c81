//! The audit log viewer: records newest first, filtered by actor, action, object and time,
//! 50 per page (keyset paging on the sequence number), each with its details; at the top the
//! chain's verification state, the same one that drives `/health/` and the
//! `px360_audit_chain_ok` gauge. Open to the roles that may read the audit through the API
//! (Hospital Admin: their hospital's records; PX Admin: all). Every read is itself audited.

use crate::error::UiError;
use crate::i18n::{Label, Tr};
use crate::page::{Chrome, Nav, PAGE_SIZE, Req, Stamp, render, stamp};
use crate::session::Session;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use px360_api::auth::Ctx;
use px360_api::{AppState, filter, own_hospital};
use px360_domain::rbac::{Action, Resource};
use px360_store::audit::AuditFilter;
use std::collections::HashMap;

pub struct AuditRow {
    pub seq: i64,
    pub at: Stamp,
    pub actor: Label,
    pub actor_type: String,
    pub action: String,
    pub object: String,
    pub hospital: String,
    pub ip: String,
    pub user_agent: String,
    pub changes: String,
    pub hash: String,
}

/// The chain's state as shown: a catalogue key, its Bootstrap class, and the records checked
/// or the failure (data).
pub struct ChainState {
    pub key: &'static str,
    pub class: &'static str,
    pub records: Option<i64>,
    pub detail: Option<String>,
}

pub fn chain_state() -> ChainState {
    match px360_store::audit::status() {
        None => ChainState {
            key: "audit-chain-pending",
            class: "alert-secondary",
            records: None,
            detail: None,
        },
        Some(Ok(n)) => ChainState {
            key: "audit-chain-ok",
            class: "alert-success",
            records: Some(n as i64),
            detail: None,
        },
        Some(Err(e)) => ChainState {
            key: "audit-chain-broken",
            class: "alert-danger",
            records: None,
            detail: Some(e),
        },
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    t: Tr,
    chain: ChainState,
    chain_text: String,
    rows: Vec<AuditRow>,
    actor: String,
    action: String,
    object: String,
    from: String,
    to: String,
    from_error: bool,
    to_error: bool,
    newest: Option<String>,
    older: Option<String>,
}

/// `2026-01-31` (start of that day) or `2026-01-31T09:30` (a `datetime-local` field), in UTC.
fn parse_when(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc())
        .or_else(|| px360_store::row::parse_time(s))
}

pub async fn page(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let p = &s.principal;
    st.authorize(
        p,
        &ctx,
        Resource::Audit,
        Action::Read,
        own_hospital(p),
        None,
    )
    .await?;
    let t = req.t();
    let text = |k: &str| req.param(k).unwrap_or("").trim().to_owned();
    let (actor, action, object, from, to) = (
        text("actor"),
        text("action"),
        text("object"),
        text("from"),
        text("to"),
    );
    let scope = filter(p);
    let users: HashMap<String, String> = st
        .db
        .users(&px360_store::org::ScopeFilter {
            hospital_id: scope.hospital_id.clone(),
            department_id: None,
        })
        .await?
        .into_iter()
        .map(|u| (u.id.to_string(), u.username))
        .collect();
    // An actor is given by username or by id; an unknown username matches nothing.
    let actor_id = (!actor.is_empty()).then(|| {
        users
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(&actor))
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| actor.clone())
    });
    let from_at = (!from.is_empty()).then(|| parse_when(&from));
    let to_at = (!to.is_empty()).then(|| parse_when(&to));
    let f = AuditFilter {
        hospital_id: scope.hospital_id.clone(),
        actor_id,
        action: (!action.is_empty()).then(|| action.clone()),
        object: (!object.is_empty()).then(|| object.clone()),
        from: from_at.flatten(),
        to: to_at.flatten(),
    };
    // A cursor that is not a number shows the newest page, like the other lists.
    let before = req.param("before").and_then(|b| b.parse::<i64>().ok());
    // Reading is audited before the page is read, so the newest row shows this very read.
    st.audit(AppState::entry(
        p,
        &ctx,
        "audit.read",
        "audit",
        "audit_log",
        scope.hospital_id.as_deref(),
        serde_json::json!({"actor": actor, "action": action, "object": object, "from": from, "to": to, "before": before}),
    ))
    .await?;
    let (records, more) = st.db.audit_page(&f, before, PAGE_SIZE).await?;
    let names = st.db.org_names().await?;
    let zones = st.db.hospital_zones().await?;
    let rows: Vec<AuditRow> = records
        .into_iter()
        .map(|r| {
            let zone = r
                .hospital_id
                .as_ref()
                .and_then(|h| zones.get(h))
                .map_or("UTC", String::as_str);
            let actor = match r.actor_id.as_ref() {
                Some(id) => Label::data(users.get(id).unwrap_or(id)),
                None => Label {
                    text: t.get("event-none"),
                    data: false,
                },
            };
            AuditRow {
                seq: r.seq,
                at: stamp(&t, &r.at, zone),
                actor,
                actor_type: r.actor_type,
                action: r.action,
                object: [r.object_type, r.object_id]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
                hospital: r
                    .hospital_id
                    .as_ref()
                    .and_then(|h| names.get(h))
                    .cloned()
                    .unwrap_or_default(),
                ip: r.ip.unwrap_or_default(),
                user_agent: r.user_agent.unwrap_or_default(),
                changes: r
                    .changes
                    .as_deref()
                    .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
                    .map(|v| serde_json::to_string_pretty(&v).unwrap_or_default())
                    .unwrap_or_default(),
                hash: r.hash.chars().take(16).collect(),
            }
        })
        .collect();
    let link = |before: Option<i64>| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("actor", &actor),
            ("action", &action),
            ("object", &object),
            ("from", &from),
            ("to", &to),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        if let Some(b) = before {
            q.append_pair("before", &b.to_string());
        }
        format!("/ui/audit?{}", q.finish())
    };
    let older = more
        .then(|| rows.last().map(|r| link(Some(r.seq))))
        .flatten();
    let newest = before.map(|_| link(None));
    let chain = chain_state();
    let chain_text = match (chain.records, &chain.detail) {
        (Some(n), _) => t.count(chain.key, "count", n),
        _ => t.get(chain.key),
    };
    render(&AuditPage {
        chrome: Chrome::new(&req, Some(&s), Nav::Audit, "audit-title"),
        t,
        chain,
        chain_text,
        rows,
        from_error: matches!(from_at, Some(None)),
        to_error: matches!(to_at, Some(None)),
        actor,
        action,
        object,
        from,
        to,
        newest,
        older,
    })
}
