//! Uniquely named PostgreSQL databases on the local server, for tests.

use sqlx::Connection;

/// Admin connection URL (any existing database of the local server works for CREATE/DROP).
pub fn admin_url() -> String {
    std::env::var("PX360_TEST_PG_ADMIN")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// URL of database `name` on the same server as [`admin_url`].
pub fn url_of(name: &str) -> String {
    let admin = admin_url();
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}

/// Create an empty database named `<prefix>_<random>`; returns (name, url).
pub async fn create(prefix: &str) -> (String, String) {
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let mut c = sqlx::PgConnection::connect(&admin_url())
        .await
        .expect("local PostgreSQL on 127.0.0.1:5432 (see COMMON.md)");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut c)
        .await
        .unwrap();
    let _ = c.close().await;
    let url = url_of(&name);
    (name, url)
}

/// Drop database `name`, ending its sessions.
pub async fn drop(name: &str) {
    let mut c = sqlx::PgConnection::connect(&admin_url()).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut c)
    .await
    .unwrap();
    let _ = c.close().await;
}

/// [`drop`] from synchronous code (a `Drop` impl inside a test's runtime): runs on a thread with
/// a runtime of its own, errors ignored.
pub fn drop_blocking(name: String) {
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            if let Ok(mut c) = sqlx::PgConnection::connect(&admin_url()).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut c)
                .await;
            }
        });
    })
    .join();
}
