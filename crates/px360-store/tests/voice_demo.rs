//! The voice demo seed on both engines: feedback, mentions and their analyses appear once, the
//! demo hospital's sentiment rule is on, and a second run changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use px360_store::Db;
use px360_testkit::{Kind, TestDb};

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

async fn seeds_once(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let db = Db::connect(&tdb.url).await.unwrap();
    db.seed_demo(Some("demo admin password")).await.unwrap();
    assert!(db.seed_demo_voice().await.unwrap());
    assert!(!db.seed_demo_voice().await.unwrap());
    assert_eq!(count(&db, "SELECT COUNT(*) FROM feedback").await, 10);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM social_mentions").await, 7);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM text_analyses WHERE item_kind IN ('feedback', 'social_mention')"
        )
        .await,
        17
    );
    assert!(count(&db, "SELECT COUNT(*) FROM text_themes").await >= 10);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM social_mentions WHERE location = 'ambiguous'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM social_mentions WHERE location = 'own_post'"
        )
        .await,
        1
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM sentiment_rules").await, 1);
    db.pool.close().await;
    tdb.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    seeds_once(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    seeds_once(Kind::Postgres).await;
}
