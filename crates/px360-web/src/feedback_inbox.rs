//! The staff feedback pages: the inbox (`/ui/feedback-inbox`, filters by kind, status and
//! sentiment, keyset paging), one item (`/ui/feedback-inbox/{id}`) with its sentiment and
//! themes and the one-click triage forms, and the printable QR codes (`/ui/feedback-qr`). Every
//! read and form goes through the API's own operation (`px360_api::feedback`,
//! `px360_api::feedback_triage`): the same gate, masking below PX Coordinator, and audit.

use crate::case_form::CaseForm;
use crate::error::UiError;
use crate::forms::{Errors, from_api};
use crate::i18n::Tr;
use crate::org_names::Names;
use crate::page::{Chrome, Nav, PAGE_SIZE, Pager, Req, Stamp, before, render};
use crate::session::Session;
use crate::work::{Categories, Pick, SEVERITIES, at, coded, zone_of};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::AppState;
use px360_api::auth::Ctx;
use px360_api::error::ApiError;
use px360_api::feedback::{FeedbackQuery, detail as api_detail, list as api_list};
use px360_api::feedback_triage::{TriageInput, triage};
use px360_api::paging::encode_cursor;
use px360_domain::feedback::kind::FeedbackKind;
use px360_domain::rbac::{Action, ObjectScope, Resource};
use uuid::Uuid;

pub const KINDS: [&str; 3] = ["compliment", "suggestion", "concern"];
pub const STATUSES: [&str; 4] = ["new", "complaint", "action", "acknowledged"];
pub const SENTIMENTS: [&str; 3] = ["negative", "neutral", "positive"];

/// Sentiment badge classes.
pub fn sentiment_badge(s: &str) -> &'static str {
    match s {
        "negative" => "text-bg-danger",
        "positive" => "text-bg-success",
        _ => "text-bg-secondary",
    }
}

/// The complaint category a text's first theme suggests.
pub fn theme_category(themes: &[String]) -> String {
    px360_store::sentiment::category_for_names(themes).to_owned()
}

/// Theme names in the page's language.
pub fn theme_labels(t: &Tr, themes: &[String]) -> Vec<String> {
    themes
        .iter()
        .map(|x| t.get(&format!("theme-{x}")))
        .collect()
}

pub struct Row {
    pub href: String,
    pub reference: String,
    pub kind: String,
    pub kind_code: String,
    pub excerpt: String,
    pub hospital: String,
    pub department: String,
    pub sentiment: Option<(String, &'static str)>,
    pub themes: Vec<String>,
    pub status: String,
    pub received: Stamp,
}

#[derive(Template)]
#[template(path = "feedback_inbox.html")]
struct ListPage {
    chrome: Chrome,
    t: Tr,
    rows: Vec<Row>,
    pager: Pager,
    kinds: Vec<Pick>,
    statuses: Vec<Pick>,
    sentiments: Vec<Pick>,
    may_print: bool,
}

pub async fn list(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let t = req.t();
    let param = |k: &str| req.param(k).map(str::trim).filter(|v| !v.is_empty());
    let keep =
        |k: &str, allowed: &[&str]| param(k).filter(|v| allowed.contains(v)).map(str::to_owned);
    let current = before(&req);
    let q = FeedbackQuery {
        kind: keep("kind", &KINDS),
        status: keep("status", &STATUSES),
        sentiment: keep("sentiment", &SENTIMENTS),
        department_id: None,
        limit: Some(PAGE_SIZE),
        before: current.as_ref().map(encode_cursor),
    };
    let page = api_list(&st, p, &ctx, &q).await?;
    let names = Names::load(&st, p).await?;
    let tz = |h: Uuid| {
        names
            .hospitals
            .iter()
            .find(|x| x.id == h)
            .map_or("UTC", |x| x.timezone.name())
    };
    let rows = page
        .rows
        .iter()
        .map(|r| {
            let f = &r.feedback;
            let mut excerpt: String = f.body.chars().take(140).collect();
            if f.body.chars().count() > 140 {
                excerpt.push('…');
            }
            Row {
                href: format!("/ui/feedback-inbox/{}", f.id),
                reference: f.reference.clone(),
                kind: t.get(&format!("fb-kind-{}", f.kind.as_str())),
                kind_code: f.kind.as_str().to_owned(),
                excerpt,
                hospital: names.hospital(Some(f.hospital_id)),
                department: names.department(f.department_id),
                sentiment: r
                    .sentiment
                    .as_deref()
                    .map(|x| (t.get(&format!("sentiment-{x}")), sentiment_badge(x))),
                themes: theme_labels(&t, &r.themes),
                status: t.get(&format!("fb-status-{}", f.status)),
                received: at(&t, f.created_at, tz(f.hospital_id)),
            }
        })
        .collect();
    let sel = |k: &str| param(k).unwrap_or("").to_owned();
    render(&ListPage {
        chrome: Chrome::new(&req, Some(&s), Nav::Feedback, "fbi-title"),
        pager: Pager::new(&req, current.as_ref(), page.next.as_ref(), None),
        rows,
        kinds: coded(&t, "fb-kind", &KINDS, &sel("kind"), Some("cl-any")),
        statuses: coded(&t, "fb-status", &STATUSES, &sel("status"), Some("cl-any")),
        sentiments: coded(
            &t,
            "sentiment",
            &SENTIMENTS,
            &sel("sentiment"),
            Some("cl-any"),
        ),
        may_print: p.may(Resource::Feedback, Action::Read, &px360_api::own_scope(p)),
        t,
    })
}

#[derive(Template)]
#[template(path = "feedback_item.html")]
struct DetailPage {
    chrome: Chrome,
    t: Tr,
    id: Uuid,
    reference: String,
    kind: String,
    status: String,
    body: String,
    language_dir: &'static str,
    hospital: String,
    department: String,
    received: Stamp,
    staff: Option<String>,
    contact: Vec<(String, String)>,
    sentiment: Option<(String, &'static str, String)>,
    themes: Vec<String>,
    complaint: Option<String>,
    action: Option<String>,
    rule_action: Option<String>,
    /// The call it was taken on.
    call: Option<String>,
    may_triage: bool,
    may_case: bool,
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
    let d = api_detail(st, p, ctx, id).await?;
    let f = &d.feedback;
    let names = Names::load(st, p).await?;
    let zone = zone_of(st, f.hospital_id).await;
    let cats = Categories::load(st).await?;
    let obj = ObjectScope::new(Some(f.hospital_id), f.department_id);
    let may_triage = f.status == "new" && p.may(Resource::Feedback, Action::Update, &obj);
    let mut contact = Vec::new();
    for (k, v) in [
        ("fb-form-contact-name", &f.contact_name),
        ("fb-form-contact-email", &f.contact_email),
        ("fb-form-contact-phone", &f.contact_phone),
    ] {
        if let Some(v) = v {
            contact.push((t.get(k), v.clone()));
        }
    }
    let a = d.analysis.as_ref();
    let done = req
        .param("done")
        .filter(|v| ["complaint", "action", "acknowledged"].contains(v))
        .map(|v| t.get(&format!("fbi-done-{v}")));
    render(&DetailPage {
        chrome: Chrome::new(req, Some(s), Nav::Feedback, "fbi-item-title"),
        id,
        reference: f.reference.clone(),
        kind: t.get(&format!("fb-kind-{}", f.kind.as_str())),
        status: t.get(&format!("fb-status-{}", f.status)),
        body: f.body.clone(),
        language_dir: if f.language == "ar" { "rtl" } else { "ltr" },
        hospital: names.hospital(Some(f.hospital_id)),
        department: names.department(f.department_id),
        received: at(&t, f.created_at, &zone),
        staff: d.staff_display_name.clone().or(f.staff_name.clone()),
        contact,
        sentiment: a.map(|a| {
            (
                t.get(&format!("sentiment-{}", a.sentiment)),
                sentiment_badge(&a.sentiment),
                format!("{:+.2}", a.score),
            )
        }),
        themes: a.map(|a| theme_labels(&t, &a.themes)).unwrap_or_default(),
        complaint: f.complaint_id.map(|c| format!("/ui/complaints/{c}")),
        action: f.action_id.map(|c| format!("/ui/actions/{c}")),
        rule_action: a
            .and_then(|a| a.action_id)
            .map(|c| format!("/ui/actions/{c}")),
        call: f.call_id.map(|c| format!("/ui/calls/{c}")),
        may_triage,
        may_case: may_triage && f.kind != FeedbackKind::Compliment,
        // Preselected from the text's first theme (the same mapping as the sentiment rule's).
        categories: cats.picks(
            &t,
            &theme_category(a.map(|a| a.themes.as_slice()).unwrap_or_default()),
            None,
        ),
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

pub async fn post_triage(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Form(f): Form<CaseForm>,
) -> Result<Response, UiError> {
    let input = TriageInput {
        target: f.target(&req),
        category_code: f.category_code(),
        severity: f.severity(),
    };
    match triage(&st, &s.principal, &ctx, id, &input).await {
        Ok(row) => Ok(
            Redirect::to(&format!("/ui/feedback-inbox/{id}?done={}", row.status)).into_response(),
        ),
        Err(e @ (ApiError::Validation(_) | ApiError::Conflict(_) | ApiError::BadRequest(_))) => {
            let errs = from_api(&req.t(), "fbi", e, |f| f.to_owned())?;
            let mut r = detail_page(&st, &req, &s, &ctx, id, errs).await?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

/// One printable code: where it points and its download links.
pub struct Code {
    pub hospital: String,
    pub department: Option<String>,
    pub png: String,
    pub svg: String,
    pub form: String,
}

#[derive(Template)]
#[template(path = "feedback_qr.html")]
struct QrPage {
    chrome: Chrome,
    t: Tr,
    codes: Vec<Code>,
}

/// The codes the user may print: their hospital's and its departments' (a department role:
/// its own department's).
pub async fn qr_page(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let p = &s.principal;
    st.authorize(
        p,
        &ctx,
        Resource::Feedback,
        Action::Read,
        px360_api::own_scope(p),
        None,
    )
    .await?;
    let names = Names::load(&st, p).await?;
    let mut codes = Vec::new();
    let link = |h: Uuid, d: Option<Uuid>, fmt: &str| match d {
        Some(d) => format!("/ui/feedback-qr/{h}?department_id={d}&format={fmt}"),
        None => format!("/ui/feedback-qr/{h}?format={fmt}"),
    };
    let form = |h: Uuid, d: Option<Uuid>| match d {
        Some(d) => format!("/ui/feedback/{h}/{d}"),
        None => format!("/ui/feedback/{h}"),
    };
    for h in &names.hospitals {
        if p.may(
            Resource::Feedback,
            Action::Read,
            &ObjectScope::new(Some(h.id), None),
        ) {
            codes.push(Code {
                hospital: h.name.clone(),
                department: None,
                png: link(h.id, None, "png"),
                svg: link(h.id, None, "svg"),
                form: form(h.id, None),
            });
        }
        for d in names.departments.iter().filter(|d| d.hospital_id == h.id) {
            if p.may(
                Resource::Feedback,
                Action::Read,
                &ObjectScope::new(Some(h.id), Some(d.id)),
            ) {
                codes.push(Code {
                    hospital: h.name.clone(),
                    department: Some(d.name.clone()),
                    png: link(h.id, Some(d.id), "png"),
                    svg: link(h.id, Some(d.id), "svg"),
                    form: form(h.id, Some(d.id)),
                });
            }
        }
    }
    render(&QrPage {
        chrome: Chrome::new(&req, Some(&s), Nav::Feedback, "fbq-title"),
        t: req.t(),
        codes,
    })
}

/// The image itself, through the API's operation (scope checked there).
pub async fn qr_image(
    State(st): State<AppState>,
    s: Session,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Path(h): Path<Uuid>,
    axum::extract::Query(q): axum::extract::Query<px360_api::feedback_triage::QrQuery>,
) -> Result<Response, UiError> {
    let (ct, file, bytes, _) =
        px360_api::feedback_triage::qr_code(&st, &s.principal, &ctx, &headers, h, &q)
            .await
            .map_err(|e| match e {
                ApiError::Validation(_) | ApiError::BadRequest(_) => UiError::NotFound,
                e => e.into(),
            })?;
    // The PNG is also the page's preview (inline); an SVG is always a download, never a
    // document rendered from this origin.
    let disposition = if ct == "image/png" {
        format!("inline; filename=\"{file}\"")
    } else {
        format!("attachment; filename=\"{file}\"")
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, ct.to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
