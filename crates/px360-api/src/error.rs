//! Errors as RFC 9457 problem+json, through the one [`Problem`] type of `service-kit` (shared
//! with Xhuma). Internal details are logged with their source chain (never bodies), never
//! returned.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use px360_domain::event::FieldError;
use px360_store::StoreError;
use px360_store::constraint::{Violation, ViolationKind};
pub use service_kit::problem::Problem;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthenticated(&'static str),
    #[error("forbidden")]
    Forbidden,
    /// An administrator reset the account's password: only `/api/me`, `/api/me/password` and
    /// `/api/auth/*` answer until the user has chosen a new one.
    #[error("password change required")]
    PasswordChangeRequired,
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    /// A unique key is taken: 409 naming the field.
    #[error("conflict on {field}")]
    FieldConflict { field: String, message: String },
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The object still has live dependents: 409 naming them (`dependents`: kind → count).
    #[error("has dependents")]
    Dependents {
        object: &'static str,
        dependents: Vec<px360_store::dependents::Dependent>,
    },
    /// The database (or another backing service) is unreachable: 503, so that an outage is
    /// never mistaken for "unknown user" or "not found".
    #[error("service unavailable")]
    Unavailable(#[source] BoxError),
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl ApiError {
    /// An unexpected failure; `e` is kept as the source and logged, never sent.
    pub fn internal(e: impl Into<BoxError>) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::Invalid(m) => ApiError::BadRequest(m),
            StoreError::Constraint(v) => ApiError::from_violation(&v),
            StoreError::Unavailable(e) => ApiError::Unavailable(Box::new(e)),
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

impl ApiError {
    /// Default answer to a broken constraint: a taken unique key is 409, a missing referenced
    /// object or a missing/invalid value is 422, each naming the column as the field.
    fn from_violation(v: &Violation) -> Self {
        let field = v.field().unwrap_or("body").to_owned();
        match v.kind {
            ViolationKind::Unique => ApiError::FieldConflict {
                field,
                message: "is already used by another object".into(),
            },
            ViolationKind::ForeignKey => {
                ApiError::Validation(vec![FieldError::new(field, "refers to no existing object")])
            }
            ViolationKind::NotNull => {
                ApiError::Validation(vec![FieldError::new(field, "is required")])
            }
            ViolationKind::Check => ApiError::Validation(vec![FieldError::new(
                field,
                "has a value that is not allowed",
            )]),
        }
    }
}

/// Turn a specific broken constraint into a specific answer (as in launchbadge's
/// realworld-axum-sqlx): `insert(..).await.on_constraint("users.username", |_| …)`. The
/// constraint is named `table.column` (the last column of a composite key) on both engines.
pub trait OnConstraint<T> {
    fn on_constraint(
        self,
        key: &str,
        f: impl FnOnce(&Violation) -> ApiError,
    ) -> Result<T, ApiError>;
}

impl<T> OnConstraint<T> for Result<T, StoreError> {
    fn on_constraint(
        self,
        key: &str,
        f: impl FnOnce(&Violation) -> ApiError,
    ) -> Result<T, ApiError> {
        self.map_err(|e| match e {
            StoreError::Constraint(v) if v.key().as_deref() == Some(key) => f(&v),
            e => e.into(),
        })
    }
}

/// Log an error with its whole source chain (the chain carries no bodies: store and API errors
/// name tables, columns and kinds only).
fn log_chain(what: &str, e: &(dyn std::error::Error + 'static)) {
    let mut chain = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        cur = s.source();
    }
    tracing::error!(error = %chain, "{what}");
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let p = match self {
            ApiError::Unauthenticated(d) => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
            )
            .detail(d),
            ApiError::Forbidden => Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden")
                .detail("your role or scope does not allow this"),
            ApiError::PasswordChangeRequired => Problem::new(
                StatusCode::FORBIDDEN,
                "password-change-required",
                "Password change required",
            )
            .detail("an administrator reset your password: choose a new one with POST /api/me/password first"),
            // Objects outside the caller's scope are reported as 404 too, so that their
            // existence is not disclosed.
            ApiError::NotFound => Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found")
                .detail("no such object in your scope"),
            ApiError::Conflict(d) => Problem::conflict(d),
            ApiError::FieldConflict { field, message } => {
                Problem::conflict(format!("{field} {message}")).field(field, message)
            }
            ApiError::Dependents {
                object,
                dependents: deps,
            } => {
                let list = deps
                    .iter()
                    .map(|d| format!("{} {}", d.count, d.kind))
                    .collect::<Vec<_>>()
                    .join(", ");
                let map: serde_json::Map<String, serde_json::Value> = deps
                    .iter()
                    .map(|d| (d.kind.to_owned(), d.count.into()))
                    .collect();
                Problem::new(
                    StatusCode::CONFLICT,
                    "has-dependents",
                    "Object has dependents",
                )
                .detail(format!(
                    "the {object} still has live {list}: delete or move them first"
                ))
                .extension("dependents", map.into())
            }
            ApiError::BadRequest(d) => Problem::bad_request(d),
            ApiError::Validation(errs) => {
                let n = errs.len();
                Problem::validation(
                    errs.into_iter()
                        .map(|e| service_kit::problem::FieldError {
                            field: e.field,
                            message: e.message,
                        })
                        .collect(),
                )
                .detail(format!("{n} field(s) are invalid"))
            }
            ApiError::Unavailable(e) => {
                log_chain("backing service unavailable", e.as_ref());
                Problem::unavailable()
            }
            ApiError::Internal(e) => {
                log_chain("internal error", e.as_ref());
                Problem::internal()
            }
        };
        let status = p.status_code();
        let mut resp = p.into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
