//! A PX360 database per test on either engine.

use px360_store::Db;

/// The seeded `admin` account's password in every test database.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests-only";

/// The engine a test runs on.
pub type Kind = px360_store::Backend;

/// A database that exists for one test: a SQLite file in a temporary directory, or a uniquely
/// named PostgreSQL database, dropped on `Drop` (also when the test panics) or by
/// [`TestDb::drop_db`].
pub struct TestDb {
    pub url: String,
    kind: Kind,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// An empty database (not migrated: `Db::connect` migrates).
    pub async fn new(kind: Kind) -> Self {
        match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("px360.db").display());
                TestDb {
                    url,
                    kind,
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
            Kind::Postgres => {
                let (name, url) = crate::pg::create("px360_test").await;
                TestDb {
                    url,
                    kind,
                    pg_name: Some(name),
                    _dir: None,
                }
            }
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Connect and migrate.
    pub async fn connect(&self) -> Db {
        Db::connect(&self.url).await.unwrap()
    }

    /// Connect, migrate and seed the demo organisation (`admin` / [`ADMIN_PASSWORD`]).
    pub async fn seeded(&self) -> Db {
        let db = self.connect().await;
        db.seed_demo(Some(ADMIN_PASSWORD)).await.unwrap();
        db
    }

    /// Drop the database now (after closing its pools), failing the test on error.
    pub async fn drop_db(mut self) {
        if let Some(name) = self.pg_name.take() {
            crate::pg::drop(&name).await;
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            crate::pg::drop_blocking(name);
        }
    }
}
