//! Surveys for the page and editor tests: a published bilingual survey with every question type
//! and both kinds of condition, and invitations with real tokens (only their hash is stored,
//! as the worker stores them).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use super::Ui;
use chrono::{Duration, SecondsFormat, Utc};
use px360_domain::survey::condition::{ShowIf, Test};
use px360_domain::survey::content::SurveyContent;
use px360_domain::survey::key::Key;
use px360_domain::survey::negative::{NegativeCondition, NegativeRule};
use px360_domain::survey::question::{Bilingual, ChoiceOption, Question, QuestionKind, Subject};
use px360_store::surveys::Actor;
use px360_store::surveys::templates::NewSurveyTemplate;
use uuid::Uuid;

fn k(s: &str) -> Key {
    Key::parse(s).unwrap()
}

fn q(key: &str, en: &str, ar: &str, kind: QuestionKind, required: bool) -> Question {
    Question {
        key: k(key),
        text: Bilingual::new(en, ar),
        kind,
        required,
        subject: Subject::None,
        show_if: None,
    }
}

fn opts(v: &[(&str, &str, &str)]) -> Vec<ChoiceOption> {
    v.iter()
        .map(|(key, en, ar)| ChoiceOption {
            key: k(key),
            label: Bilingual::new(*en, *ar),
        })
        .collect()
}

/// Every question type: NPS, a multiple choice shown for NPS ≤ 6, a rating, an HCAHPS
/// frequency item, yes/no, a single choice shown for "yes", free text.
pub fn content() -> SurveyContent {
    let mut why = q(
        "improve",
        "What should we improve?",
        "ما الذي يجب أن نحسّنه؟",
        QuestionKind::MultipleChoice {
            options: opts(&[
                ("wait", "Waiting time", "وقت الانتظار"),
                ("communication", "Communication", "التواصل"),
                ("cleanliness", "Cleanliness", "النظافة"),
            ]),
        },
        true,
    );
    why.show_if = Some(ShowIf {
        key: k("recommend"),
        test: Test::AtMost(6),
    });
    let mut doctor = q(
        "doctor_listened",
        "How often did the doctor listen carefully to you?",
        "كم مرة استمع إليك الطبيب بعناية؟",
        QuestionKind::Frequency,
        true,
    );
    doctor.subject = Subject::Physician;
    let mut er_wait = q(
        "er_wait",
        "How long did you wait to be seen?",
        "كم انتظرت حتى تمت معاينتك؟",
        QuestionKind::SingleChoice {
            options: opts(&[
                ("under_1h", "Less than an hour", "أقل من ساعة"),
                ("1h_4h", "One to four hours", "من ساعة إلى أربع ساعات"),
                ("over_4h", "More than four hours", "أكثر من أربع ساعات"),
            ]),
        },
        true,
    );
    er_wait.show_if = Some(ShowIf {
        key: k("emergency"),
        test: Test::Equals("yes".into()),
    });
    er_wait.subject = Subject::Department;
    SurveyContent::new(
        Bilingual::new(
            "Your visit to Riverside General",
            "زيارتك لمستشفى ريفرسايد العام",
        ),
        vec![
            q(
                "recommend",
                "How likely are you to recommend our hospital to friends and family?",
                "ما مدى احتمال أن توصي بمستشفانا لأصدقائك وعائلتك؟",
                QuestionKind::Nps,
                true,
            ),
            why,
            q(
                "care",
                "How would you rate the care you received?",
                "كيف تقيّم الرعاية التي تلقيتها؟",
                QuestionKind::Rating,
                true,
            ),
            doctor,
            q(
                "emergency",
                "Did you come through the emergency department?",
                "هل أتيت عن طريق قسم الطوارئ؟",
                QuestionKind::YesNo,
                false,
            ),
            er_wait,
            q(
                "comment",
                "Is there anything else you would like to tell us?",
                "هل هناك أي شيء آخر تود إخبارنا به؟",
                QuestionKind::FreeText { max_length: 1000 },
                false,
            ),
        ],
        NegativeRule {
            conditions: vec![NegativeCondition::NpsAtMost(6)],
        },
    )
}

pub struct Published {
    pub template_id: Uuid,
    pub version_id: Uuid,
    pub hospital_id: String,
}

/// The sample survey, created and published for a hospital (by code).
pub async fn publish(ui: &Ui, hospital_code: &str) -> Published {
    let (h, _) = ui.ids(hospital_code, None).await;
    let actor = Actor::system("test");
    let t = ui
        .db
        .create_survey_template(
            &actor,
            &NewSurveyTemplate {
                hospital_id: Some(Uuid::parse_str(&h).unwrap()),
                code: format!("visit-{}", Uuid::new_v4().simple()),
                name: "Visit survey".into(),
                content: content(),
                policy: Default::default(),
            },
        )
        .await
        .unwrap();
    let (_, v) = ui.db.publish_survey_template(&actor, t.id).await.unwrap();
    Published {
        template_id: t.id,
        version_id: v.id,
        hospital_id: h,
    }
}

fn ts(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// An invitation in `lang` that was sent, expiring `expires_in` from now, and a link token for
/// it. Returns the token (what the patient's link carries).
pub async fn invite(ui: &Ui, p: &Published, lang: &str, expires_in: Duration) -> String {
    let id = Uuid::now_v7().to_string();
    let now = Utc::now();
    sqlx::query(
        "INSERT INTO survey_invitations (id, hospital_id, patient_id, journey_instance_id, stage_instance_id, \
         template_id, version_id, decision, reason, channel, language, status, send_at, expires_at, created_at, updated_at) \
         VALUES ($1, $2, NULL, $3, $4, $5, $6, 'send', 'selected', 'email', $7, 'sent', $8, $9, $8, $8)",
    )
    .bind(&id)
    .bind(&p.hospital_id)
    .bind(Uuid::new_v4().to_string())
    .bind(Uuid::new_v4().to_string())
    .bind(p.template_id.to_string())
    .bind(p.version_id.to_string())
    .bind(lang)
    .bind(ts(now))
    .bind(ts(now + expires_in))
    .execute(&ui.db.writer)
    .await
    .unwrap();
    let (token, hash) = px360_store::surveys::mint_token();
    sqlx::query(
        "INSERT INTO survey_tokens (token_hash, invitation_id, created_at) VALUES ($1, $2, $3)",
    )
    .bind(hash)
    .bind(&id)
    .bind(ts(now))
    .execute(&ui.db.writer)
    .await
    .unwrap();
    token
}

/// The stored response of the invitation behind `token`: (answers JSON, partial?).
pub async fn response(ui: &Ui, token: &str) -> Option<(String, bool)> {
    let hash = px360_store::surveys::hash_token(token);
    let row: Option<(String, i64)> = sqlx::query_as(
        "SELECT r.answers, r.is_partial FROM survey_responses r \
         JOIN survey_tokens t ON t.invitation_id = r.invitation_id WHERE t.token_hash = $1",
    )
    .bind(hash)
    .fetch_optional(&ui.db.pool)
    .await
    .unwrap();
    row.map(|(a, p)| (a, p != 0))
}
