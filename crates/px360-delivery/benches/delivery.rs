//! The per-message and per-callback pure paths: segment counting, signature checks and
//! webhook parsing. Numbers in the README.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use px360_delivery::meta_webhook::parse_webhook;
use px360_delivery::signature::{sign_meta, sign_twilio, verify_twilio};
use px360_delivery::sms_encoding::count_segments;
use px360_delivery::twilio::status_callback;
use secrecy::SecretString;

fn webhook_body(statuses: usize) -> String {
    let items: Vec<String> = (0..statuses)
        .map(|i| {
            format!(
                r#"{{"id":"wamid.{i:020}","status":"delivered","timestamp":"1750263773","recipient_id":"966501234567","biz_opaque_callback_data":"0190f1c2-0000-7000-8000-000000000001"}}"#
            )
        })
        .collect();
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","statuses":[{}]}}}}]}}]}}"#,
        items.join(",")
    )
}

fn benches(c: &mut Criterion) {
    let arabic =
        "شكراً لزيارتكم مستشفى الملك فهد. نرجو مشاركتنا رأيك: https://px.example/s/abcdefghijklmnop";
    c.bench_function("count_segments arabic 90 chars", |b| {
        b.iter(|| count_segments(black_box(arabic)))
    });
    let english = "Thank you for visiting King Fahd Hospital. Please tell us about your visit: https://px.example/s/abcdefghijklmnop";
    c.bench_function("count_segments gsm7 115 chars", |b| {
        b.iter(|| count_segments(black_box(english)))
    });

    let url = "https://px360.example.org/callbacks/twilio/status?ref=0190f1c2-0000-7000-8000-000000000001";
    let params: Vec<(String, String)> = [
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("ApiVersion", "2010-04-01"),
        ("From", "+15005550006"),
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("MessageStatus", "delivered"),
        ("SmsSid", "SM0123456789abcdef0123456789abcdef"),
        ("SmsStatus", "delivered"),
        ("To", "+966501234567"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let sig = sign_twilio(b"token", url, &params);
    c.bench_function("verify_twilio 8 params", |b| {
        b.iter(|| verify_twilio(b"token", black_box(url), black_box(&params), Some(&sig)))
    });
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    let token = SecretString::from("token");
    let now = chrono::Utc::now();
    c.bench_function("twilio status_callback parse+verify", |b| {
        b.iter(|| status_callback(&token, url, black_box(body.as_bytes()), Some(&sig), now))
    });

    let secret = SecretString::from("app-secret");
    for n in [1usize, 100] {
        let body = webhook_body(n);
        let sig = sign_meta(b"app-secret", body.as_bytes());
        c.bench_function(&format!("meta parse_webhook {n} statuses"), |b| {
            b.iter(|| parse_webhook(&secret, black_box(body.as_bytes()), Some(&sig)))
        });
    }
}

criterion_group!(delivery, benches);
criterion_main!(delivery);
