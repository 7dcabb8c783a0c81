//! Read lookups for the operator UI (counts, name and zone lookups, sign-in by email): small
//! read queries with no row type of their own. Every scoped query is restricted by the caller's
//! scope in SQL.

use crate::org::ScopeFilter;
use crate::{Db, Result};
use std::collections::HashMap;

impl Db {
    /// Journey instances per status inside a hospital/department scope.
    pub async fn journey_counts(&self, f: &ScopeFilter) -> Result<HashMap<String, i64>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, COUNT(*) FROM journey_instances WHERE ($1 IS NULL OR hospital_id = $1) AND ($2 IS NULL OR department_id = $2) GROUP BY status",
        )
        .bind(&f.hospital_id)
        .bind(&f.department_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Journey template names by code (names only: no patient data, no scope needed).
    pub async fn template_names(&self) -> Result<HashMap<String, String>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT code, name FROM journey_templates")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().collect())
    }

    /// Hospital and department names by id, for labelling rows already filtered by scope.
    pub async fn org_names(&self) -> Result<HashMap<String, String>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, name FROM hospitals UNION ALL SELECT id, name FROM departments",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Hospital time zones by id (deleted hospitals included: their events and journeys stay
    /// readable), for showing times in the hospital's zone.
    pub async fn hospital_zones(&self) -> Result<HashMap<String, String>> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, timezone FROM hospitals")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// The username of the one live account with this email (case-insensitive), so people can sign
    /// in with either. Ambiguous emails resolve to nothing.
    pub async fn username_for_email(&self, email: &str) -> Result<Option<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT username FROM users WHERE LOWER(email) = LOWER($1) AND deleted_at IS NULL LIMIT 2",
        )
        .bind(email)
        .fetch_all(&self.pool)
        .await?;
        Ok(match rows.as_slice() {
            [(u,)] => Some(u.clone()),
            _ => None,
        })
    }
}
