//! Inbound mutual TLS with certificates generated at test time: a client certificate from the
//! configured CA is served; no certificate, or one from another CA, never reaches a handler.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use common::*;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use xhuma::config::TlsConfig;

struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

/// (certificate PEM, key PEM)
fn leaf(ca: &Ca, names: &[&str]) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .unwrap()
        .signed_by(&key, &ca.issuer)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

fn client(server_ca: &Ca, identity: Option<&(String, String)>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(server_ca.pem.as_bytes()).unwrap()]);
    if let Some((cert, key)) = identity {
        b = b.identity(reqwest::Identity::from_pem(format!("{cert}\n{key}").as_bytes()).unwrap());
    }
    b.build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_admits_only_clients_of_the_configured_ca() {
    service_kit::crypto::install_default_provider();
    let server_ca = ca("Xhuma test server CA");
    let client_ca = ca("Xhuma test client CA");
    let rogue_ca = ca("Someone else");
    let (server_cert, server_key) = leaf(&server_ca, &["127.0.0.1", "localhost"]);
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let tls = TlsConfig {
        cert_path: write("server.pem", &server_cert),
        key_path: write("server.key", &server_key),
        client_ca_path: Some(write("clients-ca.pem", &client_ca.pem)),
    };
    let gw = gateway(|c| c.tls = Some(tls)).await;
    assert!(gw.base.starts_with("https://"));
    let url = format!("{}/health/live", gw.base.replace("127.0.0.1", "localhost"));

    let good = leaf(&client_ca, &["ehr.example.test"]);
    let r = client(&server_ca, Some(&good))
        .get(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The SOAP flow works over mutual TLS too.
    let r = client(&server_ca, Some(&good))
        .post(format!(
            "{}/SOAP/iti55",
            gw.base.replace("127.0.0.1", "localhost")
        ))
        .header("content-type", CT_SOAP)
        .body(iti55_request("9690937278"))
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert_eq!(ack_code(&text), "AA");
    check_hl7(&text);

    // No client certificate: the handshake fails, nothing is served.
    assert!(client(&server_ca, None).get(&url).send().await.is_err());
    // A certificate from another CA: refused.
    let rogue = leaf(&rogue_ca, &["ehr.example.test"]);
    assert!(
        client(&server_ca, Some(&rogue))
            .get(&url)
            .send()
            .await
            .is_err()
    );
    // A header claiming a certificate changes nothing.
    let r = client(&server_ca, None)
        .get(&url)
        .header("X-SSL-Client-Verify", "SUCCESS")
        .send()
        .await;
    assert!(r.is_err());
    // Plain HTTP to the TLS port is not served either.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/health/live", gw.running.addr))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    gw.running.shutdown().await;
}

#[test]
fn unreadable_tls_files_are_clear_errors() {
    let cfg = TlsConfig {
        cert_path: "/nonexistent/server.pem".into(),
        key_path: "/nonexistent/server.key".into(),
        client_ca_path: None,
    };
    let err = xhuma::security::server_config(&cfg)
        .unwrap_err()
        .to_string();
    assert!(err.contains("server certificate"), "{err}");
    assert!(err.contains("/nonexistent/server.pem"), "{err}");
}
