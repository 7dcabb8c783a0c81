//! HTTP hygiene over real HTTP: `X-Content-Type-Options` on every answer, `Cache-Control:
//! no-store` on every clinical answer, `Retry-After` on 429, liveness outside the rate limit,
//! envelope refusals (Content-Type, two Bodies, no MessageID) as SOAP Faults, and private
//! files in the data directory.
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;

const NHS: &str = "9690937278";

async fn raw(
    gw: &Gw,
    method: reqwest::Method,
    path: &str,
    ct: Option<&str>,
    body: String,
) -> reqwest::Response {
    let mut b = gw.http.request(method, format!("{}{path}", gw.base));
    if let Some(ct) = ct {
        b = b.header("content-type", ct);
    }
    b.body(body).send().await.unwrap()
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn every_answer_is_nosniff_and_clinical_answers_are_no_store() {
    let gw = gateway(|_| {}).await;
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    let iti38 = iti38_request(NHS);
    let cases: Vec<(reqwest::Method, &str, Option<&str>, String, bool)> = vec![
        (
            post.clone(),
            "/SOAP/iti38",
            Some(CT_SOAP),
            iti38.clone(),
            true,
        ),
        (
            post.clone(),
            "/SOAP/iti55",
            Some(CT_SOAP),
            iti55_request(NHS),
            true,
        ),
        (
            post.clone(),
            "/SOAP/iti39",
            Some(CT_SOAP),
            "<nope".into(),
            true,
        ),
        (
            get.clone(),
            "/preview/9690937278",
            None,
            String::new(),
            true,
        ),
        (get.clone(), "/preview/123", None, String::new(), true),
        (get.clone(), "/health/live", None, String::new(), false),
        (get.clone(), "/health/ready", None, String::new(), false),
        (get.clone(), "/metrics", None, String::new(), false),
        (get.clone(), "/no/such/path", None, String::new(), false),
    ];
    for (m, path, ct, body, clinical) in cases {
        let r = raw(&gw, m, path, ct, body).await;
        assert_eq!(
            header(&r, "x-content-type-options"),
            Some("nosniff"),
            "{path} {}",
            r.status()
        );
        if clinical {
            assert_eq!(
                header(&r, "cache-control"),
                Some("no-store"),
                "{path} {}",
                r.status()
            );
        }
    }
    gw.running.shutdown().await;
}

#[tokio::test]
async fn rate_limited_answers_say_when_to_retry_and_liveness_is_exempt() {
    let gw = gateway(|c| {
        c.limits.rate_per_second = 1;
        c.limits.rate_burst = 2;
    })
    .await;
    let mut soap_429 = None;
    let mut http_429 = None;
    for _ in 0..10 {
        let r = raw(
            &gw,
            reqwest::Method::POST,
            "/SOAP/iti55",
            Some(CT_SOAP),
            iti55_request(NHS),
        )
        .await;
        if r.status() == 429 {
            soap_429 = Some(r);
            break;
        }
    }
    for _ in 0..10 {
        let r = raw(&gw, reqwest::Method::GET, "/metrics", None, String::new()).await;
        if r.status() == 429 {
            http_429 = Some(r);
            break;
        }
    }
    for r in [soap_429.unwrap(), http_429.unwrap()] {
        let secs: u64 = header(&r, "retry-after").unwrap().parse().unwrap();
        assert!((1..=10).contains(&secs), "Retry-After {secs}");
        assert_eq!(header(&r, "x-content-type-options"), Some("nosniff"));
    }
    // Everything else is limited now, liveness is not.
    for _ in 0..30 {
        let r = gw.get("/health/live").await;
        assert_eq!(r.status, 200);
    }
    gw.running.shutdown().await;
}

fn fault_reason(r: &Reply) -> String {
    let t = r.text();
    assert!(
        r.content_type.starts_with("application/soap+xml"),
        "{}",
        r.content_type
    );
    conformance::well_formed(&t).assert_ok();
    assert!(t.contains("Fault>"), "{t}");
    assert!(!t.contains("RegistryObjectList"), "{t}");
    t
}

#[tokio::test]
async fn envelope_refusals_are_soap_faults() {
    let gw = gateway(|_| {}).await;
    let req = iti38_request(NHS);

    // No Content-Type at all.
    let r = gw
        .http
        .post(format!("{}/SOAP/iti38", gw.base))
        .body(req.clone())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let reply = Reply {
        status,
        content_type: header(&r, "content-type").unwrap_or_default().to_owned(),
        body: r.bytes().await.unwrap().to_vec(),
    };
    assert_eq!(reply.status, 400);
    assert!(fault_reason(&reply).contains("Content-Type header is missing"));

    // Wrong media types, including SOAP 1.1's text/xml around a SOAP 1.2 envelope.
    for ct in ["application/xml", "text/plain", "text/xml; charset=UTF-8"] {
        let r = gw.post("/SOAP/iti38", ct, req.clone()).await;
        assert_eq!(r.status, 400, "{ct}");
        assert!(fault_reason(&r).contains("Content-Type"), "{ct}");
    }

    // Two Bodies.
    let two = req.replacen(
        "</soap:Body>",
        "</soap:Body><soap:Body><other xmlns=\"urn:x\"/></soap:Body>",
        1,
    );
    let r = gw.post("/SOAP/iti38", CT_SOAP, two).await;
    assert_eq!(r.status, 400);
    assert!(fault_reason(&r).contains("2 Body elements"));

    // No MessageID.
    let start = req.find("<wsa:MessageID>").unwrap();
    let end = req.find("</wsa:MessageID>").unwrap() + "</wsa:MessageID>".len();
    let mut none = req.clone();
    none.replace_range(start..end, "");
    let r = gw.post("/SOAP/iti38", CT_SOAP, none).await;
    assert_eq!(r.status, 400);
    let t = fault_reason(&r);
    assert!(t.contains("MessageID"), "{t}");
    assert!(t.contains("MessageAddressingHeaderRequired"), "{t}");

    // The well-formed request is still answered.
    assert_eq!(gw.post("/SOAP/iti38", CT_SOAP, req).await.status, 200);
    gw.running.shutdown().await;
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn data_directory_and_its_files_are_private() {
    let outer = tempfile::tempdir().unwrap();
    std::fs::set_permissions(outer.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // A directory that does not exist yet, and one that exists with wide permissions.
    let fresh = outer.path().join("new/data");
    let wide = outer.path().join("wide");
    std::fs::create_dir(&wide).unwrap();
    std::fs::set_permissions(&wide, std::fs::Permissions::from_mode(0o755)).unwrap();
    for dir in [fresh, wide] {
        let d = dir.clone();
        let gw = gateway(move |c| c.data_dir = d).await;
        assert_eq!(gw.iti38(NHS).await.status, 200);
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
        assert_eq!(mode(&dir.join("audit-spool")), 0o700);
        for f in ["audit.db", "pseudonym.key"] {
            assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
        }
        for e in std::fs::read_dir(dir.join("audit-spool")).unwrap() {
            let p = e.unwrap().path();
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
        gw.running.state.flow.audit.flush().await.unwrap();
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                assert_eq!(mode(&p) & 0o077, 0, "{}", p.display());
            }
        }
        gw.running.shutdown().await;
    }
}
