//! The social media pages: the mentions list (`/ui/social`, filters by source, status,
//! sentiment and location, keyset paging) with an upload form for JSON and CSV exports, and one
//! mention (`/ui/social/{id}`) with the conversions the domain allows. Every read, upload and
//! conversion goes through the API's own operation (`px360_api::social`,
//! `px360_api::social_convert`): the same gate, de-duplication, sentiment and audit.

use crate::case_form::CaseForm;
use crate::error::UiError;
use crate::feedback_inbox::{SENTIMENTS, sentiment_badge, theme_labels};
use crate::forms::{Errors, from_api};
use crate::i18n::Tr;
use crate::multipart;
use crate::org_names::Names;
use crate::page::{Chrome, Nav, PAGE_SIZE, Pager, Req, Stamp, before, render};
use crate::session::Session;
use crate::work::{Categories, Pick, SEVERITIES, at, coded};
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::AppState;
use px360_api::auth::Ctx;
use px360_api::error::ApiError;
use px360_api::paging::encode_cursor;
use px360_api::social::{ImportReport, MentionQuery, import_as, list as api_list, load};
use px360_api::social_convert::{AssignInput, ConvertInput, assign_as, convert_as, options};
use px360_domain::rbac::{Action, ObjectScope, Resource};
use px360_domain::social::convert::Target;
use px360_store::social::{MentionRow, sources};
use serde::Deserialize;
use uuid::Uuid;

pub const STATUSES: [&str; 4] = ["new", "complaint", "action", "dismissed"];
pub const LOCATIONS: [&str; 4] = ["hospital", "ambiguous", "unmatched", "own_post"];

pub struct Row {
    pub href: String,
    pub source: String,
    pub author: String,
    pub excerpt: String,
    pub rating: Option<i64>,
    pub place: String,
    pub place_data: bool,
    pub sentiment: Option<(String, &'static str)>,
    pub themes: Vec<String>,
    pub status: String,
    pub posted: Stamp,
}

#[derive(Template)]
#[template(path = "social.html")]
struct ListPage {
    chrome: Chrome,
    t: Tr,
    rows: Vec<Row>,
    pager: Pager,
    sources: Vec<Pick>,
    statuses: Vec<Pick>,
    sentiments: Vec<Pick>,
    locations: Vec<Pick>,
    may_import: bool,
    /// Hospital-level roles from PX Coordinator see the listening settings.
    may_configure: bool,
    /// Upload targets: the caller's hospital, or (PX Admin) any hospital or the group.
    feeds: Vec<Pick>,
    /// After an upload: its summary lines, and the rejected rows (label, code).
    report: Option<ReportView>,
    error: Option<String>,
}

/// An upload's summary lines and its rejected rows (label, code).
type ReportView = (Vec<String>, Vec<(String, String)>);

fn report_view(t: &Tr, r: &ImportReport) -> ReportView {
    use fluent_templates::fluent_bundle::FluentValue;
    let n = |v: usize| FluentValue::from(v as i64);
    let mut lines = vec![t.with(
        "sm-report",
        &[
            ("created", n(r.created)),
            ("duplicates", n(r.duplicates)),
            ("located", n(r.located)),
        ],
    )];
    if r.actions_raised > 0 {
        lines.push(t.count("sm-report-actions", "count", r.actions_raised as i64));
    }
    if !r.errors.is_empty() {
        lines.push(t.count("sm-report-rejected", "count", r.errors.len() as i64));
    }
    let rows = r
        .errors
        .iter()
        .map(|e| {
            (
                t.count("sm-report-row", "row", e.row as i64),
                e.code.clone(),
            )
        })
        .collect();
    (lines, rows)
}

fn place(t: &Tr, names: &Names, m: &MentionRow) -> (String, bool) {
    match (m.location.as_str(), m.hospital_id) {
        ("hospital", Some(h)) => (names.hospital(Some(h)), true),
        _ => (t.get(&format!("sm-loc-{}", m.location)), false),
    }
}

async fn list_page(
    st: &AppState,
    req: &Req,
    s: &Session,
    ctx: &Ctx,
    report: Option<ImportReport>,
    error: Option<String>,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let t = req.t();
    let param = |k: &str| req.param(k).map(str::trim).filter(|v| !v.is_empty());
    let all_sources = sources();
    let keep =
        |k: &str, allowed: &[&str]| param(k).filter(|v| allowed.contains(v)).map(str::to_owned);
    let current = before(req);
    let q = MentionQuery {
        source: keep("source", &all_sources),
        status: keep("status", &STATUSES),
        location: keep("location", &LOCATIONS),
        sentiment: keep("sentiment", &SENTIMENTS),
        limit: Some(PAGE_SIZE),
        before: current.as_ref().map(encode_cursor),
    };
    let page = api_list(st, p, ctx, &q).await?;
    let names = Names::load(st, p).await?;
    let tz = |h: Option<Uuid>| {
        h.and_then(|h| names.hospitals.iter().find(|x| x.id == h))
            .map_or("UTC", |x| x.timezone.name())
    };
    let rows = page
        .rows
        .iter()
        .map(|m| {
            let mut excerpt: String = m.body.chars().take(160).collect();
            if m.body.chars().count() > 160 {
                excerpt.push('…');
            }
            let (place, place_data) = place(&t, &names, m);
            Row {
                href: format!("/ui/social/{}", m.id),
                source: t.get(&format!("sm-source-{}", m.source)),
                author: m.author_handle.clone(),
                excerpt,
                rating: m.rating,
                place,
                place_data,
                sentiment: m
                    .sentiment
                    .as_deref()
                    .map(|x| (t.get(&format!("sentiment-{x}")), sentiment_badge(x))),
                themes: theme_labels(&t, &m.themes),
                status: t.get(&format!("sm-status-{}", m.status)),
                posted: at(&t, m.posted_at, tz(m.hospital_id)),
            }
        })
        .collect();
    let sel = |k: &str| param(k).unwrap_or("").to_owned();
    let mut feeds = Vec::new();
    if p.scope().hospital_id().is_none() {
        feeds.push(Pick::msg("", t.get("sm-feed-group"), ""));
    }
    feeds.extend(
        names
            .hospitals
            .iter()
            .map(|h| Pick::data(&h.id.to_string(), &h.name, "")),
    );
    let may_import = p.may(
        Resource::SocialMention,
        Action::Create,
        &px360_api::own_hospital(p),
    );
    let mut r = render(&ListPage {
        chrome: Chrome::new(req, Some(s), Nav::Social, "sm-title"),
        pager: Pager::new(req, current.as_ref(), page.next.as_ref(), None),
        rows,
        sources: coded(
            &t,
            "sm-source",
            &all_sources,
            &sel("source"),
            Some("cl-any"),
        ),
        statuses: coded(&t, "sm-status", &STATUSES, &sel("status"), Some("cl-any")),
        sentiments: coded(
            &t,
            "sentiment",
            &SENTIMENTS,
            &sel("sentiment"),
            Some("cl-any"),
        ),
        locations: coded(&t, "sm-loc", &LOCATIONS, &sel("location"), Some("cl-any")),
        may_import,
        may_configure: p.may(
            Resource::SocialConfig,
            Action::Read,
            &px360_api::own_hospital(p),
        ),
        feeds,
        report: report.as_ref().map(|r| report_view(&t, r)),
        error: error.clone(),
        t,
    })?;
    if error.is_some() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

pub async fn list(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    list_page(&st, &req, &s, &ctx, None, None).await
}

/// The upload: a JSON or CSV file (`file`), its format, and the feed's hospital.
pub async fn import(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    form: Multipart,
) -> Result<Response, UiError> {
    let parts = multipart::read(form, "file", &["format", "hospital_id"]).await?;
    let (file_name, bytes) = parts
        .file
        .as_ref()
        .map_or(("", &[][..]), |f| (f.name.as_str(), &f.bytes[..]));
    let format = parts.text("format").to_owned();
    let hospital = parts.text("hospital_id");
    // "auto": from the file's name, else JSON.
    let format = match format.as_str() {
        "json" | "csv" => format,
        _ if file_name.to_ascii_lowercase().ends_with(".csv") => "csv".into(),
        _ => "json".into(),
    };
    let hospital = Uuid::parse_str(hospital.trim()).ok();
    let t = req.t();
    match import_as(&st, &s.principal, &ctx, hospital, &format, bytes).await {
        Ok(rep) => list_page(&st, &req, &s, &ctx, Some(rep), None).await,
        Err(ApiError::Validation(errs)) => {
            let code = errs
                .first()
                .map(|e| e.message.replace(['.', '_'], "-"))
                .unwrap_or_default();
            let msg = t.get(&format!("sm-err-{code}"));
            // An unknown code (a field other than the file) falls back to a general message.
            let msg = if msg.starts_with("sm-err-") {
                t.get("sm-err-file")
            } else {
                msg
            };
            list_page(&st, &req, &s, &ctx, None, Some(msg)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "social_item.html")]
struct DetailPage {
    chrome: Chrome,
    t: Tr,
    id: Uuid,
    source: String,
    author: String,
    body: String,
    link: Option<String>,
    rating: Option<i64>,
    place: String,
    place_data: bool,
    candidates: Vec<String>,
    posted: Stamp,
    status: String,
    via: String,
    sentiment: Option<(String, &'static str, String)>,
    themes: Vec<String>,
    complaint: Option<String>,
    action: Option<String>,
    /// Conversions offered: (target, label, primary).
    targets: Vec<(&'static str, String, bool)>,
    not_convertible: Option<String>,
    may_update: bool,
    /// A group-level (ambiguous or unmatched) mention placed by hand: the hospitals to choose.
    may_assign: bool,
    hospitals: Vec<Pick>,
    categories: Vec<Pick>,
    severities: Vec<Pick>,
    errors: Errors,
    done: Option<String>,
}

async fn detail_page(
    st: &AppState,
    req: &Req,
    s: &Session,
    ctx: &Ctx,
    id: Uuid,
    errors: Errors,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let t = req.t();
    let m = load(st, p, ctx, id, Action::Read).await?;
    let names = Names::load(st, p).await?;
    let cats = Categories::load(st).await?;
    let zone = m
        .hospital_id
        .and_then(|h| names.hospitals.iter().find(|x| x.id == h))
        .map_or("UTC", |x| x.timezone.name())
        .to_owned();
    let may_update = m.status == "new"
        && p.may(
            Resource::SocialMention,
            Action::Update,
            &ObjectScope::new(m.hospital_id, None),
        );
    let (targets, not_convertible) = match options(&m) {
        Ok(c) => (
            c.allowed
                .iter()
                .map(|x| match x {
                    Target::Complaint => ("complaint", t.get("sm-to-complaint"), c.suggested == *x),
                    Target::Action => ("action", t.get("sm-to-action"), c.suggested == *x),
                })
                .collect(),
            None,
        ),
        Err(e) => (
            Vec::new(),
            Some(t.get(&format!("sm-err-{}", e.code().replace(['.', '_'], "-")))),
        ),
    };
    let may_assign = matches!(m.location.as_str(), "ambiguous" | "unmatched")
        && p.may(
            Resource::SocialMention,
            Action::Update,
            &ObjectScope::new(None, None),
        );
    // The candidates an ambiguous mention names come first, preselected.
    let first = m
        .candidates
        .first()
        .map(Uuid::to_string)
        .unwrap_or_default();
    let mut hospitals: Vec<Pick> = names
        .hospitals
        .iter()
        .filter(|h| m.candidates.contains(&h.id))
        .chain(
            names
                .hospitals
                .iter()
                .filter(|h| !m.candidates.contains(&h.id)),
        )
        .map(|h| Pick::data(&h.id.to_string(), &h.name, &first))
        .collect();
    if !may_assign {
        hospitals.clear();
    }
    let (place, place_data) = place(&t, &names, &m);
    let done = req
        .param("done")
        .filter(|v| STATUSES.contains(v) || *v == "assigned")
        .map(|v| t.get(&format!("sm-done-{v}")));
    render(&DetailPage {
        chrome: Chrome::new(req, Some(s), Nav::Social, "sm-item-title"),
        id,
        source: t.get(&format!("sm-source-{}", m.source)),
        author: m.author_handle.clone(),
        body: m.body.clone(),
        link: m.link.clone(),
        rating: m.rating,
        place,
        place_data,
        // The hospitals an ambiguous mention names (history once it is placed: not shown).
        candidates: m
            .candidates
            .iter()
            .filter(|_| m.location == "ambiguous")
            .map(|c| names.hospital(Some(*c)))
            .filter(|n| !n.is_empty())
            .collect(),
        posted: at(&t, m.posted_at, &zone),
        status: t.get(&format!("sm-status-{}", m.status)),
        via: t.get(&format!("sm-via-{}", m.received_via)),
        sentiment: m.sentiment.as_deref().map(|x| {
            (
                t.get(&format!("sentiment-{x}")),
                sentiment_badge(x),
                format!("{:+.2}", m.score.unwrap_or_default()),
            )
        }),
        themes: theme_labels(&t, &m.themes),
        complaint: m.complaint_id.map(|c| format!("/ui/complaints/{c}")),
        action: m.action_id.map(|c| format!("/ui/actions/{c}")),
        targets,
        not_convertible,
        may_update,
        may_assign,
        hospitals,
        categories: cats.picks(&t, &crate::feedback_inbox::theme_category(&m.themes), None),
        severities: coded(&t, "severity", &SEVERITIES, "medium", None),
        errors,
        done,
        t,
    })
}

pub async fn detail(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> Result<Response, UiError> {
    detail_page(&st, &req, &s, &ctx, id, Errors::default()).await
}

pub async fn convert(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Form(f): Form<CaseForm>,
) -> Result<Response, UiError> {
    let input = ConvertInput {
        target: f.target(&req),
        category_code: f.category_code(),
        severity: f.severity(),
    };
    match convert_as(&st, &s.principal, &ctx, id, &input).await {
        Ok(m) => Ok(Redirect::to(&format!("/ui/social/{id}?done={}", m.status)).into_response()),
        Err(e @ (ApiError::Validation(_) | ApiError::Conflict(_) | ApiError::BadRequest(_))) => {
            let errs = from_api(&req.t(), "sm", e, |f| f.to_owned())?;
            let mut r = detail_page(&st, &req, &s, &ctx, id, errs).await?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct AssignForm {
    #[serde(default)]
    hospital_id: String,
}

/// Place a group-level mention at the chosen hospital (PX Admin).
pub async fn assign(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Form(f): Form<AssignForm>,
) -> Result<Response, UiError> {
    let r = match Uuid::parse_str(f.hospital_id.trim()) {
        Ok(hospital_id) => {
            assign_as(&st, &s.principal, &ctx, id, &AssignInput { hospital_id }).await
        }
        Err(_) => Err(ApiError::Validation(vec![
            px360_domain::event::FieldError::new("hospital_id", "unknown hospital"),
        ])),
    };
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/ui/social/{id}?done=assigned")).into_response()),
        Err(e @ (ApiError::Validation(_) | ApiError::Conflict(_) | ApiError::BadRequest(_))) => {
            let errs = from_api(&req.t(), "sm", e, |f| f.to_owned())?;
            let mut r = detail_page(&st, &req, &s, &ctx, id, errs).await?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}
