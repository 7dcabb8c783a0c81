//! Fallback to the next channel (issue 15, item 2 of the follow-up): when the provider refuses
//! the address permanently (Twilio 21211 "invalid 'To'", SMTP 550 "mailbox unavailable"), the
//! invitation moves to the next allowed channel in the preference order; the decision is
//! recorded with its reason and audited, and nothing is ever sent twice. Against the same
//! loopback Twilio stand-in and real SMTP server (aiosmtpd, STARTTLS) as the chain test, on
//! SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use px360_store::surveys::Channel;
use px360_store::surveys::invitations::InvitationStatus;
use px360_store::surveys::outbox::OutboxStatus;
use px360_store::{Backend, Db};
use px360_worker::surveys::SurveyWorker;
use uuid::Uuid;

async fn set_address(db: &Db, patient: Uuid, column: &str, value: &str) {
    let sql = match column {
        "phone" => "UPDATE patients SET phone = $2 WHERE id = $1",
        _ => "UPDATE patients SET email = $2 WHERE id = $1",
    };
    sqlx::query(sql)
        .bind(patient.to_string())
        .bind(value)
        .execute(&db.writer)
        .await
        .unwrap();
}

async fn invitation_of(db: &Db, patient: Uuid) -> px360_store::surveys::invitations::Invitation {
    let page = db
        .survey_invitations(None, None, None, 50, true)
        .await
        .unwrap();
    page.rows
        .into_iter()
        .find(|l| l.invitation.patient_id == Some(patient))
        .expect("an invitation for the patient")
        .invitation
}

async fn fallback(kind: Backend) {
    let (tdb, db, caller) = setting_up(kind).await;
    let smtp = start_smtp().await;
    let (twilio, twilio_url) = start_twilio().await;
    // 1: prefers SMS, its number is invalid at Twilio → email.
    let p1 = set_contacts(&db, "RGH-ED-0001", r#"["sms","email"]"#).await;
    set_address(&db, p1, "phone", INVALID_NUMBER).await;
    set_address(&db, p1, "email", "fallback.one@example.org").await;
    // 2: prefers email, the mailbox is unknown (550) → SMS.
    let p2 = set_contacts(&db, "RGH-ED-0002", r#"["email","sms"]"#).await;
    set_address(&db, p2, "email", "unknown.two@example.org").await;
    set_address(&db, p2, "phone", "+966500000202").await;
    // 3: SMS only, invalid number → nothing left: failed.
    let p3 = set_contacts(&db, "RGH-ED-0003", r#"["sms"]"#).await;
    set_address(&db, p3, "phone", INVALID_NUMBER).await;

    emergency_visit(&db, &caller, "enc-f1", "RGH-ED-0001").await;
    emergency_visit(&db, &caller, "enc-f2", "RGH-ED-0002").await;
    emergency_visit(&db, &caller, "enc-f3", "RGH-ED-0003").await;
    let w = SurveyWorker::new(db.clone(), "wf", config(&smtp, &twilio_url)).unwrap();
    drain(&w).await;

    // Patient 1: one refused SMS, then one email; the invitation now says email.
    let to = |f: &Form| {
        f.iter()
            .find(|(n, _)| n == "To")
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let forms = twilio.forms();
    let invalid = forms.iter().filter(|f| to(f) == INVALID_NUMBER).count();
    assert_eq!(invalid, 2, "one refused SMS each for patients 1 and 3");
    let mails = smtp.received();
    assert_eq!(mails.len(), 1, "one email (patient 1's fallback)");
    assert!(mails[0].contains("X-Rcpt: fallback.one@example.org"));
    let i1 = invitation_of(&db, p1).await;
    assert_eq!(i1.channel, Some(Channel::Email));
    assert_eq!(i1.status, InvitationStatus::Sent);
    let f1 = db.survey_fallbacks(i1.id).await.unwrap();
    assert_eq!(f1.len(), 1);
    assert_eq!(
        (f1[0].from_channel, f1[0].to_channel),
        (Channel::Sms, Some(Channel::Email))
    );
    assert_eq!(f1[0].reason, "invalid_recipient");
    assert_eq!(f1[0].provider, "twilio");
    assert_eq!(f1[0].code.as_deref(), Some("21211"));
    // Its reminders follow to email.
    let rows = db.survey_outbox_rows(i1.id).await.unwrap();
    assert!(rows.iter().all(|r| r.channel == Channel::Email), "{rows:?}");
    assert_eq!(rows[0].status, OutboxStatus::Sent);

    // Patient 2: the SMTP server refused the mailbox (550) → one SMS to the phone.
    let i2 = invitation_of(&db, p2).await;
    assert_eq!(i2.channel, Some(Channel::Sms));
    assert_eq!(i2.status, InvitationStatus::Sent);
    assert_eq!(forms.iter().filter(|f| to(f) == "+966500000202").count(), 1);
    let f2 = db.survey_fallbacks(i2.id).await.unwrap();
    assert_eq!(f2.len(), 1);
    assert_eq!(
        (f2[0].from_channel, f2[0].to_channel, f2[0].code.as_deref()),
        (Channel::Email, Some(Channel::Sms), Some("550"))
    );
    assert_eq!(f2[0].provider, "smtp");

    // Patient 3: nothing left; the decision is recorded and the invitation failed.
    let i3 = invitation_of(&db, p3).await;
    assert_eq!(i3.status, InvitationStatus::Failed);
    let f3 = db.survey_fallbacks(i3.id).await.unwrap();
    assert_eq!(f3.len(), 1);
    assert_eq!(f3[0].to_channel, None);
    assert_eq!(forms.len(), 3, "2 refused + 1 fallback SMS");

    // Nothing more is sent by later rounds.
    drain(&w).await;
    assert_eq!(twilio.forms().len(), 3);
    assert_eq!(smtp.received().len(), 1);

    // Every fallback is audited, with no address in it.
    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT changes FROM audit_log WHERE action = 'survey.channel_fallback' ORDER BY seq",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(audited.len(), 3, "{audited:?}");
    for a in &audited {
        assert!(!a.contains('@') && !a.contains("5550001"), "{a}");
        assert!(a.contains("invalid_recipient"), "{a}");
    }
    db.verify_audit_chain().await.unwrap();

    db.pool.close().await;
    db.writer.close().await;
    tdb.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_on_sqlite() {
    fallback(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_on_postgres() {
    fallback(Backend::Postgres).await;
}
