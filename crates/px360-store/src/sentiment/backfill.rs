//! Analysis of text written before the sentiment store existed (migration 0015) or by a path
//! that bypassed [`super::record_text`]: complaints and submitted survey responses without a
//! `text_analyses` row, a bounded batch per call (the quick-start seed runs it).

use super::{TextItem, TextKind, comment_text, record_text};
use crate::{Db, Result, row, ts};
use chrono::Utc;
use uuid::Uuid;

impl Db {
    /// Analyse the complaints and submitted survey responses that have no analysis yet (data
    /// from before this feature, or written by a path that bypassed [`record_text`]); at most
    /// `limit` items per kind per call. Returns how many were analysed.
    pub async fn sentiment_backfill(&self, limit: i64) -> Result<usize> {
        let mut done = 0;
        let complaints: Vec<(String, String, Option<String>, String, String, String)> =
            sqlx::query_as(
                "SELECT c.id, c.hospital_id, c.department_id, c.subject, c.description, c.created_at FROM complaints c \
                 WHERE NOT EXISTS (SELECT 1 FROM text_analyses t WHERE t.item_kind = 'complaint' AND t.item_id = c.id) \
                 ORDER BY c.created_at LIMIT $1",
            )
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let responses: Vec<(String, String, Option<String>, String, String)> = sqlx::query_as(
            "SELECT r.id, r.hospital_id, COALESCE(ji.department_id, i.department_id), r.answers, r.submitted_at FROM survey_responses r \
             JOIN survey_invitations i ON i.id = r.invitation_id LEFT JOIN journey_instances ji ON ji.id = i.journey_instance_id \
             WHERE r.is_partial = 0 AND r.submitted_at IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM text_analyses t WHERE t.item_kind = 'survey_comment' AND t.item_id = r.id) \
             ORDER BY r.submitted_at LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let now = Utc::now();
        let mut tx = self.writer.begin().await?;
        let parse = |s: &str| Uuid::parse_str(s).ok();
        for (id, h, d, subject, description, at) in complaints {
            let (Some(id), Some(at)) = (parse(&id), row::parse_time(&at)) else {
                continue;
            };
            let item = TextItem {
                kind: TextKind::Complaint,
                id,
                hospital_id: parse(&h),
                department_id: d.as_deref().and_then(parse),
                occurred_at: at,
            };
            record_text(
                &mut tx,
                &item,
                &format!("{subject}\n{description}"),
                "backfill",
                now,
            )
            .await?;
            done += 1;
        }
        for (id, h, d, answers, at) in responses {
            let (Some(id), Some(at)) = (parse(&id), row::parse_time(&at)) else {
                continue;
            };
            let Some(text) = comment_text(&answers) else {
                // Nothing to analyse: mark it, so it is not read again.
                sqlx::query(
                    "INSERT INTO text_analyses (item_kind, item_id, hospital_id, department_id, language, sentiment, score_milli, themes, occurred_at, analysed_at) \
                     VALUES ('survey_comment', $1, $2, $3, 'unknown', 'neutral', 0, '', $4, $5) ON CONFLICT (item_kind, item_id) DO NOTHING",
                )
                .bind(id.to_string())
                .bind(&h)
                .bind(&d)
                .bind(ts(at))
                .bind(ts(now))
                .execute(&mut *tx)
                .await?;
                continue;
            };
            let item = TextItem {
                kind: TextKind::SurveyComment,
                id,
                hospital_id: parse(&h),
                department_id: d.as_deref().and_then(parse),
                occurred_at: at,
            };
            record_text(&mut tx, &item, &text, "backfill", now).await?;
            done += 1;
        }
        tx.commit().await?;
        Ok(done)
    }
}
