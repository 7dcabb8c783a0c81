//! Mutual TLS towards the Spine: the client identity and CA bundle are loaded from PEM files
//! (certificates generated at test time with rcgen) and used in a real handshake against a
//! loopback TLS server that requires a client certificate signed by the test CA.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{ctx, nhs};
use nhs_spine::TlsConfig;
use nhs_spine::gpconnect::{GpConnectClient, GpConnectConfig, GpConnectError};
use nhs_spine::sds::SdsRecord;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Pki {
    dir: tempfile::TempDir,
    ca_der: CertificateDer<'static>,
    server_cert: CertificateDer<'static>,
    server_key: PrivateKeyDer<'static>,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client_cert = CertificateParams::new(vec!["gateway.test".to_owned()])
        .unwrap()
        .signed_by(&client_key, &issuer)
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.path().join("client.pem"), client_cert.pem()).unwrap();
    std::fs::write(dir.path().join("client.key"), client_key.serialize_pem()).unwrap();
    Pki {
        dir,
        ca_der: ca_cert.der().clone(),
        server_cert: server_cert.der().clone(),
        server_key: PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
    }
}

fn tls(pki: &Pki, with_identity: bool) -> TlsConfig {
    let p = |f: &str| Some(pki.dir.path().join(f));
    TlsConfig {
        client_cert_path: if with_identity { p("client.pem") } else { None },
        client_key_path: if with_identity { p("client.key") } else { None },
        ca_bundle_path: p("ca.pem"),
    }
}

/// A TLS server that requires a client certificate from the test CA and answers every request
/// with an empty Bundle. Returns its port.
async fn mtls_server(pki: &Pki) -> u16 {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_der.clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
        .build()
        .unwrap();
    let config = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![pki.server_cert.clone()], pki.server_key.clone_key())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0u8; 64 * 1024];
                let _ = tls.read(&mut buf).await;
                let body = r#"{"resourceType":"Bundle","type":"collection","entry":[]}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/fhir+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

fn config(tls: TlsConfig) -> GpConnectConfig {
    GpConnectConfig {
        ssp_url: None,
        consumer_asid: "200000000359".into(),
        issuer: "https://xhuma.test".into(),
        device_id: "xhuma-test".into(),
        device_model: "Xhuma".into(),
        device_version: "0.1.0".into(),
        clinical_areas: Default::default(),
        resilience: nhs_spine::ResilienceConfig {
            max_retries: 0,
            ..common::fast_resilience()
        },
        tls,
    }
}

#[tokio::test]
async fn client_certificate_and_ca_bundle_complete_a_mutual_tls_handshake() {
    let pki = pki();
    let port = mtls_server(&pki).await;
    let provider = SdsRecord {
        asid: "918999198993".into(),
        party_key: "X-1".into(),
        fhir_base_url: format!("https://127.0.0.1:{port}/fhir"),
    };
    let ok = GpConnectClient::new(config(tls(&pki, true)))
        .unwrap()
        .get_structured_record(&nhs("9690937278"), &provider, &ctx())
        .await
        .unwrap();
    assert!(ok.bundle.starts_with(b"{\"resourceType\":\"Bundle\""));

    // without our certificate the server refuses the handshake
    let err = GpConnectClient::new(config(tls(&pki, false)))
        .unwrap()
        .get_structured_record(&nhs("9690937278"), &provider, &ctx())
        .await
        .unwrap_err();
    assert!(matches!(err, GpConnectError::Network(_)), "{err:?}");

    // trusting only the public web roots, the server's certificate is not trusted
    let err = GpConnectClient::new(config(TlsConfig::default()))
        .unwrap()
        .get_structured_record(&nhs("9690937278"), &provider, &ctx())
        .await
        .unwrap_err();
    assert!(matches!(err, GpConnectError::Network(_)), "{err:?}");
}

#[test]
fn tls_configuration_errors_are_clear() {
    let pki = pki();
    let mut half = tls(&pki, true);
    half.client_key_path = None;
    let err = GpConnectClient::new(config(half)).unwrap_err();
    assert!(err.to_string().contains("together"), "{err}");

    let mut missing = tls(&pki, true);
    missing.ca_bundle_path = Some(pki.dir.path().join("nope.pem"));
    let err = GpConnectClient::new(config(missing)).unwrap_err();
    assert!(err.to_string().contains("CA bundle"), "{err}");

    std::fs::write(pki.dir.path().join("empty.pem"), "not a certificate").unwrap();
    let mut garbage = tls(&pki, true);
    garbage.ca_bundle_path = Some(pki.dir.path().join("empty.pem"));
    assert!(GpConnectClient::new(config(garbage)).is_err());
}
