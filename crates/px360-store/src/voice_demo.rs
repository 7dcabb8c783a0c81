//! Demo data of the patient-voice apps for the quick start (`px360 serve` on a fresh database):
//! social listening configuration for both demo hospitals, the sentiment rule switched on in the
//! first, feedback in English and Arabic spread over the last four weeks, social mentions
//! (located, ambiguous, our own post), and the analysis of any complaint or survey comment that
//! has none yet. Guarded by its own settings row, so it runs once per database (also one seeded
//! before these apps existed). Not part of `seed_demo`: tests count what they create.

use crate::sentiment::SentimentRule;
use crate::{Db, Result};
use chrono::{Duration, Utc};
use px360_domain::feedback::kind::FeedbackKind;
use px360_domain::feedback::submission::{Contact, Feedback, NamedStaff};
use px360_domain::sla::Severity;
use px360_domain::social::matching::{HospitalTerms, Matcher};
use px360_domain::social::mention::{Mention, Rating, Source};
use px360_domain::survey::question::Lang;
use uuid::Uuid;

/// (hospital code, handles, keywords)
const TERMS: [(&str, &[&str], &[&str]); 2] = [
    (
        "RGH",
        &["@RiversideGH"],
        &["Riverside General", "Riverside hospital", "مستشفى ريفرسايد"],
    ),
    (
        "NPH",
        &["@NorthfieldPark"],
        &["Northfield Park", "مستشفى نورثفيلد"],
    ),
];

/// (days ago, department code, kind, language, text, name a staff member)
type DemoFeedback = (i64, &'static str, FeedbackKind, Lang, &'static str, bool);
const FEEDBACK: [DemoFeedback; 10] = [
    (
        1,
        "CARD",
        FeedbackKind::Compliment,
        Lang::En,
        "Nurse Demo on the cardiology ward was wonderful, so patient and kind with my father.",
        true,
    ),
    (
        2,
        "ED",
        FeedbackKind::Concern,
        Lang::En,
        "Waited five hours in the emergency department and nobody told us what was happening.",
        false,
    ),
    (
        3,
        "ED",
        FeedbackKind::Concern,
        Lang::Ar,
        "الانتظار في الطوارئ طويل وايد والموظفين ما يردون على أسئلتنا",
        false,
    ),
    (
        5,
        "ORTH",
        FeedbackKind::Suggestion,
        Lang::En,
        "Please add more chairs and a water fountain in the orthopaedics waiting area.",
        false,
    ),
    (
        6,
        "CARD",
        FeedbackKind::Compliment,
        Lang::Ar,
        "شكراً للممرضات في قسم القلب، ما قصروا أبداً ويعطيكم العافية",
        true,
    ),
    (
        9,
        "GMED",
        FeedbackKind::Concern,
        Lang::En,
        "The bathroom on the ward was dirty for two days, nobody cleaned it.",
        false,
    ),
    (
        12,
        "ED",
        FeedbackKind::Suggestion,
        Lang::Ar,
        "ياليت توفرون مواقف أكثر للمراجعين، المواقف زحمة دايماً",
        false,
    ),
    (
        16,
        "CARD",
        FeedbackKind::Concern,
        Lang::En,
        "I was charged twice for the same echo scan and billing could not explain why.",
        false,
    ),
    (
        20,
        "ORTH",
        FeedbackKind::Compliment,
        Lang::En,
        "Dr Demo explained the operation clearly and took his time with us. Excellent care.",
        false,
    ),
    (
        25,
        "GMED",
        FeedbackKind::Concern,
        Lang::Ar,
        "الأكل بارد وما له طعم، والغرفة مو نظيفة",
        false,
    ),
];

/// (days ago, source, author, text, rating)
type DemoMention = (i64, Source, &'static str, &'static str, Option<u8>);
const MENTIONS: [DemoMention; 7] = [
    (
        1,
        Source::GoogleReviews,
        "sara_k",
        "Riverside General emergency: five hour wait and the reception staff were rude.",
        Some(1),
    ),
    (
        2,
        Source::X,
        "abu_fahad",
        "شكراً لطاقم مستشفى ريفرسايد، الممرضات ما قصروا 👏",
        None,
    ),
    (
        4,
        Source::X,
        "q_asker",
        "Riverside General or Northfield Park for a knee operation?",
        None,
    ),
    (
        6,
        Source::Instagram,
        "noura.m",
        "مستشفى نورثفيلد المواقف زحمة وايد وفاتني الموعد",
        None,
    ),
    (
        8,
        Source::GoogleReviews,
        "j_smith",
        "Northfield Park maternity team were fantastic, spotless rooms.",
        Some(5),
    ),
    (
        10,
        Source::X,
        "RiversideGH",
        "Visiting hours change from Sunday: 4pm to 9pm.",
        None,
    ),
    (
        15,
        Source::Facebook,
        "m.alharbi",
        "Riverside hospital pharmacy lost my prescription twice. Very disappointing.",
        Some(2),
    ),
];

impl Db {
    /// Seed the voice demo once per database; true when this call did.
    pub async fn seed_demo_voice(&self) -> Result<bool> {
        let claimed = sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('seed_voice', 'demo-v1') ON CONFLICT (key) DO NOTHING",
        )
        .execute(&self.writer)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(false);
        }
        let hospitals: Vec<(String, String)> =
            sqlx::query_as("SELECT id, code FROM hospitals WHERE deleted_at IS NULL")
                .fetch_all(&self.pool)
                .await?;
        let id_of = |code: &str| {
            hospitals
                .iter()
                .find(|(_, c)| c == code)
                .and_then(|(id, _)| Uuid::parse_str(id).ok())
        };
        let now = Utc::now();
        let mut tx = self.writer.begin().await?;
        let mut terms = Vec::new();
        for (code, handles, keywords) in TERMS {
            let Some(h) = id_of(code) else { continue };
            let handles: Vec<String> = handles.iter().map(|s| (*s).to_owned()).collect();
            let keywords: Vec<String> = keywords.iter().map(|s| (*s).to_owned()).collect();
            sqlx::query(
                "INSERT INTO social_config (hospital_id, handles, keywords, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (hospital_id) DO NOTHING",
            )
            .bind(h.to_string())
            .bind(serde_json::to_string(&handles).unwrap_or_default())
            .bind(serde_json::to_string(&keywords).unwrap_or_default())
            .bind(crate::ts(now))
            .execute(&mut *tx)
            .await?;
            terms.push(HospitalTerms {
                hospital_id: h,
                handles,
                keywords,
            });
        }
        if let Some(h) = id_of("RGH") {
            let rule = SentimentRule {
                enabled: true,
                max_score: -0.4,
                severity: Severity::Medium,
                ..SentimentRule::default()
            };
            crate::sentiment::put_rule(&mut tx, h, &rule, None, now).await?;
            let depts: Vec<(String, String)> = sqlx::query_as(
                "SELECT id, code FROM departments WHERE hospital_id = $1 AND deleted_at IS NULL",
            )
            .bind(h.to_string())
            .fetch_all(&mut *tx)
            .await?;
            for (ago, dept, kind, lang, text, named) in FEEDBACK {
                let department = depts
                    .iter()
                    .find(|(_, c)| c == dept)
                    .and_then(|(id, _)| Uuid::parse_str(id).ok());
                let staff = match (named, department) {
                    (true, Some(d)) => {
                        let e: Option<String> = sqlx::query_scalar(
                            "SELECT id FROM employees WHERE department_id = $1 AND deleted_at IS NULL ORDER BY employee_number LIMIT 1",
                        )
                        .bind(d.to_string())
                        .fetch_optional(&mut *tx)
                        .await?;
                        e.and_then(|e| Uuid::parse_str(&e).ok())
                            .map(|id| NamedStaff {
                                id: Some(id),
                                name: None,
                            })
                    }
                    _ => None,
                };
                let f = Feedback {
                    kind,
                    lang,
                    text: text.to_owned(),
                    hospital_id: h,
                    department_id: department,
                    // Reserved demo addresses only.
                    contact: (kind == FeedbackKind::Concern).then(|| Contact {
                        name: Some("Demo Patient".into()),
                        email: Some("demo.patient@example.org".into()),
                        phone: None,
                    }),
                    staff,
                };
                crate::feedback::insert(&mut tx, &f, "qr_form", None, now - Duration::days(ago))
                    .await?;
            }
        }
        let matcher = Matcher::new(&terms).ok();
        for (i, (ago, source, author, text, rating)) in MENTIONS.into_iter().enumerate() {
            let m = Mention {
                source,
                external_id: Some(format!("demo-{i}")),
                author_handle: author.to_owned(),
                text: text.to_owned(),
                rating: rating.and_then(Rating::new),
                link: None,
                posted_at: now - Duration::days(ago),
            };
            let loc = matcher
                .as_ref()
                .map_or(px360_domain::social::matching::Location::Unmatched, |mt| {
                    mt.locate(&m)
                });
            crate::social::insert(&mut tx, &m, &loc, "import", None, now).await?;
        }
        tx.commit().await?;
        // Complaints and survey comments from before: analysed once, here.
        self.sentiment_backfill(5_000).await?;
        Ok(true)
    }
}
