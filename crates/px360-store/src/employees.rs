//! Employees: staff records of a department (optionally linked to a user account).

use crate::org::ScopeFilter;
use crate::{Db, Result, StoreError, new_id, now_ts};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Executor};

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Employee {
    pub id: String,
    pub hospital_id: String,
    pub department_id: String,
    pub employee_number: String,
    pub given_name: String,
    pub family_name: String,
    pub job_title: Option<String>,
    pub user_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const EMP_COLS: &str = "id, hospital_id, department_id, employee_number, given_name, family_name, job_title, user_id, created_at, updated_at";

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
) -> Result<Employee> {
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
) -> Result<Employee> {
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
    pub async fn employees(&self, f: &ScopeFilter) -> Result<Vec<Employee>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {EMP_COLS} FROM employees WHERE deleted_at IS NULL AND ($1 IS NULL OR hospital_id = $1) AND ($2 IS NULL OR department_id = $2) ORDER BY family_name, given_name, id"
        )))
        .bind(&f.hospital_id)
        .bind(&f.department_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn employee(&self, id: &str) -> Result<Employee> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {EMP_COLS} FROM employees WHERE id = $1 AND deleted_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }
}
