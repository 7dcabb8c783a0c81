//! Social media mentions and reviews: per-hospital listening configuration (handles, keywords,
//! the webhook's shared secret), storing imported or pushed mentions once per (source, id) with
//! their location (the domain's matcher) and sentiment, lists, and the conversion outcome.
//!
//! Posts are public but name people (handles, sometimes patients in the text): the text is
//! stored and returned to authorised readers, never logged and never audited.

use crate::page::{Cursor, Filters, Page};
use crate::sentiment::{self, TextItem, TextKind};
use crate::{Db, Result, StoreError, row, ts};
use chrono::{DateTime, Utc};
use px360_domain::social::matching::{HospitalTerms, Location};
use px360_domain::social::mention::{Mention, Source};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

/// A hospital's listening configuration, as the API shows it (the secret never leaves).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SocialConfig {
    pub hospital_id: Uuid,
    /// Account handles, e.g. `@RiversideGH`.
    pub handles: Vec<String>,
    /// Names and keywords in either language.
    pub keywords: Vec<String>,
    /// Whether a webhook secret is set (the secret itself is shown once, when generated).
    pub webhook_secret_set: bool,
}

fn strings(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

impl Db {
    pub async fn social_config(&self, hospital: Uuid) -> Result<SocialConfig> {
        let r: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT handles, keywords, webhook_secret FROM social_config WHERE hospital_id = $1",
        )
        .bind(hospital.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(match r {
            Some((h, k, s)) => SocialConfig {
                hospital_id: hospital,
                handles: strings(&h),
                keywords: strings(&k),
                webhook_secret_set: s.is_some(),
            },
            None => SocialConfig {
                hospital_id: hospital,
                ..SocialConfig::default()
            },
        })
    }

    /// The webhook secret of a hospital (for verifying a signature only).
    pub async fn social_webhook_secret(&self, hospital: Uuid) -> Result<Option<String>> {
        let s: Option<Option<String>> =
            sqlx::query_scalar("SELECT webhook_secret FROM social_config WHERE hospital_id = $1")
                .bind(hospital.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(s.flatten())
    }

    /// Every hospital's handles and keywords, for the matcher.
    pub async fn social_terms(&self) -> Result<Vec<HospitalTerms>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT s.hospital_id, s.handles, s.keywords FROM social_config s JOIN hospitals h ON h.id = s.hospital_id \
             WHERE h.deleted_at IS NULL ORDER BY s.hospital_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(h, handles, keywords)| {
                Some(HospitalTerms {
                    hospital_id: Uuid::parse_str(&h).ok()?,
                    handles: strings(&handles),
                    keywords: strings(&keywords),
                })
            })
            .collect())
    }
}

/// Store handles and keywords (the caller validated them with the matcher and audits).
pub async fn put_terms(
    c: &mut AnyConnection,
    hospital: Uuid,
    handles: &[String],
    keywords: &[String],
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<()> {
    let j = |v: &[String]| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    sqlx::query(
        "INSERT INTO social_config (hospital_id, handles, keywords, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (hospital_id) DO UPDATE SET handles = excluded.handles, keywords = excluded.keywords, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(hospital.to_string())
    .bind(j(handles))
    .bind(j(keywords))
    .bind(by.to_string())
    .bind(ts(at))
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Replace the webhook secret (the caller generated it and audits, without the value).
pub async fn put_secret(
    c: &mut AnyConnection,
    hospital: Uuid,
    secret: &str,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO social_config (hospital_id, webhook_secret, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (hospital_id) DO UPDATE SET webhook_secret = excluded.webhook_secret, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(hospital.to_string())
    .bind(secret)
    .bind(by.to_string())
    .bind(ts(at))
    .execute(&mut *c)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MentionRow {
    pub id: Uuid,
    /// x | facebook | instagram | google_reviews | tiktok | other
    pub source: String,
    /// The platform's id, or `sha256:…` of the content when it sent none.
    pub external_id: String,
    pub hospital_id: Option<Uuid>,
    /// hospital | ambiguous | unmatched | own_post
    pub location: String,
    /// The hospitals an ambiguous mention names.
    pub candidates: Vec<Uuid>,
    pub author_handle: String,
    pub body: String,
    pub rating: Option<i64>,
    pub link: Option<String>,
    pub posted_at: DateTime<Utc>,
    /// new | complaint | action | dismissed
    pub status: String,
    pub complaint_id: Option<Uuid>,
    pub action_id: Option<Uuid>,
    /// import | webhook
    pub received_via: String,
    pub created_at: DateTime<Utc>,
    /// negative | neutral | positive
    pub sentiment: Option<String>,
    pub score: Option<f64>,
    pub themes: Vec<String>,
}

const COLS: &str = "m.id, m.source, m.external_id, m.hospital_id, m.location, m.candidates, m.author_handle, m.body, m.rating, m.link, m.posted_at, \
    m.status, m.complaint_id, m.action_id, m.received_via, m.created_at, t.sentiment AS t_sentiment, t.score_milli AS t_score, t.themes AS t_themes";
const FROM: &str = "social_mentions m LEFT JOIN text_analyses t ON t.item_kind = 'social_mention' AND t.item_id = m.id";

fn mention_row(r: &sqlx::any::AnyRow) -> sqlx::Result<MentionRow> {
    let candidates: String = r.try_get("candidates")?;
    let themes: Option<String> = r.try_get("t_themes")?;
    let score: Option<i64> = r.try_get("t_score")?;
    Ok(MentionRow {
        id: row::uuid(r, "id")?,
        source: r.try_get("source")?,
        external_id: r.try_get("external_id")?,
        hospital_id: row::opt_uuid(r, "hospital_id")?,
        location: r.try_get("location")?,
        candidates: serde_json::from_str(&candidates).unwrap_or_default(),
        author_handle: r.try_get("author_handle")?,
        body: r.try_get("body")?,
        rating: r.try_get("rating")?,
        link: r.try_get("link")?,
        posted_at: row::time(r, "posted_at")?,
        status: r.try_get("status")?,
        complaint_id: row::opt_uuid(r, "complaint_id")?,
        action_id: row::opt_uuid(r, "action_id")?,
        received_via: r.try_get("received_via")?,
        created_at: row::time(r, "created_at")?,
        sentiment: r.try_get("t_sentiment")?,
        score: score.map(|s| s as f64 / 1000.0),
        themes: themes
            .unwrap_or_default()
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// The de-duplication key: the platform's id, else a hash of what identifies the post.
pub fn external_id(m: &Mention) -> String {
    match &m.external_id {
        Some(id) => id.clone(),
        None => {
            let mut h = Sha256::new();
            for part in [m.author_handle.as_str(), &ts(m.posted_at), m.text.as_str()] {
                h.update(part.as_bytes());
                h.update([0u8]);
            }
            let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
            format!("sha256:{hex}")
        }
    }
}

/// Where a located mention is stored: its hospital (hospital or own post) and location name.
pub fn placement(loc: &Location) -> (Option<Uuid>, &'static str, Vec<Uuid>) {
    match loc {
        Location::Hospital { hospital_id } => (Some(*hospital_id), "hospital", Vec::new()),
        Location::OwnPost { hospital_id } => (Some(*hospital_id), "own_post", Vec::new()),
        Location::Ambiguous { hospital_ids } => (None, "ambiguous", hospital_ids.clone()),
        Location::Unmatched => (None, "unmatched", Vec::new()),
    }
}

/// What storing one mention did.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: Uuid,
    pub hospital_id: Option<Uuid>,
    /// False when (source, id) was already stored: nothing changed.
    pub created: bool,
    pub action_created: bool,
}

/// Store a located mention once per (source, external id), with its sentiment (the hospital's
/// rule applies to located ones). The caller audits the batch.
pub async fn insert(
    c: &mut AnyConnection,
    m: &Mention,
    loc: &Location,
    via: &str,
    by: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<Stored> {
    let ext = external_id(m);
    let (hospital, location, candidates) = placement(loc);
    let id = Uuid::now_v7();
    let n = sqlx::query(
        "INSERT INTO social_mentions (id, source, external_id, hospital_id, location, candidates, author_handle, body, rating, link, posted_at, \
         status, received_via, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'new', $12, $13, $14, $14) \
         ON CONFLICT (source, external_id) DO NOTHING",
    )
    .bind(id.to_string())
    .bind(m.source.as_str())
    .bind(&ext)
    .bind(hospital.map(|h| h.to_string()))
    .bind(location)
    .bind(serde_json::to_string(&candidates).unwrap_or_else(|_| "[]".into()))
    .bind(&m.author_handle)
    .bind(&m.text)
    .bind(m.rating.map(|r| i64::from(r.get())))
    .bind(&m.link)
    .bind(ts(m.posted_at))
    .bind(via)
    .bind(by.map(|u| u.to_string()))
    .bind(ts(at))
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n == 0 {
        let existing: (String, Option<String>) = sqlx::query_as(
            "SELECT id, hospital_id FROM social_mentions WHERE source = $1 AND external_id = $2",
        )
        .bind(m.source.as_str())
        .bind(&ext)
        .fetch_one(&mut *c)
        .await?;
        return Ok(Stored {
            id: Uuid::parse_str(&existing.0).map_err(|_| StoreError::NotFound)?,
            hospital_id: existing.1.and_then(|h| Uuid::parse_str(&h).ok()),
            created: false,
            action_created: false,
        });
    }
    // Our own posts are not patient voice: no rule applies to them (no hospital passed).
    let rule_hospital = hospital.filter(|_| location == "hospital");
    let actor = by.map_or_else(|| via.to_owned(), |u| u.to_string());
    let rec = sentiment::record_text(
        c,
        &TextItem {
            kind: TextKind::SocialMention,
            id,
            hospital_id: rule_hospital,
            department_id: None,
            occurred_at: m.posted_at,
        },
        &m.text,
        &actor,
        at,
    )
    .await?;
    if rule_hospital.is_none() && hospital.is_some() {
        // Keep an own post's analysis under its hospital for the themes analytics.
        sqlx::query(
            "UPDATE text_analyses SET hospital_id = $2 WHERE item_kind = 'social_mention' AND item_id = $1",
        )
        .bind(id.to_string())
        .bind(hospital.map(|h| h.to_string()))
        .execute(&mut *c)
        .await?;
    }
    Ok(Stored {
        id,
        hospital_id: hospital,
        created: true,
        action_created: rec.action_created,
    })
}

/// Record a conversion (or dismissal) once; the first statement is the write.
pub async fn set_status(
    c: &mut AnyConnection,
    id: Uuid,
    status: &str,
    complaint: Option<Uuid>,
    action: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<MentionRow> {
    let n = sqlx::query(
        "UPDATE social_mentions SET status = $2, complaint_id = $3, action_id = $4, updated_at = $5 WHERE id = $1 AND status = 'new'",
    )
    .bind(id.to_string())
    .bind(status)
    .bind(complaint.map(|u| u.to_string()))
    .bind(action.map(|u| u.to_string()))
    .bind(ts(at))
    .execute(&mut *c)
    .await?
    .rows_affected();
    let m = get(c, id).await?;
    if n == 0 && !(m.status == status && m.complaint_id == complaint && m.action_id == action) {
        return Err(StoreError::Conflict(format!(
            "mention already handled ({})",
            m.status
        )));
    }
    Ok(m)
}

/// Place an unlocated (ambiguous or unmatched) mention at `hospital` by hand; the first
/// statement is the write, and only a mention still unlocated is changed (the caller decided
/// with the domain's `social::assign`; a concurrent assignment is a conflict). The text is
/// analysed again under the hospital, so its themes count there and the hospital's sentiment
/// rule applies as to any located mention.
pub async fn assign(
    c: &mut AnyConnection,
    id: Uuid,
    hospital: Uuid,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<(MentionRow, sentiment::Recorded)> {
    let n = sqlx::query(
        "UPDATE social_mentions SET hospital_id = $2, location = 'hospital', updated_at = $3 \
         WHERE id = $1 AND location IN ('ambiguous', 'unmatched')",
    )
    .bind(id.to_string())
    .bind(hospital.to_string())
    .bind(ts(at))
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::Conflict("mention already located".into()));
    }
    let m = get(c, id).await?;
    let rec = sentiment::record_text(
        c,
        &TextItem {
            kind: TextKind::SocialMention,
            id,
            hospital_id: Some(hospital),
            department_id: None,
            occurred_at: m.posted_at,
        },
        &m.body,
        &by.to_string(),
        at,
    )
    .await?;
    Ok((get(c, id).await?, rec))
}

pub async fn get(c: &mut AnyConnection, id: Uuid) -> Result<MentionRow> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM {FROM} WHERE m.id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(mention_row(&r)?)
}

/// The list filters; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct MentionFilter {
    /// `None`: every mention, the unlocated ones included (the group's view).
    pub hospital_id: Option<String>,
    pub source: Option<String>,
    pub status: Option<String>,
    pub location: Option<String>,
    pub sentiment: Option<String>,
}

impl Db {
    pub async fn mention(&self, id: Uuid) -> Result<MentionRow> {
        let mut c = self.pool.acquire().await?;
        get(&mut c, id).await
    }

    /// Newest posts first by `(posted_at, id)`, strictly older than `before`.
    pub async fn mentions(
        &self,
        f: &MentionFilter,
        before: Option<&Cursor>,
        limit: i64,
    ) -> Result<Page<MentionRow>> {
        let mut w = Filters::default();
        w.eq("m.hospital_id", f.hospital_id.as_deref());
        w.eq("m.source", f.source.as_deref());
        w.eq("m.status", f.status.as_deref());
        w.eq("m.location", f.location.as_deref());
        w.eq("t.sentiment", f.sentiment.as_deref());
        w.before("m.posted_at", "m.id", before);
        let sql = format!(
            "SELECT {COLS} FROM {FROM} {} ORDER BY m.posted_at DESC, m.id DESC LIMIT ${}",
            w.sql(),
            w.next_mark()
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in w.binds() {
            q = q.bind(*v);
        }
        let rows = q
            .bind(limit.saturating_add(1))
            .fetch_all(&self.pool)
            .await?;
        let rows = rows
            .iter()
            .map(mention_row)
            .collect::<sqlx::Result<Vec<_>>>()?;
        Ok(Page::from_rows(rows, limit, |m| {
            Cursor::new(&ts(m.posted_at), &m.id.to_string())
        }))
    }
}

/// Source names for filters and forms.
pub fn sources() -> Vec<&'static str> {
    Source::ALL.iter().map(|s| s.as_str()).collect()
}
