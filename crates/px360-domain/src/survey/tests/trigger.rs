use crate::survey::channel::{Channel, ChannelSet, ContactInfo};
use crate::survey::trigger::*;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::{Asia::Riyadh, Europe::London, Tz};
use proptest::prelude::*;
use uuid::Uuid;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn reachable_all() -> ContactInfo {
    ContactInfo {
        reachable: ChannelSet::of(&Channel::ALL),
        opted_out: ChannelSet::EMPTY,
        consent: true,
        preferred: None,
    }
}

fn input<'a>(now: &str, tz: Tz, history: &'a [PastInvitation]) -> TriggerInput<'a> {
    TriggerInput {
        now: utc(now),
        journey_instance_id: Uuid::from_u128(100),
        stage_instance_id: Uuid::from_u128(200),
        stage_completed_at: utc(now),
        time_zone: tz,
        contact: reachable_all(),
        history,
    }
}

fn policy(f: impl FnOnce(&mut PolicyRaw)) -> TriggerPolicy {
    let mut raw = PolicyRaw::default();
    f(&mut raw);
    TriggerPolicy::new(raw).unwrap()
}

fn send(d: Decision) -> Invitation {
    match d {
        Decision::Send(i) => i,
        Decision::Skip { reason } => panic!("skipped: {reason:?}"),
    }
}

#[test]
fn default_policy_sends_now_on_whatsapp_with_one_reminder() {
    // 10:00 Riyadh = 07:00Z.
    let i = send(decide(
        &TriggerPolicy::default(),
        &input("2026-03-01T07:00:00Z", Riyadh, &[]),
    ));
    assert_eq!(i.channel, Channel::Whatsapp);
    assert_eq!(i.send_at, utc("2026-03-01T07:00:00Z"));
    assert_eq!(i.expires_at, utc("2026-03-08T07:00:00Z"));
    assert_eq!(i.reminders, vec![utc("2026-03-03T07:00:00Z")]);
    let json = serde_json::to_value(Decision::Send(i)).unwrap();
    assert_eq!(json["decision"], "send");
    assert_eq!(json["channel"], "whatsapp");
}

#[test]
fn delay_and_quiet_hours_in_riyadh() {
    // Completed 19:30 Riyadh (16:30Z) + 2 h delay = 21:30, inside 21:00–08:00 → 08:00 = 05:00Z.
    let p = policy(|r| {
        r.delay_minutes = 120;
        r.reminder_count = 3;
        r.reminder_spacing_hours = 12;
        r.expiry_hours = 48;
    });
    let i = send(decide(&p, &input("2026-03-01T16:30:00Z", Riyadh, &[])));
    assert_eq!(i.send_at, utc("2026-03-02T05:00:00Z"));
    // +12 h = 20:00 local (allowed); +12 h = 08:00 next day (allowed); +12 h = 20:00 (allowed,
    // and before expiry at 05:00Z + 48 h).
    assert_eq!(
        i.reminders,
        vec![
            utc("2026-03-02T17:00:00Z"),
            utc("2026-03-03T05:00:00Z"),
            utc("2026-03-03T17:00:00Z")
        ]
    );
    // Spacing 10 h: 18:00 local, then 04:00 → 08:00, then 18:00.
    let p = policy(|r| {
        r.reminder_count = 5;
        r.reminder_spacing_hours = 10;
        r.expiry_hours = 40;
    });
    let i = send(decide(&p, &input("2026-03-02T05:00:00Z", Riyadh, &[])));
    assert_eq!(
        i.reminders,
        vec![
            utc("2026-03-02T15:00:00Z"),
            utc("2026-03-03T05:00:00Z"),
            utc("2026-03-03T15:00:00Z")
        ],
        "the fourth would be at or after expiry (2026-03-03T21:00Z) and is dropped"
    );
}

#[test]
fn a_late_worker_never_schedules_into_the_past() {
    let mut inp = input("2026-03-01T09:00:00Z", Riyadh, &[]);
    inp.stage_completed_at = utc("2026-03-01T06:00:00Z");
    let p = policy(|r| r.delay_minutes = 60);
    assert_eq!(send(decide(&p, &inp)).send_at, utc("2026-03-01T09:00:00Z"));
}

#[test]
fn london_quiet_hours_follow_the_clock_change() {
    let p = policy(|r| r.reminder_count = 0);
    // Saturday 28 March 2026, 22:00 GMT: next allowed is Sunday 08:00 BST = 07:00Z.
    let i = send(decide(&p, &input("2026-03-28T22:00:00Z", London, &[])));
    assert_eq!(i.send_at, utc("2026-03-29T07:00:00Z"));
    // Saturday 24 October 2026, 22:00 BST (21:00Z): Sunday 08:00 GMT = 08:00Z.
    let i = send(decide(&p, &input("2026-10-24T21:00:00Z", London, &[])));
    assert_eq!(i.send_at, utc("2026-10-25T08:00:00Z"));
}

#[test]
fn skips_with_their_reasons() {
    let p = TriggerPolicy::default();
    let now = "2026-03-01T07:00:00Z";
    let same_stage = [PastInvitation {
        stage_instance_id: Uuid::from_u128(200),
        send_at: utc("2026-02-01T07:00:00Z"),
    }];
    let skip = |inp: &TriggerInput<'_>| match decide(&p, inp) {
        Decision::Skip { reason } => reason,
        d => panic!("{d:?}"),
    };
    assert_eq!(
        skip(&input(now, Riyadh, &same_stage)),
        SkipReason::Duplicate
    );

    let mut inp = input(now, Riyadh, &[]);
    inp.contact.consent = false;
    assert_eq!(skip(&inp), SkipReason::NoConsent);

    let mut inp = input(now, Riyadh, &[]);
    inp.contact.reachable = ChannelSet::EMPTY;
    assert_eq!(skip(&inp), SkipReason::NoUsableChannel);
    inp.contact.reachable = ChannelSet::of(&[Channel::Sms]);
    inp.contact.opted_out = ChannelSet::of(&[Channel::Sms]);
    assert_eq!(skip(&inp), SkipReason::OptedOut);
    inp.contact.reachable = ChannelSet::of(&[Channel::Sms, Channel::Email]);
    assert_eq!(send(decide(&p, &inp)).channel, Channel::Email);

    // Recontact window: 6 days 23 h ago → skip; 7 days ago → send; a scheduled one 3 days
    // ahead also blocks.
    let other = |at: &str| PastInvitation {
        stage_instance_id: Uuid::from_u128(300),
        send_at: utc(at),
    };
    assert_eq!(
        skip(&input(now, Riyadh, &[other("2026-02-22T08:00:00Z")])),
        SkipReason::RecontactedRecently
    );
    assert!(matches!(
        decide(&p, &input(now, Riyadh, &[other("2026-02-22T07:00:00Z")])),
        Decision::Send(_)
    ));
    assert_eq!(
        skip(&input(now, Riyadh, &[other("2026-03-04T07:00:00Z")])),
        SkipReason::RecontactedRecently
    );
    let no_window = policy(|r| r.recontact_days = 0);
    assert!(matches!(
        decide(
            &no_window,
            &input(now, Riyadh, &[other("2026-03-01T06:00:00Z")])
        ),
        Decision::Send(_)
    ));

    let none = policy(|r| r.sampling_percent = 0);
    assert_eq!(
        decide(&none, &input(now, Riyadh, &[])),
        Decision::Skip {
            reason: SkipReason::NotSampled
        }
    );
    assert_eq!(
        SkipReason::RecontactedRecently.as_str(),
        "recontacted_recently"
    );
}

#[test]
fn sampling_is_deterministic_and_close_to_the_percentage() {
    let j = Uuid::from_u128(1);
    let hits = (0..10_000u128)
        .filter(|i| sampled(j, Uuid::from_u128(*i), 30))
        .count();
    assert!((2_800..=3_200).contains(&hits), "{hits}");
    for i in 0..100u128 {
        let s = Uuid::from_u128(i);
        assert_eq!(sampled(j, s, 30), sampled(j, s, 30));
        assert!(sampled(j, s, 100));
        assert!(!sampled(j, s, 0));
        // Raising the percentage never drops a stage that was already in the sample.
        assert!(!sampled(j, s, 30) || sampled(j, s, 31));
    }
}

#[test]
fn policies_are_bounded() {
    let bad = |f: fn(&mut PolicyRaw)| {
        let mut r = PolicyRaw::default();
        f(&mut r);
        TriggerPolicy::new(r).unwrap_err()
    };
    assert_eq!(bad(|r| r.sampling_percent = 101), PolicyError::Sampling);
    assert_eq!(bad(|r| r.recontact_days = 366), PolicyError::Recontact);
    assert_eq!(
        bad(|r| r.delay_minutes = MAX_DELAY_MINUTES + 1),
        PolicyError::Delay
    );
    assert_eq!(bad(|r| r.expiry_hours = 0), PolicyError::Expiry);
    assert_eq!(bad(|r| r.reminder_count = 6), PolicyError::Reminders);
    assert_eq!(
        bad(|r| r.reminder_spacing_hours = 0),
        PolicyError::Reminders
    );
    assert_eq!(
        bad(|r| r.reminder_spacing_hours = 168),
        PolicyError::Reminders
    );
    assert_eq!(bad(|r| r.channel_order = vec![]), PolicyError::Channels);
    assert_eq!(
        bad(|r| r.channel_order = vec![Channel::Sms, Channel::Sms]),
        PolicyError::Channels
    );
    let p: TriggerPolicy = serde_json::from_str("{}").unwrap();
    assert_eq!(p, TriggerPolicy::default());
    let p: TriggerPolicy = serde_json::from_str(
        r#"{"sampling_percent":50,"quiet_hours":{"start":"22:00:00","end":"07:30:00"},"channel_order":["email","sms"]}"#,
    )
    .unwrap();
    assert_eq!(
        p.settings().channel_order,
        vec![Channel::Email, Channel::Sms]
    );
    assert!(serde_json::from_str::<TriggerPolicy>(r#"{"sampling_percent":150}"#).is_err());
    assert!(serde_json::from_str::<TriggerPolicy>(r#"{"samplng_percent":50}"#).is_err());
}

proptest! {
    #[test]
    fn invitations_respect_quiet_hours_expiry_and_order(
        now in 1_750_000_000i64..1_850_000_000,
        delay in 0u32..3000,
        count in 0u8..=5,
        spacing in 1u32..72,
        expiry in 73u32..400,
        start_h in 0u32..24, end_h in 0u32..24,
        zone in prop::sample::select(vec![Riyadh, London, chrono_tz::America::New_York]),
        stage in any::<u128>(),
    ) {
        prop_assume!(start_h != end_h);
        let hm = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        let quiet = crate::survey::quiet::QuietHours::new(hm(start_h), hm(end_h)).unwrap();
        let p = TriggerPolicy::new(PolicyRaw {
            delay_minutes: delay, reminder_count: count, reminder_spacing_hours: spacing,
            expiry_hours: expiry, quiet_hours: Some(quiet), ..PolicyRaw::default()
        }).unwrap();
        let now = DateTime::from_timestamp(now, 0).unwrap();
        let inp = TriggerInput {
            now, journey_instance_id: Uuid::nil(), stage_instance_id: Uuid::from_u128(stage),
            stage_completed_at: now, time_zone: zone, contact: reachable_all(), history: &[],
        };
        let i = send(decide(&p, &inp));
        prop_assert!(i.send_at >= now + Duration::minutes(i64::from(delay)));
        prop_assert!(!quiet.contains(i.send_at, zone));
        let mut prev = i.send_at;
        for r in &i.reminders {
            prop_assert!(*r > prev && *r < i.expires_at);
            prop_assert!(*r - prev >= Duration::hours(i64::from(spacing)));
            prop_assert!(!quiet.contains(*r, zone));
            prev = *r;
        }
        prop_assert_eq!(decide(&p, &inp), Decision::Send(i), "same inputs, same decision");
    }
}
