//! Organisation structure and patients: hospitals, departments, physicians, employees, patients.
//!
//! List functions take a [`ScopeFilter`] derived from the caller's scope, so the database never
//! returns rows from another hospital or department in the first place. Rows are typed (ids
//! `Uuid`, times `DateTime<Utc>`, the hospital's zone `Tz`, a patient's language and contact
//! channels as types); the API builds its JSON types from them.

use crate::page::{Cursor, Filters, Page};
use crate::row;
use crate::{Db, Result, StoreError, new_id, now_ts, ts};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, FromRow, Row};
use uuid::Uuid;

/// Restricts queries to a hospital and/or department (`None` = no restriction at that level).
#[derive(Debug, Clone, Default)]
pub struct ScopeFilter {
    pub hospital_id: Option<String>,
    pub department_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct HospitalRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub timezone: Tz,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<'r> FromRow<'r, AnyRow> for HospitalRow {
    fn from_row(r: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row::uuid(r, "id")?,
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            timezone: row::named(r, "timezone", |s| s.parse::<Tz>().ok())?,
            created_at: row::time(r, "created_at")?,
            updated_at: row::time(r, "updated_at")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct DepartmentRow {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub code: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<'r> FromRow<'r, AnyRow> for DepartmentRow {
    fn from_row(r: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row::uuid(r, "id")?,
            hospital_id: row::uuid(r, "hospital_id")?,
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            created_at: row::time(r, "created_at")?,
            updated_at: row::time(r, "updated_at")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct PhysicianRow {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub department_id: Uuid,
    pub licence_number: String,
    pub given_name: String,
    pub family_name: String,
    pub specialty: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<'r> FromRow<'r, AnyRow> for PhysicianRow {
    fn from_row(r: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row::uuid(r, "id")?,
            hospital_id: row::uuid(r, "hospital_id")?,
            department_id: row::uuid(r, "department_id")?,
            licence_number: r.try_get("licence_number")?,
            given_name: r.try_get("given_name")?,
            family_name: r.try_get("family_name")?,
            specialty: r.try_get("specialty")?,
            created_at: row::time(r, "created_at")?,
            updated_at: row::time(r, "updated_at")?,
        })
    }
}

/// A channel a patient may be contacted through (stored by its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
    Whatsapp,
    Phone,
    Post,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Email,
        Channel::Sms,
        Channel::Whatsapp,
        Channel::Phone,
        Channel::Post,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Whatsapp => "whatsapp",
            Channel::Phone => "phone",
            Channel::Post => "post",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A patient's contact channels, in the order given, without repeats. Stored as JSON array
/// text (`["sms","email"]`); a stored value naming an unknown channel is a decode error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactChannels(pub Vec<Channel>);

impl ContactChannels {
    /// Parse request values; the error names the first unknown one.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> std::result::Result<Self, String> {
        let mut out = Vec::new();
        for n in names {
            let c = Channel::parse(n.as_ref()).ok_or_else(|| n.as_ref().to_owned())?;
            if !out.contains(&c) {
                out.push(c);
            }
        }
        Ok(Self(out))
    }

    /// The stored (and, unchanged since before typing, the API's) form: JSON array text.
    pub fn to_json(&self) -> String {
        let names: Vec<&str> = self.0.iter().map(|c| c.as_str()).collect();
        serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
    }

    fn from_json(s: &str) -> Option<Self> {
        let names: Vec<String> = serde_json::from_str(s).ok()?;
        Self::parse(&names).ok()
    }

    pub fn contains(&self, c: Channel) -> bool {
        self.0.contains(&c)
    }
}

/// A patient's preferred language: a lowercase ISO 639 code (2-3 letters), optionally with a
/// region (`en`, `ar`, `cy`, `pt-br`). Validated, not an enum: a hospital serves whichever
/// languages its patients speak, and the store must not refuse a Welsh speaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageCode(String);

impl LanguageCode {
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        let (lang, region) = match s.split_once('-') {
            Some((l, r)) => (l, Some(r)),
            None => (s.as_str(), None),
        };
        let alpha = |x: &str, min: usize, max: usize| {
            (min..=max).contains(&x.len()) && x.chars().all(|c| c.is_ascii_alphanumeric())
        };
        if !(alpha(lang, 2, 3) && lang.chars().all(|c| c.is_ascii_lowercase())) {
            return None;
        }
        if region.is_some_and(|r| !alpha(r, 2, 8)) {
            return None;
        }
        Some(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for LanguageCode {
    fn default() -> Self {
        Self("en".into())
    }
}

#[derive(Debug, Clone)]
pub struct PatientRow {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub mrn: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub date_of_birth: Option<String>,
    pub preferred_language: LanguageCode,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub contact_channels: ContactChannels,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<'r> FromRow<'r, AnyRow> for PatientRow {
    fn from_row(r: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row::uuid(r, "id")?,
            hospital_id: row::uuid(r, "hospital_id")?,
            department_id: row::opt_uuid(r, "department_id")?,
            mrn: r.try_get("mrn")?,
            given_name: r.try_get("given_name")?,
            family_name: r.try_get("family_name")?,
            date_of_birth: r.try_get("date_of_birth")?,
            preferred_language: row::named(r, "preferred_language", LanguageCode::parse)?,
            email: r.try_get("email")?,
            phone: r.try_get("phone")?,
            contact_channels: row::named(r, "contact_channels", ContactChannels::from_json)?,
            created_at: row::time(r, "created_at")?,
            updated_at: row::time(r, "updated_at")?,
        })
    }
}

/// Patient fields as a request gives them (the API's JSON body; the web form builds the same).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PatientFields {
    pub department_id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub date_of_birth: Option<String>,
    pub preferred_language: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub contact_channels: Option<Vec<String>>,
}

const HOSPITAL_COLS: &str = "id, code, name, timezone, created_at, updated_at";
const DEPT_COLS: &str = "id, hospital_id, code, name, created_at, updated_at";
const PHYS_COLS: &str = "id, hospital_id, department_id, licence_number, given_name, family_name, specialty, created_at, updated_at";
const PATIENT_COLS: &str = "id, hospital_id, department_id, mrn, given_name, family_name, date_of_birth, preferred_language, email, phone, contact_channels, created_at, updated_at";

pub async fn insert_hospital<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    code: &str,
    name: &str,
    timezone: Tz,
) -> Result<HospitalRow> {
    let now = now_ts();
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO hospitals (id, code, name, timezone, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING {HOSPITAL_COLS}"
    )))
    .bind(new_id())
    .bind(code)
    .bind(name)
    .bind(timezone.name())
    .bind(now)
    .fetch_one(ex)
    .await?)
}

pub async fn insert_department<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    hospital_id: &str,
    code: &str,
    name: &str,
) -> Result<DepartmentRow> {
    let now = now_ts();
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO departments (id, hospital_id, code, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING {DEPT_COLS}"
    )))
    .bind(new_id())
    .bind(hospital_id)
    .bind(code)
    .bind(name)
    .bind(now)
    .fetch_one(ex)
    .await?)
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewPhysician {
    pub department_id: String,
    pub licence_number: String,
    pub given_name: String,
    pub family_name: String,
    pub specialty: Option<String>,
}

pub async fn insert_physician<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    hospital_id: &str,
    p: &NewPhysician,
) -> Result<PhysicianRow> {
    let now = now_ts();
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO physicians (id, hospital_id, department_id, licence_number, given_name, family_name, specialty, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {PHYS_COLS}"
    )))
    .bind(new_id())
    .bind(hospital_id)
    .bind(&p.department_id)
    .bind(&p.licence_number)
    .bind(&p.given_name)
    .bind(&p.family_name)
    .bind(&p.specialty)
    .bind(now)
    .fetch_one(ex)
    .await?)
}

pub async fn insert_employee<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    hospital_id: &str,
    department_id: &str,
    number: &str,
    given: &str,
    family: &str,
    job_title: &str,
) -> Result<()> {
    let now = now_ts();
    sqlx::query(
        "INSERT INTO employees (id, hospital_id, department_id, employee_number, given_name, family_name, job_title, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(new_id())
    .bind(hospital_id)
    .bind(department_id)
    .bind(number)
    .bind(given)
    .bind(family)
    .bind(job_title)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// Request channels as stored text; unknown names are refused (the API checks them first and
/// names the field; this is the store's own guard).
fn channels_json(c: &Option<Vec<String>>) -> Result<Option<String>> {
    c.as_ref()
        .map(|v| {
            ContactChannels::parse(v)
                .map(|c| c.to_json())
                .map_err(|bad| {
                    StoreError::Invalid(format!("contact_channels: unknown channel {bad:?}"))
                })
        })
        .transpose()
}

fn language(l: &Option<String>) -> Result<Option<LanguageCode>> {
    l.as_deref()
        .map(|s| {
            LanguageCode::parse(s).ok_or_else(|| {
                StoreError::Invalid("preferred_language: not a language code".into())
            })
        })
        .transpose()
}

pub async fn insert_patient<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    hospital_id: &str,
    mrn: &str,
    f: &PatientFields,
) -> Result<PatientRow> {
    let now = now_ts();
    let channels = channels_json(&f.contact_channels)?.unwrap_or_else(|| "[]".into());
    let lang = language(&f.preferred_language)?.unwrap_or_default();
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO patients (id, hospital_id, department_id, mrn, given_name, family_name, date_of_birth, preferred_language, email, phone, contact_channels, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING {PATIENT_COLS}"
    )))
    .bind(new_id())
    .bind(hospital_id)
    .bind(&f.department_id)
    .bind(mrn)
    .bind(&f.given_name)
    .bind(&f.family_name)
    .bind(&f.date_of_birth)
    .bind(lang.as_str().to_owned())
    .bind(&f.email)
    .bind(&f.phone)
    .bind(channels)
    .bind(now)
    .fetch_one(ex)
    .await?)
}

/// Partial update: `None` fields keep their value.
pub async fn update_patient<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    f: &PatientFields,
) -> Result<PatientRow> {
    let channels = channels_json(&f.contact_channels)?;
    let lang = language(&f.preferred_language)?.map(|l| l.as_str().to_owned());
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE patients SET department_id = COALESCE($2, department_id), given_name = COALESCE($3, given_name), \
         family_name = COALESCE($4, family_name), date_of_birth = COALESCE($5, date_of_birth), \
         preferred_language = COALESCE($6, preferred_language), email = COALESCE($7, email), phone = COALESCE($8, phone), \
         contact_channels = COALESCE($9, contact_channels), updated_at = $10 \
         WHERE id = $1 AND deleted_at IS NULL RETURNING {PATIENT_COLS}"
    )))
    .bind(id)
    .bind(&f.department_id)
    .bind(&f.given_name)
    .bind(&f.family_name)
    .bind(&f.date_of_birth)
    .bind(lang)
    .bind(&f.email)
    .bind(&f.phone)
    .bind(channels)
    .bind(now_ts())
    .fetch_optional(ex)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Soft delete (table name is a compile-time constant chosen by the caller).
pub async fn soft_delete<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    table: SoftDeletable,
    id: &str,
) -> Result<()> {
    let now = now_ts();
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {} SET deleted_at = $2, updated_at = $2 WHERE id = $1 AND deleted_at IS NULL",
        table.name()
    )))
    .bind(id)
    .bind(now)
    .execute(ex)
    .await?;
    if r.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
pub enum SoftDeletable {
    Hospital,
    Patient,
    Physician,
    Department,
    Employee,
    User,
}

impl SoftDeletable {
    fn name(self) -> &'static str {
        match self {
            SoftDeletable::Hospital => "hospitals",
            SoftDeletable::Patient => "patients",
            SoftDeletable::Employee => "employees",
            SoftDeletable::Physician => "physicians",
            SoftDeletable::Department => "departments",
            SoftDeletable::User => "users",
        }
    }
}

/// Changes to a hospital (`None` keeps the value).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HospitalChanges {
    pub name: Option<String>,
    pub timezone: Option<String>,
}

pub async fn update_hospital<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    c: &HospitalChanges,
) -> Result<HospitalRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE hospitals SET name = COALESCE($2, name), timezone = COALESCE($3, timezone), updated_at = $4 \
         WHERE id = $1 AND deleted_at IS NULL RETURNING {HOSPITAL_COLS}"
    )))
    .bind(id)
    .bind(&c.name)
    .bind(&c.timezone)
    .bind(now_ts())
    .fetch_optional(ex)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Changes to a department (`None` keeps the value; the code is its stable external key).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DepartmentChanges {
    pub name: Option<String>,
}

pub async fn update_department<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    c: &DepartmentChanges,
) -> Result<DepartmentRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE departments SET name = COALESCE($2, name), updated_at = $3 \
         WHERE id = $1 AND deleted_at IS NULL RETURNING {DEPT_COLS}"
    )))
    .bind(id)
    .bind(&c.name)
    .bind(now_ts())
    .fetch_optional(ex)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Changes to a physician (`None` keeps the value). A department move stays inside the hospital.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PhysicianChanges {
    pub department_id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub specialty: Option<String>,
}

pub async fn update_physician<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    c: &PhysicianChanges,
) -> Result<PhysicianRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE physicians SET department_id = COALESCE($2, department_id), given_name = COALESCE($3, given_name), \
         family_name = COALESCE($4, family_name), specialty = COALESCE($5, specialty), updated_at = $6 \
         WHERE id = $1 AND deleted_at IS NULL RETURNING {PHYS_COLS}"
    )))
    .bind(id)
    .bind(&c.department_id)
    .bind(&c.given_name)
    .bind(&c.family_name)
    .bind(&c.specialty)
    .bind(now_ts())
    .fetch_optional(ex)
    .await?
    .ok_or(StoreError::NotFound)
}

impl Db {
    pub async fn physician(&self, id: &str) -> Result<PhysicianRow> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PHYS_COLS} FROM physicians WHERE id = $1 AND deleted_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }

    pub async fn hospitals(&self, only: Option<&str>) -> Result<Vec<HospitalRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {HOSPITAL_COLS} FROM hospitals WHERE deleted_at IS NULL AND ($1 IS NULL OR id = $1) ORDER BY code"
        )))
        .bind(only)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn hospital(&self, id: &str) -> Result<HospitalRow> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {HOSPITAL_COLS} FROM hospitals WHERE id = $1 AND deleted_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }

    pub async fn departments(&self, f: &ScopeFilter) -> Result<Vec<DepartmentRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DEPT_COLS} FROM departments WHERE deleted_at IS NULL AND ($1 IS NULL OR hospital_id = $1) AND ($2 IS NULL OR id = $2) ORDER BY hospital_id, code"
        )))
        .bind(&f.hospital_id)
        .bind(&f.department_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn department(&self, id: &str) -> Result<DepartmentRow> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DEPT_COLS} FROM departments WHERE id = $1 AND deleted_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }

    pub async fn physicians(&self, f: &ScopeFilter) -> Result<Vec<PhysicianRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PHYS_COLS} FROM physicians WHERE deleted_at IS NULL AND ($1 IS NULL OR hospital_id = $1) AND ($2 IS NULL OR department_id = $2) ORDER BY family_name, given_name"
        )))
        .bind(&f.hospital_id)
        .bind(&f.department_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn patients(
        &self,
        f: &ScopeFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<PatientRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PATIENT_COLS} FROM patients WHERE deleted_at IS NULL AND ($1 IS NULL OR hospital_id = $1) AND ($2 IS NULL OR department_id = $2) ORDER BY id LIMIT $3 OFFSET $4"
        )))
        .bind(&f.hospital_id)
        .bind(&f.department_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn patient(&self, id: &str) -> Result<PatientRow> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PATIENT_COLS} FROM patients WHERE id = $1 AND deleted_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }
}

/// The administrable lists: which table, its columns, how scope and search apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgList {
    Hospitals,
    Departments,
    Physicians,
    Employees,
    Patients,
    Users,
}

impl OrgList {
    fn table(self) -> &'static str {
        match self {
            OrgList::Hospitals => "hospitals",
            OrgList::Departments => "departments",
            OrgList::Physicians => "physicians",
            OrgList::Employees => "employees",
            OrgList::Patients => "patients",
            OrgList::Users => "users",
        }
    }

    fn cols(self) -> &'static str {
        match self {
            OrgList::Hospitals => HOSPITAL_COLS,
            OrgList::Departments => DEPT_COLS,
            OrgList::Physicians => PHYS_COLS,
            OrgList::Employees => crate::employees::EMP_COLS,
            OrgList::Patients => PATIENT_COLS,
            OrgList::Users => crate::auth::USER_COLS,
        }
    }

    /// Columns that hold the object's hospital and department (for the scope filter).
    fn scope_cols(self) -> (&'static str, Option<&'static str>) {
        match self {
            OrgList::Hospitals => ("id", None),
            OrgList::Departments => ("hospital_id", Some("id")),
            _ => ("hospital_id", Some("department_id")),
        }
    }

    fn search_cols(self) -> &'static [&'static str] {
        match self {
            OrgList::Hospitals | OrgList::Departments => &["code", "name"],
            OrgList::Physicians => &["licence_number", "given_name", "family_name"],
            OrgList::Employees => &["employee_number", "given_name", "family_name"],
            OrgList::Patients => &["mrn", "given_name", "family_name"],
            OrgList::Users => &["username", "display_name"],
        }
    }
}

/// A row of an [`OrgList`]: where it sits in the newest-first order.
pub trait Listed: for<'r> FromRow<'r, AnyRow> + Send + Unpin {
    const LIST: OrgList;
    fn position(&self) -> Cursor;
}

macro_rules! listed {
    ($t:ty, $l:expr) => {
        impl Listed for $t {
            const LIST: OrgList = $l;
            fn position(&self) -> Cursor {
                Cursor::new(&ts(self.created_at), &self.id.to_string())
            }
        }
    };
}
listed!(HospitalRow, OrgList::Hospitals);
listed!(DepartmentRow, OrgList::Departments);
listed!(PhysicianRow, OrgList::Physicians);
listed!(PatientRow, OrgList::Patients);
listed!(crate::employees::EmployeeRow, OrgList::Employees);
listed!(crate::auth::UserRow, OrgList::Users);

/// A page request of an organisation list (the UI's lists; the API's keep their shape).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Free text matched case-insensitively against codes, numbers and names.
    pub search: Option<String>,
    pub before: Option<Cursor>,
    pub limit: i64,
}

impl Db {
    /// One page of live rows in scope, newest first (created_at, then id), filtered by search.
    pub async fn org_page<T: Listed>(&self, scope: &ScopeFilter, q: &ListQuery) -> Result<Page<T>> {
        let l = T::LIST;
        let pattern = q.search.as_deref().and_then(crate::page::like_pattern);
        let mut f = Filters::default();
        f.raw("deleted_at IS NULL");
        let (hcol, dcol) = l.scope_cols();
        f.eq(hcol, scope.hospital_id.as_deref());
        if let Some(dcol) = dcol {
            f.eq(dcol, scope.department_id.as_deref());
        }
        f.like(l.search_cols(), pattern.as_deref());
        f.before("created_at", "id", q.before.as_ref());
        let limit = q.limit.clamp(1, 500);
        let sql = format!(
            "SELECT {} FROM {} {} ORDER BY created_at DESC, id DESC LIMIT ${}",
            l.cols(),
            l.table(),
            f.sql(),
            f.next_mark()
        );
        let mut query = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql));
        for b in f.binds() {
            query = query.bind(*b);
        }
        let rows = query.bind(limit + 1).fetch_all(&self.pool).await?;
        Ok(Page::from_rows(rows, limit, T::position))
    }
}
