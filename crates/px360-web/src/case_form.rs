//! The one-click "make it a case" form shared by the feedback inbox (triage) and the social
//! media pages (conversion): a category and a severity, and the target chosen by the button
//! that sent the form. Each button names its target in its `formaction` URL (a button's
//! `value` would be posted in English on an Arabic page), a plain field names it otherwise.

use crate::page::Req;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct CaseForm {
    #[serde(default)]
    target: String,
    #[serde(default)]
    category_code: String,
    #[serde(default)]
    severity: String,
}

fn filled(v: &str) -> Option<String> {
    Some(v.trim().to_owned()).filter(|c| !c.is_empty())
}

impl CaseForm {
    /// From the form's field, else from the URL of the button that sent it.
    pub fn target(&self, req: &Req) -> String {
        if self.target.trim().is_empty() {
            req.param("target").unwrap_or("").to_owned()
        } else {
            self.target.clone()
        }
    }

    pub fn category_code(&self) -> Option<String> {
        filled(&self.category_code)
    }

    pub fn severity(&self) -> Option<String> {
        filled(&self.severity)
    }
}
