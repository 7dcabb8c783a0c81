//! PDS and SDS clients against the sandbox over real HTTP on loopback.
#![allow(clippy::unwrap_used)]

mod common;

use common::{ctx, nhs, start};
use nhs_spine::keys::generate_ephemeral;
use nhs_spine::pds::{AuthError, PdsClient, PdsError, PdsLookup};
use nhs_spine::sds::{SdsClient, SdsError};
use secrecy::SecretString;
use spine_sandbox::{Api, Fault};

#[tokio::test]
async fn pds_typed_outcomes_for_every_scenario() {
    let env = start(|_| {}).await;
    let pds = env.pds();
    let c = ctx();

    match pds.read_patient(&nhs("9690937286"), &c).await.unwrap() {
        PdsLookup::Found(p) => {
            assert_eq!(p.gp_ods_code.as_deref(), Some("B82617"));
            assert_eq!(p.usual_name().unwrap().family.as_deref(), Some("SKELLY"));
        }
        other => panic!("{other:?}"),
    }
    match pds.read_patient(&nhs("9000000025"), &c).await.unwrap() {
        PdsLookup::Restricted(p) => assert!(p.gp_ods_code.is_none() && p.addresses.is_empty()),
        other => panic!("{other:?}"),
    }
    match pds.read_patient(&nhs("9000000009"), &c).await.unwrap() {
        PdsLookup::Deceased(p) => assert!(p.deceased_date_time.is_some()),
        other => panic!("{other:?}"),
    }
    match pds.read_patient(&nhs("9000000068"), &c).await.unwrap() {
        PdsLookup::Merged { current, .. } => assert_eq!(current.as_str(), "9690937278"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        pds.read_patient(&nhs("9000000041"), &c).await.unwrap(),
        PdsLookup::NotFound
    );
    assert_eq!(
        pds.read_patient(&nhs("9000000076"), &c).await.unwrap(),
        PdsLookup::Invalidated
    );
    // one token for all of the above
    assert_eq!(env.sandbox.stats().tokens_issued, 1);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn pds_token_is_refreshed_before_it_expires() {
    let env = start(|c| c.token_lifetime_secs = 2).await;
    let pds = env.pds();
    for _ in 0..3 {
        pds.read_patient(&nhs("9690937278"), &ctx()).await.unwrap();
    }
    assert_eq!(env.sandbox.stats().tokens_issued, 1, "cached");
    // lifetime 2 s, margin min(60 s, 2 s / 5): refreshed after 1.6 s, before the sandbox
    // would refuse it.
    tokio::time::sleep(std::time::Duration::from_millis(1_700)).await;
    pds.read_patient(&nhs("9690937278"), &ctx()).await.unwrap();
    assert_eq!(env.sandbox.stats().tokens_issued, 2, "refreshed");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn token_endpoint_rejects_an_unregistered_key_and_a_wrong_api_key() {
    let env = start(|_| {}).await;
    // a key the sandbox does not know, under the registered kid: signature check fails
    let other = generate_ephemeral().unwrap();
    let mut cfg = env.pds_config.clone();
    cfg.oauth.private_key_pem = Some(other.private_key_pem.clone());
    let err = PdsClient::new(cfg)
        .unwrap()
        .read_patient(&nhs("9690937278"), &ctx())
        .await
        .unwrap_err();
    match err {
        PdsError::Auth(AuthError::Rejected {
            status,
            description,
            ..
        }) => {
            assert_eq!(status, 401);
            assert!(description.contains("signature"), "{description}");
        }
        other => panic!("{other:?}"),
    }
    let mut cfg = env.pds_config.clone();
    cfg.oauth.api_key = SecretString::from("not-our-key");
    let err = PdsClient::new(cfg)
        .unwrap()
        .read_patient(&nhs("9690937278"), &ctx())
        .await
        .unwrap_err();
    assert!(
        matches!(err, PdsError::Auth(AuthError::Rejected { status: 401, .. })),
        "{err:?}"
    );
    let mut cfg = env.pds_config.clone();
    cfg.oauth.kid = "unknown-kid".into();
    let err = PdsClient::new(cfg)
        .unwrap()
        .read_patient(&nhs("9690937278"), &ctx())
        .await
        .unwrap_err();
    assert!(
        matches!(err, PdsError::Auth(AuthError::Rejected { status: 401, .. })),
        "{err:?}"
    );
    assert_eq!(env.sandbox.stats().tokens_issued, 0);
    assert_eq!(env.sandbox.stats().pds_requests, 0);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn pds_retries_5xx_then_reports_the_upstream_error() {
    let env = start(|_| {}).await;
    let pds = env.pds();
    pds.read_patient(&nhs("9690937278"), &ctx()).await.unwrap();
    let before = env.sandbox.stats().pds_requests;
    env.sandbox
        .set_fault(
            Api::Pds,
            Fault {
                failure_rate: 1.0,
                ..Fault::default()
            },
        )
        .await;
    let err = pds
        .read_patient(&nhs("9690937278"), &ctx())
        .await
        .unwrap_err();
    assert!(
        matches!(err, PdsError::Upstream { status: 503, .. }),
        "{err:?}"
    );
    // max_retries = 2: three attempts
    assert_eq!(env.sandbox.stats().pds_requests - before, 3);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn sds_gives_the_practice_asid_party_key_and_endpoint() {
    let env = start(|_| {}).await;
    let sds = env.sds();
    let rec = sds.lookup_gp_connect("B82617").await.unwrap();
    assert_eq!(Some(rec.asid.clone()), env.sandbox.practice_asid("B82617"));
    assert_eq!(rec.fhir_base_url, env.sandbox.endpoint_address("B82617"));
    assert!(rec.party_key.starts_with("B82617-"));

    let err = sds.lookup_gp_connect("ZZZ999").await.unwrap_err();
    assert!(matches!(err, SdsError::NotFound { .. }), "{err:?}");
    let err = sds
        .lookup("B82617", "urn:nhs:names:services:other")
        .await
        .unwrap_err();
    assert!(matches!(err, SdsError::NotFound { .. }), "{err:?}");

    let mut cfg = env.sds_config.clone();
    cfg.api_key = SecretString::from("wrong");
    let err = SdsClient::new(cfg)
        .unwrap()
        .lookup_gp_connect("B82617")
        .await
        .unwrap_err();
    assert!(
        matches!(err, SdsError::Unauthorised { status: 401 }),
        "{err:?}"
    );
    env.sandbox.shutdown().await;
}
