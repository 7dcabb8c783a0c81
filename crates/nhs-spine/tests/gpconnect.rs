//! GP Connect client through the sandbox's Spine Secure Proxy over real HTTP on loopback:
//! the whole PDS → SDS → GP Connect flow, every unhappy path, retries and the circuit breaker.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{CONSUMER_ASID, ctx, fixture, nhs, start};
use nhs_spine::gpconnect::{ClinicalAreas, GpConnectClient, GpConnectError};
use nhs_spine::pds::PdsLookup;
use nhs_spine::sds::SdsRecord;
use spine_sandbox::{Api, Fault};

async fn provider(env: &common::Env, ods: &str) -> SdsRecord {
    env.sds().lookup_gp_connect(ods).await.unwrap()
}

#[tokio::test]
async fn pds_then_sds_then_gp_connect_returns_the_fixture_bundle() {
    let env = start(|_| {}).await;
    let n = nhs("9690937286");
    let PdsLookup::Found(patient) = env.pds().read_patient(&n, &ctx()).await.unwrap() else {
        panic!("expected Found");
    };
    let ods = patient.gp_ods_code.unwrap();
    let rec = provider(&env, &ods).await;
    let record = env
        .gpc()
        .get_structured_record(&n, &rec, &ctx())
        .await
        .unwrap();
    assert_eq!(
        &record.bundle[..],
        &fixture("gpconnect/xhuma/9690937286.json")[..]
    );
    // the practice withheld confidential medication items, and says so
    assert_eq!(record.warnings, vec!["confidential-items".to_owned()]);
    assert_ne!(record.trace_id, uuid::Uuid::nil());
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn every_fixture_patient_is_answerable() {
    let env = start(|_| {}).await;
    let gpc = env.gpc();
    let pds = env.pds();
    let sds = env.sds();
    let mut served = 0;
    for p in env
        .sandbox
        .patients()
        .into_iter()
        .filter(|p| p.scenario == "full record")
    {
        let n = nhs(&p.nhs_number);
        let PdsLookup::Found(found) = pds.read_patient(&n, &ctx()).await.unwrap() else {
            panic!("{}", p.nhs_number);
        };
        let rec = sds
            .lookup_gp_connect(found.gp_ods_code.as_deref().unwrap())
            .await
            .unwrap();
        gpc.get_structured_record(&n, &rec, &ctx()).await.unwrap();
        served += 1;
    }
    assert!(served >= 8, "{served}");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn clinical_area_selection_reaches_the_provider() {
    let env = start(|_| {}).await;
    let mut cfg = env.gpc_config.clone();
    cfg.clinical_areas = ClinicalAreas {
        allergies: false,
        problems: false,
        immunisations: false,
        consultations: false,
        uncategorised_data: false,
        investigations: false,
        referrals: false,
        diary_entries: false,
        medication_lookback_days: Some(365),
        ..ClinicalAreas::default()
    };
    let rec = provider(&env, "O001").await;
    let got = GpConnectClient::new(cfg)
        .unwrap()
        .get_structured_record(&nhs("9999999999"), &rec, &ctx())
        .await
        .unwrap();
    // the spec example written for includeMedication
    assert_eq!(
        &got.bundle[..],
        &fixture("gpconnect/spec-examples/meds_response.json")[..]
    );
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn gp_connect_errors_are_typed_and_not_retried() {
    let env = start(|_| {}).await;
    let gpc = env.gpc();
    let rec = provider(&env, "B82617").await;
    let cases = [
        ("9000000084", GpConnectError::NoPatientConsent),
        ("9000000092", GpConnectError::InvalidNhsNumber),
        ("9000000041", GpConnectError::PatientNotFound),
    ];
    for (n, expected) in cases {
        let before = env.sandbox.stats().gpconnect_requests;
        let err = gpc
            .get_structured_record(&nhs(n), &rec, &ctx())
            .await
            .unwrap_err();
        assert_eq!(err, expected, "{n}");
        assert_eq!(
            env.sandbox.stats().gpconnect_requests - before,
            1,
            "{n}: no retry on 4xx"
        );
    }
    let err = gpc
        .get_structured_record(&nhs("9000000149"), &rec, &ctx())
        .await
        .unwrap_err();
    assert!(
        matches!(err, GpConnectError::AccessDenied { status: 403, .. }),
        "{err:?}"
    );
    // a patient registered elsewhere is not found at this practice
    let err = gpc
        .get_structured_record(&nhs("9692136744"), &rec, &ctx())
        .await
        .unwrap_err();
    assert_eq!(err, GpConnectError::PatientNotFound);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn data_in_transit_is_reported_as_a_warning() {
    let env = start(|_| {}).await;
    let rec = provider(&env, "B82617").await;
    let got = env
        .gpc()
        .get_structured_record(&nhs("9000000106"), &rec, &ctx())
        .await
        .unwrap();
    assert_eq!(got.warnings, vec!["data-in-transit".to_owned()]);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn transient_failures_are_retried_with_backoff() {
    let env = start(|_| {}).await;
    let rec = provider(&env, "B82617").await;
    // flaky: 503, 503, then the record; max_retries = 2
    let got = env
        .gpc()
        .get_structured_record(&nhs("9000000130"), &rec, &ctx())
        .await
        .unwrap();
    assert!(!got.bundle.is_empty());
    assert_eq!(env.sandbox.stats().gpconnect_requests, 3);
    // failing: three attempts, then the upstream error
    let err = env
        .gpc()
        .get_structured_record(&nhs("9000000122"), &rec, &ctx())
        .await
        .unwrap_err();
    assert!(
        matches!(err, GpConnectError::Upstream { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(env.sandbox.stats().gpconnect_requests, 6);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn slow_provider_times_out() {
    let env = start(|c| c.slow_delay_ms = 1_500).await;
    let rec = provider(&env, "B82617").await;
    let mut cfg = env.gpc_config.clone();
    cfg.resilience.timeout_ms = 200;
    cfg.resilience.max_retries = 1;
    let started = std::time::Instant::now();
    let err = GpConnectClient::new(cfg)
        .unwrap()
        .get_structured_record(&nhs("9000000114"), &rec, &ctx())
        .await
        .unwrap_err();
    assert_eq!(err, GpConnectError::Timeout);
    assert!(
        started.elapsed() < Duration::from_millis(1_200),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(env.sandbox.stats().gpconnect_requests, 2);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn circuit_opens_after_failures_and_half_opens_after_the_wait() {
    let env = start(|_| {}).await;
    let rec = provider(&env, "B82617").await;
    let mut cfg = env.gpc_config.clone();
    cfg.resilience.max_retries = 0;
    cfg.resilience.breaker_failure_threshold = 2;
    cfg.resilience.breaker_open_ms = 300;
    let gpc = GpConnectClient::new(cfg).unwrap();
    let failing = nhs("9000000122");
    let good = nhs("9690937278");
    for _ in 0..2 {
        let err = gpc
            .get_structured_record(&failing, &rec, &ctx())
            .await
            .unwrap_err();
        assert!(matches!(err, GpConnectError::Upstream { .. }), "{err:?}");
    }
    let sent = env.sandbox.stats().gpconnect_requests;
    assert_eq!(
        gpc.get_structured_record(&good, &rec, &ctx())
            .await
            .unwrap_err(),
        GpConnectError::CircuitOpen
    );
    assert_eq!(
        env.sandbox.stats().gpconnect_requests,
        sent,
        "open: nothing sent"
    );

    // half-open: one failing probe re-opens
    tokio::time::sleep(Duration::from_millis(350)).await;
    gpc.get_structured_record(&failing, &rec, &ctx())
        .await
        .unwrap_err();
    assert_eq!(env.sandbox.stats().gpconnect_requests, sent + 1);
    assert_eq!(
        gpc.get_structured_record(&good, &rec, &ctx())
            .await
            .unwrap_err(),
        GpConnectError::CircuitOpen
    );
    // half-open again: a successful probe closes
    tokio::time::sleep(Duration::from_millis(350)).await;
    gpc.get_structured_record(&good, &rec, &ctx())
        .await
        .unwrap();
    gpc.get_structured_record(&good, &rec, &ctx())
        .await
        .unwrap();
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn one_failing_practice_does_not_open_the_circuit_of_another() {
    let env = start(|_| {}).await;
    let failing_practice = provider(&env, "B82617").await;
    // A fixture patient registered elsewhere whose practice answers, and its SDS entry.
    let mut other = None;
    for p in env.sandbox.patients() {
        let Some(ods) = p.gp_ods_code.filter(|o| o != "B82617") else {
            continue;
        };
        let rec = provider(&env, &ods).await;
        let n = nhs(&p.nhs_number);
        if env
            .gpc()
            .get_structured_record(&n, &rec, &ctx())
            .await
            .is_ok()
        {
            other = Some((n, rec));
            break;
        }
    }
    let (other, other_practice) = other.expect("the sandbox has a second practice");
    assert_ne!(other_practice.asid, failing_practice.asid);

    let mut cfg = env.gpc_config.clone();
    cfg.resilience.max_retries = 0;
    cfg.resilience.breaker_failure_threshold = 2;
    cfg.resilience.breaker_open_ms = 60_000;
    let gpc = GpConnectClient::new(cfg).unwrap();
    for _ in 0..2 {
        gpc.get_structured_record(&nhs("9000000122"), &failing_practice, &ctx())
            .await
            .unwrap_err();
    }
    // B82617's circuit is open, for every patient there ...
    assert_eq!(
        gpc.get_structured_record(&nhs("9690937278"), &failing_practice, &ctx())
            .await
            .unwrap_err(),
        GpConnectError::CircuitOpen
    );
    // ... but the other practice is still called and answers.
    let rec = gpc
        .get_structured_record(&other, &other_practice, &ctx())
        .await
        .unwrap();
    assert!(!rec.bundle.is_empty());
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn unregistered_consumer_asid_and_wrong_ssp_to_are_refused() {
    let env = start(|c| c.consumer_asids = vec!["200000000001".into()]).await;
    let rec = provider(&env, "B82617").await;
    assert_ne!(CONSUMER_ASID, "200000000001");
    let err = env
        .gpc()
        .get_structured_record(&nhs("9690937278"), &rec, &ctx())
        .await
        .unwrap_err();
    assert!(
        matches!(err, GpConnectError::AccessDenied { status: 403, .. }),
        "{err:?}"
    );

    let mut cfg = env.gpc_config.clone();
    cfg.consumer_asid = "200000000001".into();
    let gpc = GpConnectClient::new(cfg).unwrap();
    gpc.get_structured_record(&nhs("9690937278"), &rec, &ctx())
        .await
        .unwrap();
    let wrong_to = SdsRecord {
        asid: "999999999999".into(),
        ..rec.clone()
    };
    let err = gpc
        .get_structured_record(&nhs("9690937278"), &wrong_to, &ctx())
        .await
        .unwrap_err();
    assert!(
        matches!(err, GpConnectError::AccessDenied { status: 403, .. }),
        "{err:?}"
    );
    // a JWT audience that is not the endpoint called is a bad request
    let wrong_aud = SdsRecord {
        fhir_base_url: env.sandbox.endpoint_address("A86005"),
        ..rec
    };
    let err = gpc
        .get_structured_record(&nhs("9690937278"), &wrong_aud, &ctx())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GpConnectError::AccessDenied { .. } | GpConnectError::BadRequest { .. }
        ),
        "{err:?}"
    );
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn unreachable_provider_is_a_network_error() {
    let env = start(|_| {}).await;
    let rec = provider(&env, "B82617").await;
    let mut cfg = env.gpc_config.clone();
    // a port nothing listens on
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    cfg.ssp_url = Some(format!("http://127.0.0.1:{port}/ssp"));
    cfg.resilience.max_retries = 1;
    let err = GpConnectClient::new(cfg)
        .unwrap()
        .get_structured_record(&nhs("9690937278"), &rec, &ctx())
        .await
        .unwrap_err();
    assert!(matches!(err, GpConnectError::Network(_)), "{err:?}");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn injected_sandbox_failures_are_upstream_errors() {
    let env = start(|_| {}).await;
    let rec = provider(&env, "B82617").await;
    env.sandbox
        .set_fault(
            Api::GpConnect,
            Fault {
                failure_rate: 1.0,
                failure_status: 502,
                ..Fault::default()
            },
        )
        .await;
    let err = env
        .gpc()
        .get_structured_record(&nhs("9690937278"), &rec, &ctx())
        .await
        .unwrap_err();
    assert!(
        matches!(err, GpConnectError::Upstream { status: 502, .. }),
        "{err:?}"
    );
    env.sandbox.shutdown().await;
}
