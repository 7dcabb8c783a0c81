//! Organisation structure and patients: hospitals, departments, physicians, employees, patients.
//!
//! List functions take a [`ScopeFilter`] derived from the caller's scope, so the database never
//! returns rows from another hospital or department in the first place.

use crate::{Db, Result, StoreError, new_id, now_ts};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Executor};

/// Restricts queries to a hospital and/or department (`None` = no restriction at that level).
#[derive(Debug, Clone, Default)]
pub struct ScopeFilter {
    pub hospital_id: Option<String>,
    pub department_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Hospital {
    pub id: String,
    pub code: String,
    pub name: String,
    pub timezone: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Department {
    pub id: String,
    pub hospital_id: String,
    pub code: String,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Physician {
    pub id: String,
    pub hospital_id: String,
    pub department_id: String,
    pub licence_number: String,
    pub given_name: String,
    pub family_name: String,
    pub specialty: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Patient {
    pub id: String,
    pub hospital_id: String,
    pub department_id: Option<String>,
    pub mrn: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub date_of_birth: Option<String>,
    pub preferred_language: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// JSON array text, e.g. `["sms","email"]`.
    pub contact_channels: String,
    pub created_at: String,
    pub updated_at: String,
}

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
    timezone: &str,
) -> Result<Hospital> {
    let now = now_ts();
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO hospitals (id, code, name, timezone, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING {HOSPITAL_COLS}"
    )))
    .bind(new_id())
    .bind(code)
    .bind(name)
    .bind(timezone)
    .bind(now)
    .fetch_one(ex)
    .await?)
}

pub async fn insert_department<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    hospital_id: &str,
    code: &str,
    name: &str,
) -> Result<Department> {
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
) -> Result<Physician> {
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

fn channels_json(c: &Option<Vec<String>>) -> Result<Option<String>> {
    const ALLOWED: [&str; 5] = ["email", "sms", "whatsapp", "phone", "post"];
    match c {
        None => Ok(None),
        Some(v) => {
            if let Some(bad) = v.iter().find(|c| !ALLOWED.contains(&c.as_str())) {
                return Err(StoreError::Invalid(format!(
                    "contact_channels: unknown channel {bad:?} (allowed: {})",
                    ALLOWED.join(", ")
                )));
            }
            Ok(Some(
                serde_json::to_string(v).map_err(|e| StoreError::Invalid(e.to_string()))?,
            ))
        }
    }
}

pub async fn insert_patient<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    hospital_id: &str,
    mrn: &str,
    f: &PatientFields,
) -> Result<Patient> {
    let now = now_ts();
    let channels = channels_json(&f.contact_channels)?.unwrap_or_else(|| "[]".into());
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
    .bind(f.preferred_language.as_deref().unwrap_or("en"))
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
) -> Result<Patient> {
    let channels = channels_json(&f.contact_channels)?;
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
    .bind(&f.preferred_language)
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
) -> Result<Hospital> {
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
) -> Result<Department> {
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
) -> Result<Physician> {
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
    pub async fn physician(&self, id: &str) -> Result<Physician> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PHYS_COLS} FROM physicians WHERE id = $1 AND deleted_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }

    pub async fn hospitals(&self, only: Option<&str>) -> Result<Vec<Hospital>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {HOSPITAL_COLS} FROM hospitals WHERE deleted_at IS NULL AND ($1 IS NULL OR id = $1) ORDER BY code"
        )))
        .bind(only)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn hospital(&self, id: &str) -> Result<Hospital> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {HOSPITAL_COLS} FROM hospitals WHERE id = $1 AND deleted_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }

    pub async fn departments(&self, f: &ScopeFilter) -> Result<Vec<Department>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DEPT_COLS} FROM departments WHERE deleted_at IS NULL AND ($1 IS NULL OR hospital_id = $1) AND ($2 IS NULL OR id = $2) ORDER BY hospital_id, code"
        )))
        .bind(&f.hospital_id)
        .bind(&f.department_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn department(&self, id: &str) -> Result<Department> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DEPT_COLS} FROM departments WHERE id = $1 AND deleted_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }

    pub async fn physicians(&self, f: &ScopeFilter) -> Result<Vec<Physician>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PHYS_COLS} FROM physicians WHERE deleted_at IS NULL AND ($1 IS NULL OR hospital_id = $1) AND ($2 IS NULL OR department_id = $2) ORDER BY family_name, given_name"
        )))
        .bind(&f.hospital_id)
        .bind(&f.department_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn patients(&self, f: &ScopeFilter, limit: i64, offset: i64) -> Result<Vec<Patient>> {
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

    pub async fn patient(&self, id: &str) -> Result<Patient> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PATIENT_COLS} FROM patients WHERE id = $1 AND deleted_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }
}
