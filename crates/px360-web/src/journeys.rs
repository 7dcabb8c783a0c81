//! Patient journeys in the principal's scope, newest first, 50 per page ("Older"/"Newest"
//! links): template, encounter, and stage progress.
//!
//! Patient identifiers are not shown: the encounter identifies the visit for operators.

use crate::error::UiError;
use crate::i18n::{Label, Tr};
use crate::page::{Chrome, Nav, PAGE_SIZE, Pager, Req, Stamp, badge, render, stamp, stamp_opt};
use crate::session::Session;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use px360_api::auth::Ctx;
use px360_api::{AppState, filter, own_scope};
use px360_domain::journey::StageStatus;
use px360_domain::rbac::{Action, Resource};
use px360_store::ts;

pub struct StageChip {
    pub label: Label,
    pub status_label: String,
    pub class: &'static str,
}

pub struct JourneyRow {
    pub template: Label,
    pub encounter: String,
    pub hospital: String,
    pub department: String,
    pub status_label: String,
    pub status_class: &'static str,
    pub started: Stamp,
    pub completed: Option<Stamp>,
    pub done: usize,
    pub total: usize,
    pub progress: String,
    pub stages: Vec<StageChip>,
}

#[derive(Template)]
#[template(path = "journeys.html")]
struct JourneysPage {
    chrome: Chrome,
    t: Tr,
    rows: Vec<JourneyRow>,
    pager: Pager,
}

pub async fn list(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let p = &s.principal;
    st.authorize(p, &ctx, Resource::Journey, Action::Read, own_scope(p), None)
        .await?;
    let t = req.t();
    let before = crate::page::before(&req);
    // The scope filter comes from the principal on every page; the cursor is only a position.
    let page = st
        .db
        .journeys(&filter(p), None, before.as_ref(), PAGE_SIZE)
        .await?;
    let pager = Pager::new(&req, before.as_ref(), page.next.as_ref(), None);
    let journeys = page.rows;
    let (templates, names) = if journeys.is_empty() {
        Default::default()
    } else {
        (st.db.template_names().await?, st.db.org_names().await?)
    };
    let name = |id: &str| names.get(id).cloned().unwrap_or_default();
    let rows = journeys
        .into_iter()
        .map(|j| {
            let done = j
                .stages
                .iter()
                .filter(|s| s.status == StageStatus::Completed)
                .count();
            let total = j.stages.len();
            let stored = templates.get(&j.template_code).cloned().unwrap_or_default();
            JourneyRow {
                template: t.named(&format!("template-{}", j.template_code), &stored),
                encounter: j.encounter_id,
                hospital: name(&j.hospital_id.to_string()),
                department: j
                    .department_id
                    .map(|d| name(&d.to_string()))
                    .unwrap_or_default(),
                status_label: t.get(&format!("journey-status-{}", j.status.as_str())),
                status_class: badge(j.status.as_str()),
                started: stamp(&t, &ts(j.started_at), &j.hospital_timezone),
                completed: stamp_opt(&t, j.completed_at.map(ts).as_deref(), &j.hospital_timezone),
                done,
                total,
                progress: t.with(
                    "stages-done",
                    &[
                        ("done", (done as i64).into()),
                        ("total", (total as i64).into()),
                    ],
                ),
                stages: j
                    .stages
                    .into_iter()
                    .map(|s| StageChip {
                        label: t.named(&format!("stage-{}", s.code), &s.name),
                        status_label: t.get(&format!("stage-status-{}", s.status.as_str())),
                        class: badge(s.status.as_str()),
                    })
                    .collect(),
            }
        })
        .collect();
    render(&JourneysPage {
        chrome: Chrome::new(&req, Some(&s), Nav::Journeys, "journeys-title"),
        t,
        rows,
        pager,
    })
}
