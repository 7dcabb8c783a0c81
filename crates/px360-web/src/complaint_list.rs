//! The staff complaint pages: the list (`/ui/complaints`, filters and keyset paging, each row's
//! SLA state, patient identifiers masked below PX Coordinator) and the staff intake form
//! (`/ui/complaints/new`). Intake goes through the API's own handler, so it validates, gates
//! and audits exactly as `POST /api/complaints` does; field errors are shown next to fields.

use crate::error::UiError;
use crate::forms::{Errors, from_api, opt};
use crate::i18n::{Label, Tr};
use crate::org_names::Names;
use crate::page::{Chrome, Nav, PAGE_SIZE, Pager, Req, Stamp, before, mask, render};
use crate::session::Session;
use crate::work::{Categories, People, Pick, SEVERITIES, at, coded, row_sla, sees_patient};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::{NaiveDate, TimeZone, Utc};
use px360_api::auth::{Authed, Ctx};
use px360_api::complaints::{ComplaintInput, create_complaint, validate_intake};
use px360_api::error::ApiError;
use px360_api::{AppState, filter, own_scope};
use px360_domain::action::complaint::ComplaintStatus;
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, Resource};
use px360_store::complaint_search::ComplaintSearch;
use px360_store::complaints::CHANNELS;
use serde::Deserialize;
use uuid::Uuid;

/// Channels staff may record (the public form has its own).
const STAFF_CHANNELS: [&str; 6] = ["staff", "call_centre", "his", "email", "phone", "letter"];

pub struct Row {
    pub href: String,
    pub reference: String,
    pub subject: String,
    pub hospital: String,
    pub department: String,
    pub category: Label,
    pub severity: String,
    pub severity_code: String,
    pub source: String,
    pub status: String,
    pub status_code: String,
    pub assignee: Option<String>,
    pub mrn: Option<String>,
    pub created: Stamp,
    pub sla: String,
    pub sla_badge: &'static str,
}

#[derive(Template)]
#[template(path = "complaints.html")]
struct ListPage {
    chrome: Chrome,
    t: Tr,
    rows: Vec<Row>,
    pager: Pager,
    hospitals: Vec<Pick>,
    departments: Vec<Pick>,
    statuses: Vec<Pick>,
    severities: Vec<Pick>,
    categories: Vec<Pick>,
    sources: Vec<Pick>,
    mine: bool,
    overdue: bool,
    from: String,
    to: String,
    q: String,
    may_create: bool,
}

fn status_codes() -> Vec<&'static str> {
    ComplaintStatus::ALL.iter().map(|s| s.as_str()).collect()
}

/// A date filter (`YYYY-MM-DD`) as the start of that day in `zone`; malformed dates are ignored
/// like an unknown status (a hand-edited URL gets a page, not an error).
fn day_start(
    v: Option<&str>,
    zone: chrono_tz::Tz,
    plus_days: i64,
) -> Option<chrono::DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(v?.trim(), "%Y-%m-%d").ok()?;
    let d = d.checked_add_signed(chrono::TimeDelta::days(plus_days))?;
    zone.from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

pub async fn list(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let p = &s.principal;
    st.authorize(
        p,
        &ctx,
        Resource::Complaint,
        Action::Read,
        own_scope(p),
        None,
    )
    .await?;
    let t = req.t();
    let param = |k: &str| req.param(k).map(str::trim).filter(|v| !v.is_empty());
    let names = Names::load(&st, p).await?;
    let cats = Categories::load(&st).await?;
    let people = People::load(&st).await?;
    // Dates are days of the hospital's calendar when the list covers one hospital.
    let zone = match (param("hospital"), names.hospitals.as_slice()) {
        (Some(h), hs) => hs
            .iter()
            .find(|x| x.id.to_string() == h)
            .map(|x| x.timezone),
        (None, [one]) => Some(one.timezone),
        _ => None,
    }
    .unwrap_or(chrono_tz::UTC);
    let scope = filter(p);
    let keep =
        |v: Option<&str>, allowed: &[&str]| v.filter(|v| allowed.contains(v)).map(str::to_owned);
    let uuid = |v: Option<&str>| {
        v.and_then(|v| Uuid::parse_str(v).ok())
            .map(|u| u.to_string())
    };
    let cat_codes: Vec<&str> = cats.0.iter().map(|c| c.code.as_str()).collect();
    let mine = param("mine").is_some();
    let overdue = param("overdue").is_some();
    let now = Utc::now();
    let f = ComplaintSearch {
        scope_hospital: scope.hospital_id.clone(),
        scope_department: scope.department_id.clone(),
        hospital_id: uuid(param("hospital")),
        department_id: uuid(param("department")),
        status: keep(param("status"), &status_codes()),
        severity: keep(param("severity"), &SEVERITIES),
        category_code: keep(param("category"), &cat_codes),
        source_channel: keep(param("source"), &CHANNELS),
        assignee_id: mine.then(|| p.user_id().to_string()),
        overdue_at: overdue.then_some(now),
        created_from: day_start(param("from"), zone, 0),
        created_to: day_start(param("to"), zone, 1),
        reference: param("q").map(|q| q.chars().take(40).collect()),
    };
    let current = before(&req);
    let page = st
        .db
        .search_complaints(&f, current.as_ref(), PAGE_SIZE)
        .await?;
    let show_patient = sees_patient(p);
    let tz_of = |h: Uuid| {
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
            let (sla, sla_badge) = row_sla(
                &t,
                matches!(r.status.as_str(), "resolved" | "closed"),
                r.is_open,
                r.paused,
                r.resolution_due_at,
                r.breached_at,
                now,
            );
            Row {
                href: format!("/ui/complaints/{}", r.id),
                reference: r.reference.clone(),
                subject: r.subject.clone(),
                hospital: names.hospital(Some(r.hospital_id)),
                department: names.department(r.department_id),
                category: cats.name(&t, &r.category_code),
                severity: t.get(&format!("severity-{}", r.severity)),
                severity_code: r.severity.clone(),
                source: t.get(&format!("channel-{}", r.source_channel)),
                status: t.get(&format!("cstatus-{}", r.status)),
                status_code: r.status.clone(),
                assignee: people.name(r.assignee_id),
                mrn: r
                    .patient_mrn
                    .as_deref()
                    .map(|m| if show_patient { m.to_owned() } else { mask(m) }),
                created: at(&t, r.created_at, tz_of(r.hospital_id)),
                sla,
                sla_badge,
            }
        })
        .collect();
    let sel = |k: &str| param(k).unwrap_or("").to_owned();
    let mut hospitals = vec![Pick::msg("", t.get("cl-any"), &sel("hospital"))];
    hospitals.extend(
        names
            .hospitals
            .iter()
            .map(|h| Pick::data(&h.id.to_string(), &h.name, &sel("hospital"))),
    );
    let mut departments = vec![Pick::msg("", t.get("cl-any"), &sel("department"))];
    departments.extend(names.departments.iter().map(|d| {
        Pick::data(
            &d.id.to_string(),
            &format!("{} ({})", d.name, names.hospital(Some(d.hospital_id))),
            &sel("department"),
        )
    }));
    render(&ListPage {
        chrome: Chrome::new(&req, Some(&s), Nav::Complaints, "cl-title"),
        pager: Pager::new(&req, current.as_ref(), page.next.as_ref(), None),
        rows,
        hospitals,
        departments,
        statuses: coded(
            &t,
            "cstatus",
            &status_codes(),
            &sel("status"),
            Some("cl-any"),
        ),
        severities: coded(
            &t,
            "severity",
            &SEVERITIES,
            &sel("severity"),
            Some("cl-any"),
        ),
        categories: cats.picks(&t, &sel("category"), Some("cl-any")),
        sources: coded(&t, "channel", &CHANNELS, &sel("source"), Some("cl-any")),
        mine,
        overdue,
        from: sel("from"),
        to: sel("to"),
        q: sel("q"),
        may_create: p.may(Resource::Complaint, Action::Create, &own_scope(p)),
        t,
    })
}

/// The staff intake form's fields as posted.
#[derive(Deserialize, Default)]
pub struct IntakeForm {
    #[serde(default)]
    hospital_id: String,
    #[serde(default)]
    department_id: String,
    #[serde(default)]
    category_code: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    source_channel: String,
    #[serde(default)]
    patient_mrn: String,
    #[serde(default)]
    physician_id: String,
    #[serde(default)]
    encounter_id: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    complainant_name: String,
    #[serde(default)]
    complainant_contact: String,
    #[serde(default)]
    language: String,
}

#[derive(Template)]
#[template(path = "complaint_new.html")]
struct NewPage {
    chrome: Chrome,
    t: Tr,
    f: IntakeForm,
    errors: Errors,
    problem: Option<String>,
    hospitals: Vec<Pick>,
    departments: Vec<Pick>,
    physicians: Vec<Pick>,
    categories: Vec<Pick>,
    severities: Vec<Pick>,
    sources: Vec<Pick>,
    languages: Vec<Pick>,
}

async fn new_page(
    st: &AppState,
    req: &Req,
    s: &Session,
    f: IntakeForm,
    errors: Errors,
) -> Result<Response, UiError> {
    let t = req.t();
    let p = &s.principal;
    let names = Names::load(st, p).await?;
    let cats = Categories::load(st).await?;
    let mut hospitals = vec![Pick::msg("", t.get("cn-choose"), &f.hospital_id)];
    hospitals.extend(
        names
            .hospitals
            .iter()
            .map(|h| Pick::data(&h.id.to_string(), &h.name, &f.hospital_id)),
    );
    let mut departments = vec![Pick::msg("", t.get("cn-none"), &f.department_id)];
    departments.extend(names.departments.iter().map(|d| {
        Pick::data(
            &d.id.to_string(),
            &format!("{} ({})", d.name, names.hospital(Some(d.hospital_id))),
            &f.department_id,
        )
    }));
    let mut physicians = vec![Pick::msg("", t.get("cn-none"), &f.physician_id)];
    physicians.extend(st.db.physicians(&filter(p)).await?.iter().map(|x| {
        Pick::data(
            &x.id.to_string(),
            &format!("{} {} ({})", x.given_name, x.family_name, x.licence_number),
            &f.physician_id,
        )
    }));
    let severity = if f.severity.is_empty() {
        "medium"
    } else {
        f.severity.as_str()
    };
    let source = if f.source_channel.is_empty() {
        "staff"
    } else {
        f.source_channel.as_str()
    };
    let language = if f.language.is_empty() {
        t.0.code()
    } else {
        f.language.as_str()
    };
    let problem = errors.others(SHOWN).into_iter().next();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut r = render(&NewPage {
        chrome: Chrome::new(req, Some(s), Nav::Complaints, "cn-title"),
        categories: cats.picks(&t, &f.category_code, Some("cn-choose")),
        severities: coded(&t, "severity", &SEVERITIES, severity, None),
        sources: coded(&t, "channel", &STAFF_CHANNELS, source, None),
        languages: coded(&t, "language", &["en", "ar"], language, None),
        hospitals,
        departments,
        physicians,
        f,
        errors,
        problem,
        t,
    })?;
    *r.status_mut() = status;
    Ok(r)
}

/// Fields the form shows errors next to; any other error is shown above the form.
const SHOWN: [&str; 12] = [
    "hospital_id",
    "department_id",
    "category_code",
    "severity",
    "source_channel",
    "patient_mrn",
    "physician_id",
    "encounter_id",
    "subject",
    "description",
    "complainant_name",
    "complainant_contact",
];

pub async fn new_form(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let p = &s.principal;
    st.authorize(
        p,
        &ctx,
        Resource::Complaint,
        Action::Create,
        own_scope(p),
        None,
    )
    .await?;
    new_page(&st, &req, &s, IntakeForm::default(), Errors::default()).await
}

pub async fn create(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Form(f): Form<IntakeForm>,
) -> Result<Response, UiError> {
    let t = req.t();
    let p = s.principal;
    st.authorize(
        &p,
        &ctx,
        Resource::Complaint,
        Action::Create,
        own_scope(&p),
        None,
    )
    .await?;
    let hospital = Uuid::parse_str(f.hospital_id.trim()).ok();
    let department = Uuid::parse_str(f.department_id.trim()).ok();
    // The patient is looked up by MRN in the complaint's hospital (the department's, if given).
    let mut extra: Vec<FieldError> = Vec::new();
    let place = match department {
        Some(d) => st
            .db
            .department(&d.to_string())
            .await
            .ok()
            .map(|d| d.hospital_id),
        None => hospital,
    };
    // The API names a missing hospital only when nothing else is wrong; the form says it at once.
    if place.is_none() {
        extra.push(FieldError::new("hospital_id", "required"));
    }
    let patient = match (opt(&f.patient_mrn), place) {
        (None, _) => None,
        (Some(mrn), Some(h)) => match st.db.patient_by_mrn(h, &mrn).await {
            Ok(id) => Some(id),
            Err(px360_store::StoreError::NotFound) => {
                extra.push(FieldError::new("patient_mrn", "unknown"));
                None
            }
            Err(e) => return Err(e.into()),
        },
        (Some(_), None) => None,
    };
    let input = ComplaintInput {
        hospital_id: hospital,
        department_id: department,
        category_code: f.category_code.trim().to_owned(),
        severity: opt(&f.severity),
        source_channel: f.source_channel.trim().to_owned(),
        source_system: None,
        external_ref: None,
        patient_id: patient,
        physician_id: Uuid::parse_str(f.physician_id.trim()).ok(),
        encounter_id: opt(&f.encounter_id),
        subject: f.subject.clone(),
        description: f.description.clone(),
        complainant_name: opt(&f.complainant_name),
        complainant_contact: opt(&f.complainant_contact),
        language: opt(&f.language),
    };
    let fail = |e: ApiError| -> Result<Errors, UiError> {
        let mut errs = from_api(&t, "cn", e, |f| f.to_owned())?;
        for x in &extra {
            if errs.get(&x.field).is_none() {
                errs.0
                    .push((x.field.clone(), t.get(&format!("cn-error-{}", x.field))));
            }
        }
        Ok(errs)
    };
    if !STAFF_CHANNELS.contains(&input.source_channel.as_str()) {
        let errs = fail(ApiError::Validation(vec![FieldError::new(
            "source_channel",
            "unknown",
        )]))?;
        return new_page(&st, &req, &s, f, errs).await;
    }
    if !extra.is_empty() {
        // Show the API's own findings too (validation only: nothing is written).
        let errs = match validate_intake(&st, &input).await {
            Ok(_) => fail(ApiError::Validation(Vec::new()))?,
            Err(e @ ApiError::Validation(_)) => fail(e)?,
            Err(e) => return Err(e.into()),
        };
        return new_page(&st, &req, &s, f, errs).await;
    }
    match create_complaint(State(st.clone()), Authed(p), ctx, Json(input)).await {
        Ok((_, Json(c))) => {
            Ok(Redirect::to(&format!("/ui/complaints/{}?done=created", c.id)).into_response())
        }
        Err(e @ (ApiError::Validation(_) | ApiError::Conflict(_) | ApiError::BadRequest(_))) => {
            let errs = fail(e)?;
            new_page(&st, &req, &s, f, errs).await
        }
        Err(e) => Err(e.into()),
    }
}
