//! Latency of one client call against the in-process sandbox over loopback HTTP: a GP Connect
//! structured record (small and the largest fixture bundle) and a PDS read with a cached token.
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use nhs_spine::gpconnect::{ClinicalAreas, GpConnectClient, GpConnectConfig};
use nhs_spine::keys::generate_ephemeral;
use nhs_spine::pds::{OAuthConfig, PdsClient, PdsConfig};
use nhs_spine::sds::SdsClient;
use nhs_spine::{NhsNumber, RequestingContext, ResilienceConfig, TlsConfig};
use secrecy::SecretString;
use spine_sandbox::{Sandbox, SandboxConfig};

fn ctx() -> RequestingContext {
    RequestingContext {
        user_id: "bench-user".into(),
        family_name: "Bench".into(),
        given_names: vec!["Ann".into()],
        prefix: None,
        sds_user_id: None,
        sds_role_profile_id: None,
        role: None,
        organisation_ods: "RRK".into(),
        organisation_name: "Bench Trust".into(),
        purpose_of_use: None,
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let key = generate_ephemeral().unwrap();
    let sandbox = rt
        .block_on(Sandbox::start(SandboxConfig {
            jwks: Some(key.jwks.clone()),
            fixtures_dir: Some(spine_sandbox::SHARED_FIXTURES_DIR.into()),
            ..SandboxConfig::default()
        }))
        .unwrap();
    let gpc = GpConnectClient::new(GpConnectConfig {
        ssp_url: Some(sandbox.ssp_url()),
        consumer_asid: "200000000359".into(),
        issuer: "https://xhuma.bench".into(),
        device_id: "bench".into(),
        device_model: "Xhuma".into(),
        device_version: "0".into(),
        clinical_areas: ClinicalAreas::default(),
        resilience: ResilienceConfig::gp_connect_default(),
        tls: TlsConfig::default(),
    })
    .unwrap();
    let sds = SdsClient::new(nhs_spine::sds::SdsConfig {
        base_url: sandbox.sds_base_url(),
        api_key: SecretString::from(sandbox.api_key().to_owned()),
        resilience: ResilienceConfig::directory_default(),
        tls: TlsConfig::default(),
    })
    .unwrap();
    let pds = PdsClient::new(PdsConfig {
        base_url: sandbox.pds_base_url(),
        oauth: OAuthConfig {
            token_url: sandbox.token_url(),
            api_key: SecretString::from(sandbox.api_key().to_owned()),
            kid: key.kid.clone(),
            private_key_pem: Some(key.private_key_pem.clone()),
            private_key_path: None,
            assertion_lifetime_secs: 300,
            refresh_margin_secs: 60,
        },
        resilience: ResilienceConfig::directory_default(),
        tls: TlsConfig::default(),
    })
    .unwrap();
    let ctx = ctx();
    for (name, nhs, ods) in [
        ("gpconnect_small_20KB", "9690937278", "B82617"),
        ("gpconnect_largest_1.1MB", "9692136744", "A86005"),
    ] {
        let nhs = NhsNumber::parse(nhs).unwrap();
        let rec = rt.block_on(sds.lookup_gp_connect(ods)).unwrap();
        c.bench_function(name, |b| {
            b.to_async(&rt)
                .iter(|| async { gpc.get_structured_record(&nhs, &rec, &ctx).await.unwrap() })
        });
    }
    let nhs = NhsNumber::parse("9690937286").unwrap();
    c.bench_function("pds_read_cached_token", |b| {
        b.to_async(&rt)
            .iter(|| async { pds.read_patient(&nhs, &ctx).await.unwrap() })
    });
    c.bench_function("sds_lookup_device_and_endpoint", |b| {
        b.to_async(&rt)
            .iter(|| async { sds.lookup_gp_connect("B82617").await.unwrap() })
    });
    rt.block_on(sandbox.shutdown());
}

criterion_group!(benches, bench);
criterion_main!(benches);
