//! The inbound integration-event contract and its validation.
//!
//! Validation walks a raw JSON value rather than relying on serde so that every bad field is
//! reported at once, each named by its JSON path (for problem+json `errors[]`).

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
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

/// The payload object and the member name it came from (for error paths). The design's
/// contract sends `payload_json`, either as an object or as a string holding one (the way many
/// interface engines serialise a nested document); `payload` is this API's original name.
fn payload_object(
    obj: &Map<String, Value>,
    errors: &mut Vec<FieldError>,
) -> Option<(Map<String, Value>, &'static str)> {
    let present = |k: &str| obj.get(k).is_some_and(|v| !v.is_null());
    match (present("payload"), present("payload_json")) {
        (true, true) => {
            errors.push(FieldError::new(
                "payload_json",
                "send either payload or payload_json, not both",
            ));
            None
        }
        (false, false) => {
            errors.push(FieldError::new("payload", "is required (or payload_json)"));
            None
        }
        (true, false) => match obj.get("payload") {
            Some(Value::Object(p)) => Some((p.clone(), "payload")),
            _ => {
                errors.push(FieldError::new("payload", "must be an object"));
                None
            }
        },
        (false, true) => match obj.get("payload_json") {
            Some(Value::Object(p)) => Some((p.clone(), "payload_json")),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(p)) => Some((p, "payload_json")),
                Ok(_) => {
                    errors.push(FieldError::new(
                        "payload_json",
                        "must be a JSON object (or a string containing one)",
                    ));
                    None
                }
                Err(e) => {
                    errors.push(FieldError::new(
                        "payload_json",
                        format!("is a string but not valid JSON: {e}"),
                    ));
                    None
                }
            },
            _ => {
                errors.push(FieldError::new(
                    "payload_json",
                    "must be a JSON object (or a string containing one)",
                ));
                None
            }
        },
    }
}

/// Wall-clock forms accepted without an offset (`T` or a space between date and time,
/// optional seconds and fraction).
const LOCAL_FORMATS: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

/// An ISO 8601 date-time: with `Z` or an offset (`+03:00`, `+0300`) it is that instant;
/// without one it is the hospital's wall-clock time. A local time that does not exist (the
/// hour skipped when clocks go forward) is refused; one that occurs twice takes the earlier.
pub fn parse_timestamp(s: &str, hospital_tz: Tz) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    let naive = LOCAL_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .ok_or_else(|| {
            "must be an ISO 8601 date-time, e.g. 2026-01-31T12:30:00+03:00, 2026-01-31T09:30:00Z \
             or 2026-01-31T12:30:00 (the hospital's local time)"
                .to_owned()
        })?;
    match hospital_tz.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Ok(t.with_timezone(&Utc)),
        LocalResult::None => Err(format!(
            "{naive} does not exist in the hospital's time zone {hospital_tz} (clocks went forward); send an offset"
        )),
    }
}

/// Validate a posted event. Lenient on spelling (`physician_license` is accepted, unknown
/// top-level members are ignored, the payload may come as `payload` or as the design's
/// `payload_json`) but every required field must be present and well formed. A timestamp
/// without an offset is a wall-clock time in `hospital_tz`, the sending hospital's zone.
pub fn validate(body: &Value, hospital_tz: Tz) -> Result<InboundEvent, Vec<FieldError>> {
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

    let payload = match payload_object(obj, &mut errors) {
        Some((p, prefix)) => {
            let path = |f: &str| format!("{prefix}.{f}");
            let physician_licence = optional_str(
                &p,
                &["physician_licence", "physician_license"],
                &path("physician_licence"),
                32,
                &mut errors,
            );
            let department_code = optional_str(
                &p,
                &["department_code"],
                &path("department_code"),
                32,
                &mut errors,
            );
            let timestamp = match p.get("timestamp") {
                Some(Value::String(s)) => match parse_timestamp(s, hospital_tz) {
                    Ok(t) => Some(t),
                    Err(message) => {
                        errors.push(FieldError::new(path("timestamp"), message));
                        None
                    }
                },
                None | Some(Value::Null) => {
                    errors.push(FieldError::new(path("timestamp"), "is required"));
                    None
                }
                Some(_) => {
                    errors.push(FieldError::new(path("timestamp"), "must be a string"));
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
                            path("custom_fields"),
                            format!("must serialise to at most {MAX_CUSTOM_FIELDS_BYTES} bytes"),
                        ));
                        None
                    } else {
                        Some(m.clone())
                    }
                }
                Some(_) => {
                    errors.push(FieldError::new(path("custom_fields"), "must be an object"));
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
        None => None,
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
        let e = validate(
            &json!({
                "source_system": "EPIC", "event_code": "OP_CHECKIN", "encounter_id": "E1",
                "patient_identifier": "MRN1",
                "payload": {"physician_license": "GMC1", "department_code": "CARD",
                            "timestamp": "2025-01-31T09:30:00+01:00", "custom_fields": {"bed": "4"}}
            }),
            Tz::UTC,
        )
        .unwrap();
        assert_eq!(e.payload.physician_licence.as_deref(), Some("GMC1"));
        assert_eq!(
            e.payload.timestamp.to_rfc3339(),
            "2025-01-31T08:30:00+00:00"
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let errs = validate(
            &json!({
                "source_system": "", "event_code": 5, "encounter_id": "E 1",
                "payload": {"timestamp": "yesterday", "custom_fields": []}
            }),
            Tz::UTC,
        )
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

    fn body_with(payload_member: &str, payload: Value) -> Value {
        json!({"source_system": "HIS", "event_code": "OP_CHECKIN", "encounter_id": "E1",
               "patient_identifier": "MRN1", payload_member: payload})
    }

    #[test]
    fn payload_json_object_or_string_is_accepted() {
        let riyadh: Tz = "Asia/Riyadh".parse().unwrap();
        let p = json!({"department_code": "CARD", "timestamp": "2026-01-31T12:30:00"});
        let as_object = validate(&body_with("payload_json", p.clone()), riyadh).unwrap();
        let as_string = validate(
            &body_with("payload_json", Value::String(p.to_string())),
            riyadh,
        )
        .unwrap();
        let as_payload = validate(&body_with("payload", p), riyadh).unwrap();
        assert_eq!(as_object, as_string);
        assert_eq!(as_object, as_payload);
        assert_eq!(as_object.payload.department_code.as_deref(), Some("CARD"));
        assert_eq!(
            as_object.payload.timestamp.to_rfc3339(),
            "2026-01-31T09:30:00+00:00"
        );
    }

    #[test]
    fn payload_json_errors_name_that_member() {
        let errs = validate(&body_with("payload_json", json!("[1, 2]")), Tz::UTC).unwrap_err();
        assert_eq!(errs[0].field, "payload_json");
        let errs = validate(&body_with("payload_json", json!("{not json")), Tz::UTC).unwrap_err();
        assert_eq!(errs[0].field, "payload_json");
        let errs = validate(
            &body_with("payload_json", json!({"timestamp": "soon"})),
            Tz::UTC,
        )
        .unwrap_err();
        assert_eq!(errs[0].field, "payload_json.timestamp");
        let mut both = body_with("payload", json!({"timestamp": "2026-01-31T09:30:00Z"}));
        both["payload_json"] = json!({"timestamp": "2026-01-31T09:30:00Z"});
        assert_eq!(
            validate(&both, Tz::UTC).unwrap_err()[0].field,
            "payload_json"
        );
        let none = body_with("other", json!({}));
        assert_eq!(validate(&none, Tz::UTC).unwrap_err()[0].field, "payload");
    }

    #[test]
    fn timestamps_in_every_accepted_form() {
        let riyadh: Tz = "Asia/Riyadh".parse().unwrap();
        let want = "2026-01-31T09:30:00+00:00";
        for s in [
            "2026-01-31T09:30:00Z",
            "2026-01-31T09:30:00z",
            "2026-01-31T12:30:00+03:00",
            "2026-01-31T12:30:00+0300",
            "2026-01-31 12:30:00+03:00",
            "2026-01-31T12:30:00",
            "2026-01-31T12:30:00.000",
            "2026-01-31 12:30:00",
            "2026-01-31T12:30",
            " 2026-01-31T12:30:00 ",
        ] {
            assert_eq!(
                parse_timestamp(s, riyadh).unwrap().to_rfc3339(),
                want,
                "{s}"
            );
        }
        assert_eq!(
            parse_timestamp("2026-01-31T12:30:00.123456Z", riyadh)
                .unwrap()
                .timestamp_subsec_micros(),
            123_456
        );
        for bad in [
            "yesterday",
            "2026-01-31",
            "2026-13-01T00:00:00",
            "31/01/2026 12:30",
        ] {
            assert!(parse_timestamp(bad, riyadh).is_err(), "{bad}");
        }
        // Europe/London skips 01:00-02:00 on 2026-03-29; 01:30 on 2026-10-25 occurs twice.
        let london: Tz = "Europe/London".parse().unwrap();
        assert!(parse_timestamp("2026-03-29T01:30:00", london).is_err());
        assert_eq!(
            parse_timestamp("2026-10-25T01:30:00", london)
                .unwrap()
                .to_rfc3339(),
            "2026-10-25T00:30:00+00:00"
        );
    }

    #[test]
    fn retry_backoff_then_park() {
        assert_eq!(retry_delay(1).unwrap().as_secs(), 2);
        assert_eq!(retry_delay(4).unwrap().as_secs(), 16);
        assert!(retry_delay(MAX_ATTEMPTS).is_none());
    }
}
