//! The weekly analytics report by email (issue 17 item 5), on both backends: self-service
//! subscription (audited), the job queues one report per subscriber and week however often it
//! runs (and its schedule slot is claimed by one process only), the notifier emails each once to
//! a real SMTP server on loopback (Python aiosmtpd), with the numbers of the subscriber's own
//! scope (the API's, for the same week), in Arabic for an Arabic user.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use chrono::{Duration, TimeZone, Utc};
use common::{ADMIN_PASSWORD, Kind, ServerOpts, TestDb, TestServer};
use px360_api::weekly_report::{GROUP_ZONE, due_week, run_weekly, tick};
use px360_store::Db;
use px360_store::analytics::generate::GenerateSpec;
use px360_worker::notify::{Notifier, NotifyConfig};
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The loopback SMTP server of the worker's tests (std process: no extra tokio features).
struct Smtp {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Smtp {
    fn start() -> Smtp {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../px360-worker/tests/support/plain_smtp.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd)");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT=")
            .and_then(|p| p.parse().ok())
            .expect("PORT=n (is aiosmtpd installed?)");
        Smtp { child, port, dir }
    }

    fn received(&self) -> Vec<Value> {
        let mut v: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        v.sort();
        v.iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    fn to(&self, address: &str) -> Vec<Value> {
        self.received()
            .into_iter()
            .filter(|m| m["rcpt"][0] == address)
            .collect()
    }
}

/// Two notifiers (two worker processes) drain the pending emails at once.
async fn send_all(db: &Db, smtp: &Smtp) {
    let cfg = || NotifyConfig {
        public_base_url: "https://px.example.org".into(),
        delivery: serde_json::from_value(json!({
            "email": {"provider": "smtp", "host": "127.0.0.1", "port": smtp.port, "tls": "none",
                      "from": "PX360 <px360@hospital.example.sa>", "timeout_secs": 10},
        }))
        .unwrap(),
        ..NotifyConfig::default()
    };
    let a = Notifier::new(db.clone(), cfg()).unwrap();
    let b = Notifier::new(db.clone(), cfg()).unwrap();
    for _ in 0..10 {
        let (ra, rb) = tokio::join!(a.round(), b.round());
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_eq!(ra.failed + rb.failed + ra.retried + rb.retried, 0);
        if ra.sent + rb.sent + ra.skipped + rb.skipped == 0 {
            return;
        }
    }
    panic!("the notifier kept finding work");
}

async fn user(
    s: &TestServer,
    admin: &str,
    name: &str,
    role: &str,
    h: &str,
    d: Option<&str>,
) -> (String, String) {
    let r = s
        .post(admin, "/api/users", json!({"username": name, "display_name": name, "email": format!("{name}@hospital.example.sa"), "password": "correct horse battery", "role": role, "hospital_id": h, "department_id": d}))
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, s.token(name, "correct horse battery").await)
}

async fn put(s: &TestServer, tok: &str, path: &str, body: Value) -> reqwest::Response {
    s.api.send(tok, reqwest::Method::PUT, path, body).await
}

async fn count(db: &Db, sql: &str, user: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(user)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

/// The tiles of the report queued for `user` (from the notification's detail).
async fn queued_tiles(db: &Db, user: &str) -> Vec<Value> {
    let d: String = sqlx::query_scalar(
        "SELECT detail FROM notifications WHERE user_id = $1 AND kind = 'weekly_report'",
    )
    .bind(user)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let d: Value = serde_json::from_str(&d).unwrap();
    d["tiles"].as_array().unwrap().clone()
}

fn n_of(tiles: &[Value], kpi: &str) -> (u64, Option<i64>) {
    let t = tiles.iter().find(|t| t["kpi"] == kpi).unwrap();
    (t["n"].as_u64().unwrap(), t["shown"].as_i64())
}

async fn scenario(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(
        &tdb.url,
        ServerOpts {
            worker: false,
            beat: false,
            ..ServerOpts::default()
        },
    )
    .await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let now = Utc::now();
    // Responses inside the week whose report is due now (Riyadh; RGH's zone in the seed).
    let week = due_week(now, GROUP_ZONE);
    let mid = Utc.from_utc_datetime(&week.and_hms_opt(0, 0, 0).unwrap()) + Duration::days(5);
    s.db.analytics_generate(&GenerateSpec {
        count: 800,
        days: 3,
        seed: 17,
        end: mid,
        batch: 400,
    })
    .await
    .unwrap();
    s.db.analytics_refresh().await.unwrap();
    let (h_a, da) = s.hospital(&admin, "RGH").await;
    let (dm_id, dm) = user(
        &s,
        &admin,
        "dmcard",
        "department_manager",
        &h_a,
        Some(&da["CARD"]),
    )
    .await;
    let (dm2_id, dm2) = user(
        &s,
        &admin,
        "dmorth",
        "department_manager",
        &h_a,
        Some(&da["ORTH"]),
    )
    .await;
    let (ha_id, ha) = user(&s, &admin, "harep", "hospital_admin", &h_a, None).await;
    let (v_id, v) = user(&s, &admin, "viewrep", "viewer", &h_a, Some(&da["ORTH"])).await;

    // Subscription: off by default, self-service, audited; the viewer changes their mind.
    let r: Value = s
        .get(&dm, "/api/me/weekly-report")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r, json!({"subscribed": false}));
    for tok in [&dm, &dm2, &ha, &v] {
        let r = put(
            &s,
            tok,
            "/api/me/weekly-report",
            json!({"subscribed": true}),
        )
        .await;
        assert_eq!(r.status(), 200);
    }
    let r = put(
        &s,
        &v,
        "/api/me/weekly-report",
        json!({"subscribed": false}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r: Value = s
        .get(&dm, "/api/me/weekly-report")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r, json!({"subscribed": true}));
    let r: Value = s
        .get(&v, "/api/me/weekly-report")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r, json!({"subscribed": false}));
    let r = put(
        &s,
        &dm,
        "/api/me/weekly-report",
        json!({"subscribed": "yes"}),
    )
    .await;
    assert_eq!(r.status(), 422);
    let audited = "SELECT COUNT(*) FROM audit_log WHERE actor_id = $1 AND action = 'analytics.weekly_report.subscribe'";
    assert_eq!(count(&s.db, audited, &dm_id).await, 1);
    let audited = "SELECT COUNT(*) FROM audit_log WHERE actor_id = $1 AND action = 'analytics.weekly_report.unsubscribe'";
    assert_eq!(count(&s.db, audited, &v_id).await, 1);
    let r = put(&s, &dm, "/api/me/language", json!({"language": "ar"})).await;
    assert_eq!(r.status(), 204);

    // The job: twice (and on two "processes" for the schedule slot), one report each.
    let st = px360_api::AppState::new(s.db.clone(), px360::Options::new("t").api, s.jobs.clone())
        .await
        .unwrap();
    assert_eq!(run_weekly(&st, now).await.unwrap(), 3);
    assert_eq!(run_weekly(&st, now).await.unwrap(), 0);
    let (a, b) = tokio::join!(tick(&st, "p1", now), tick(&st, "p2", now));
    let ran: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(
        ran,
        [0],
        "one process claims the slot; nothing new to queue"
    );
    let sent = "SELECT COUNT(*) FROM audit_log WHERE object_id = $1 AND action = 'analytics.weekly_report.sent'";
    for id in [&dm_id, &dm2_id, &ha_id] {
        assert_eq!(count(&s.db, sent, id).await, 1);
    }
    assert_eq!(count(&s.db, sent, &v_id).await, 0);

    // The numbers are the API's for the same week and the subscriber's scope only.
    let label = format!("{}/W", week.format("%Y-%m-%d"));
    for (id, tok) in [(&dm_id, &dm), (&dm2_id, &dm2), (&ha_id, &ha)] {
        let api: Value = s
            .get(
                tok,
                &format!("/api/analytics/kpis?period={}", label.replace('/', "%2F")),
            )
            .await
            .json()
            .await
            .unwrap();
        let queued = queued_tiles(&s.db, id).await;
        let api = api["tiles"].as_array().unwrap();
        for kpi in ["response_rate", "nps", "complaints_received"] {
            assert_eq!(n_of(&queued, kpi), n_of(api, kpi), "{kpi}");
        }
    }
    let (card, _) = n_of(&queued_tiles(&s.db, &dm_id).await, "response_rate");
    let (orth, _) = n_of(&queued_tiles(&s.db, &dm2_id).await, "response_rate");
    let (hosp, _) = n_of(&queued_tiles(&s.db, &ha_id).await, "response_rate");
    assert!(card > 0 && orth > 0, "generated data in both departments");
    assert!(
        card + orth <= hosp,
        "a department sees its own invitations only"
    );

    // The emails: once each, even after a second drain; Arabic for the Arabic user.
    let smtp = Smtp::start();
    send_all(&s.db, &smtp).await;
    send_all(&s.db, &smtp).await;
    assert_eq!(smtp.received().len(), 3, "{:?}", smtp.received());
    let m = smtp.to("dmcard@hospital.example.sa");
    assert_eq!(m.len(), 1);
    let subject = m[0]["subject"].as_str().unwrap();
    assert!(subject.starts_with("التقرير الأسبوعي"), "{subject}");
    let text = m[0]["text"].as_str().unwrap();
    assert!(text.contains("مرحبًا dmcard"), "{text}");
    let (_, shown) = n_of(&queued_tiles(&s.db, &dm_id).await, "response_rate");
    assert!(
        text.contains(&format!("معدل الاستجابة: {}%", shown.unwrap())),
        "{text}"
    );
    let m = smtp.to("dmorth@hospital.example.sa");
    let text = m[0]["text"].as_str().unwrap();
    assert!(
        m[0]["subject"]
            .as_str()
            .unwrap()
            .starts_with("Weekly patient experience report")
    );
    let (_, shown) = n_of(&queued_tiles(&s.db, &dm2_id).await, "response_rate");
    assert!(
        text.contains(&format!("Response rate: {}%", shown.unwrap())),
        "{text}"
    );
    assert!(smtp.to("viewrep@hospital.example.sa").is_empty());

    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(scenario);

/// The quick start's demo subscribers: two managers of Riverside General, once per database,
/// each queued their own scope's report by the first run of the job (Arabic for the ED one).
async fn demo_subscribers(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let db = tdb.seeded().await;
    assert!(db.seed_demo_weekly().await.unwrap());
    assert!(!db.seed_demo_weekly().await.unwrap(), "seeded once");
    let subscribers = db.weekly_report_subscribers().await.unwrap();
    assert_eq!(subscribers.len(), 2);
    let st = px360_api::AppState::new(db.clone(), px360::Options::new("t").api, {
        px360_worker::queue::JobQueue::open(&tdb.url, None, Default::default())
            .await
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(run_weekly(&st, Utc::now()).await.unwrap(), 2);
    let rows: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT u.username, u.language, n.detail FROM notifications n JOIN users u ON u.id = n.user_id \
         WHERE n.kind = 'weekly_report' ORDER BY u.username",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let names: Vec<(&str, Option<&str>)> = rows
        .iter()
        .map(|(u, l, _)| (u.as_str(), l.as_deref()))
        .collect();
    assert_eq!(
        names,
        [("ed.manager", Some("ar")), ("rgh.manager", Some("en"))]
    );
    let scope = |d: &str| serde_json::from_str::<Value>(d).unwrap()["scope"].clone();
    assert_eq!(
        scope(&rows[0].2),
        "Riverside General Hospital / Emergency Department"
    );
    assert_eq!(
        scope(&rows[1].2),
        "Riverside General Hospital",
        "{}",
        rows[1].2
    );
    db.pool.close().await;
    db.writer.close().await;
    tdb.drop_db().await;
}
both_backends!(demo_subscribers);
