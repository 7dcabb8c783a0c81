//! Hospital and department names in the principal's scope, for the organisation lists (the
//! name beside an id) and the forms' selects.

use crate::error::UiError;
use crate::i18n::Label;
use crate::org_form::Opt;
use px360_api::{AppState, filter};
use px360_domain::rbac::Principal;
use px360_store::org::{DepartmentRow, HospitalRow};
use std::collections::HashMap;
use uuid::Uuid;

/// Hospital and department names in the principal's scope (for lists and selects).
pub struct Names {
    pub hospitals: Vec<HospitalRow>,
    pub departments: Vec<DepartmentRow>,
}

impl Names {
    pub async fn load(st: &AppState, p: &Principal) -> Result<Self, UiError> {
        let f = filter(p);
        Ok(Names {
            hospitals: st.db.hospitals(f.hospital_id.as_deref()).await?,
            departments: st.db.departments(&f).await?,
        })
    }

    pub fn hospital(&self, id: Option<Uuid>) -> String {
        id.and_then(|id| self.hospitals.iter().find(|h| h.id == id))
            .map(|h| h.name.clone())
            .unwrap_or_default()
    }

    pub fn department(&self, id: Option<Uuid>) -> String {
        id.and_then(|id| self.departments.iter().find(|d| d.id == id))
            .map(|d| d.name.clone())
            .unwrap_or_default()
    }

    /// `Department (Hospital)` choices; `none` adds an empty first choice.
    pub fn department_options(&self, selected: &str, none: Option<String>) -> Vec<Opt> {
        let hname: HashMap<Uuid, &str> = self
            .hospitals
            .iter()
            .map(|h| (h.id, h.name.as_str()))
            .collect();
        let mut v: Vec<Opt> = none
            .map(|n| Opt {
                value: String::new(),
                label: Label {
                    text: n,
                    data: false,
                },
                selected: selected.is_empty(),
            })
            .into_iter()
            .collect();
        v.extend(self.departments.iter().map(|d| {
            let id = d.id.to_string();
            Opt {
                selected: id == selected,
                label: Label::data(&format!(
                    "{} ({})",
                    d.name,
                    hname.get(&d.hospital_id).copied().unwrap_or("")
                )),
                value: id,
            }
        }));
        v
    }

    pub fn hospital_options(&self, selected: &str, none: Option<String>) -> Vec<Opt> {
        let mut v: Vec<Opt> = none
            .map(|n| Opt {
                value: String::new(),
                label: Label {
                    text: n,
                    data: false,
                },
                selected: selected.is_empty(),
            })
            .into_iter()
            .collect();
        v.extend(self.hospitals.iter().map(|h| {
            let id = h.id.to_string();
            Opt {
                selected: id == selected,
                label: Label::data(&h.name),
                value: id,
            }
        }));
        v
    }
}
