//! The dashboard: the user's scope, event counts by status, journey counts and recent events.
//!
//! Sections follow the permission table: event figures and rows only for principals who may
//! read events in their hospital; journey figures are aggregates (no patient data) over the
//! principal's own scope, so every role sees them.

use crate::error::UiError;
use crate::events::{EventRow, rows};
use crate::i18n::{Label, Tr};
use crate::page::{Chrome, Nav, Req, may_list_events, render};
use crate::session::Session;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use px360_api::{AppState, auth::Ctx, filter, own_scope};
use px360_domain::rbac::{Action, Resource};

pub struct Stat {
    pub label: String,
    pub value: i64,
    pub class: &'static str,
    /// Where the figure links to (the filtered list), if anywhere.
    pub href: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    t: Tr,
    scope_hospitals: Vec<Label>,
    scope_departments: Vec<String>,
    event_stats: Option<Vec<Stat>>,
    journey_stats: Vec<Stat>,
    recent: Option<Vec<EventRow>>,
}

pub async fn page(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let p = &s.principal;
    // Organisation data is readable by every role in scope (level 10): this gate only fails
    // for an impossible principal, but keeps every page behind the same check as the API.
    st.authorize(
        p,
        &ctx,
        Resource::Hospital,
        Action::Read,
        own_scope(p),
        None,
    )
    .await?;
    let t = req.t();
    let f = filter(p);
    let hospitals = st.db.hospitals(f.hospital_id.as_deref()).await?;
    let departments = match &f.department_id {
        Some(_) => st.db.departments(&f).await?,
        None => Vec::new(),
    };
    let scope_hospitals = if f.hospital_id.is_none() {
        vec![t.label("scope-group", "")]
    } else {
        hospitals.iter().map(|h| Label::data(&h.name)).collect()
    };

    let (event_stats, recent) = if may_list_events(p) {
        let h = f.hospital_id.as_deref();
        let counts: std::collections::HashMap<String, i64> =
            st.db.event_counts(h).await?.into_iter().collect();
        let stats = ["received", "processed", "failed", "parked"]
            .into_iter()
            .map(|s| Stat {
                label: t.get(&format!("status-{s}")),
                value: counts.get(s).copied().unwrap_or(0),
                class: crate::page::badge(s),
                href: Some(format!("/ui/events?status={s}")),
            })
            .collect();
        let recent = rows(&st, &t, st.db.events(h, None, None, 10).await?.rows).await?;
        (Some(stats), Some(recent))
    } else {
        (None, None)
    };

    let jc = st.db.journey_counts(&f).await?;
    let journey_stats = [
        ("active", "journeys-active"),
        ("completed", "journeys-completed"),
    ]
    .into_iter()
    .map(|(s, key)| Stat {
        label: t.get(key),
        value: jc.get(s).copied().unwrap_or(0),
        class: crate::page::badge(s),
        href: None,
    })
    .collect();

    render(&Dashboard {
        chrome: Chrome::new(&req, Some(&s), Nav::Dashboard, "dashboard-title"),
        t,
        scope_hospitals,
        scope_departments: departments.into_iter().map(|d| d.name).collect(),
        event_stats,
        journey_stats,
        recent,
    })
}
