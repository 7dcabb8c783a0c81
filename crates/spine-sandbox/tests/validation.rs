//! The sandbox rejects bad requests the way the NHS APIs do: GP Connect JWT claims, Ssp
//! headers and Parameters; PDS headers and tokens; SDS API key and search parameters. Driven
//! with raw HTTP so that each request can be wrong in exactly one way.
#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use spine_sandbox::{Sandbox, SandboxConfig, SandboxHandle};

const INTERACTION: &str =
    "urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1";

fn claims(aud: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": "https://consumer.test",
        "sub": "user-1",
        "aud": aud,
        "exp": now + 300,
        "iat": now,
        "reason_for_request": "directcare",
        "requested_scope": "patient/*.read",
        "requesting_device": {
            "resourceType": "Device",
            "identifier": [{ "system": "https://consumer.test/Id/device", "value": "dev-1" }],
            "model": "Test", "version": "1.0"
        },
        "requesting_organization": {
            "resourceType": "Organization",
            "identifier": [{ "system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RRK" }],
            "name": "Example Trust"
        },
        "requesting_practitioner": {
            "resourceType": "Practitioner",
            "id": "user-1",
            "identifier": [
                { "system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "UNK" },
                { "system": "https://fhir.nhs.uk/Id/sds-role-profile-id", "value": "UNK" },
                { "system": "https://consumer.test/Id/local-user-id", "value": "user-1" }
            ],
            "name": [{ "family": "Jones", "given": ["Ann"] }]
        }
    })
}

fn unsigned(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

fn parameters(nhs: &str) -> Value {
    json!({
        "resourceType": "Parameters",
        "parameter": [
            { "name": "patientNHSNumber", "valueIdentifier": { "system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs } },
            { "name": "includeAllergies", "part": [{ "name": "includeResolvedAllergies", "valueBoolean": true }] },
            { "name": "includeMedication", "part": [{ "name": "includePrescriptionIssues", "valueBoolean": true }] }
        ]
    })
}

struct Call {
    headers: Vec<(&'static str, String)>,
    body: String,
}

impl Call {
    fn good(sandbox: &SandboxHandle) -> Self {
        let aud = sandbox.endpoint_address("B82617");
        Self {
            headers: vec![
                ("Ssp-TraceID", uuid::Uuid::new_v4().to_string()),
                ("Ssp-From", "200000000359".into()),
                ("Ssp-To", sandbox.practice_asid("B82617").unwrap()),
                ("Ssp-InteractionID", INTERACTION.into()),
                (
                    "Authorization",
                    format!(
                        "Bearer {}",
                        unsigned(&json!({"alg":"none","typ":"JWT"}), &claims(&aud))
                    ),
                ),
                ("Content-Type", "application/fhir+json".into()),
            ],
            body: parameters("9690937278").to_string(),
        }
    }
    fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| *n != name);
        self
    }
    fn with(mut self, name: &'static str, value: String) -> Self {
        self = self.without(name);
        self.headers.push((name, value));
        self
    }
    fn jwt(self, header: Value, claims: Value) -> Self {
        self.with(
            "Authorization",
            format!("Bearer {}", unsigned(&header, &claims)),
        )
    }
    async fn send(self, sandbox: &SandboxHandle) -> (u16, String) {
        let url = format!(
            "{}/{}/Patient/$gpc.getstructuredrecord",
            sandbox.ssp_url(),
            sandbox.endpoint_address("B82617")
        );
        let mut req = reqwest::Client::new().post(url).body(self.body);
        for (n, v) in self.headers {
            req = req.header(n, v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        let code = body["issue"][0]["details"]["coding"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        (status, code)
    }
}

async fn sandbox() -> SandboxHandle {
    Sandbox::start(SandboxConfig {
        fixtures_dir: Some(spine_sandbox::SHARED_FIXTURES_DIR.into()),
        ..SandboxConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_correct_request_is_answered() {
    let s = sandbox().await;
    let (status, _) = Call::good(&s).send(&s).await;
    assert_eq!(status, 200);
    s.shutdown().await;
}

#[tokio::test]
async fn each_missing_or_wrong_jwt_claim_is_a_bad_request() {
    let s = sandbox().await;
    let aud = s.endpoint_address("B82617");
    let none = json!({"alg":"none","typ":"JWT"});
    let mut cases: Vec<(String, Value, Value)> = Vec::new();
    for claim in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "reason_for_request",
        "requested_scope",
        "requesting_device",
        "requesting_organization",
        "requesting_practitioner",
    ] {
        let mut c = claims(&aud);
        c.as_object_mut().unwrap().remove(claim);
        cases.push((format!("missing {claim}"), none.clone(), c));
    }
    type Edit = Box<dyn Fn(&mut Value)>;
    let wrong: Vec<(&str, Edit)> = vec![
        (
            "reason_for_request",
            Box::new(|c| c["reason_for_request"] = json!("secondaryuses")),
        ),
        (
            "requested_scope",
            Box::new(|c| c["requested_scope"] = json!("patient/*.write")),
        ),
        (
            "aud of another practice",
            Box::new(|c| c["aud"] = json!("https://elsewhere.test/fhir")),
        ),
        (
            "lifetime over 5 minutes",
            Box::new(|c| c["exp"] = json!(c["iat"].as_i64().unwrap() + 600)),
        ),
        (
            "expired",
            Box::new(|c| {
                c["iat"] = json!(1_600_000_000);
                c["exp"] = json!(1_600_000_300);
            }),
        ),
        (
            "sub differs from practitioner id",
            Box::new(|c| c["sub"] = json!("someone-else")),
        ),
        (
            "practitioner id not a FHIR id",
            Box::new(|c| {
                c["sub"] = json!("a b");
                c["requesting_practitioner"]["id"] = json!("a b");
            }),
        ),
        (
            "no sds-role-profile-id",
            Box::new(|c| {
                c["requesting_practitioner"]["identifier"]
                    .as_array_mut()
                    .unwrap()
                    .remove(1);
            }),
        ),
        (
            "organisation without ODS system",
            Box::new(|c| {
                c["requesting_organization"]["identifier"][0]["system"] = json!("urn:local")
            }),
        ),
        (
            "device without model",
            Box::new(|c| {
                c["requesting_device"]
                    .as_object_mut()
                    .unwrap()
                    .remove("model");
            }),
        ),
        (
            "issuer not a URI",
            Box::new(|c| c["iss"] = json!("not a uri")),
        ),
    ];
    for (name, f) in wrong {
        let mut c = claims(&aud);
        f(&mut c);
        cases.push((name.to_owned(), none.clone(), c));
    }
    cases.push((
        "signed (alg RS256)".into(),
        json!({"alg":"RS256","typ":"JWT"}),
        claims(&aud),
    ));
    for (name, header, c) in cases {
        let (status, code) = Call::good(&s).jwt(header, c).send(&s).await;
        assert_eq!((status, code.as_str()), (400, "BAD_REQUEST"), "{name}");
    }
    let (status, _) = Call::good(&s).without("Authorization").send(&s).await;
    assert_eq!(status, 400, "no Authorization");
    s.shutdown().await;
}

#[tokio::test]
async fn ssp_headers_are_enforced() {
    let s = sandbox().await;
    for h in ["Ssp-TraceID", "Ssp-From", "Ssp-To", "Ssp-InteractionID"] {
        let (status, code) = Call::good(&s).without(h).send(&s).await;
        assert_eq!((status, code.as_str()), (400, "BAD_REQUEST"), "missing {h}");
    }
    let (status, _) = Call::good(&s)
        .with("Ssp-TraceID", "not-a-uuid".into())
        .send(&s)
        .await;
    assert_eq!(status, 400);
    let (status, code) = Call::good(&s)
        .with("Ssp-To", "111111111111".into())
        .send(&s)
        .await;
    assert_eq!((status, code.as_str()), (403, "ACCESS_DENIED"));
    let (status, code) = Call::good(&s)
        .with(
            "Ssp-InteractionID",
            "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1".into(),
        )
        .send(&s)
        .await;
    assert_eq!((status, code.as_str()), (403, "ACCESS_DENIED"));
    s.shutdown().await;
}

#[tokio::test]
async fn parameters_are_validated() {
    let s = sandbox().await;
    let with_body = |body: Value| {
        let mut c = Call::good(&s);
        c.body = body.to_string();
        c
    };
    let (status, code) = {
        let mut c = Call::good(&s);
        c.body = "{not json".into();
        c.send(&s).await
    };
    assert_eq!((status, code.as_str()), (422, "INVALID_RESOURCE"));
    let (status, code) = with_body(parameters("9690937279")).send(&s).await;
    assert_eq!((status, code.as_str()), (400, "INVALID_NHS_NUMBER"));
    let mut p = parameters("9690937278");
    p["parameter"][0]["valueIdentifier"]["system"] = json!("http://fhir.nhs.net/Id/nhs-number");
    let (status, code) = with_body(p).send(&s).await;
    assert_eq!((status, code.as_str()), (400, "INVALID_IDENTIFIER_SYSTEM"));
    let mut p = parameters("9690937278");
    p["parameter"][1]["part"] = json!([]);
    let (status, code) = with_body(p).send(&s).await;
    assert_eq!((status, code.as_str()), (422, "INVALID_PARAMETER"));
    let mut p = parameters("9690937278");
    p["parameter"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "includeEverything"}));
    let (status, code) = with_body(p).send(&s).await;
    assert_eq!((status, code.as_str()), (422, "INVALID_PARAMETER"));
    let mut p = parameters("9690937278");
    p["parameter"].as_array_mut().unwrap().remove(0);
    let (status, code) = with_body(p).send(&s).await;
    assert_eq!((status, code.as_str()), (422, "INVALID_PARAMETER"));
    s.shutdown().await;
}

#[tokio::test]
async fn pds_and_sds_refuse_requests_without_credentials() {
    let s = sandbox().await;
    let http = reqwest::Client::new();
    let resp = http
        .get(format!("{}/Patient/9690937278", s.pds_base_url()))
        .header("X-Request-ID", uuid::Uuid::new_v4().to_string())
        .header("NHSD-End-User-Organisation-ODS", "RRK")
        .bearer_auth("made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let resp = http
        .get(format!("{}/Device", s.sds_base_url()))
        .query(&[(
            "organization",
            "https://fhir.nhs.uk/Id/ods-organization-code|B82617",
        )])
        .header("apikey", s.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400, "identifier missing");
    let resp = http
        .get(format!("{}/Endpoint", s.sds_base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401, "apikey missing");
    let resp = http
        .post(s.token_url())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    let patients: Value = http
        .get(format!("{}/_sandbox/patients", s.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        patients
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["scenario"] == "no consent")
    );
    s.shutdown().await;
}
