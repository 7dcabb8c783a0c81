//! Per-event hot paths: contract validation and the audit hash (both run on every accepted event).
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use px360_domain::audit::{AuditRecord, GENESIS};
use serde_json::json;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let body = json!({
        "source_system": "EPIC", "event_code": "OP_CHECKIN", "encounter_id": "ENC-123456",
        "patient_identifier": "RGH-CARD-0001",
        "payload": {"physician_licence": "GMC121", "department_code": "CARD",
                    "timestamp": "2025-01-31T09:30:00Z", "custom_fields": {"clinic": "A", "room": 4}}
    });
    c.bench_function("event_validate", |b| {
        b.iter(|| px360_domain::event::validate(black_box(&body), chrono_tz::Tz::UTC).unwrap())
    });
    let r = AuditRecord {
        seq: 42,
        at: "2025-01-31T09:30:00.000000Z".into(),
        actor_type: "api_key".into(),
        actor_id: Some("0195f0a0-0000-7000-8000-000000000000".into()),
        ip: Some("10.0.0.1".into()),
        user_agent: Some("hl7-bridge/1.0".into()),
        action: "event.received".into(),
        object_type: Some("inbound_event".into()),
        object_id: Some("0195f0a0-0000-7000-8000-000000000001".into()),
        hospital_id: Some("0195f0a0-0000-7000-8000-000000000002".into()),
        changes: Some(r#"{"event_code":"OP_CHECKIN","source_system":"EPIC"}"#.into()),
        prev_hash: GENESIS.into(),
        hash: String::new(),
    };
    c.bench_function("audit_hash", |b| {
        b.iter(|| black_box(&r).compute_hash(None))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
