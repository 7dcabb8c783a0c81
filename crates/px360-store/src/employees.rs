//! Employees: staff records of a department (optionally linked to a user account).

use crate::org::ScopeFilter;
use crate::row;
use crate::{Db, Result, StoreError, new_id, now_ts};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct EmployeeRow {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub department_id: Uuid,
    pub employee_number: String,
    pub given_name: String,
    pub family_name: String,
    pub job_title: Option<String>,
    pub user_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for EmployeeRow {
    fn from_row(r: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row::uuid(r, "id")?,
            hospital_id: row::uuid(r, "hospital_id")?,
            department_id: row::uuid(r, "department_id")?,
            employee_number: r.try_get("employee_number")?,
            given_name: r.try_get("given_name")?,
            family_name: r.try_get("family_name")?,
            job_title: r.try_get("job_title")?,
            user_id: row::opt_uuid(r, "user_id")?,
            created_at: row::time(r, "created_at")?,
            updated_at: row::time(r, "updated_at")?,
        })
    }
}

pub(crate) const EMP_COLS: &str = "id, hospital_id, department_id, employee_number, given_name, family_name, job_title, user_id, created_at, updated_at";

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewEmployee {
    pub department_id: String,
    pub employee_number: String,
    pub given_name: String,
    pub family_name: String,
    pub job_title: Option<String>,
    pub user_id: Option<String>,
}

/// Changes to an employee (`None` keeps the value). A department move stays inside the hospital.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EmployeeChanges {
    pub department_id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub job_title: Option<String>,
    pub user_id: Option<String>,
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    hospital_id: &str,
    e: &NewEmployee,
) -> Result<EmployeeRow> {
    let now = now_ts();
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO employees (id, hospital_id, department_id, employee_number, given_name, family_name, job_title, user_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING {EMP_COLS}"
    )))
    .bind(new_id())
    .bind(hospital_id)
    .bind(&e.department_id)
    .bind(&e.employee_number)
    .bind(&e.given_name)
    .bind(&e.family_name)
    .bind(&e.job_title)
    .bind(&e.user_id)
    .bind(now)
    .fetch_one(ex)
    .await?)
}

pub async fn update<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    c: &EmployeeChanges,
) -> Result<EmployeeRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE employees SET department_id = COALESCE($2, department_id), given_name = COALESCE($3, given_name), \
         family_name = COALESCE($4, family_name), job_title = COALESCE($5, job_title), user_id = COALESCE($6, user_id), updated_at = $7 \
         WHERE id = $1 AND deleted_at IS NULL RETURNING {EMP_COLS}"
    )))
    .bind(id)
    .bind(&c.department_id)
    .bind(&c.given_name)
    .bind(&c.family_name)
    .bind(&c.job_title)
    .bind(&c.user_id)
    .bind(now_ts())
    .fetch_optional(ex)
    .await?
    .ok_or(StoreError::NotFound)
}

impl Db {
    pub async fn employees(&self, f: &ScopeFilter) -> Result<Vec<EmployeeRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {EMP_COLS} FROM employees WHERE deleted_at IS NULL AND ($1 IS NULL OR hospital_id = $1) AND ($2 IS NULL OR department_id = $2) ORDER BY family_name, given_name, id"
        )))
        .bind(&f.hospital_id)
        .bind(&f.department_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn employee(&self, id: &str) -> Result<EmployeeRow> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {EMP_COLS} FROM employees WHERE id = $1 AND deleted_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }
}
