//! Errors as RFC 9457 problem+json. Internal details are logged (without bodies), never returned.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use px360_domain::event::FieldError;
use px360_store::StoreError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthenticated(&'static str),
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
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
    #[error("internal error")]
    Internal(String),
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<FieldErrorSchema>)]
    pub errors: Vec<FieldError>,
    /// On a refused delete (409): the live dependents by kind, e.g. `{"patients": 12}`.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = Option<Object>, example = json!({"departments": 4, "patients": 12}))]
    pub dependents: serde_json::Map<String, serde_json::Value>,
}

/// One invalid field of a validation problem (`field` is a JSON path such as
/// `payload.timestamp` or `stages[1].completing_event_code`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = FieldError)]
pub struct FieldErrorSchema {
    pub field: String,
    pub message: String,
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::Invalid(m) => ApiError::BadRequest(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut dependents = serde_json::Map::new();
        let (status, slug, title, detail, errors) = match self {
            ApiError::Unauthenticated(d) => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
                d.to_owned(),
                vec![],
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                "your role or scope does not allow this".to_owned(),
                vec![],
            ),
            // Objects outside the caller's scope are reported as 404 too, so that their
            // existence is not disclosed.
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                "no such object in your scope".to_owned(),
                vec![],
            ),
            ApiError::Conflict(d) => (StatusCode::CONFLICT, "conflict", "Conflict", d, vec![]),
            ApiError::Dependents {
                object,
                dependents: deps,
            } => {
                let list = deps
                    .iter()
                    .map(|d| format!("{} {}", d.count, d.kind))
                    .collect::<Vec<_>>()
                    .join(", ");
                for d in deps {
                    dependents.insert(d.kind.to_owned(), d.count.into());
                }
                (
                    StatusCode::CONFLICT,
                    "has-dependents",
                    "Object has dependents",
                    format!("the {object} still has live {list}: delete or move them first"),
                    vec![],
                )
            }
            ApiError::BadRequest(d) => (
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Bad request",
                d,
                vec![],
            ),
            ApiError::Validation(errs) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Validation failed",
                format!("{} field(s) are invalid", errs.len()),
                errs,
            ),
            ApiError::Internal(d) => {
                tracing::error!(error = %d, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "an internal error occurred; it has been logged".to_owned(),
                    vec![],
                )
            }
        };
        let body = Problem {
            kind: format!("https://px360.example/problems/{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            errors,
            dependents,
        };
        let mut resp = (status, axum::Json(body)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
