//! PX actions: created by hand (or from a complaint by the creation rules at intake), the board
//! (my work, my team's, overdue), the lifecycle as commands to the domain machine (evidence to
//! close, a second person verifies high and critical ones), with the log and the SLA clock.

use crate::AppState;
use crate::auth::{Authed, Ctx};
use crate::complaints::tx_err;
use crate::error::{ApiError, ApiResult};
use crate::{commit_audited, obj, own_scope};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::Utc;
use px360_domain::action::origin::{ActionOrigin, CreationRules, Placement};
use px360_domain::action::px_action::{self as machine, ActionCommand, ActionError};
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action as Act, Principal, Resource};
use px360_domain::sla::Severity;
use px360_store::StoreError;
use px360_store::actions::{self as store, Action, Board, LogEntry, NewAction};
use px360_store::sla::ItemKind;
use px360_store::sla::clock::ClockView;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

fn field(name: &str, msg: &str) -> ApiError {
    ApiError::Validation(vec![FieldError::new(name, msg)])
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ActionInput {
    /// Required when no department is given.
    pub hospital_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub category_code: String,
    /// low | medium | high | critical
    pub severity: String,
    /// Owner; absent: chosen by the rules (the department's manager, else the hospital's PX
    /// coordinator).
    pub owner_id: Option<Uuid>,
    /// Raise it for this complaint (one action per complaint).
    pub complaint_id: Option<Uuid>,
}

#[utoipa::path(post, path = "/api/actions", tag = "actions", request_body = ActionInput,
    responses((status = 201, body = Action), (status = 200, body = Action, description = "The complaint already has its action"),
        (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn create_action(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<ActionInput>,
) -> ApiResult<(StatusCode, Json<Action>)> {
    let (a, created) = create(&st, &p, &ctx, &b, None).await?;
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((code, Json(a)))
}

/// Create an action as `p` (the API's operation, also for feedback triage and social mention
/// conversion, which pass their item as `origin`: one action per item). `false` when the origin
/// already raised its action (that one is returned, nothing changes).
pub async fn create(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    b: &ActionInput,
    origin: Option<ActionOrigin>,
) -> ApiResult<(Action, bool)> {
    let mut errs = Vec::new();
    let n = b.title.trim().chars().count();
    if n == 0 || n > 200 {
        errs.push(FieldError::new("title", "is required (1-200 characters)"));
    }
    if b.description.chars().count() > 4000 {
        errs.push(FieldError::new("description", "at most 4000 characters"));
    }
    let severity = Severity::parse(&b.severity);
    if severity.is_none() {
        errs.push(FieldError::new(
            "severity",
            "must be low, medium, high or critical",
        ));
    }
    if !st
        .db
        .complaint_categories(false)
        .await?
        .iter()
        .any(|c| c.code == b.category_code)
    {
        errs.push(FieldError::new("category_code", "unknown category"));
    }
    let (hospital, department) = match b.department_id {
        Some(d) => match st.db.department(&d.to_string()).await {
            Ok(dept) => (Some(dept.hospital_id), Some(d)),
            Err(StoreError::NotFound) => {
                errs.push(FieldError::new("department_id", "unknown department"));
                (None, None)
            }
            Err(e) => return Err(e.into()),
        },
        None => (b.hospital_id, None),
    };
    let (Some(hospital), Some(severity), true) = (hospital, severity, errs.is_empty()) else {
        if errs.is_empty() {
            errs.push(FieldError::new(
                "hospital_id",
                "a hospital or a department is required",
            ));
        }
        return Err(ApiError::Validation(errs));
    };
    st.authorize(
        p,
        ctx,
        Resource::PxAction,
        Act::Create,
        obj(
            &hospital.to_string(),
            department.map(|d| d.to_string()).as_deref(),
        ),
        None,
    )
    .await?;
    let origin = match (origin, b.complaint_id) {
        (Some(o), _) => o,
        (None, Some(cid)) => {
            let c = crate::complaints::load(st, p, ctx, cid, Act::Read).await?;
            if c.hospital_id != hospital {
                return Err(field("complaint_id", "belongs to another hospital"));
            }
            ActionOrigin::Complaint { complaint_id: cid }
        }
        (None, None) => ActionOrigin::Manual,
    };
    let now = Utc::now();
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let owner = match b.owner_id {
        Some(o) => {
            let u = st.db.user(&o.to_string()).await.map_err(|e| match e {
                StoreError::NotFound => field("owner_id", "unknown user"),
                e => e.into(),
            })?;
            let up = Principal::new(u.id, u.role, u.hospital_id, u.department_id)
                .ok()
                .filter(|_| u.is_active)
                .ok_or_else(|| field("owner_id", "unknown user"))?;
            if !up.may(
                Resource::PxAction,
                Act::Update,
                &obj(
                    &hospital.to_string(),
                    department.map(|d| d.to_string()).as_deref(),
                ),
            ) {
                return Err(field("owner_id", "this user cannot work on the action"));
            }
            o
        }
        None => {
            let cal = px360_store::sla::config::business_calendar(&mut tx, hospital).await?;
            let plan = CreationRules::default().by_hand(
                origin.clone(),
                &b.category_code,
                severity,
                Placement {
                    hospital_id: Some(hospital),
                    department_id: department,
                },
                now,
                (&px360_domain::sla::SlaPolicy::demo_default(), &cal),
            );
            store::resolve_owner(&mut tx, &plan.owner)
                .await?
                .ok_or_else(|| {
                    field(
                        "owner_id",
                        "no one holds the owner role here: name an owner",
                    )
                })?
        }
    };
    let (a, created) = store::insert(
        &mut tx,
        &NewAction {
            hospital_id: hospital,
            department_id: department,
            origin,
            category_code: b.category_code.clone(),
            title: b.title.trim().to_owned(),
            description: b.description.trim().to_owned(),
            severity,
            owner_id: owner,
            created_by: Some(p.user_id()),
        },
        now,
    )
    .await?;
    if !created {
        tx.rollback().await.map_err(tx_err)?;
        return Ok((a, false));
    }
    px360_store::sla::scan::notify(
        &mut tx,
        &owner.to_string(),
        "assigned",
        (ItemKind::Action, a.id),
        &format!("own:{}:1", a.id),
        &serde_json::json!({"title_chars": a.title.chars().count()}),
        now,
    )
    .await?;
    let e = AppState::entry(
        p,
        ctx,
        "px_action.create",
        "px_action",
        &a.id.to_string(),
        Some(&hospital.to_string()),
        serde_json::json!({"origin": a.origin_kind, "origin_id": a.origin_id, "severity": a.severity.as_str(), "owner_id": owner, "due_at": a.due_at}),
    );
    commit_audited(tx, &e).await?;
    Ok((a, true))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct BoardQuery {
    /// mine (default) | team | overdue
    pub board: Option<Board>,
    /// 1-500 (default 100).
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/actions", tag = "actions", params(BoardQuery),
    responses((status = 200, body = Vec<Action>, description = "Open actions of the board, soonest due first"), (status = 403)), security(("bearer" = [])))]
pub async fn board(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<BoardQuery>,
) -> ApiResult<Json<Vec<Action>>> {
    st.authorize(&p, &ctx, Resource::PxAction, Act::Read, own_scope(&p), None)
        .await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    Ok(Json(
        st.db
            .action_board(
                q.board.unwrap_or(Board::Mine),
                p.user_id(),
                &crate::filter(&p),
                Utc::now(),
                limit,
            )
            .await?,
    ))
}

pub async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    action: Act,
) -> ApiResult<Action> {
    let a = st.db.px_action(id).await?;
    st.authorize(
        p,
        ctx,
        Resource::PxAction,
        action,
        obj(
            &a.hospital_id.to_string(),
            a.department_id.map(|d| d.to_string()).as_deref(),
        ),
        Some(&id.to_string()),
    )
    .await?;
    Ok(a)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActionDetail {
    pub action: Action,
    pub clock: ClockView,
    pub log: Vec<LogEntry>,
}

#[utoipa::path(get, path = "/api/actions/{id}", tag = "actions",
    responses((status = 200, body = ActionDetail), (status = 404)), security(("bearer" = [])))]
pub async fn get_action(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ActionDetail>> {
    let a = load(&st, &p, &ctx, id, Act::Read).await?;
    Ok(Json(ActionDetail {
        clock: st.db.sla_clock(ItemKind::Action, id).await?,
        log: st.db.px_action_log(id).await?,
        action: a,
    }))
}

fn machine_error(e: ActionError) -> ApiError {
    match e {
        ActionError::NotPermitted { .. } => ApiError::Forbidden,
        ActionError::TextRequired(f) => field(&f.replace(' ', "_"), &e.to_string()),
        ActionError::EvidenceRequired => field("evidence", &e.to_string()),
        other => ApiError::Conflict(other.to_string()),
    }
}

/// Apply a lifecycle command as `p` (API and web UI).
pub async fn transition(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    cmd: &ActionCommand,
) -> ApiResult<Action> {
    let a = load(st, p, ctx, id, Act::Update).await?;
    if let ActionCommand::AddEvidence { evidence } = cmd {
        let n = evidence.note.trim().chars().count();
        if n == 0 || n > 4000 {
            return Err(field("evidence.note", "is required (1-4000 characters)"));
        }
        if let Some(att) = evidence.attachment_id {
            let x = st.db.attachment(att).await.map_err(|e| match e {
                StoreError::NotFound => field("evidence.attachment_id", "unknown attachment"),
                e => e.into(),
            })?;
            // Only the action's own files or its complaint's: naming another item's file would
            // disclose it to whoever reads this action.
            if !crate::action_files::may_cite(&x, &a) {
                return Err(field("evidence.attachment_id", "unknown attachment"));
            }
        }
    }
    if let ActionCommand::Reassign { to } = cmd {
        let u = st.db.user(&to.to_string()).await.map_err(|e| match e {
            StoreError::NotFound => field("to", "unknown user"),
            e => e.into(),
        })?;
        let up = Principal::new(u.id, u.role, u.hospital_id, u.department_id)
            .ok()
            .filter(|_| u.is_active)
            .ok_or_else(|| field("to", "unknown user"))?;
        if !up.may(
            Resource::PxAction,
            Act::Update,
            &obj(
                &a.hospital_id.to_string(),
                a.department_id.map(|d| d.to_string()).as_deref(),
            ),
        ) {
            return Err(field("to", "this user cannot work on the action"));
        }
    }
    let t = machine::apply(&store::projection(&a), cmd, p).map_err(machine_error)?;
    let now = Utc::now();
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let updated = store::apply(&mut tx, id, &t.next, &t.events, p.user_id(), now).await?;
    if let ActionCommand::Reassign { to } = cmd {
        px360_store::sla::scan::notify(
            &mut tx,
            &to.to_string(),
            "assigned",
            (ItemKind::Action, id),
            &format!("own:{id}:{}", now.timestamp_micros()),
            &serde_json::json!({}),
            now,
        )
        .await?;
    }
    // Event names and ids only: notes and reasons stay in the action's log, not the audit log.
    let names: Vec<String> = t
        .events
        .iter()
        .map(|e| {
            serde_json::to_value(e)
                .ok()
                .and_then(|v| v["event"].as_str().map(str::to_owned))
                .unwrap_or_default()
        })
        .collect();
    let e = AppState::entry(
        p,
        ctx,
        &format!("px_action.{}", cmd.name()),
        "px_action",
        &id.to_string(),
        Some(&a.hospital_id.to_string()),
        serde_json::json!({"events": names, "from": a.status.as_str(), "to": updated.status.as_str(), "owner_id": updated.owner_id}),
    );
    commit_audited(tx, &e).await?;
    Ok(updated)
}

#[utoipa::path(post, path = "/api/actions/{id}/transitions", tag = "actions",
    request_body(content = Object, description = "A command: {\"command\": \"start\" | \"add_evidence\" (evidence: {note, attachment_id}) | \"submit_for_closure\" | \"verify\" | \"reject_closure\" (reason) | \"reassign\" (to) | \"cancel\" (reason) | \"reopen\" (reason)}"),
    responses((status = 200, body = Action), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn post_transition(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(cmd): Json<ActionCommand>,
) -> ApiResult<Json<Action>> {
    Ok(Json(transition(&st, &p, &ctx, id, &cmd).await?))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(board, create_action))
        .routes(routes!(get_action))
        .routes(routes!(post_transition))
}
