//! Dev-only test kit shared by the PX360 (and Xhuma) integration tests: never a dependency of
//! production code.
//!
//! - [`pg`]: create and drop a uniquely named database on the local PostgreSQL
//!   (`postgres@127.0.0.1:5432`, trust auth; `PX360_TEST_PG_ADMIN` overrides the admin URL).
//! - [`TestDb`]: a database that exists for one test, SQLite in a temporary directory or a
//!   PostgreSQL database dropped on `Drop` (also when the test panics); [`TestDb::seeded`]
//!   migrates and seeds the demo organisation with [`ADMIN_PASSWORD`].
//! - [`pg_server::OwnPostgres`]: a PostgreSQL server of the test's own, which the test may stop.
//! - [`http::Api`]: the JSON request helpers (bearer token, a `User-Agent` the audit records,
//!   login) that the API tests used to repeat per file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod http;
pub mod pg;
pub mod pg_server;

#[cfg(feature = "px360")]
mod db;
#[cfg(feature = "px360")]
pub use db::{ADMIN_PASSWORD, Kind, TestDb};
