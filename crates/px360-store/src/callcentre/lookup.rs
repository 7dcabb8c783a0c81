//! The agent's patient lookup: by MRN (exact, upper-cased by the domain key) or by phone
//! (E.164, also matching numbers stored in their national form or with spaces, dashes and
//! brackets), inside the caller's scope. The key's value is used only as a bind parameter.

use crate::org::ScopeFilter;
use crate::{Db, Result, row};
use px360_domain::callcentre::lookup::PatientKey;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use uuid::Uuid;

/// Most patients one lookup returns (a shared family phone finds several).
pub const MAX_MATCHES: i64 = 20;

/// A patient as the agent screen shows them to confirm who is on the line.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PatientMatch {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub mrn: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// `en`, `ar`, …: the language the agent reads a phone survey in.
    pub preferred_language: String,
    pub phone: Option<String>,
}

/// Stored phone numbers with their punctuation removed (the same expression on both engines).
const PHONE_DIGITS: &str = "REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(phone, ' ', ''), '-', ''), '(', ''), ')', ''), '.', '')";

impl Db {
    pub async fn lookup_patients(
        &self,
        scope: &ScopeFilter,
        key: &PatientKey,
    ) -> Result<Vec<PatientMatch>> {
        let cols = "id, hospital_id, department_id, mrn, given_name, family_name, preferred_language, phone";
        let (cond, alt) = match key {
            PatientKey::Mrn(_) => ("UPPER(mrn) = $3".to_owned(), None),
            PatientKey::Phone(e164) => {
                // +966501234567 is also stored as 00966501234567 or 0501234567.
                let national = e164
                    .strip_prefix(&format!("+{}", super::DEFAULT_COUNTRY_CODE))
                    .map(|rest| format!("0{rest}"));
                let intl = format!("00{}", e164.trim_start_matches('+'));
                (
                    format!("{PHONE_DIGITS} IN ($3, $4, $5)"),
                    Some((intl, national.unwrap_or_else(|| e164.clone()))),
                )
            }
        };
        let sql = format!(
            "SELECT {cols} FROM patients WHERE deleted_at IS NULL AND ($1 IS NULL OR hospital_id = $1) \
             AND ($2 IS NULL OR department_id = $2) AND {cond} ORDER BY mrn, id LIMIT {MAX_MATCHES}"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.hospital_id.clone())
            .bind(scope.department_id.clone())
            .bind(key.expose().to_owned());
        if let Some((a, b)) = alt {
            q = q.bind(a).bind(b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(PatientMatch {
                    id: row::uuid(r, "id")?,
                    hospital_id: row::uuid(r, "hospital_id")?,
                    department_id: row::opt_uuid(r, "department_id")?,
                    mrn: r.try_get("mrn")?,
                    given_name: r.try_get("given_name")?,
                    family_name: r.try_get("family_name")?,
                    preferred_language: r.try_get("preferred_language")?,
                    phone: r.try_get("phone")?,
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }
}
