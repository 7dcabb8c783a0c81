//! Sentiment and themes of free text, stored with the item, and the per-hospital rule that turns
//! negative text into a PX action.
//!
//! [`record_text`] is the one entry point every writer of free text calls inside its own
//! transaction (complaint intake, survey submission, feedback, social mentions, and the call
//! centre's call notes): it runs `px360_sentiment::analyse` in process (microseconds, nothing
//! downloaded), stores the result in `text_analyses` and one `text_themes` row per theme, and
//! applies the hospital's [`SentimentRule`]. An actionable text raises an action through the
//! action centre's own path ([`crate::action_rules::raise`]: owner by the hospital's creation
//! rules, due date by its SLA clock, owner notified), audited as a system action in the same
//! transaction. The action's origin is the item (`negative_text`, unique per item), so recording
//! the same item again never raises a second action. No text is stored here or logged.

mod backfill;

use crate::action_rules::{self, Raise};
use crate::audit::AuditEntry;
use crate::{Db, Result, StoreError, row, ts};
use chrono::{DateTime, Utc};
use px360_domain::action::origin::{ActionOrigin, Placement};
use px360_domain::sla::{Severity, SlaPolicy};
use px360_sentiment::{Analysis, Rule, Sentiment, Theme};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

/// Which kind of item a free text belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextKind {
    SurveyComment,
    Complaint,
    Feedback,
    SocialMention,
    CallNote,
}

impl TextKind {
    pub const ALL: [TextKind; 5] = [
        TextKind::SurveyComment,
        TextKind::Complaint,
        TextKind::Feedback,
        TextKind::SocialMention,
        TextKind::CallNote,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TextKind::SurveyComment => "survey_comment",
            TextKind::Complaint => "complaint",
            TextKind::Feedback => "feedback",
            TextKind::SocialMention => "social_mention",
            TextKind::CallNote => "call_note",
        }
    }

    pub fn parse(s: &str) -> Option<TextKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The item a text belongs to, and where and when it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextItem {
    pub kind: TextKind,
    pub id: Uuid,
    /// `None` for a social mention not located at one hospital (no rule applies then).
    pub hospital_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub occurred_at: DateTime<Utc>,
}

/// A hospital's rule: negative texts of these kinds at or below `max_score` (and with one of
/// `themes`, when given) raise an action of `severity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"enabled": true, "max_score": -0.4, "themes": [],
    "sources": ["survey_comment", "feedback", "social_mention", "call_note"],
    "severity": "medium", "category_code": null}))]
pub struct SentimentRule {
    pub enabled: bool,
    /// −1 ..= 0: how negative a text must be (its score at or below this).
    pub max_score: f32,
    /// Only texts with one of these themes (empty: any). Theme ids as `px360-sentiment` names
    /// them (`waiting_time`, `staff_attitude`, …).
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub themes: Vec<Theme>,
    /// Kinds of text the rule applies to (empty: all but complaints, which raise actions by
    /// the complaint rules already).
    #[serde(default)]
    pub sources: Vec<TextKind>,
    #[schema(value_type = String, example = "medium")]
    pub severity: Severity,
    /// The action's category (a complaint category code, for the SLA targets and the board);
    /// `null`: derived from the text's first theme.
    #[serde(default)]
    pub category_code: Option<String>,
}

impl Default for SentimentRule {
    /// Off until a hospital turns it on.
    fn default() -> Self {
        SentimentRule {
            enabled: false,
            max_score: -0.4,
            themes: Vec::new(),
            sources: Vec::new(),
            severity: Severity::Medium,
            category_code: None,
        }
    }
}

impl SentimentRule {
    pub fn applies_to(&self, kind: TextKind) -> bool {
        if self.sources.is_empty() {
            kind != TextKind::Complaint
        } else {
            self.sources.contains(&kind)
        }
    }

    /// Is the rule itself usable (the API refuses to store one that is not)?
    pub fn problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        if !(-1.0..=0.0).contains(&self.max_score) || self.max_score.is_nan() {
            out.push(("max_score", "must be between -1 and 0"));
        }
        if let Some(c) = &self.category_code
            && (c.is_empty()
                || c.len() > 40
                || !c
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
        {
            out.push(("category_code", "must be a category code"));
        }
        out
    }

    fn engine_rule(&self) -> Rule {
        Rule::negative_at_most(self.max_score).with_themes(self.themes.iter().copied())
    }
}

/// The complaint category an action about this theme is filed under (the seeded taxonomy).
pub fn category_for(themes: &[Theme]) -> &'static str {
    match themes.first() {
        Some(Theme::WaitingTime | Theme::Appointment) => "waiting_time",
        Some(Theme::Billing) => "billing",
        Some(Theme::Cleanliness | Theme::Food | Theme::ParkingAccess) => "facilities",
        Some(Theme::StaffAttitude | Theme::Communication) => "communication",
        Some(Theme::Medication) => "safety",
        _ => "clinical_care",
    }
}

/// [`category_for`] from stored theme ids (unknown ids are skipped).
pub fn category_for_names(themes: &[String]) -> &'static str {
    let parsed: Vec<Theme> = themes.iter().filter_map(|t| Theme::parse(t)).collect();
    category_for(&parsed)
}

/// What [`record_text`] stored and did.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub analysis: Analysis,
    /// The action the rule raised for this item (now or on an earlier recording).
    pub action_id: Option<Uuid>,
    /// True when this call created that action.
    pub action_created: bool,
}

fn sentiment_str(s: Sentiment) -> &'static str {
    match s {
        Sentiment::Negative => "negative",
        Sentiment::Neutral => "neutral",
        Sentiment::Positive => "positive",
    }
}

fn language_str(a: &Analysis) -> &'static str {
    match a.language {
        px360_sentiment::Language::En => "en",
        px360_sentiment::Language::Ar => "ar",
        px360_sentiment::Language::Mixed => "mixed",
        px360_sentiment::Language::Unknown => "unknown",
    }
}

fn themes_text(themes: &[Theme]) -> String {
    themes
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Analyse `text` and store the result with `item`, then apply the hospital's sentiment rule.
/// Call it inside the transaction that writes the item (after its first write: see the crate's
/// SQLite invariant). `actor` names the caller in the audit record of a raised action (e.g.
/// `call_centre` or a user id). Recording an item again replaces its analysis.
pub async fn record_text(
    c: &mut AnyConnection,
    item: &TextItem,
    text: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Recorded> {
    let a = px360_sentiment::analyse(text);
    let kind = item.kind.as_str();
    let id = item.id.to_string();
    let hospital = item.hospital_id.map(|h| h.to_string());
    let department = item.department_id.map(|d| d.to_string());
    let sentiment = sentiment_str(a.sentiment);
    let occurred = ts(item.occurred_at);
    // The score is in (−1, 1): thousandths keep it an integer on both engines.
    let milli = (f64::from(a.score) * 1000.0).round() as i64;
    sqlx::query(
        "INSERT INTO text_analyses (item_kind, item_id, hospital_id, department_id, language, sentiment, score_milli, themes, occurred_at, analysed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (item_kind, item_id) DO UPDATE SET \
         hospital_id = excluded.hospital_id, department_id = excluded.department_id, language = excluded.language, \
         sentiment = excluded.sentiment, score_milli = excluded.score_milli, themes = excluded.themes, \
         occurred_at = excluded.occurred_at, analysed_at = excluded.analysed_at",
    )
    .bind(kind)
    .bind(&id)
    .bind(&hospital)
    .bind(&department)
    .bind(language_str(&a))
    .bind(sentiment)
    .bind(milli)
    .bind(themes_text(&a.themes))
    .bind(&occurred)
    .bind(ts(now))
    .execute(&mut *c)
    .await?;
    sqlx::query("DELETE FROM text_themes WHERE item_kind = $1 AND item_id = $2")
        .bind(kind)
        .bind(&id)
        .execute(&mut *c)
        .await?;
    for t in &a.themes {
        sqlx::query(
            "INSERT INTO text_themes (item_kind, item_id, theme, hospital_id, department_id, sentiment, occurred_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(kind)
        .bind(&id)
        .bind(t.as_str())
        .bind(&hospital)
        .bind(&department)
        .bind(sentiment)
        .bind(&occurred)
        .execute(&mut *c)
        .await?;
    }
    let mut out = Recorded {
        analysis: a,
        action_id: None,
        action_created: false,
    };
    let Some(h) = item.hospital_id else {
        return Ok(out);
    };
    let Some(rule) = rule_for(c, h).await? else {
        return Ok(out);
    };
    if !rule.enabled
        || !rule.applies_to(item.kind)
        || !px360_sentiment::is_actionable(&out.analysis, &rule.engine_rule())
    {
        return Ok(out);
    }
    let category = rule
        .category_code
        .clone()
        .unwrap_or_else(|| category_for(&out.analysis.themes).to_owned());
    let cal = crate::sla::config::business_calendar(c, h).await?;
    let creation = action_rules::rules_for(c, h).await?;
    let plan = creation.by_hand(
        ActionOrigin::NegativeText {
            item_kind: kind.to_owned(),
            item_id: item.id,
        },
        &category,
        rule.severity,
        Placement {
            hospital_id: Some(h),
            department_id: item.department_id,
        },
        now,
        (&SlaPolicy::demo_default(), &cal),
    );
    // The title names the kind and themes only: the text itself stays with its item.
    let themes = themes_text(&out.analysis.themes);
    let title = if themes.is_empty() {
        format!("Negative {}", kind.replace('_', " "))
    } else {
        format!("Negative {} ({})", kind.replace('_', " "), themes)
    };
    let raised = action_rules::raise(
        c,
        &plan,
        Raise {
            hospital_id: h,
            department_id: item.department_id,
            category_code: &category,
            title,
            description: String::new(),
            created_by: None,
        },
        now,
    )
    .await?;
    let Some(r) = raised else {
        return Ok(out);
    };
    out.action_id = Some(r.action.id);
    out.action_created = r.created;
    sqlx::query("UPDATE text_analyses SET action_id = $3 WHERE item_kind = $1 AND item_id = $2")
        .bind(kind)
        .bind(&id)
        .bind(r.action.id.to_string())
        .execute(&mut *c)
        .await?;
    if r.created {
        crate::audit::append_many(
            c,
            &[AuditEntry {
                actor_type: "system",
                actor_id: Some(actor.to_owned()),
                action: "px_action.create".into(),
                object_type: Some("px_action"),
                object_id: Some(r.action.id.to_string()),
                hospital_id: Some(h.to_string()),
                changes: Some(serde_json::json!({
                    "origin": "negative_text", "item_kind": kind, "item_id": item.id,
                    "score": out.analysis.score, "themes": out.analysis.themes,
                    "owner_id": r.action.owner_id, "severity": r.action.severity.as_str(),
                    "due_at": r.action.due_at.map(ts), "rule": "sentiment",
                })),
                ..AuditEntry::default()
            }],
        )
        .await?;
    }
    Ok(out)
}

/// A hospital's stored rule (`None`: never configured, so no action is raised).
pub async fn rule_for(c: &mut AnyConnection, hospital: Uuid) -> Result<Option<SentimentRule>> {
    let raw: Option<String> =
        sqlx::query_scalar("SELECT rule FROM sentiment_rules WHERE hospital_id = $1")
            .bind(hospital.to_string())
            .fetch_optional(&mut *c)
            .await?;
    // Validated when stored; a row that no longer parses raises nothing rather than failing
    // every intake of the hospital.
    Ok(raw.and_then(|s| serde_json::from_str(&s).ok()))
}

/// Store a hospital's rule (the caller audits in the same transaction).
pub async fn put_rule(
    c: &mut AnyConnection,
    hospital: Uuid,
    rule: &SentimentRule,
    by: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<()> {
    let json = serde_json::to_string(rule).map_err(|e| StoreError::Invalid(e.to_string()))?;
    sqlx::query(
        "INSERT INTO sentiment_rules (hospital_id, rule, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (hospital_id) DO UPDATE SET rule = excluded.rule, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(hospital.to_string())
    .bind(json)
    .bind(by.map(|u| u.to_string()))
    .bind(ts(at))
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The stored analysis of an item, as the API and pages show it (no text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredAnalysis {
    /// en | ar | mixed | unknown
    pub language: String,
    /// negative | neutral | positive
    pub sentiment: String,
    /// −1 ..= 1
    pub score: f64,
    pub themes: Vec<String>,
    pub action_id: Option<Uuid>,
    pub analysed_at: DateTime<Utc>,
}

fn stored_row(r: &sqlx::any::AnyRow) -> sqlx::Result<StoredAnalysis> {
    let themes: String = r.try_get("themes")?;
    let milli: i64 = r.try_get("score_milli")?;
    Ok(StoredAnalysis {
        language: r.try_get("language")?,
        sentiment: r.try_get("sentiment")?,
        score: milli as f64 / 1000.0,
        themes: themes
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        action_id: row::opt_uuid(r, "action_id")?,
        analysed_at: row::time(r, "analysed_at")?,
    })
}

/// One (theme, hour, hospital, sentiment) count of [`Db::theme_counts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeCount {
    pub theme: String,
    pub sentiment: String,
    pub hospital_id: Option<Uuid>,
    /// The UTC hour, `2026-03-01T09`.
    pub hour: String,
    pub count: i64,
}

impl Db {
    pub async fn text_analysis(&self, kind: TextKind, id: Uuid) -> Result<Option<StoredAnalysis>> {
        let r = sqlx::query(
            "SELECT language, sentiment, score_milli, themes, action_id, analysed_at FROM text_analyses WHERE item_kind = $1 AND item_id = $2",
        )
        .bind(kind.as_str())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(r.as_ref().map(stored_row).transpose()?)
    }

    pub async fn sentiment_rule(&self, hospital: Uuid) -> Result<Option<SentimentRule>> {
        let mut c = self.pool.acquire().await?;
        rule_for(&mut c, hospital).await
    }

    /// Theme counts of the texts written in `[from, to)`, by UTC hour (the caller turns hours
    /// into each hospital's local days), of one hospital and department or all. Bounded by
    /// themes × sentiments × hospitals × hours, whatever the number of texts.
    pub async fn theme_counts(
        &self,
        hospital: Option<Uuid>,
        department: Option<Uuid>,
        kinds: &[TextKind],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ThemeCount>> {
        let all = kinds.is_empty();
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let rows = sqlx::query(
            "SELECT theme, sentiment, hospital_id, substr(occurred_at, 1, 13) AS hour, item_kind, COUNT(*) AS n FROM text_themes \
             WHERE occurred_at >= $1 AND occurred_at < $2 AND ($3 IS NULL OR hospital_id = $3) AND ($4 IS NULL OR department_id = $4) \
             GROUP BY theme, sentiment, hospital_id, substr(occurred_at, 1, 13), item_kind",
        )
        .bind(ts(from))
        .bind(ts(to))
        .bind(hospital.map(|h| h.to_string()))
        .bind(department.map(|d| d.to_string()))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let kind: String = r.try_get("item_kind")?;
            if !all && !kinds.contains(&kind.as_str()) {
                continue;
            }
            out.push(ThemeCount {
                theme: r.try_get("theme")?,
                sentiment: r.try_get("sentiment")?,
                hospital_id: row::opt_uuid(r, "hospital_id")?,
                hour: r.try_get("hour")?,
                count: r.try_get("n")?,
            });
        }
        Ok(out)
    }
}

/// The free-text answers of a response's stored answers JSON, one per line; `None` when it has
/// none.
pub fn comment_text(answers_json: &str) -> Option<String> {
    let answers: px360_domain::survey::answer::Answers = serde_json::from_str(answers_json).ok()?;
    answers_text(&answers)
}

pub fn answers_text(answers: &px360_domain::survey::answer::Answers) -> Option<String> {
    let texts: Vec<&str> = answers
        .iter()
        .filter_map(|(_, a)| match a {
            px360_domain::survey::answer::Answer::Text(t) if !t.trim().is_empty() => Some(t.trim()),
            _ => None,
        })
        .collect();
    (!texts.is_empty()).then(|| texts.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_default_off_and_skip_complaints() {
        let r = SentimentRule::default();
        assert!(!r.enabled);
        assert!(r.applies_to(TextKind::Feedback) && !r.applies_to(TextKind::Complaint));
        let only = SentimentRule {
            sources: vec![TextKind::Complaint],
            ..SentimentRule::default()
        };
        assert!(only.applies_to(TextKind::Complaint) && !only.applies_to(TextKind::CallNote));
        let bad = SentimentRule {
            max_score: 0.5,
            category_code: Some("Bad Code".into()),
            ..SentimentRule::default()
        };
        assert_eq!(bad.problems().len(), 2);
        assert_eq!(category_for(&[Theme::Billing]), "billing");
        assert_eq!(category_for(&[]), "clinical_care");
    }

    #[test]
    fn kinds_round_trip() {
        for k in TextKind::ALL {
            assert_eq!(TextKind::parse(k.as_str()), Some(k));
        }
    }
}
