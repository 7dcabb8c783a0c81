//! Form errors of the administration pages. The pages call the API's own handlers, so a form is
//! validated by exactly the API's rules; the API's field errors are then shown next to the form
//! field they concern, each as a catalogue message in the page's language (the API's English
//! text never reaches a page).

use crate::error::UiError;
use crate::i18n::Tr;
use px360_api::error::ApiError;

/// The errors of one submitted form: (form field, message in the page's language).
#[derive(Debug, Clone, Default)]
pub struct Errors(pub Vec<(String, String)>);

impl Errors {
    /// The message for `field`, if it has one.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages of fields the form does not show next to a field (`shown`): a summary.
    pub fn others<'a>(&self, shown: impl AsRef<[&'a str]>) -> Vec<String> {
        let shown = shown.as_ref();
        self.0
            .iter()
            .filter(|(f, _)| !shown.contains(&f.as_str()))
            .map(|(_, m)| m.clone())
            .collect()
    }
}

/// `stages[3].code` → `code`: the rule of a stage field is the same wherever the stage sits.
pub fn rule_name(field: &str) -> &str {
    match field.rsplit_once('.') {
        Some((_, last)) => last,
        None => field,
    }
}

/// Turn an API answer that concerns the form into field errors, with messages
/// `<prefix>-error-<field>` (a taken unique key: `…-<field>-taken`) placed on the form field
/// `place(api field)`. Answers that are not about the form (404, 403, an outage) stay errors.
pub fn from_api(
    t: &Tr,
    prefix: &str,
    e: ApiError,
    place: impl Fn(&str) -> String,
) -> Result<Errors, UiError> {
    let one = |field: &str, key: String| (place(field), t.get(&key));
    Ok(Errors(match e {
        ApiError::Validation(errs) => errs
            .iter()
            .map(|e| {
                let rule = if e.field.is_empty() {
                    "form"
                } else {
                    rule_name(&e.field)
                };
                one(&e.field, format!("{prefix}-error-{rule}"))
            })
            .collect(),
        ApiError::FieldConflict { field, .. } => {
            vec![one(
                &field,
                format!("{prefix}-error-{}-taken", rule_name(&field)),
            )]
        }
        // The conflicts these forms can meet name the event code (a stage's, within its
        // template); anything else is shown above the form.
        ApiError::Conflict(m) if m.contains("completing_event_code") => vec![one(
            "completing_event_code",
            format!("{prefix}-error-completing_event_code"),
        )],
        ApiError::Conflict(_) | ApiError::BadRequest(_) => {
            vec![("form".into(), t.get(&format!("{prefix}-error-form")))]
        }
        other => return Err(other.into()),
    }))
}

/// A trimmed form value, `None` when empty.
pub fn opt(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}
