//! The public feedback form's submission, parsed into a [`Feedback`] or a list of per-field
//! error codes (so the form can show every problem at once, in the patient's language).
//!
//! Bilingual: the form is served in English or Arabic and the text is kept as written, with the
//! language it was written in. Contact details are optional (anonymous feedback is allowed) but,
//! when given, must be usable; a named staff member is optional and bounded.

use super::kind::FeedbackKind;
use super::qr::QrTarget;
use crate::survey::question::Lang;
use serde::Serialize;
use uuid::Uuid;

pub const MAX_TEXT: usize = 4_000;
pub const MAX_NAME: usize = 120;
pub const MAX_EMAIL: usize = 254;

/// The form as posted: every field a string, possibly empty.
#[derive(Debug, Clone, Default)]
pub struct FeedbackForm {
    pub kind: String,
    pub lang: String,
    pub text: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    /// Staff member chosen from the department's list…
    pub staff_id: String,
    /// …or typed by the patient.
    pub staff_name: String,
}

#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub name: Option<String>,
    pub email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
}

impl std::fmt::Debug for Contact {
    /// Contact details are patient data: never in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Contact(<redacted>)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedStaff {
    pub id: Option<Uuid>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feedback {
    pub kind: FeedbackKind,
    pub lang: Lang,
    pub text: String,
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub contact: Option<Contact>,
    pub staff: Option<NamedStaff>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Kind,
    Lang,
    Text,
    ContactName,
    ContactEmail,
    ContactPhone,
    Staff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: Field,
    pub code: &'static str,
}

fn opt(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|t| !t.is_empty())
}

fn email_ok(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    e.len() <= MAX_EMAIL
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
}

impl Feedback {
    /// `country_code` completes national phone numbers (e.g. `"966"`).
    pub fn parse(
        target: QrTarget,
        form: &FeedbackForm,
        country_code: &str,
    ) -> Result<Feedback, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut err = |field, code| errors.push(FieldError { field, code });
        let kind = FeedbackKind::parse(form.kind.trim());
        if kind.is_none() {
            err(Field::Kind, "feedback.kind.unknown");
        }
        let lang = Lang::parse(form.lang.trim());
        if lang.is_none() {
            err(Field::Lang, "feedback.lang.unknown");
        }
        let text = form.text.trim();
        if text.is_empty() {
            err(Field::Text, "feedback.text.required");
        } else if text.chars().count() > MAX_TEXT {
            err(Field::Text, "feedback.text.too_long");
        }
        let name = opt(&form.contact_name);
        if name.is_some_and(|n| n.chars().count() > MAX_NAME) {
            err(Field::ContactName, "feedback.contact.name_too_long");
        }
        let email = opt(&form.contact_email);
        if email.is_some_and(|e| !email_ok(e)) {
            err(Field::ContactEmail, "feedback.contact.bad_email");
        }
        let phone = match opt(&form.contact_phone) {
            None => None,
            Some(p) => match crate::callcentre::lookup::PatientKey::phone(p, country_code) {
                Ok(k) => Some(k.expose().to_string()),
                Err(_) => {
                    err(Field::ContactPhone, "feedback.contact.bad_phone");
                    None
                }
            },
        };
        let staff_id = match opt(&form.staff_id) {
            None => None,
            Some(s) => match Uuid::parse_str(s) {
                Ok(id) => Some(id),
                Err(_) => {
                    err(Field::Staff, "feedback.staff.bad_id");
                    None
                }
            },
        };
        let staff_name = opt(&form.staff_name);
        if staff_name.is_some_and(|n| n.chars().count() > MAX_NAME) {
            err(Field::Staff, "feedback.staff.name_too_long");
        }
        match (kind, lang) {
            (Some(kind), Some(lang)) if errors.is_empty() => {
                let contact =
                    (name.is_some() || email.is_some() || phone.is_some()).then(|| Contact {
                        name: name.map(str::to_string),
                        email: email.map(str::to_string),
                        phone,
                    });
                let staff = (staff_id.is_some() || staff_name.is_some()).then(|| NamedStaff {
                    id: staff_id,
                    name: staff_name.map(str::to_string),
                });
                Ok(Feedback {
                    kind,
                    lang,
                    text: text.to_string(),
                    hospital_id: target.hospital_id,
                    department_id: target.department_id,
                    contact,
                    staff,
                })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    pub(crate) fn target() -> QrTarget {
        QrTarget {
            hospital_id: Uuid::from_u128(1),
            department_id: Some(Uuid::from_u128(2)),
        }
    }

    #[test]
    fn an_anonymous_arabic_compliment_parses() {
        let f = Feedback::parse(
            target(),
            &FeedbackForm {
                kind: "compliment".into(),
                lang: "ar".into(),
                text: "  شكراً للممرضة سارة  ".into(),
                staff_name: "سارة".into(),
                ..Default::default()
            },
            "966",
        )
        .unwrap();
        assert_eq!(f.kind, FeedbackKind::Compliment);
        assert_eq!(f.text, "شكراً للممرضة سارة");
        assert_eq!(f.contact, None);
        assert_eq!(f.staff.unwrap().name.as_deref(), Some("سارة"));
        assert_eq!(f.department_id, Some(Uuid::from_u128(2)));
    }

    #[test]
    fn contact_is_normalised_and_redacted_in_debug() {
        let f = Feedback::parse(
            target(),
            &FeedbackForm {
                kind: "concern".into(),
                lang: "en".into(),
                text: "Parking is full".into(),
                contact_email: "p@example.sa".into(),
                contact_phone: "050 123 4567".into(),
                ..Default::default()
            },
            "966",
        )
        .unwrap();
        let c = f.contact.clone().unwrap();
        assert_eq!(c.phone.as_deref(), Some("+966501234567"));
        let dbg = format!("{f:?}");
        assert!(
            !dbg.contains("example.sa") && !dbg.contains("501234567"),
            "{dbg}"
        );
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let errs = Feedback::parse(
            target(),
            &FeedbackForm {
                kind: "rant".into(),
                lang: "fr".into(),
                text: " ".into(),
                contact_email: "not-an-email".into(),
                contact_phone: "abc".into(),
                staff_id: "x".into(),
                ..Default::default()
            },
            "966",
        )
        .unwrap_err();
        let codes: Vec<_> = errs.iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            [
                "feedback.kind.unknown",
                "feedback.lang.unknown",
                "feedback.text.required",
                "feedback.contact.bad_email",
                "feedback.contact.bad_phone",
                "feedback.staff.bad_id",
            ]
        );
        let long = FeedbackForm {
            kind: "suggestion".into(),
            lang: "en".into(),
            text: "x".repeat(MAX_TEXT + 1),
            ..Default::default()
        };
        assert_eq!(
            Feedback::parse(target(), &long, "966").unwrap_err()[0].code,
            "feedback.text.too_long"
        );
    }
}
