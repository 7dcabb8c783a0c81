//! The SMTP adapter against a real SMTP server (Python aiosmtpd) on loopback that
//! requires STARTTLS, with a CA and server certificate generated per test.

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use px360_delivery::email::{SmtpConfig, SmtpEmail, SmtpTls};
use px360_delivery::{EmailAddress, EmailContent, Language, OutboundMessage, Provider, SendError};
use tokio::io::{AsyncBufReadExt, BufReader};
use uuid::Uuid;

struct SmtpServer {
    child: tokio::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn outdir(&self) -> PathBuf {
        self.dir.path().join("mail")
    }

    /// The messages received so far, in order.
    fn received(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.outdir())
            .expect("outdir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        v.sort();
        v
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn aiosmtpd_installed() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn write_certs(dir: &Path) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        SanType,
    };
    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "px360-delivery test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).expect("ca cert");
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().expect("leaf key");
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).expect("leaf params");
    leaf.subject_alt_names
        .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).expect("leaf cert");
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).expect("write ca");
    std::fs::write(dir.join("server.pem"), leaf_cert.pem()).expect("write cert");
    std::fs::write(dir.join("server.key"), leaf_key.serialize_pem()).expect("write key");
}

async fn start_server() -> Option<SmtpServer> {
    if !support::tool_available("python3 aiosmtpd", aiosmtpd_installed()) {
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    write_certs(dir.path());
    std::fs::create_dir(dir.path().join("mail")).expect("mail dir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
    let mut child = tokio::process::Command::new("python3")
        .arg(script)
        .arg(dir.path().join("server.pem"))
        .arg(dir.path().join("server.key"))
        .arg(dir.path().join("mail"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn aiosmtpd");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    tokio::time::timeout(
        Duration::from_secs(20),
        BufReader::new(stdout).read_line(&mut line),
    )
    .await
    .expect("aiosmtpd started in time")
    .expect("read PORT line");
    let port = line
        .trim()
        .strip_prefix("PORT=")
        .and_then(|p| p.parse().ok())
        .expect("PORT=n");
    Some(SmtpServer { child, port, dir })
}

fn config(server: &SmtpServer, tls: SmtpTls) -> SmtpConfig {
    SmtpConfig {
        host: "localhost".into(),
        port: server.port,
        tls,
        tls_server_name: None,
        extra_root_ca_pem: Some(server.ca()),
        username: None,
        password: None,
        from: "مستشفى PX360 <surveys@hospital.example.sa>".into(),
        timeout_secs: 10,
    }
}

fn arabic_message(to: &str) -> OutboundMessage {
    OutboundMessage::email(
        Uuid::parse_str("0190f1c2-0000-7000-8000-00000000a001").expect("uuid"),
        Language::Ar,
        EmailAddress::parse(to).expect("address"),
        EmailContent {
            subject: "كيف كانت زيارتك لقسم الطوارئ؟".into(),
            html: "<html lang=\"ar\" dir=\"rtl\"><body><p>شكراً لزيارتكم. <a href=\"https://px.example/s/tok\">شاركنا رأيك</a></p></body></html>".into(),
            text: "شكراً لزيارتكم. شاركنا رأيك: https://px.example/s/tok".into(),
        },
    )
}

/// Parses the received .eml with Python's `email` package (an independent MIME parser)
/// and returns what matters as JSON.
fn parse_eml(path: &Path) -> serde_json::Value {
    let script = r#"
import email, email.policy, json, sys
raw = open(sys.argv[1], 'rb').read()
m = email.message_from_bytes(raw, policy=email.policy.default)
parts = [{"type": p.get_content_type(), "charset": p.get_content_charset(), "text": p.get_content()}
         for p in m.iter_parts()] if m.is_multipart() else []
raw_subject = [l for l in raw.decode('ascii', 'replace').split('\r\n') if l.lower().startswith('subject:')][0]
print(json.dumps({"tls": m["X-Was-TLS"], "rcpt": m["X-Rcpt"], "subject": str(m["Subject"]),
  "raw_subject": raw_subject, "type": m.get_content_type(), "lang": m["Content-Language"],
  "message_id": m["Message-ID"], "from": str(m["From"]), "parts": parts}))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn install_crypto() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

#[tokio::test]
async fn starttls_multipart_alternative_in_arabic() {
    install_crypto();
    let Some(server) = start_server().await else {
        return;
    };
    let smtp = SmtpEmail::new(config(&server, SmtpTls::StarttlsRequired)).expect("smtp");
    let msg = arabic_message("patient@example.org");
    let receipt = smtp.send(&msg).await.expect("sent");
    assert_eq!(
        receipt.provider_message_id,
        "<0190f1c2-0000-7000-8000-00000000a001@hospital.example.sa>"
    );

    let files = server.received();
    assert_eq!(files.len(), 1);
    let m = parse_eml(&files[0]);
    assert_eq!(m["tls"], "True", "the session was upgraded with STARTTLS");
    assert_eq!(m["rcpt"], "patient@example.org");
    assert_eq!(m["subject"], "كيف كانت زيارتك لقسم الطوارئ؟");
    let raw_subject = m["raw_subject"].as_str().expect("raw subject");
    assert!(
        raw_subject.to_ascii_lowercase().contains("=?utf-8?"),
        "RFC 2047 encoded: {raw_subject}"
    );
    assert_eq!(m["type"], "multipart/alternative");
    assert_eq!(m["lang"], "ar");
    assert_eq!(
        m["message_id"],
        "<0190f1c2-0000-7000-8000-00000000a001@hospital.example.sa>"
    );
    assert!(m["from"].as_str().expect("from").contains("مستشفى PX360"));
    let parts = m["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0]["type"], "text/plain");
    assert_eq!(parts[1]["type"], "text/html");
    for p in parts {
        assert_eq!(p["charset"], "utf-8");
        assert!(p["text"].as_str().expect("text").contains("شكراً لزيارتكم"));
    }
    assert!(
        parts[1]["text"]
            .as_str()
            .expect("html")
            .contains("dir=\"rtl\"")
    );
}

#[tokio::test]
async fn opportunistic_starttls_upgrades_when_offered() {
    install_crypto();
    let Some(server) = start_server().await else {
        return;
    };
    let smtp = SmtpEmail::new(config(&server, SmtpTls::StarttlsOpportunistic)).expect("smtp");
    smtp.send(&arabic_message("patient@example.org"))
        .await
        .expect("sent");
    let m = parse_eml(&server.received()[0]);
    assert_eq!(m["tls"], "True");
}

#[tokio::test]
async fn server_answers_are_classified() {
    install_crypto();
    let Some(server) = start_server().await else {
        return;
    };
    let smtp = SmtpEmail::new(config(&server, SmtpTls::StarttlsRequired)).expect("smtp");
    let err = smtp
        .send(&arabic_message("unknown@example.org"))
        .await
        .expect_err("refused");
    assert_eq!(err, SendError::InvalidRecipient { code: "550".into() });
    let err = smtp
        .send(&arabic_message("busy@example.org"))
        .await
        .expect_err("deferred");
    assert!(matches!(err, SendError::Transient { .. }), "{err:?}");
    assert!(err.is_retryable());
    // The error text never carries the address.
    assert!(!format!("{err} {err:?}").contains("busy@"));
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn plain_smtp_is_refused_by_a_server_that_requires_starttls() {
    install_crypto();
    let Some(server) = start_server().await else {
        return;
    };
    let mut c = config(&server, SmtpTls::None);
    c.host = "127.0.0.1".into();
    let smtp = SmtpEmail::new(c).expect("smtp");
    let err = smtp
        .send(&arabic_message("patient@example.org"))
        .await
        .expect_err("530");
    assert!(
        matches!(&err, SendError::Configuration { code, .. } if code == "530"),
        "{err:?}"
    );
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn untrusted_certificate_is_a_configuration_error() {
    install_crypto();
    let Some(server) = start_server().await else {
        return;
    };
    let mut c = config(&server, SmtpTls::StarttlsRequired);
    c.extra_root_ca_pem = None;
    let smtp = SmtpEmail::new(c).expect("smtp");
    let err = smtp
        .send(&arabic_message("patient@example.org"))
        .await
        .expect_err("untrusted");
    assert!(
        matches!(&err, SendError::Configuration { code, .. } if code == "tls"),
        "{err:?}"
    );
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn refused_connection_and_silent_server_are_transient() {
    install_crypto();
    let dir = tempfile::tempdir().expect("tempdir");
    write_certs(dir.path());
    let base = SmtpConfig {
        host: "localhost".into(),
        port: support::refused_port(),
        tls: SmtpTls::StarttlsRequired,
        tls_server_name: None,
        extra_root_ca_pem: Some(dir.path().join("ca.pem")),
        username: None,
        password: None,
        from: "surveys@hospital.example.sa".into(),
        timeout_secs: 1,
    };
    let err = SmtpEmail::new(base.clone())
        .expect("smtp")
        .send(&arabic_message("p@example.org"))
        .await
        .expect_err("refused");
    assert!(matches!(err, SendError::Transient { .. }), "{err:?}");

    // Accepts the TCP connection and never sends the 220 greeting.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let started = std::time::Instant::now();
    let err = SmtpEmail::new(SmtpConfig { port, ..base })
        .expect("smtp")
        .send(&arabic_message("p@example.org"))
        .await
        .expect_err("timeout");
    assert!(matches!(err, SendError::Transient { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "timed out promptly: {:?}",
        started.elapsed()
    );
    hold.abort();
}
