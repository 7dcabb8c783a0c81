//! Surveys in the worker: the trigger scan (completed stages → recorded send decisions, see
//! `px360_store::surveys::invitations`) and the dispatcher that drains the outbox through the
//! configured `px360_delivery` adapters, with per-channel rate limits and retries with backoff.
//!
//! A channel without a configured provider delivers to the local outbox (a table the web UI
//! shows): the embedded default sends nothing anywhere.
//!
//! An address the provider refuses for good (invalid number, not on WhatsApp, unknown mailbox)
//! or that cannot be parsed moves the message to the next channel of the preference order
//! (`px360_store::surveys::fallback`), recorded, audited and never sent twice.
//!
//! Both loops are safe to run in several processes at once: a decision claims its stage with a
//! unique insert, and the dispatcher claims outbox rows with a lease (`SKIP LOCKED` on
//! PostgreSQL).

use chrono::Utc;
use px360_delivery::{
    DeliveryConfig, EmailAddress, EmailContent, OutboundMessage, PhoneNumber, Providers, SendError,
    TokenBucket, WhatsAppContent,
};
use px360_domain::survey::channel::Channel;
use px360_store::Db;
use px360_store::surveys::Language;
use px360_store::surveys::fallback::FallbackReason;
use px360_store::surveys::outbox::{LocalDelivery, OutboxJob};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, watch};

/// Survey worker settings.
#[derive(Debug, Clone)]
pub struct SurveyConfig {
    /// Base of the links in messages, e.g. `https://px.example.org` (the patient page is at
    /// `/s/{token}`).
    pub public_base_url: String,
    /// Pause between rounds when there was nothing to do.
    pub poll: Duration,
    /// Completed stages older than this are not considered by the trigger scan (bounds it; a
    /// stage whose survey reference was added later does not survey old journeys).
    pub lookback: chrono::Duration,
    /// A claimed message not recorded as sent within this is claimed again.
    pub lease: Duration,
    /// Stages decided, and messages claimed, per round.
    pub batch: i64,
    /// Test hook: hold each claimed batch this long before calling the provider (kill tests).
    pub hold: Option<Duration>,
    /// Most SMS segments one invitation may cost.
    pub max_sms_segments: usize,
    /// Approved WhatsApp template (body parameters: hospital, survey title, link).
    pub whatsapp_template: String,
    pub delivery: DeliveryConfig,
}

impl Default for SurveyConfig {
    fn default() -> Self {
        Self {
            public_base_url: "http://localhost:8080".into(),
            poll: Duration::from_millis(250),
            lookback: chrono::Duration::days(2),
            lease: Duration::from_secs(60),
            batch: 100,
            hold: None,
            max_sms_segments: 4,
            whatsapp_template: "px360_survey_invitation".into(),
            delivery: DeliveryConfig::default(),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub decided: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

impl Round {
    fn idle(&self) -> bool {
        self.decided == 0 && self.sent == 0 && self.retried == 0 && self.failed == 0
    }
}

/// The survey worker of one process.
pub struct SurveyWorker {
    db: Db,
    id: String,
    cfg: SurveyConfig,
    providers: Providers,
    buckets: Mutex<[(px360_delivery::Channel, TokenBucket); 3]>,
    /// Where the next trigger scan starts (see [`SurveyWorker::round`]).
    scan: Mutex<Scan>,
}

/// The trigger scan's window. Scanning the whole look-back on every round would read every
/// stage completed in it; instead a round starts a few minutes before the newest completion the
/// previous round saw (the slack covers transactions that committed late), and every
/// `FULL_SCAN_EVERY` a round scans the whole look-back again.
struct Scan {
    since: Option<chrono::DateTime<Utc>>,
    last_full: Instant,
}

const SCAN_SLACK_MINUTES: i64 = 2;
const FULL_SCAN_EVERY: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum SurveyWorkerError {
    #[error(transparent)]
    Config(#[from] px360_delivery::ConfigError),
    #[error(transparent)]
    Store(#[from] px360_store::StoreError),
}

fn delivery_channel(c: Channel) -> px360_delivery::Channel {
    match c {
        Channel::Email => px360_delivery::Channel::Email,
        Channel::Sms => px360_delivery::Channel::Sms,
        Channel::Whatsapp => px360_delivery::Channel::WhatsApp,
    }
}

fn delivery_language(l: Language) -> px360_delivery::Language {
    match l {
        Language::En => px360_delivery::Language::En,
        Language::Ar => px360_delivery::Language::Ar,
    }
}

impl SurveyWorker {
    pub fn new(
        db: Db,
        id: impl Into<String>,
        cfg: SurveyConfig,
    ) -> Result<Self, SurveyWorkerError> {
        let providers = Providers::from_config(&cfg.delivery)?;
        let buckets = cfg.delivery.buckets(Instant::now())?;
        Ok(Self {
            db,
            id: id.into(),
            cfg,
            providers,
            buckets: Mutex::new(buckets),
            scan: Mutex::new(Scan {
                since: None,
                last_full: Instant::now(),
            }),
        })
    }

    /// Decide pending stages, then send due messages.
    pub async fn round(&self) -> Result<Round, SurveyWorkerError> {
        let now = Utc::now();
        let full_since = now - self.cfg.lookback;
        let since = {
            let mut scan = self.scan.lock().await;
            match scan.since {
                Some(s) if scan.last_full.elapsed() < FULL_SCAN_EVERY => s.max(full_since),
                _ => {
                    scan.last_full = Instant::now();
                    full_since
                }
            }
        };
        let report = self
            .db
            .survey_trigger(&self.id, since, now, self.cfg.batch)
            .await?;
        if (report.found as i64) < self.cfg.batch {
            // Everything completed before this round's start (minus the slack) is decided.
            self.scan.lock().await.since =
                Some(now - chrono::Duration::minutes(SCAN_SLACK_MINUTES));
        }
        let mut round = Round {
            decided: report.sent + report.skipped,
            ..Round::default()
        };
        let jobs = self
            .db
            .survey_outbox_claim(&self.id, Utc::now(), self.cfg.lease, self.cfg.batch)
            .await?;
        if jobs.is_empty() {
            return Ok(round);
        }
        if let Some(h) = self.cfg.hold {
            for j in &jobs {
                tracing::info!(outbox_id = %j.id, worker = %self.id, "survey.claimed");
            }
            tokio::time::sleep(h).await;
        }
        for job in &jobs {
            match self.send(job).await? {
                Sending::Sent => round.sent += 1,
                Sending::Retry => round.retried += 1,
                Sending::Failed => round.failed += 1,
            }
        }
        Ok(round)
    }

    async fn send(&self, job: &OutboxJob) -> Result<Sending, SurveyWorkerError> {
        let link = format!(
            "{}/s/{}",
            self.cfg.public_base_url.trim_end_matches('/'),
            job.token
        );
        let text = Texts::new(job, &link);
        let Some(provider) = self.providers.for_channel(delivery_channel(job.channel)) else {
            if job.address().is_none_or(|a| a.trim().is_empty()) {
                return self.fall_back(job, "no_address", "local", None).await;
            }
            self.db
                .survey_outbox_deliver_local(
                    job,
                    &LocalDelivery {
                        subject: (job.channel == Channel::Email).then(|| text.subject.clone()),
                        body: text.plain.clone(),
                        link,
                    },
                )
                .await?;
            metrics::counter!("px360_survey_messages_total", "channel" => job.channel.as_str(), "provider" => "local", "outcome" => "sent").increment(1);
            return Ok(Sending::Sent);
        };
        let message = match self.message(job, &text) {
            Ok(m) => m,
            // The stored address is missing or cannot be one: another channel may still work.
            Err(kind) => return self.fall_back(job, kind, "px360", None).await,
        };
        if let Err(e) = message.validate(Utc::now(), self.cfg.max_sms_segments) {
            let _ = e;
            self.db.survey_outbox_failed(job, "refused").await?;
            return Ok(Sending::Failed);
        }
        self.acquire(delivery_channel(job.channel)).await;
        match provider.send(&message).await {
            Ok(receipt) => {
                self.db
                    .survey_outbox_sent(job, provider.name(), &receipt.provider_message_id)
                    .await?;
                metrics::counter!("px360_survey_messages_total", "channel" => job.channel.as_str(), "provider" => provider.name(), "outcome" => "sent").increment(1);
                Ok(Sending::Sent)
            }
            Err(e) => self.failed(job, provider.name(), e).await,
        }
    }

    async fn failed(
        &self,
        job: &OutboxJob,
        provider: &'static str,
        e: SendError,
    ) -> Result<Sending, SurveyWorkerError> {
        // The error kind only: provider texts may echo parts of the request.
        tracing::warn!(outbox_id = %job.id, provider, kind = e.kind(), attempts = job.attempts, "survey.send_failed");
        if matches!(e, SendError::OptedOut { .. }) {
            self.db.survey_outbox_opted_out(job, provider).await?;
            return Ok(Sending::Failed);
        }
        if let SendError::InvalidRecipient { code } = &e {
            return self
                .fall_back(job, "invalid_recipient", provider, Some(code.clone()))
                .await;
        }
        let attempts = u32::try_from(job.attempts).unwrap_or(u32::MAX);
        let jitter: f64 = rand::random();
        match self.cfg.delivery.retry.decide(attempts, &e, jitter) {
            px360_delivery::Decision::RetryAfter(d) => {
                let at = Utc::now()
                    + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::minutes(1));
                self.db.survey_outbox_retry(job, at, e.kind()).await?;
                metrics::counter!("px360_survey_messages_total", "channel" => job.channel.as_str(), "provider" => provider, "outcome" => "retry").increment(1);
                Ok(Sending::Retry)
            }
            px360_delivery::Decision::GiveUp => {
                self.db.survey_outbox_failed(job, e.kind()).await?;
                metrics::counter!("px360_survey_messages_total", "channel" => job.channel.as_str(), "provider" => provider, "outcome" => "failed").increment(1);
                Ok(Sending::Failed)
            }
        }
    }

    /// The address is unusable on this channel: move the message to the next channel in the
    /// preference order (recorded and audited by the store), or fail it when none is left.
    async fn fall_back(
        &self,
        job: &OutboxJob,
        reason: &'static str,
        provider: &str,
        code: Option<String>,
    ) -> Result<Sending, SurveyWorkerError> {
        let why = FallbackReason {
            reason,
            provider: provider.to_owned(),
            code,
        };
        let next = self.db.survey_outbox_fallback(&self.id, job, &why).await?;
        tracing::info!(outbox_id = %job.id, from = job.channel.as_str(), to = next.map(Channel::as_str).unwrap_or("none"), reason, "survey.channel_fallback");
        Ok(if next.is_some() {
            Sending::Retry
        } else {
            Sending::Failed
        })
    }

    /// Wait for the channel's token bucket (per process).
    async fn acquire(&self, channel: px360_delivery::Channel) {
        loop {
            let wait = {
                let mut b = self.buckets.lock().await;
                match b.iter_mut().find(|(c, _)| *c == channel) {
                    Some((_, bucket)) => match bucket.try_acquire(Instant::now()) {
                        Ok(()) => return,
                        Err(w) => w,
                    },
                    None => return,
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    fn message(&self, job: &OutboxJob, t: &Texts) -> Result<OutboundMessage, &'static str> {
        let lang = delivery_language(job.language);
        let address = job.address().ok_or("no_address")?;
        Ok(match job.channel {
            Channel::Email => OutboundMessage::email(
                job.id,
                lang,
                EmailAddress::parse(address).map_err(|_| "invalid_address")?,
                EmailContent {
                    subject: t.subject.clone(),
                    html: t.html.clone(),
                    text: t.plain.clone(),
                },
            ),
            Channel::Sms => OutboundMessage::sms(
                job.id,
                lang,
                PhoneNumber::parse(address).map_err(|_| "invalid_address")?,
                t.sms.clone(),
            ),
            Channel::Whatsapp => OutboundMessage::whatsapp(
                job.id,
                lang,
                PhoneNumber::parse(address).map_err(|_| "invalid_address")?,
                WhatsAppContent::Template {
                    name: self.cfg.whatsapp_template.clone(),
                    language_code: job.language.as_str().into(),
                    body_parameters: vec![
                        job.hospital_name.clone(),
                        job.title.clone(),
                        t.link.clone(),
                    ],
                },
            ),
        })
    }
}

enum Sending {
    Sent,
    Retry,
    Failed,
}

/// The message texts in the patient's language. They name the hospital and the survey and carry
/// the link; nothing else about the patient or the visit.
struct Texts {
    subject: String,
    plain: String,
    html: String,
    sms: String,
    link: String,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Texts {
    fn new(job: &OutboxJob, link: &str) -> Self {
        let reminder = job.seq > 0;
        let unsubscribe = format!("{link}/unsubscribe");
        let (h, title) = (&job.hospital_name, &job.title);
        let (subject, intro, ask, stop, button, unsub, dir, lang) = match job.language {
            Language::En => (
                format!("{}{title} – {h}", if reminder { "Reminder: " } else { "" }),
                format!("Thank you for visiting {h}."),
                "Please tell us about your experience in a short survey (about 2 minutes):"
                    .to_owned(),
                "Reply STOP to receive no more surveys by text.".to_owned(),
                "Take the survey",
                "Do not send me surveys",
                "ltr",
                "en",
            ),
            Language::Ar => (
                format!("{}{title} – {h}", if reminder { "تذكير: " } else { "" }),
                format!("شكرًا لزيارتكم {h}."),
                "يسعدنا أن تشاركنا تجربتك في استبيان قصير (دقيقتان تقريبًا):".to_owned(),
                "لإيقاف الاستبيانات أرسل: ايقاف".to_owned(),
                "ابدأ الاستبيان",
                "لا ترسلوا لي استبيانات",
                "rtl",
                "ar",
            ),
        };
        let plain = format!("{intro}\n{ask}\n{link}\n\n{unsub}: {unsubscribe}\n");
        let sms = format!(
            "{}{h}: {ask} {link}\n{stop}",
            if reminder {
                match job.language {
                    Language::En => "Reminder – ",
                    Language::Ar => "تذكير – ",
                }
            } else {
                ""
            }
        );
        let html = format!(
            "<!doctype html><html lang=\"{lang}\" dir=\"{dir}\"><body style=\"font-family:sans-serif\">\
             <p>{}</p><p>{}</p><p><a href=\"{}\" style=\"display:inline-block;padding:12px 20px;background:#0b5394;color:#fff;text-decoration:none;border-radius:4px\">{button}</a></p>\
             <p style=\"font-size:small\"><a href=\"{}\">{unsub}</a></p></body></html>",
            escape(&intro),
            escape(&ask),
            escape(link),
            escape(&unsubscribe)
        );
        Texts {
            subject,
            plain,
            html,
            sms,
            link: link.to_owned(),
        }
    }
}

/// Run rounds until `shutdown`. A failed round (database unavailable) is retried after a pause.
pub async fn run(worker: Arc<SurveyWorker>, mut shutdown: watch::Receiver<bool>) {
    let mut backoff = worker.cfg.poll;
    while !*shutdown.borrow() {
        let pause = match worker.round().await {
            Ok(r) if r.idle() => worker.cfg.poll,
            Ok(_) => Duration::ZERO,
            Err(e) => {
                tracing::warn!(error = %e, "survey.round_failed");
                backoff = (backoff * 2).min(Duration::from_secs(30));
                backoff
            }
        };
        if pause.is_zero() {
            backoff = worker.cfg.poll;
            tokio::task::yield_now().await;
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => {}
        }
    }
}
