//! The notifier: emails pending notifications (escalations, new actions) to their recipients in
//! each recipient's language, through the same delivery path as surveys (the configured SMTP
//! adapter, else the local outbox), with the surveys' retry policy. Claims are leased, so it runs
//! in every worker process at once (see `px360_store::notify_email`).
//!
//! The message names the item (complaint reference or action title), the escalation level or the
//! due moment, and links to the staff page; nothing about the patient.

use chrono::Utc;
use px360_delivery::{DeliveryConfig, EmailAddress, EmailContent, OutboundMessage, Providers};
use px360_store::Db;
use px360_store::notify_email::EmailJob;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// Base of the staff links, e.g. `https://px.example.org`.
    pub public_base_url: String,
    pub poll: Duration,
    /// A claimed notification not recorded within this is claimed again.
    pub lease: Duration,
    pub batch: i64,
    pub delivery: DeliveryConfig,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            public_base_url: "http://localhost:8080".into(),
            poll: Duration::from_millis(500),
            lease: Duration::from_secs(60),
            batch: 50,
            delivery: DeliveryConfig::default(),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotifyRound {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub skipped: usize,
}

pub struct Notifier {
    db: Db,
    cfg: NotifyConfig,
    providers: Providers,
}

impl Notifier {
    pub fn new(db: Db, cfg: NotifyConfig) -> Result<Self, px360_delivery::ConfigError> {
        let providers = Providers::from_config(&cfg.delivery)?;
        Ok(Self { db, cfg, providers })
    }

    pub async fn round(&self) -> px360_store::Result<NotifyRound> {
        let jobs = self
            .db
            .notification_email_claim(Utc::now(), self.cfg.lease, self.cfg.batch)
            .await?;
        let mut r = NotifyRound::default();
        for job in &jobs {
            self.send(job, &mut r).await?;
        }
        Ok(r)
    }

    async fn send(&self, job: &EmailJob, r: &mut NotifyRound) -> px360_store::Result<()> {
        let text = Texts::new(job, &self.cfg.public_base_url);
        let Some(address) = job.email.as_deref() else {
            self.db
                .notification_email_finished(job, "skipped", "no_address")
                .await?;
            r.skipped += 1;
            return Ok(());
        };
        let Some(provider) = self.providers.email.as_deref() else {
            if self
                .db
                .notification_email_local(job, &text.subject, &text.plain, Utc::now())
                .await?
            {
                r.sent += 1;
                metrics::counter!("px360_notification_emails_total", "provider" => "local", "outcome" => "sent").increment(1);
            }
            return Ok(());
        };
        let Ok(to) = EmailAddress::parse(address) else {
            self.db
                .notification_email_finished(job, "failed", "invalid_address")
                .await?;
            r.failed += 1;
            return Ok(());
        };
        let lang = if job.language == "ar" {
            px360_delivery::Language::Ar
        } else {
            px360_delivery::Language::En
        };
        let msg = OutboundMessage::email(
            job.id,
            lang,
            to,
            EmailContent {
                subject: text.subject,
                html: text.html,
                text: text.plain,
            },
        );
        match provider.send(&msg).await {
            Ok(receipt) => {
                self.db
                    .notification_email_sent(
                        job,
                        provider.name(),
                        &receipt.provider_message_id,
                        Utc::now(),
                    )
                    .await?;
                r.sent += 1;
                metrics::counter!("px360_notification_emails_total", "provider" => provider.name(), "outcome" => "sent").increment(1);
            }
            Err(e) => {
                // The error kind only: provider texts may echo parts of the request.
                tracing::warn!(notification_id = %job.id, kind = e.kind(), attempts = job.attempts, "notify.send_failed");
                let attempts = u32::try_from(job.attempts).unwrap_or(u32::MAX);
                let jitter: f64 = rand::random();
                match self.cfg.delivery.retry.decide(attempts, &e, jitter) {
                    px360_delivery::Decision::RetryAfter(d) => {
                        let at = Utc::now()
                            + chrono::Duration::from_std(d)
                                .unwrap_or_else(|_| chrono::Duration::minutes(1));
                        self.db.notification_email_retry(job, at, e.kind()).await?;
                        r.retried += 1;
                    }
                    px360_delivery::Decision::GiveUp => {
                        self.db
                            .notification_email_finished(job, "failed", e.kind())
                            .await?;
                        r.failed += 1;
                        metrics::counter!("px360_notification_emails_total", "provider" => provider.name(), "outcome" => "failed").increment(1);
                    }
                }
            }
        }
        Ok(())
    }
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The email in the recipient's language: a small bilingual template (the worker has no Fluent
/// bundle; these few sentences are all it sends).
pub struct Texts {
    pub subject: String,
    pub plain: String,
    pub html: String,
}

impl Texts {
    pub fn new(job: &EmailJob, base: &str) -> Self {
        if job.kind == px360_store::weekly_report::KIND {
            return crate::weekly_email::texts(job, base);
        }
        let ar = job.language == "ar";
        let base = base.trim_end_matches('/');
        let link = match job.item_kind.as_str() {
            "complaint" => format!("{base}/ui/complaints/{}", job.item_id),
            "feedback" => format!("{base}/ui/feedback-inbox/{}", job.item_id),
            // Callbacks are worked from the queue (no page of their own).
            "callback" => format!("{base}/ui/callbacks"),
            _ => format!("{base}/ui/actions/{}", job.item_id),
        };
        let label = job.item_label.clone().unwrap_or_default();
        let what = match (job.item_kind.as_str(), ar) {
            ("complaint", false) => format!("complaint {label}"),
            ("complaint", true) => format!("الشكوى {label}"),
            ("callback", false) => "a callback".to_owned(),
            ("callback", true) => "طلب معاودة الاتصال".to_owned(),
            (_, false) => format!("action “{label}”"),
            (_, true) => format!("الإجراء «{label}»"),
        };
        let d = &job.detail;
        let due = d["due_at"].as_str().unwrap_or("").to_owned();
        let (subject, line) = match job.kind.as_str() {
            "sla_escalation" => {
                let level = d["level"].as_u64().unwrap_or(0);
                let goal = match (d["goal"].as_str(), ar) {
                    (Some("first_response"), false) => "first response",
                    (Some("first_response"), true) => "الاستجابة الأولى",
                    (_, false) => "resolution",
                    (_, true) => "الحل",
                };
                let breached = d["trigger"].to_string().contains("breach");
                match (ar, breached) {
                    (false, true) => (
                        format!("Escalation (level {level}): {what} is overdue"),
                        format!(
                            "The {goal} target of {what} was due at {due} UTC and is overdue. It is escalated to you (level {level})."
                        ),
                    ),
                    (false, false) => (
                        format!("Warning: {what} is close to its deadline"),
                        format!(
                            "The {goal} target of {what} is close to its deadline (warning raised at {due} UTC)."
                        ),
                    ),
                    (true, true) => (
                        format!("تصعيد (المستوى {level}): {what} متأخر"),
                        format!(
                            "كان موعد {goal} لـ{what} في {due} بالتوقيت العالمي وقد تجاوزه. تم تصعيده إليك (المستوى {level})."
                        ),
                    ),
                    (true, false) => (
                        format!("تنبيه: {what} يقترب من موعده النهائي"),
                        format!(
                            "اقترب موعد {goal} لـ{what} من نهايته (صدر التنبيه في {due} بالتوقيت العالمي)."
                        ),
                    ),
                }
            }
            // A patient's compliment for a member of the recipient's team (feedback, issue 18).
            "compliment" => {
                let reference = d["reference"].as_str().unwrap_or("").to_owned();
                if ar {
                    (
                        format!("إشادة من مريض لأحد أعضاء فريقك ({reference})"),
                        "وصلت إشادة من مريض تذكر أحد أعضاء فريقك. يُرجى الاطلاع عليها وإبلاغه بها."
                            .to_owned(),
                    )
                } else {
                    (
                        format!("A patient's compliment for your team ({reference})"),
                        "A patient sent a compliment naming a member of your team. Please read it and pass it on."
                            .to_owned(),
                    )
                }
            }
            _ if ar => (
                format!("إجراء جديد مسند إليك: {label}"),
                if due.is_empty() {
                    format!("أُسند إليك {what}.")
                } else {
                    format!("أُسند إليك {what}، وموعده {due} بالتوقيت العالمي.")
                },
            ),
            _ => (
                format!("New action assigned to you: {label}"),
                if due.is_empty() {
                    format!("You own {what}.")
                } else {
                    format!("You own {what}, due at {due} UTC.")
                },
            ),
        };
        let (hello, open, dir, lang) = if ar {
            (format!("مرحبًا {}،", job.display_name), "فتح", "rtl", "ar")
        } else {
            (format!("Hello {},", job.display_name), "Open", "ltr", "en")
        };
        let plain = format!("{hello}\n\n{line}\n\n{link}\n");
        let html = format!(
            "<!doctype html><html lang=\"{lang}\" dir=\"{dir}\"><body style=\"font-family:sans-serif\">\
             <p>{}</p><p>{}</p><p><a href=\"{}\">{open}</a></p></body></html>",
            escape(&hello),
            escape(&line),
            escape(&link)
        );
        Texts {
            subject,
            plain,
            html,
        }
    }
}

/// Rounds until `shutdown`; a failed round (database unavailable) is retried after a pause.
pub async fn run(n: Arc<Notifier>, mut shutdown: watch::Receiver<bool>) {
    let mut backoff = n.cfg.poll;
    while !*shutdown.borrow() {
        let pause = match n.round().await {
            Ok(r) if r == NotifyRound::default() => {
                backoff = n.cfg.poll;
                n.cfg.poll
            }
            Ok(_) => Duration::ZERO,
            Err(e) => {
                tracing::warn!(error = %e, "notify.round_failed");
                backoff = (backoff * 2).min(Duration::from_secs(30));
                backoff
            }
        };
        if pause.is_zero() {
            tokio::task::yield_now().await;
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => {}
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn job(kind: &str, item_kind: &str, language: &str) -> EmailJob {
        EmailJob {
            id: uuid::Uuid::nil(),
            user_id: uuid::Uuid::nil(),
            email: Some("m@example.org".into()),
            display_name: "Manager".into(),
            language: language.into(),
            kind: kind.into(),
            item_kind: item_kind.into(),
            item_id: uuid::Uuid::from_u128(7),
            detail: serde_json::json!({"reference": "F260301-ABCDEF"}),
            item_label: None,
            attempts: 1,
            lease: String::new(),
        }
    }

    #[test]
    fn a_compliment_email_names_the_reference_and_links_the_feedback_page() {
        let en = Texts::new(&job("compliment", "feedback", "en"), "https://px.example");
        assert!(en.subject.contains("compliment") && en.subject.contains("F260301-ABCDEF"));
        assert!(
            en.plain.contains(
                "https://px.example/ui/feedback-inbox/00000000-0000-0000-0000-000000000007"
            )
        );
        let ar = Texts::new(&job("compliment", "feedback", "ar"), "https://px.example");
        assert!(ar.subject.contains("إشادة") && ar.html.contains("dir=\"rtl\""));
    }

    #[test]
    fn a_callback_escalation_links_the_queue_in_both_languages() {
        let mut j = job("sla_escalation", "callback", "en");
        j.detail = serde_json::json!({"level": 2, "goal": "first_response", "trigger": "breached", "due_at": "2026-03-01T10:00:00Z"});
        let en = Texts::new(&j, "https://px.example/");
        assert!(
            en.subject.contains("a callback is overdue"),
            "{}",
            en.subject
        );
        assert!(en.plain.contains("https://px.example/ui/callbacks"));
        j.language = "ar".into();
        let ar = Texts::new(&j, "https://px.example");
        assert!(ar.subject.contains("طلب معاودة الاتصال"), "{}", ar.subject);
    }
}
