//! The inbound integration-event contract and its validation.
//!
//! Validation walks a raw JSON value rather than relying on serde so that every bad field is
//! reported at once, each named by its JSON path (for problem+json `errors[]`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A validated event, ready to be stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundEvent {
    pub source_system: String,
    pub event_code: String,
    pub encounter_id: String,
    pub patient_identifier: String,
    pub payload: EventPayload,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventPayload {
    pub physician_licence: Option<String>,
    pub department_code: Option<String>,
    pub timestamp: DateTime<Utc>,
    #[serde(default)]
    pub custom_fields: Map<String, Value>,
}

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

const MAX_CUSTOM_FIELDS_BYTES: usize = 16 * 1024;

fn code_like(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/'))
}

fn required_str(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    max: usize,
    codeish: bool,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match obj.get(key) {
        None | Some(Value::Null) => {
            errors.push(FieldError::new(path, "is required"));
            None
        }
        Some(Value::String(s)) => optional_checks(s, path, max, codeish, errors),
        Some(_) => {
            errors.push(FieldError::new(path, "must be a string"));
            None
        }
    }
}

fn optional_checks(
    s: &str,
    path: &str,
    max: usize,
    codeish: bool,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        errors.push(FieldError::new(path, "must not be empty"));
        None
    } else if t.len() > max {
        errors.push(FieldError::new(
            path,
            format!("must be at most {max} characters"),
        ));
        None
    } else if codeish && !code_like(t) {
        errors.push(FieldError::new(
            path,
            "may contain only letters, digits and _ - . : /",
        ));
        None
    } else {
        Some(t.to_owned())
    }
}

fn optional_str(
    obj: &Map<String, Value>,
    keys: &[&str],
    path: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match keys.iter().find_map(|k| obj.get(*k)) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => optional_checks(s, path, max, true, errors),
        Some(_) => {
            errors.push(FieldError::new(path, "must be a string"));
            None
        }
    }
}

/// Validate a posted event. Lenient on spelling (`physician_license` is accepted, unknown
/// top-level members are ignored) but every required field must be present and well formed.
pub fn validate(body: &Value) -> Result<InboundEvent, Vec<FieldError>> {
    let mut errors = Vec::new();
    let Some(obj) = body.as_object() else {
        return Err(vec![FieldError::new("", "body must be a JSON object")]);
    };
    let source_system = required_str(obj, "source_system", "source_system", 64, true, &mut errors);
    let event_code = required_str(obj, "event_code", "event_code", 64, true, &mut errors);
    let encounter_id = required_str(obj, "encounter_id", "encounter_id", 128, true, &mut errors);
    let patient_identifier = required_str(
        obj,
        "patient_identifier",
        "patient_identifier",
        64,
        true,
        &mut errors,
    );

    let payload = match obj.get("payload") {
        Some(Value::Object(p)) => {
            let physician_licence = optional_str(
                p,
                &["physician_licence", "physician_license"],
                "payload.physician_licence",
                32,
                &mut errors,
            );
            let department_code = optional_str(
                p,
                &["department_code"],
                "payload.department_code",
                32,
                &mut errors,
            );
            let timestamp = match p.get("timestamp") {
                Some(Value::String(s)) => match DateTime::parse_from_rfc3339(s) {
                    Ok(t) => Some(t.with_timezone(&Utc)),
                    Err(_) => {
                        errors.push(FieldError::new(
                            "payload.timestamp",
                            "must be an RFC 3339 date-time with offset, e.g. 2025-01-31T09:30:00Z",
                        ));
                        None
                    }
                },
                None | Some(Value::Null) => {
                    errors.push(FieldError::new("payload.timestamp", "is required"));
                    None
                }
                Some(_) => {
                    errors.push(FieldError::new("payload.timestamp", "must be a string"));
                    None
                }
            };
            let custom_fields = match p.get("custom_fields") {
                None | Some(Value::Null) => Some(Map::new()),
                Some(Value::Object(m)) => {
                    if serde_json::to_string(m)
                        .map(|s| s.len())
                        .unwrap_or(usize::MAX)
                        > MAX_CUSTOM_FIELDS_BYTES
                    {
                        errors.push(FieldError::new(
                            "payload.custom_fields",
                            format!("must serialise to at most {MAX_CUSTOM_FIELDS_BYTES} bytes"),
                        ));
                        None
                    } else {
                        Some(m.clone())
                    }
                }
                Some(_) => {
                    errors.push(FieldError::new(
                        "payload.custom_fields",
                        "must be an object",
                    ));
                    None
                }
            };
            match (timestamp, custom_fields) {
                (Some(timestamp), Some(custom_fields)) => Some(EventPayload {
                    physician_licence,
                    department_code,
                    timestamp,
                    custom_fields,
                }),
                _ => None,
            }
        }
        None | Some(Value::Null) => {
            errors.push(FieldError::new("payload", "is required"));
            None
        }
        Some(_) => {
            errors.push(FieldError::new("payload", "must be an object"));
            None
        }
    };

    match (
        source_system,
        event_code,
        encounter_id,
        patient_identifier,
        payload,
    ) {
        (
            Some(source_system),
            Some(event_code),
            Some(encounter_id),
            Some(patient_identifier),
            Some(payload),
        ) if errors.is_empty() => Ok(InboundEvent {
            source_system,
            event_code,
            encounter_id,
            patient_identifier,
            payload,
        }),
        _ => Err(errors),
    }
}

/// Processing state of a stored event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    Received,
    Processed,
    /// Failed at least once; a retry is scheduled.
    Failed,
    /// Out of retries: waits for an operator to replay it.
    Parked,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Received => "received",
            EventStatus::Processed => "processed",
            EventStatus::Failed => "failed",
            EventStatus::Parked => "parked",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Received, Self::Processed, Self::Failed, Self::Parked]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// Retry schedule for failed processing: exponential from 2 s, capped, then park.
pub const MAX_ATTEMPTS: i64 = 5;

pub fn retry_delay(attempt: i64) -> Option<std::time::Duration> {
    (attempt < MAX_ATTEMPTS).then(|| {
        std::time::Duration::from_secs(2u64.saturating_pow(attempt.clamp(1, 10) as u32).min(300))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn valid_event_parses() {
        let e = validate(&json!({
            "source_system": "EPIC", "event_code": "OP_CHECKIN", "encounter_id": "E1",
            "patient_identifier": "MRN1",
            "payload": {"physician_license": "GMC1", "department_code": "CARD",
                        "timestamp": "2025-01-31T09:30:00+01:00", "custom_fields": {"bed": "4"}}
        }))
        .unwrap();
        assert_eq!(e.payload.physician_licence.as_deref(), Some("GMC1"));
        assert_eq!(
            e.payload.timestamp.to_rfc3339(),
            "2025-01-31T08:30:00+00:00"
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let errs = validate(&json!({
            "source_system": "", "event_code": 5, "encounter_id": "E 1",
            "payload": {"timestamp": "yesterday", "custom_fields": []}
        }))
        .unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "source_system",
                "event_code",
                "encounter_id",
                "patient_identifier",
                "payload.timestamp",
                "payload.custom_fields"
            ]
        );
    }

    #[test]
    fn retry_backoff_then_park() {
        assert_eq!(retry_delay(1).unwrap().as_secs(), 2);
        assert_eq!(retry_delay(4).unwrap().as_secs(), 16);
        assert!(retry_delay(MAX_ATTEMPTS).is_none());
    }
}
