//! The demo surveys of the seed: bilingual, published, group-wide, attached to the final stages
//! of the demo journeys, sent with no delay and no quiet hours so that the quick start shows the
//! whole chain at once (see the README, PX360 "Surveys").

use super::Actor;
use super::templates::NewSurveyTemplate;
use crate::{Db, Result, StoreError};
use px360_domain::survey::condition::{ShowIf, Test};
use px360_domain::survey::content::SurveyContent;
use px360_domain::survey::key::Key;
use px360_domain::survey::negative::{NegativeCondition, NegativeRule};
use px360_domain::survey::question::{Bilingual, ChoiceOption, Frequency, Question, QuestionKind, Subject};
use px360_domain::survey::trigger::{PolicyRaw, TriggerPolicy};

/// (survey code, name, English title, Arabic title, journey template code, stage code)
const DEMO: [(&str, &str, &str, &str, &str, &str); 3] = [
    ("emergency-experience", "Emergency visit experience", "Your emergency visit", "زيارتك لقسم الطوارئ", "EMERGENCY_VISIT", "DEPARTED"),
    ("outpatient-experience", "Outpatient visit experience", "Your outpatient visit", "زيارتك للعيادات الخارجية", "OUTPATIENT_VISIT", "CHECKED_OUT"),
    ("inpatient-experience", "Inpatient stay experience", "Your hospital stay", "إقامتك في المستشفى", "INPATIENT_STAY", "DISCHARGED"),
];

fn key(s: &str) -> Result<Key> {
    Key::parse(s).map_err(|_| StoreError::Invalid(format!("demo survey key {s}")))
}

fn q(k: &str, en: &str, ar: &str, kind: QuestionKind, required: bool, subject: Subject) -> Result<Question> {
    Ok(Question {
        key: key(k)?,
        text: Bilingual::new(en, ar),
        kind,
        required,
        subject,
        show_if: None,
    })
}

fn opt(k: &str, en: &str, ar: &str) -> Result<ChoiceOption> {
    Ok(ChoiceOption {
        key: key(k)?,
        label: Bilingual::new(en, ar),
    })
}

/// A short survey with every question type.
pub fn content(title_en: &str, title_ar: &str) -> Result<SurveyContent> {
    let mut why = q(
        "improve",
        "What should we improve first?",
        "ما الذي ينبغي أن نحسّنه أولًا؟",
        QuestionKind::MultipleChoice {
            options: vec![
                opt("waiting", "Waiting time", "وقت الانتظار")?,
                opt("communication", "Communication", "التواصل")?,
                opt("cleanliness", "Cleanliness", "النظافة")?,
                opt("other", "Something else", "أمر آخر")?,
            ],
        },
        false,
        Subject::Stage,
    )?;
    why.show_if = Some(ShowIf {
        key: key("recommend")?,
        test: Test::AtMost(6),
    });
    Ok(SurveyContent::new(
        Bilingual::new(title_en, title_ar),
        vec![
            q("recommend", "How likely are you to recommend this hospital to friends or family?", "ما مدى احتمال أن توصي بهذا المستشفى لأصدقائك أو عائلتك؟", QuestionKind::Nps, true, Subject::None)?,
            why,
            q("overall", "Overall, how would you rate your care?", "بشكل عام، كيف تقيّم الرعاية التي تلقيتها؟", QuestionKind::Rating, true, Subject::Department)?,
            q("listened", "How often did the doctor listen carefully to you?", "كم مرة استمع إليك الطبيب باهتمام؟", QuestionKind::Frequency, true, Subject::Physician)?,
            q("explained", "Were your medicines and next steps explained to you?", "هل شُرحت لك أدويتك والخطوات التالية؟", QuestionKind::YesNo, false, Subject::Physician)?,
            q(
                "wait",
                "How long did you wait to be seen?",
                "كم انتظرت حتى تمت رؤيتك؟",
                QuestionKind::SingleChoice {
                    options: vec![
                        opt("under_30m", "Less than 30 minutes", "أقل من 30 دقيقة")?,
                        opt("30m_2h", "30 minutes to 2 hours", "من 30 دقيقة إلى ساعتين")?,
                        opt("over_2h", "More than 2 hours", "أكثر من ساعتين")?,
                    ],
                },
                false,
                Subject::Stage,
            )?,
            q("comment", "Is there anything else you would like to tell us?", "هل هناك أي شيء آخر تودّ إخبارنا به؟", QuestionKind::FreeText { max_length: 2000 }, false, Subject::None)?,
        ],
        NegativeRule {
            conditions: vec![
                NegativeCondition::NpsAtMost(6),
                NegativeCondition::AnyRatingAtMost(2),
                NegativeCondition::AnyFrequencyAtMost(Frequency::Sometimes),
            ],
        },
    ))
}

/// Demo policy: no delay and no quiet hours (the quick start runs at any hour); otherwise the
/// defaults (7-day recontact window, 7-day expiry, one reminder after 48 h).
pub fn policy() -> Result<TriggerPolicy> {
    TriggerPolicy::new(PolicyRaw {
        delay_minutes: 0,
        quiet_hours: None,
        ..PolicyRaw::default()
    })
    .map_err(|e| StoreError::Invalid(e.to_string()))
}

impl Db {
    /// Create, publish and attach the demo surveys once per database (guarded by its own
    /// settings row, so databases seeded before surveys existed get them too). Attaches each to
    /// the final stage of its demo journey template when that stage has no survey yet.
    pub async fn seed_demo_surveys(&self) -> Result<bool> {
        let claimed = sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('seed_surveys', 'demo-v1') ON CONFLICT (key) DO NOTHING",
        )
        .execute(&self.writer)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(false);
        }
        let actor = Actor::system("seed");
        for (code, name, en, ar, journey, stage) in DEMO {
            let t = self
                .create_survey_template(
                    &actor,
                    &NewSurveyTemplate {
                        hospital_id: None,
                        code: code.into(),
                        name: name.into(),
                        content: content(en, ar)?,
                        policy: policy()?,
                    },
                )
                .await?;
            self.publish_survey_template(&actor, t.id)
                .await
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            sqlx::query(
                "UPDATE stage_templates SET survey_template_ref = $1 WHERE code = $3 AND deleted_at IS NULL \
                 AND survey_template_ref IS NULL AND journey_template_id IN \
                 (SELECT id FROM journey_templates WHERE code = $2 AND hospital_id IS NULL)",
            )
            .bind(t.id.to_string())
            .bind(journey)
            .bind(stage)
            .execute(&self.writer)
            .await?;
        }
        Ok(true)
    }
}
