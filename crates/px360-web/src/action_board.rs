//! The PX action board (`/ui/actions`): tabs for my work, my team's and the overdue ones, each
//! action with its origin (complaint, negative survey, by hand), owner, due moment (SLA) and
//! status; and the form to raise an action by hand (`/ui/actions/new`), which goes through the
//! API's own `POST /api/actions` handler (gate, owner rules, audit).

use crate::error::UiError;
use crate::forms::{Errors, from_api, opt};
use crate::i18n::{Label, Tr};
use crate::org_names::Names;
use crate::page::{Chrome, Nav, Req, Stamp, render};
use crate::session::Session;
use crate::work::{Categories, People, Pick, SEVERITIES, at_opt, coded};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::Utc;
use px360_api::actions::{ActionInput, create_action};
use px360_api::auth::{Authed, Ctx};
use px360_api::error::ApiError;
use px360_api::{AppState, filter, own_scope};
use px360_domain::rbac::{Action, Resource, Role};
use px360_store::actions::{Action as PxAction, Board};
use serde::Deserialize;
use uuid::Uuid;

pub struct Tab {
    pub href: &'static str,
    pub label: String,
    pub active: bool,
}

pub struct Card {
    pub href: String,
    pub title: String,
    pub origin: String,
    pub origin_href: Option<String>,
    pub owner: Option<String>,
    pub due: Option<Stamp>,
    pub overdue: bool,
    pub status: String,
    pub severity: String,
    pub severity_code: String,
}

#[derive(Template)]
#[template(path = "actions.html")]
struct BoardPage {
    chrome: Chrome,
    t: Tr,
    tabs: Vec<Tab>,
    cards: Vec<Card>,
    may_create: bool,
}

/// The action's title in the page's language where the system wrote it: an action raised for a
/// negative survey response has a fixed title, so its origin names it instead.
pub fn title(t: &Tr, a: &PxAction) -> String {
    if a.origin_kind == "negative_survey" {
        t.get("origin-negative_survey")
    } else {
        a.title.clone()
    }
}

/// The description, where the system wrote it as data: a negative survey response's reasons
/// (question key and the rule that fired) in the page's language, one per line.
pub fn description(t: &Tr, a: &PxAction) -> String {
    use px360_domain::survey::negative::{NegativeCondition as C, NegativeReason};
    if a.origin_kind != "negative_survey" {
        return a.description.clone();
    }
    let Ok(reasons) = serde_json::from_str::<Vec<NegativeReason>>(&a.description) else {
        return a.description.clone();
    };
    reasons
        .iter()
        .map(|r| {
            let (key, n): (&str, String) = match &r.condition {
                C::NpsAtMost(n) => ("neg-reason-nps", n.to_string()),
                C::AnyRatingAtMost(n) => ("neg-reason-rating", n.to_string()),
                C::AnswerIn { values, .. } => ("neg-reason-answer", values.join(", ")),
                C::YesNo { is, .. } => (
                    "neg-reason-yes-no",
                    t.get(if *is { "neg-yes" } else { "neg-no" }),
                ),
                C::AnyFrequencyAtMost(f) => (
                    "neg-reason-frequency",
                    t.get(&format!("survey-frequency-{}", f.as_str())),
                ),
            };
            t.with(
                key,
                &[
                    ("question", r.question_key.as_str().to_owned().into()),
                    ("value", n.into()),
                ],
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// How a row of the board shows an action.
pub fn card(t: &Tr, a: &PxAction, people: &People, zone: &str) -> Card {
    let now = Utc::now();
    Card {
        href: format!("/ui/actions/{}", a.id),
        title: title(t, a),
        origin: t.get(&format!("origin-{}", a.origin_kind)),
        origin_href: (a.origin_kind == "complaint")
            .then(|| a.origin_id.map(|c| format!("/ui/complaints/{c}")))
            .flatten(),
        owner: people.name(Some(a.owner_id)),
        due: at_opt(t, a.due_at, zone),
        overdue: a.breached_at.is_some() || a.due_at.is_some_and(|d| d < now),
        status: t.get(&format!("astatus-{}", a.status.as_str())),
        severity: t.get(&format!("severity-{}", a.severity.as_str())),
        severity_code: a.severity.as_str().to_owned(),
    }
}

pub async fn board(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let p = &s.principal;
    st.authorize(
        p,
        &ctx,
        Resource::PxAction,
        Action::Read,
        own_scope(p),
        None,
    )
    .await?;
    let t = req.t();
    let which = match req.param("board") {
        Some("team") => Board::Team,
        Some("overdue") => Board::Overdue,
        _ => Board::Mine,
    };
    let rows = st
        .db
        .action_board(which, p.user_id(), &filter(p), Utc::now(), 200)
        .await?;
    let people = People::load(&st).await?;
    let names = Names::load(&st, p).await?;
    let zone = |h: Uuid| {
        names
            .hospitals
            .iter()
            .find(|x| x.id == h)
            .map_or("UTC", |x| x.timezone.name())
    };
    let cards = rows
        .iter()
        .map(|a| card(&t, a, &people, zone(a.hospital_id)))
        .collect();
    let tabs = [
        (Board::Mine, "/ui/actions?board=mine", "ab-tab-mine"),
        (Board::Team, "/ui/actions?board=team", "ab-tab-team"),
        (
            Board::Overdue,
            "/ui/actions?board=overdue",
            "ab-tab-overdue",
        ),
    ]
    .into_iter()
    .map(|(b, href, key)| Tab {
        href,
        label: t.get(key),
        active: b == which,
    })
    .collect();
    render(&BoardPage {
        chrome: Chrome::new(&req, Some(&s), Nav::Actions, "ab-title"),
        tabs,
        cards,
        may_create: p.may(Resource::PxAction, Action::Create, &own_scope(p)),
        t,
    })
}

#[derive(Deserialize, Default)]
pub struct NewForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    category_code: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    hospital_id: String,
    #[serde(default)]
    department_id: String,
    #[serde(default)]
    owner_id: String,
    #[serde(default)]
    complaint_id: String,
}

#[derive(Template)]
#[template(path = "action_new.html")]
struct NewPage {
    chrome: Chrome,
    t: Tr,
    f: NewForm,
    errors: Errors,
    problem: Option<String>,
    complaint: Option<Label>,
    hospitals: Vec<Pick>,
    departments: Vec<Pick>,
    categories: Vec<Pick>,
    severities: Vec<Pick>,
    owners: Vec<Pick>,
}

const SHOWN: [&str; 7] = [
    "title",
    "description",
    "category_code",
    "severity",
    "hospital_id",
    "department_id",
    "owner_id",
];

async fn new_page(
    st: &AppState,
    req: &Req,
    s: &Session,
    ctx: &Ctx,
    f: NewForm,
    errors: Errors,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let t = req.t();
    let names = Names::load(st, p).await?;
    let cats = Categories::load(st).await?;
    let people = People::load(st).await?;
    // Raised for a complaint: it must be one the user can see (404 otherwise).
    let complaint = match Uuid::parse_str(f.complaint_id.trim()) {
        Ok(cid) => Some(Label::data(
            &px360_api::complaints::load(st, p, ctx, cid, Action::Read)
                .await?
                .reference,
        )),
        Err(_) => None,
    };
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
    // Active accounts inside the caller's hospital (the API checks the chosen owner can work
    // where the action is placed and says so next to the field).
    let mut owners = vec![Pick::msg("", t.get("an-owner-rules"), &f.owner_id)];
    let mine = filter(p).hospital_id;
    owners.extend(
        people
            .users
            .iter()
            .filter(|u| u.is_active && u.role.level() >= Role::Staff.level())
            .filter(|u| {
                mine.as_deref()
                    .is_none_or(|h| u.hospital_id.is_some_and(|x| x.to_string() == h))
            })
            .map(|u| Pick::data(&u.id.to_string(), &u.display_name, &f.owner_id)),
    );
    let severity = if f.severity.is_empty() {
        "medium".to_owned()
    } else {
        f.severity.clone()
    };
    let problem = errors.others(SHOWN).into_iter().next();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut r = render(&NewPage {
        chrome: Chrome::new(req, Some(s), Nav::Actions, "an-title"),
        categories: cats.picks(&t, &f.category_code, Some("cn-choose")),
        severities: coded(&t, "severity", &SEVERITIES, &severity, None),
        complaint,
        hospitals,
        departments,
        owners,
        f,
        errors,
        problem,
        t,
    })?;
    *r.status_mut() = status;
    Ok(r)
}

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
        Resource::PxAction,
        Action::Create,
        own_scope(p),
        None,
    )
    .await?;
    let mut f = NewForm::default();
    if let Some(c) = req.param("complaint").and_then(|c| Uuid::parse_str(c).ok()) {
        let c = px360_api::complaints::load(&st, p, &ctx, c, Action::Read).await?;
        f.complaint_id = c.id.to_string();
        f.hospital_id = c.hospital_id.to_string();
        f.department_id = c.department_id.map(|d| d.to_string()).unwrap_or_default();
        f.category_code = c.category_code.clone();
        f.severity = c.severity.as_str().to_owned();
        f.title = t_complaint(&req, &c.reference);
    }
    new_page(&st, &req, &s, &ctx, f, Errors::default()).await
}

fn t_complaint(req: &Req, reference: &str) -> String {
    req.t().with(
        "an-title-for",
        &[("reference", reference.to_owned().into())],
    )
}

pub async fn create(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Form(f): Form<NewForm>,
) -> Result<Response, UiError> {
    let p = s.principal;
    st.authorize(
        &p,
        &ctx,
        Resource::PxAction,
        Action::Create,
        own_scope(&p),
        None,
    )
    .await?;
    let input = ActionInput {
        hospital_id: Uuid::parse_str(f.hospital_id.trim()).ok(),
        department_id: Uuid::parse_str(f.department_id.trim()).ok(),
        title: f.title.clone(),
        description: f.description.clone(),
        category_code: f.category_code.trim().to_owned(),
        severity: f.severity.trim().to_owned(),
        owner_id: opt(&f.owner_id).and_then(|o| Uuid::parse_str(&o).ok()),
        complaint_id: Uuid::parse_str(f.complaint_id.trim()).ok(),
    };
    match create_action(State(st.clone()), Authed(p), ctx.clone(), Json(input)).await {
        Ok((_, Json(a))) => {
            Ok(Redirect::to(&format!("/ui/actions/{}?done=created", a.id)).into_response())
        }
        Err(e @ (ApiError::Validation(_) | ApiError::Conflict(_) | ApiError::BadRequest(_))) => {
            let errs = from_api(&req.t(), "an", e, |f| f.to_owned())?;
            new_page(&st, &req, &s, &ctx, f, errs).await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use px360_domain::action::px_action::ActionStatus;
    use px360_domain::sla::Severity;
    use uuid::Uuid;

    fn negative(description: &str) -> PxAction {
        PxAction {
            id: Uuid::nil(),
            hospital_id: Uuid::nil(),
            department_id: None,
            origin_kind: "negative_survey".into(),
            origin_id: Some(Uuid::nil()),
            category_code: "survey".into(),
            title: "Negative survey response".into(),
            description: description.into(),
            severity: Severity::Medium,
            status: ActionStatus::Open,
            owner_id: Uuid::nil(),
            due_at: None,
            evidence_count: 0,
            submitted_by: None,
            verified_by: None,
            verified_at: None,
            cycle: 1,
            created_by: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            closed_at: None,
            breached_at: None,
        }
    }

    /// The system's English title and JSON reasons never reach a page as they are stored.
    #[test]
    fn negative_survey_actions_read_in_the_page_language() {
        let a = negative(
            r#"[{"question_key":"recommend","condition":{"nps_at_most":6}},{"question_key":"nurses_listened","condition":{"any_frequency_at_most":"sometimes"}},{"question_key":"would_return","condition":{"yes_no":{"key":"would_return","is":false}}}]"#,
        );
        let (en, ar) = (Tr(Lang::En), Tr(Lang::Ar));
        assert_eq!(title(&ar, &a), ar.get("origin-negative_survey"));
        assert_ne!(title(&ar, &a), a.title);
        let d = description(&en, &a);
        assert_eq!(
            d.lines().collect::<Vec<_>>(),
            [
                "recommend: an NPS answer of 6 or less",
                "nurses_listened: Sometimes or less often",
                "would_return: answered no"
            ],
            "{d}"
        );
        let d = description(&ar, &a);
        assert!(d.contains("recommend") && d.contains("أحيانًا"), "{d}");
        assert!(!d.contains('{'), "{d}");
        // Anything else keeps its own text.
        let mut m = negative("Fix the lift");
        m.origin_kind = "manual".into();
        m.title = "Lift".into();
        assert_eq!(
            (title(&ar, &m), description(&ar, &m)),
            ("Lift".into(), "Fix the lift".into())
        );
        // A description that is not the reasons' JSON is shown as it is.
        assert_eq!(description(&en, &negative("free text")), "free text");
    }
}
