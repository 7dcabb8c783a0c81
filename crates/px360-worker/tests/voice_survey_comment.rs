//! Survey comments through the real path into the sentiment store (issue 18), on SQLite and on
//! PostgreSQL: integration events complete the demo emergency journey → the survey worker
//! decides and delivers the invitation (to the local outbox: no provider configured) → the
//! patient submits through the link's token → the free-text answer is analysed in the
//! submission's transaction (`text_analyses`, `text_themes`) and, being negative, raises the
//! hospital sentiment rule's action once; a positive comment is stored and raises nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use px360_domain::sla::Severity;
use px360_domain::survey::response::Submission;
use px360_store::Backend;
use px360_store::sentiment::{SentimentRule, TextKind, put_rule};
use px360_worker::surveys::{SurveyConfig, SurveyWorker};
use uuid::Uuid;

/// The link the patient received (the local outbox keeps the message; its recipient is masked).
async fn token_of(db: &px360_store::Db, mrn: &str) -> String {
    let link: String = sqlx::query_scalar(
        "SELECT l.link FROM survey_local_outbox l JOIN survey_outbox o ON o.id = l.outbox_id \
         JOIN survey_invitations i ON i.id = o.invitation_id JOIN patients p ON p.id = i.patient_id WHERE p.mrn = $1",
    )
    .bind(mrn)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    token_in(&link)
}

async fn rule_actions(db: &px360_store::Db, response: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM px_actions WHERE origin_kind = 'negative_text' AND origin_id = $1",
    )
    .bind(response.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

async fn comments(kind: Backend) {
    let (tdb, db, caller) = setting_up(kind).await;
    let hospital = Uuid::parse_str(&caller.hospital_id).unwrap();
    // The hospital's sentiment rule on survey comments.
    let rule = SentimentRule {
        enabled: true,
        max_score: -0.3,
        sources: vec![TextKind::SurveyComment],
        severity: Severity::Medium,
        ..SentimentRule::default()
    };
    let mut c = db.writer.acquire().await.unwrap();
    put_rule(&mut c, hospital, &rule, None, chrono::Utc::now())
        .await
        .unwrap();
    drop(c);
    // Someone to own the rule's actions: the hospital's PX coordinator.
    px360_store::auth::insert_user(
        &db.writer,
        &px360_store::auth::NewUser {
            username: "coord".into(),
            display_name: "Coordinator".into(),
            email: None,
            role: px360_domain::rbac::Role::PxCoordinator,
            hospital_id: Some(hospital),
            department_id: None,
        },
        "not-a-login",
    )
    .await
    .unwrap();
    set_contacts(&db, "RGH-ED-0001", r#"["sms"]"#).await;
    set_contacts(&db, "RGH-ED-0002", r#"["sms"]"#).await;
    emergency_visit(&db, &caller, "enc-c1", "RGH-ED-0001").await;
    emergency_visit(&db, &caller, "enc-c2", "RGH-ED-0002").await;
    let w = SurveyWorker::new(
        db.clone(),
        "w-voice",
        SurveyConfig {
            public_base_url: "https://px.example.org".into(),
            ..SurveyConfig::default()
        },
    )
    .unwrap();
    drain(&w).await;

    // A positive English comment: analysed, no action.
    let happy = db
        .survey_submit(
            &token_of(&db, "RGH-ED-0001").await,
            &Submission::from_pairs([
                ("recommend", "10"),
                ("overall", "5"),
                ("listened", "always"),
                (
                    "comment",
                    "Thank you, the nurses were kind and the doctor explained everything.",
                ),
            ])
            .unwrap(),
        )
        .await
        .unwrap();
    let a = db
        .text_analysis(TextKind::SurveyComment, happy.response_id)
        .await
        .unwrap()
        .expect("analysed in the submission");
    assert_eq!(
        (a.sentiment.as_str(), a.language.as_str()),
        ("positive", "en")
    );
    assert_eq!(a.action_id, None);
    assert_eq!(rule_actions(&db, happy.response_id).await, 0);

    // A negative Gulf Arabic comment: analysed with its themes, and the rule's action raised.
    let unhappy = db
        .survey_submit(
            &token_of(&db, "RGH-ED-0002").await,
            &Submission::from_pairs([
                ("recommend", "2"),
                ("overall", "1"),
                ("listened", "never"),
                (
                    "comment",
                    "الانتظار طويل وايد والموظفين ما يردون علينا، تجربة سيئة",
                ),
            ])
            .unwrap(),
        )
        .await
        .unwrap();
    let a = db
        .text_analysis(TextKind::SurveyComment, unhappy.response_id)
        .await
        .unwrap()
        .expect("analysed in the submission");
    assert_eq!(
        (a.sentiment.as_str(), a.language.as_str()),
        ("negative", "ar")
    );
    assert!(a.themes.iter().any(|t| t == "waiting_time"), "{a:?}");
    assert!(a.action_id.is_some());
    assert_eq!(rule_actions(&db, unhappy.response_id).await, 1);
    let themes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM text_themes WHERE item_kind = 'survey_comment' AND item_id = $1 AND theme = 'waiting_time'",
    )
    .bind(unhappy.response_id.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(themes, 1);
    // The backfill finds nothing left to do for these responses: once per item.
    db.sentiment_backfill(100).await.unwrap();
    assert_eq!(rule_actions(&db, unhappy.response_id).await, 1);

    db.pool.close().await;
    db.writer.close().await;
    tdb.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_on_sqlite() {
    comments(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_on_postgres() {
    comments(Backend::Postgres).await;
}
