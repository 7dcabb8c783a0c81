//! The building blocks of the administration pages (organisation and people): one list page
//! with search and keyset paging, one form page whose fields show their errors next to them,
//! the posted form's values, and the API's refusals turned into localised messages.
//!
//! Validation is never done here: the pages call the API's own operations
//! (`px360_api::{hospitals, departments, …}::create/update/delete`), and this module only maps
//! their field errors, conflicts and dependents onto the form.

use crate::error::UiError;
use crate::i18n::{Label, Tr};
use crate::page::{Chrome, Pager};
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use px360_api::error::ApiError;
use px360_domain::event::FieldError;

/// The posted form, as name/value pairs (repeated names for checkboxes).
#[derive(Debug, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The first value of `name`, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// `Some(value)` when given and not blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name)).filter(|v| !v.is_empty())
    }

    /// Every value of a repeated field (checkboxes).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// One choice of a select or a checkbox group.
pub struct Opt {
    pub value: String,
    pub label: Label,
    pub selected: bool,
}

pub enum Kind {
    Text,
    Email,
    Date,
    Password,
    Select(Vec<Opt>),
    Checks(Vec<Opt>),
}

/// A form field; `error` is the localised message shown next to it.
pub struct Field {
    pub name: &'static str,
    pub label: String,
    pub kind: Kind,
    pub value: String,
    pub required: bool,
    /// Codes and numbers are left-to-right in either language.
    pub ltr: bool,
    pub error: Option<String>,
}

impl Field {
    pub fn text(t: &Tr, name: &'static str, label_key: &str, value: &str, required: bool) -> Self {
        Field {
            name,
            label: t.get(label_key),
            kind: Kind::Text,
            value: value.to_owned(),
            required,
            ltr: false,
            error: None,
        }
    }

    pub fn code(t: &Tr, name: &'static str, label_key: &str, value: &str) -> Self {
        Field {
            ltr: true,
            ..Field::text(t, name, label_key, value, true)
        }
    }

    pub fn kind(self, kind: Kind) -> Self {
        Field { kind, ..self }
    }

    pub fn is_select(&self) -> bool {
        matches!(self.kind, Kind::Select(_))
    }

    pub fn is_checks(&self) -> bool {
        matches!(self.kind, Kind::Checks(_))
    }

    pub fn options(&self) -> &[Opt] {
        match &self.kind {
            Kind::Select(o) | Kind::Checks(o) => o,
            _ => &[],
        }
    }

    pub fn input_type(&self) -> &'static str {
        match self.kind {
            Kind::Email => "email",
            Kind::Date => "date",
            Kind::Password => "password",
            _ => "text",
        }
    }
}

/// A further small form on an edit page (deactivate, reset a password, delete).
pub struct Action {
    pub action: String,
    pub label: String,
    /// Bootstrap button class.
    pub class: &'static str,
    /// A field the action needs (the new password of a reset).
    pub field: Option<Field>,
    /// A link to a confirmation page (delete) rather than a form posted at once.
    pub link: bool,
}

#[derive(Template)]
#[template(path = "org_form.html")]
pub struct FormPage {
    pub chrome: Chrome,
    pub t: Tr,
    pub heading: String,
    pub back: String,
    pub action: String,
    pub fields: Vec<Field>,
    pub submit: String,
    /// A message about the whole form (dependents, a conflict), shown above it.
    pub problem: Option<String>,
    pub notice: Option<String>,
    pub actions: Vec<Action>,
}

impl FormPage {
    /// Put each field error next to its field; errors for fields the form does not show go to
    /// the form's message.
    pub fn with_errors(mut self, t: &Tr, errs: &[FieldError]) -> Self {
        for e in errs {
            let msg = field_message(t, e);
            match self.fields.iter_mut().find(|f| f.name == e.field) {
                Some(f) if f.error.is_none() => f.error = Some(msg),
                Some(_) => {}
                None => {
                    self.problem = Some(match self.problem.take() {
                        Some(p) => format!("{p} {msg}"),
                        None => msg,
                    })
                }
            }
        }
        self
    }

    pub fn render_with(self, status: StatusCode) -> Result<Response, UiError> {
        let mut r = crate::page::render(&self)?;
        *r.status_mut() = status;
        Ok(r)
    }
}

/// One cell of a list: catalogue text or data (names, codes).
pub struct Cell {
    pub text: String,
    pub data: bool,
    pub ltr: bool,
}

impl Cell {
    pub fn data(s: &str) -> Cell {
        Cell {
            text: s.to_owned(),
            data: true,
            ltr: false,
        }
    }

    pub fn code(s: &str) -> Cell {
        Cell {
            ltr: true,
            ..Cell::data(s)
        }
    }

    pub fn label(l: Label) -> Cell {
        Cell {
            text: l.text,
            data: l.data,
            ltr: false,
        }
    }
}

pub struct ListRow {
    pub cells: Vec<Cell>,
    /// The edit page, when the signed-in user may change the row.
    pub edit: Option<String>,
}

/// "Really delete?": the confirmation step before a delete (a form: no JavaScript needed).
#[derive(Template)]
#[template(path = "org_delete.html")]
pub struct DeletePage {
    pub chrome: Chrome,
    pub t: Tr,
    pub heading: String,
    /// The object's name (data).
    pub name: String,
    /// What deleting it does, for this kind (catalogue key).
    pub effect: &'static str,
    pub action: String,
    /// The object's edit page (cancel).
    pub back: String,
}

#[derive(Template)]
#[template(path = "org_list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub t: Tr,
    pub heading: String,
    pub path: String,
    pub search: String,
    pub columns: Vec<String>,
    pub rows: Vec<ListRow>,
    pub pager: Pager,
    pub new: Option<String>,
    pub notice: Option<String>,
    /// Links to the next steps of a setup (label, href), under the confirmation.
    pub next: Vec<(String, String)>,
}

/// The confirmation after a redirect (`?done=created|saved|deleted|…`).
pub fn notice(t: &Tr, done: Option<&str>) -> Option<String> {
    let key = match done? {
        "created" => "orgadm-done-created",
        "saved" => "orgadm-done-saved",
        "deleted" => "orgadm-done-deleted",
        "activated" => "orgadm-done-activated",
        "deactivated" => "orgadm-done-deactivated",
        "reset" => "orgadm-done-reset",
        _ => return None,
    };
    Some(t.get(key))
}

/// The catalogue key of an API field error. The API's messages are a small fixed set (its
/// `Checks` and the users module); anything unrecognised gets a generic localised message, so
/// no English reaches an Arabic page.
pub fn field_key(e: &FieldError) -> &'static str {
    let m = e.message.as_str();
    match m {
        _ if m.starts_with("is required") => "orgadm-err-required",
        "must be 1-200 characters when given" => "orgadm-err-length",
        _ if m.starts_with("must be an IANA") => "orgadm-err-timezone",
        "is already used by another object" | "is taken" => "orgadm-err-taken",
        "refers to no existing object"
        | "unknown department"
        | "unknown user"
        | "must be a UUID" => "orgadm-err-unknown",
        "must be at least 12 characters" => "orgadm-err-password",
        "belongs to another hospital" | "does not match the department's hospital" => {
            "orgadm-err-other-hospital"
        }
        _ if m.starts_with("must be a date") => "orgadm-err-date",
        _ if m.starts_with("must be a language code") => "orgadm-err-language",
        _ if m.starts_with("unknown channel") => "orgadm-err-channel",
        "unknown role" => "orgadm-err-role",
        // `scope_for`'s reasons: the role needs another scope.
        _ if e.field == "role" => "orgadm-err-role-scope",
        _ => "orgadm-err-invalid",
    }
}

pub fn field_message(t: &Tr, e: &FieldError) -> String {
    t.get(field_key(e))
}

/// How a page answers an API refusal that is not about one field.
pub enum Refusal {
    /// Field errors (422) or a taken key (409): show them on the form.
    Fields(StatusCode, Vec<FieldError>),
    /// The form as a whole: live dependents, a conflict (own account).
    Form(StatusCode, String),
    /// Everything else: a localised error page (403, 404, 500).
    Page(UiError),
}

pub fn refusal(t: &Tr, e: ApiError) -> Refusal {
    match e {
        ApiError::Validation(errs) => Refusal::Fields(StatusCode::UNPROCESSABLE_ENTITY, errs),
        ApiError::FieldConflict { field, message } => Refusal::Fields(
            StatusCode::CONFLICT,
            vec![FieldError::new(
                field,
                if message == "is taken" {
                    "is taken".to_owned()
                } else {
                    "is already used by another object".to_owned()
                },
            )],
        ),
        ApiError::Dependents { dependents, .. } => {
            let list = dependents
                .iter()
                .map(|d| format!("{} {}", d.count, t.get(&format!("orgadm-dep-{}", d.kind))))
                .collect::<Vec<_>>()
                .join(t.get("orgadm-list-sep").as_str());
            Refusal::Form(
                StatusCode::CONFLICT,
                t.with(
                    "orgadm-has-dependents",
                    &[(
                        "list",
                        fluent_templates::fluent_bundle::FluentValue::from(list),
                    )],
                ),
            )
        }
        ApiError::Conflict(_) => Refusal::Form(StatusCode::CONFLICT, t.get("orgadm-err-own")),
        other => Refusal::Page(other.into()),
    }
}
