//! Synthetic survey data for the scale benchmark (`px360 analytics generate --count N`): for
//! each invitation a completed outpatient journey and stage in a random department of a random
//! hospital, the event that named a random physician of that department, and (for about 70 %)
//! a submitted response to the demo outpatient survey with random answers. Times are spread
//! evenly over the `days` before `end`, oldest first (as real data arrives). Needs the demo seed (surveys, journeys, departments,
//! physicians). Rows go in with multi-row statements, `batch` invitations per transaction.
//! Patient fields stay empty: the generated rows identify no one.

use crate::bulk::{Marks, rows_per_statement};
use crate::{Db, Result, StoreError, ts};
use chrono::{DateTime, Duration, Utc};
use sqlx::Row;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct GenerateSpec {
    pub count: u64,
    pub days: u32,
    pub seed: u64,
    pub end: DateTime<Utc>,
    pub batch: usize,
}

/// SplitMix64: reproducible for a seed, and no dependency for a benchmark fixture.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        v.get(usize::try_from(self.below(v.len() as u64)).unwrap_or(0))
    }
}

struct Place {
    hospital: String,
    department: String,
    api_key: String,
    licences: Vec<String>,
}

const FREQ: [&str; 4] = ["never", "sometimes", "usually", "always"];
const CHANNELS: [&str; 3] = ["sms", "email", "whatsapp"];
const COMMENTS: [&str; 4] = [
    "The nurses were kind.",
    "Waited too long at reception.",
    "شكراً للطبيب على الشرح الواضح",
    "Parking was hard to find.",
];

/// Random answers to the demo survey, skewed positive as real surveys are.
fn answers(rng: &mut Rng) -> String {
    let nps = [10, 10, 9, 9, 9, 8, 8, 7, 6, 5, 3, 0][rng.below(12) as usize % 12];
    let rating = [5, 5, 4, 4, 4, 3, 2, 1][rng.below(8) as usize % 8];
    let freq = FREQ[[3, 3, 3, 2, 2, 1, 0][rng.below(7) as usize % 7]];
    let mut v = serde_json::json!({
        "recommend": {"nps": nps},
        "overall": {"rating": rating},
        "listened": {"frequency": freq},
        "explained": {"yes_no": rng.below(5) != 0},
    });
    if nps <= 6 {
        v["improve"] = serde_json::json!({"choices": ["waiting"]});
    }
    if rng.below(10) == 0 {
        v["comment"] = serde_json::json!({"text": COMMENTS[rng.below(4) as usize % 4]});
    }
    v.to_string()
}

impl Db {
    pub async fn analytics_generate(&self, spec: &GenerateSpec) -> Result<u64> {
        let missing = |w: &str| StoreError::Invalid(format!("generator: {w} (run the demo seed)"));
        let survey = sqlx::query(
            "SELECT t.id AS template_id, v.id AS version_id, v.version AS version, v.content_hash AS content_hash \
             FROM survey_templates t JOIN survey_versions v ON v.template_id = t.id AND v.version = t.published_version \
             WHERE t.code = 'outpatient-experience' AND t.hospital_id IS NULL",
        )
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| missing("no published outpatient survey"))?;
        let template: String = survey.try_get("template_id")?;
        let version_id: String = survey.try_get("version_id")?;
        let version: i64 = survey.try_get("version")?;
        let hash: String = survey.try_get("content_hash")?;
        let stage = sqlx::query(
            "SELECT s.id AS id, s.journey_template_id AS journey, s.completing_event_code AS code FROM stage_templates s \
             WHERE s.survey_template_ref = $1 AND s.deleted_at IS NULL LIMIT 1",
        )
        .bind(&template)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| missing("no stage sends the outpatient survey"))?;
        let (stage_id, journey, event_code): (String, String, String) = (
            stage.try_get("id")?,
            stage.try_get("journey")?,
            stage.try_get("code")?,
        );
        let mut places = Vec::new();
        let depts = sqlx::query(
            "SELECT id, hospital_id FROM departments WHERE deleted_at IS NULL ORDER BY hospital_id, id",
        )
        .fetch_all(&self.pool)
        .await?;
        for d in &depts {
            let (dep, hospital): (String, String) = (d.try_get("id")?, d.try_get("hospital_id")?);
            let licences: Vec<String> = sqlx::query_scalar(
                "SELECT licence_number FROM physicians WHERE department_id = $1 AND deleted_at IS NULL",
            )
            .bind(&dep)
            .fetch_all(&self.pool)
            .await?;
            // A revoked key owns the generated events (inbound_events needs one).
            let prefix = format!("gen{}", &hospital[..8.min(hospital.len())]);
            sqlx::query(
                "INSERT INTO api_keys (id, hospital_id, name, prefix, key_hash, source_systems, created_at, revoked_at) \
                 VALUES ($1, $2, 'analytics generator', $3, '-', '[\"GEN\"]', $4, $4) ON CONFLICT (prefix) DO NOTHING",
            )
            .bind(Uuid::now_v7().to_string())
            .bind(&hospital)
            .bind(&prefix)
            .bind(ts(spec.end))
            .execute(&self.writer)
            .await?;
            let api_key: String = sqlx::query_scalar("SELECT id FROM api_keys WHERE prefix = $1")
                .bind(&prefix)
                .fetch_one(&self.pool)
                .await?;
            places.push(Place {
                hospital,
                department: dep,
                api_key,
                licences,
            });
        }
        if places.is_empty() {
            return Err(missing("no departments"));
        }
        let mut rng = Rng(spec.seed);
        let run = base36(u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0));
        let span = i64::from(spec.days.max(1)) * 86_400;
        let mut done = 0u64;
        while done < spec.count {
            let n = usize::try_from((spec.count - done).min(spec.batch.max(1) as u64)).unwrap_or(1);
            let mut journeys = Vec::with_capacity(n);
            let mut stages = Vec::with_capacity(n);
            let mut events = Vec::with_capacity(n);
            let mut invitations = Vec::with_capacity(n);
            let mut responses = Vec::with_capacity(n);
            // Rows are written now (`updated_at`), whatever their simulated times: the roll-up
            // job finds changes by `updated_at`, as it does for the real writers' rows.
            let written = ts(Utc::now());
            for _ in 0..n {
                let Some(p) = rng.pick(&places) else { break };
                // Oldest first, as a hospital's data arrives: the time-keyed indexes then fill
                // their pages as in production instead of splitting them at random (a third
                // larger), and a day's rows sit together. A few minutes of jitter.
                let k = done + journeys.len() as u64;
                let step = (span as u64).saturating_mul(k) / spec.count.max(1);
                let back = (span as u64)
                    .saturating_sub(step)
                    .saturating_sub(rng.below(300));
                let at = spec.end - Duration::seconds(i64::try_from(back).unwrap_or(0));
                let at_s = ts(at);
                let (ji, si, inv) = (
                    Uuid::now_v7().to_string(),
                    Uuid::now_v7().to_string(),
                    Uuid::now_v7().to_string(),
                );
                // Hospital encounter numbers are short (a prefix and a counter), not UUIDs:
                // the run's start (ms, base 36) keeps runs apart; fixed width keeps them in
                // order.
                let enc = format!("G{run}-{k:09}");
                journeys.push(vec![
                    ji.clone(),
                    p.hospital.clone(),
                    p.department.clone(),
                    journey.clone(),
                    enc.clone(),
                    at_s.clone(),
                ]);
                stages.push(vec![
                    si.clone(),
                    ji.clone(),
                    stage_id.clone(),
                    event_code.clone(),
                    at_s.clone(),
                ]);
                if let Some(lic) = rng.pick(&p.licences) {
                    // Only what the roll-up reads: the physician the event named.
                    let payload = serde_json::json!({"physician_licence": lic}).to_string();
                    events.push(vec![
                        Uuid::now_v7().to_string(),
                        p.hospital.clone(),
                        p.api_key.clone(),
                        event_code.clone(),
                        enc.clone(),
                        payload,
                        at_s.clone(),
                    ]);
                }
                let answered = rng.below(10) < 7;
                let channel = CHANNELS[rng.below(3) as usize % 3].to_owned();
                let lang = if rng.below(3) == 0 { "en" } else { "ar" }.to_owned();
                // Answered 5 min to 10 h later, but never after `end` (now, for the CLI): a
                // response from the future would count in today's tiles before it happened.
                let sub = ts((at
                    + Duration::minutes(5 + i64::try_from(rng.below(600)).unwrap_or(0)))
                .min(spec.end));
                invitations.push(vec![
                    inv.clone(),
                    p.hospital.clone(),
                    ji,
                    si,
                    template.clone(),
                    version_id.clone(),
                    channel,
                    lang.clone(),
                    if answered { "answered" } else { "sent" }.to_owned(),
                    at_s.clone(),
                    written.clone(),
                ]);
                if answered {
                    responses.push((
                        vec![
                            Uuid::now_v7().to_string(),
                            inv,
                            p.hospital.clone(),
                            template.clone(),
                            version_id.clone(),
                        ],
                        hash.clone(),
                        lang,
                        answers(&mut rng),
                        sub,
                    ));
                }
            }
            let mut tx = self.writer.begin().await?;
            let backend = self.backend;
            insert(&mut tx, backend, "journey_instances (id, hospital_id, department_id, journey_template_id, encounter_id, started_at, patient_identifier, status, created_at, updated_at, completed_at)",
                6, ", 'GEN', 'completed', $6, $6, $6", &journeys).await?;
            insert(&mut tx, backend, "stage_instances (id, journey_instance_id, stage_template_id, completing_event_code, completed_at, position, status, created_at, updated_at)",
                5, ", 1, 'completed', $5, $5", &stages).await?;
            insert(&mut tx, backend, "inbound_events (id, hospital_id, api_key_id, event_code, encounter_id, payload, occurred_at, source_system, patient_identifier, received_at, status, processed_at)",
                7, ", 'GEN', 'GEN', $7, 'processed', $7", &events).await?;
            insert(&mut tx, backend, "survey_invitations (id, hospital_id, journey_instance_id, stage_instance_id, template_id, version_id, channel, language, status, created_at, updated_at, decision, reason, send_at)",
                11, ", 'send', 'selected', $10", &invitations).await?;
            let resp: Vec<Vec<String>> = responses
                .into_iter()
                .map(|(mut v, hash, lang, answers, sub)| {
                    v.extend([hash, lang, answers, sub, written.clone()]);
                    v
                })
                .collect();
            // `version` is a number from the database, written as a literal (a text bind would
            // not fit the BIGINT column on PostgreSQL).
            let tail = format!(", {version}, 0, $10, $9, 0");
            insert(&mut tx, backend, "survey_responses (id, invitation_id, hospital_id, template_id, version_id, content_hash, language, answers, started_at, version, is_partial, updated_at, submitted_at, is_negative)",
                9, &tail, &resp).await?;
            tx.commit().await?;
            done += n as u64;
        }
        Ok(done)
    }
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Multi-row insert of `rows` (each `cols` text values) into `table (columns…)`; `tail` adds
/// constants and repeats of a row's own values, written with `$k` for the row's k-th value.
async fn insert(
    tx: &mut crate::Tx,
    backend: crate::Backend,
    table: &str,
    cols: usize,
    tail: &str,
    rows: &[Vec<String>],
) -> Result<()> {
    for chunk in rows.chunks(rows_per_statement(cols + 4)) {
        let mut marks = Marks::new(backend);
        let mut binds: Vec<&str> = Vec::new();
        let mut tuples = Vec::with_capacity(chunk.len());
        for row in chunk {
            // The first `cols` values are columns; any further ones are only referenced by `tail`.
            let mine: Vec<String> = row.iter().take(cols).map(|_| marks.one()).collect();
            let mut t = mine.join(", ");
            binds.extend(row.iter().take(cols).map(String::as_str));
            // Repeats of this row's values (`$k`), replaced left to right: SQLite binds `?` by
            // position, so the binds must follow the text.
            let mut extra = String::new();
            let mut rest = tail;
            while let Some(pos) = rest.find('$') {
                extra.push_str(&rest[..pos]);
                let digits: String = rest[pos + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let k: usize = digits.parse().unwrap_or(0);
                extra.push_str(&marks.one());
                binds.push(
                    k.checked_sub(1)
                        .and_then(|i| row.get(i))
                        .map(String::as_str)
                        .unwrap_or(""),
                );
                rest = &rest[pos + 1 + digits.len()..];
            }
            extra.push_str(rest);
            t.push_str(&extra);
            tuples.push(format!("({t})"));
        }
        let sql = format!("INSERT INTO {table} VALUES {}", tuples.join(", "));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}
