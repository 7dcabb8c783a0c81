//! The dashboards and recording rules of deploy/ against reality: the real `xhuma` and `px360`
//! binaries (embedded defaults, temporary directories, loopback ports) under a short load,
//! scraped every second by a real Prometheus (Debian's `prometheus`) loaded with
//! deploy/prometheus/*.rules.yml; then every panel expression of deploy/grafana/dashboards and
//! every recording rule must return data through Prometheus' HTTP API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Kills the process when the test ends, whatever happens.
struct Proc(Child, &'static str);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    fn spawn(name: &'static str, cmd: &mut Command) -> Self {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc(child, name)
    }

    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.0.try_wait() {
            panic!("{} exited early: {status}", self.1);
        }
    }
}

async fn wait_http(http: &reqwest::Client, url: &str, proc: &mut Proc) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        proc.assert_running();
        if let Ok(r) = http.get(url).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "{url} never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every `expr` of every panel target of the provisioned dashboards, with its panel title.
fn panel_expressions() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let dir = common::deploy_dir().join("grafana/dashboards");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let dash: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for panel in dash["panels"].as_array().unwrap() {
            for t in panel["targets"].as_array().unwrap() {
                out.push((
                    format!(
                        "{} / {}",
                        path.file_name().unwrap().to_string_lossy(),
                        panel["title"].as_str().unwrap()
                    ),
                    t["expr"].as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    assert!(out.len() > 20, "dashboards not found in {}", dir.display());
    out
}

/// The recording rules' names (`- record: NAME`) of a rules file.
fn recorded(rules: &str) -> Vec<String> {
    rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- record:"))
        .map(|n| n.trim().to_owned())
        .collect()
}

fn soap(action: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing">
  <soap:Header>
    <wsa:Action soap:mustUnderstand="true">{action}</wsa:Action>
    <wsa:MessageID>urn:uuid:{}</wsa:MessageID>
    <wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>
  </soap:Header>
  <soap:Body>{body}</soap:Body>
</soap:Envelope>"#,
        uuid::Uuid::new_v4()
    )
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = text.find(start)? + start.len();
    let rest = &text[i..];
    Some(&rest[..rest.find(end)?])
}

const CT_SOAP: &str = "application/soap+xml; charset=UTF-8";

/// ITI-55 → ITI-38 → ITI-39 for an embedded synthetic patient.
async fn xhuma_load(http: &reqwest::Client, base: &str) {
    let iti55 = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../xhuma/examples/iti55-request.xml"),
    )
    .unwrap();
    let post = |path: &str, body: String| {
        http.post(format!("{base}{path}"))
            .header("content-type", CT_SOAP)
            .body(body)
            .send()
    };
    let r = post("/SOAP/iti55", iti55).await.unwrap();
    assert_eq!(r.status(), 200);
    let iti38 = soap(
        "urn:ihe:iti:2007:CrossGatewayQuery",
        r#"<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
  <query:ResponseOption returnComposedObjects="true" returnType="LeafClass"/>
  <rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">
    <rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'9990000018^^^&amp;2.16.840.1.113883.2.1.4.1&amp;ISO'</rim:Value></rim:ValueList></rim:Slot>
    <rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>
    <rim:Slot name="$XDSDocumentEntryType"><rim:ValueList><rim:Value>('urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1','urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248')</rim:Value></rim:ValueList></rim:Slot>
  </rim:AdhocQuery>
</query:AdhocQueryRequest>"#,
    );
    let text = post("/SOAP/iti38", iti38)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let home = between(&text, " home=\"urn:oid:", "\"").expect("home community id");
    let repo = between(
        &text,
        "name=\"repositoryUniqueId\"><rim:ValueList><rim:Value>",
        "<",
    )
    .expect("repository id");
    let unique = between(&text, "value=\"2.25.", "\"").expect("document unique id");
    for _ in 0..3 {
        let iti39 = soap(
            "urn:ihe:iti:2007:CrossGatewayRetrieve",
            &format!(
                r#"<RetrieveDocumentSetRequest xmlns="urn:ihe:iti:xds-b:2007"><DocumentRequest>
  <HomeCommunityId>urn:oid:{home}</HomeCommunityId><RepositoryUniqueId>{repo}</RepositoryUniqueId>
  <DocumentUniqueId>2.25.{unique}</DocumentUniqueId></DocumentRequest></RetrieveDocumentSetRequest>"#
            ),
        );
        let r = post("/SOAP/iti39", iti39).await.unwrap();
        assert_eq!(r.status(), 200);
    }
}

/// Login, an API key, and a few integration events through the queue.
async fn px360_load(http: &reqwest::Client, base: &str, round: usize) {
    let login: Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    let hospitals: Value = http
        .get(format!("{base}/api/hospitals"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rgh = hospitals
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["code"] == "RGH")
        .expect("seeded RGH")["id"]
        .clone();
    let key: Value = http
        .post(format!("{base}/api/api-keys"))
        .bearer_auth(&token)
        .json(&json!({ "hospital_id": rgh, "name": "monitoring test", "source_systems": ["EPIC"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = key["api_key"].as_str().expect("api key").to_owned();
    for n in 0..5 {
        let r = http
            .post(format!("{base}/api/integrations/events/"))
            .header("X-API-Key", &key)
            .json(&json!({
                "source_system": "EPIC", "event_code": "OP_CHECKIN", "encounter_id": format!("MON-{round}-{n}"),
                "patient_identifier": "RGH-CARD-0001",
                "payload": { "physician_licence": "GMC121", "department_code": "CARD",
                             "timestamp": "2025-03-01T10:00:00Z" }
            }))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        assert_eq!(status, 202, "event {n}: {body}");
    }
}

const ADMIN_PASSWORD: &str = "monitoring-test-admin-password";

async fn query(http: &reqwest::Client, prom: &str, expr: &str) -> Result<usize, String> {
    let r: Value = http
        .get(format!("{prom}/api/v1/query"))
        .query(&[("query", expr)])
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    if r["status"] != "success" {
        return Err(format!("{}: {}", r["errorType"], r["error"]));
    }
    Ok(r["data"]["result"].as_array().map_or(0, Vec::len))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_and_recording_rule_returns_data() {
    let Some(prometheus) = common::tool("prometheus", "prometheus") else {
        return;
    };
    let xhuma_bin = common::workspace_binary("xhuma");
    let px360_bin = common::workspace_binary("px360");
    let tmp = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();

    let xdir = tmp.path().join("xhuma");
    std::fs::create_dir_all(&xdir).unwrap();
    let xport = common::free_port();
    let mut xhuma = Proc::spawn(
        "xhuma",
        Command::new(&xhuma_bin)
            .args(["serve", "--listen", &format!("127.0.0.1:{xport}")])
            .current_dir(&xdir)
            .env("RUST_LOG", "warn"),
    );
    let pdir = tmp.path().join("px360");
    std::fs::create_dir_all(&pdir).unwrap();
    let pport = common::free_port();
    let mut px360 = Proc::spawn(
        "px360",
        Command::new(&px360_bin)
            .args(["serve", "--listen", &format!("127.0.0.1:{pport}")])
            .current_dir(&pdir)
            .env("PX360_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "warn"),
    );

    // Prometheus scraping both every second, evaluating the rules every second.
    let rules_dir = tmp.path().join("rules");
    std::fs::create_dir_all(&rules_dir).unwrap();
    let mut records = Vec::new();
    for file in ["xhuma.rules.yml", "px360.rules.yml"] {
        let text =
            std::fs::read_to_string(common::deploy_dir().join("prometheus").join(file)).unwrap();
        records.extend(recorded(&text));
        std::fs::write(
            rules_dir.join(file),
            text.replace("interval: 15s", "interval: 1s"),
        )
        .unwrap();
    }
    assert!(records.len() >= 10, "{records:?}");
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {r}/xhuma.rules.yml\n  - {r}/px360.rules.yml\nscrape_configs:\n  - job_name: xhuma\n    static_configs:\n      - targets: ['127.0.0.1:{xport}']\n  - job_name: px360\n    static_configs:\n      - targets: ['127.0.0.1:{pport}']\n",
        r = rules_dir.display()
    );
    let config_file = tmp.path().join("prometheus.yml");
    std::fs::write(&config_file, config).unwrap();
    let prom_port = common::free_port();
    let mut prom = Proc::spawn(
        "prometheus",
        Command::new(prometheus)
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                tmp.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .arg("--log.level=warn"),
    );
    let prom_url = format!("http://127.0.0.1:{prom_port}");

    let xbase = format!("http://127.0.0.1:{xport}");
    let pbase = format!("http://127.0.0.1:{pport}");
    wait_http(&http, &format!("{xbase}/health/live"), &mut xhuma).await;
    wait_http(&http, &format!("{pbase}/health/"), &mut px360).await;
    wait_http(&http, &format!("{prom_url}/-/ready"), &mut prom).await;

    // The load, twice a few seconds apart so rates see increases between scrapes.
    for round in 0..2 {
        xhuma_load(&http, &xbase).await;
        px360_load(&http, &pbase, round).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
    }

    let mut pending: Vec<(String, String)> = panel_expressions();
    pending.extend(
        records
            .iter()
            .map(|r| (format!("recording rule {r}"), r.clone())),
    );
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let mut still = Vec::new();
        for (what, expr) in pending {
            match query(&http, &prom_url, &expr).await {
                Ok(n) if n > 0 => {}
                Ok(_) => still.push((what, expr)),
                Err(e) => panic!("{what}: `{expr}` is not valid PromQL: {e}"),
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no data for:\n{}",
            pending
                .iter()
                .map(|(w, e)| format!("  {w}: {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        xhuma.assert_running();
        px360.assert_running();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
