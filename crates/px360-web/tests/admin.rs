//! The administration pages over real HTTP: journey templates (create, add, reorder, edit and
//! remove stages, errors next to fields), integrations (issue a key with its secret shown once,
//! confirm and revoke, a test event through the intake), the audit log viewer (filters, keyset
//! paging, chain state, reading audited); each under the API's RBAC (out of scope 404, role too
//! low 403) and the same-origin check, and in Arabic with nothing English outside data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/latin.rs"]
#[allow(dead_code)]
mod latin;

use common::{Jar, Kind, PASSWORD, Ui};
use px360_store::audit::AuditEntry;

/// The path of a redirect.
fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// Live stage codes of a template, in order.
async fn stage_codes(ui: &Ui, template: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT code FROM stage_templates WHERE journey_template_id = $1 AND deleted_at IS NULL ORDER BY position",
    )
    .bind(template)
    .fetch_all(&ui.db.pool)
    .await
    .unwrap()
}

async fn template_id(ui: &Ui, code: &str) -> String {
    sqlx::query_scalar("SELECT id FROM journey_templates WHERE code = $1")
        .bind(code)
        .fetch_one(&ui.db.pool)
        .await
        .unwrap()
}

async fn stage_id(ui: &Ui, template: &str, code: &str) -> String {
    sqlx::query_scalar(
        "SELECT id FROM stage_templates WHERE journey_template_id = $1 AND code = $2 AND deleted_at IS NULL",
    )
    .bind(template)
    .bind(code)
    .fetch_one(&ui.db.pool)
    .await
    .unwrap()
}

async fn templates(kind: Kind) {
    let ui = Ui::start(kind).await;
    let (rgh, _) = ui.ids("RGH", None).await;
    let jar = ui.admin().await;

    // Validation: the API's rules, each message next to its field, nothing stored.
    let r = ui
        .post(
            &jar,
            "/ui/templates",
            &[
                ("hospital_id", rgh.as_str()),
                ("code", "bad code"),
                ("name", "Day surgery"),
                ("stage_code", "ADMIT"),
                ("stage_name", ""),
                ("stage_event_code", "DS_ADMIT"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"new-code-error\""), "{html}");
    assert!(html.contains("Use 1 to 64 characters: capital letters"));
    assert!(html.contains("id=\"new-stage_name-error\""));
    assert!(
        html.contains("value=\"bad code\""),
        "the form keeps what was typed"
    );
    assert!(!html.contains("new-stage_event_code-error"));

    // Create with the first stage; then add two more, one of them in front.
    let r = ui
        .post(
            &jar,
            "/ui/templates",
            &[
                ("hospital_id", rgh.as_str()),
                ("code", "DAY_SURGERY"),
                ("name", "Day surgery"),
                ("stage_code", "ADMIT"),
                ("stage_name", "Admitted"),
                ("stage_event_code", "DS_ADMIT"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let id = template_id(&ui, "DAY_SURGERY").await;
    assert_eq!(location(&r), format!("/ui/templates/{id}?saved=created"));
    assert_eq!(ui.audits("create", Some(&id)).await, 1);
    let base = format!("/ui/templates/{id}");
    let r = ui
        .post(
            &jar,
            &format!("{base}/stages"),
            &[
                ("code", "DISCHARGE"),
                ("name", "Discharged"),
                ("completing_event_code", "DS_DISCHARGE"),
                ("position", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = ui
        .post(
            &jar,
            &format!("{base}/stages"),
            &[
                ("code", "BOOKED"),
                ("name", "Booked"),
                ("completing_event_code", "DS_BOOKED"),
                ("position", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        stage_codes(&ui, &id).await,
        ["BOOKED", "ADMIT", "DISCHARGE"]
    );

    // An event code already used in the template: 422, next to the add form's field.
    let r = ui
        .post(
            &jar,
            &format!("{base}/stages"),
            &[
                ("code", "AGAIN"),
                ("name", "Again"),
                ("completing_event_code", "DS_ADMIT"),
                ("position", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"add-completing_event_code-error\""),
        "{html}"
    );
    assert!(html.contains("value=\"AGAIN\""));

    // Reorder: the last stage one place earlier; then a place that does not exist.
    let discharge = stage_id(&ui, &id, "DISCHARGE").await;
    let r = ui
        .post(
            &jar,
            &format!("{base}/stages/{discharge}/move"),
            &[("position", "2")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("{base}?saved=moved"));
    assert_eq!(
        stage_codes(&ui, &id).await,
        ["BOOKED", "DISCHARGE", "ADMIT"]
    );
    let r = ui
        .post(
            &jar,
            &format!("{base}/stages/{discharge}/move"),
            &[("position", "9")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Choose a place between"));
    assert_eq!(
        stage_codes(&ui, &id).await,
        ["BOOKED", "DISCHARGE", "ADMIT"]
    );

    // Edit a stage's event code; remove stages down to the last one, which stays.
    let booked = stage_id(&ui, &id, "BOOKED").await;
    let r = ui
        .post(
            &jar,
            &format!("{base}/stages/{booked}"),
            &[
                ("name", "Booked online"),
                ("completing_event_code", "DS_BOOKING"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let html = ui.page(&jar, &format!("{base}?saved=stage")).await;
    assert!(html.contains("DS_BOOKING") && html.contains("Booked online"));
    assert!(html.contains("Journeys already running keep the stages"));
    assert_eq!(ui.audits("update", Some(&booked)).await, 1);
    assert_eq!(
        ui.audits("update", Some(&discharge)).await,
        1,
        "one move, the refused one not"
    );
    for code in ["BOOKED", "DISCHARGE"] {
        let s = stage_id(&ui, &id, code).await;
        let r = ui
            .post(&jar, &format!("{base}/stages/{s}/remove"), &[])
            .await;
        assert_eq!(r.status(), 303, "{code}");
    }
    let admit = stage_id(&ui, &id, "ADMIT").await;
    let r = ui
        .post(&jar, &format!("{base}/stages/{admit}/remove"), &[])
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("its last stage cannot be removed")
    );
    assert_eq!(stage_codes(&ui, &id).await, ["ADMIT"]);
    let r = ui
        .post(
            &jar,
            &format!("{base}/name"),
            &[("name", "Day case surgery")],
        )
        .await;
    assert_eq!(r.status(), 303);

    // The list shows the template and its stage sequence.
    let html = ui.page(&jar, "/ui/templates").await;
    assert!(html.contains("Day case surgery") && html.contains(&base));
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_sqlite() {
    templates(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_postgres() {
    templates(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_rbac_and_csrf() {
    let ui = Ui::start(Kind::Sqlite).await;
    let (nph, _) = ui.ids("NPH", None).await;
    ui.user("rgh_admin", "hospital_admin", Some("RGH"), None, None)
        .await;
    ui.user("nurse1", "nurse", Some("RGH"), Some("CARD"), None)
        .await;
    let admin = ui.admin().await;
    // An NPH template, made by the PX Admin.
    let r = ui
        .post(
            &admin,
            "/ui/templates",
            &[
                ("hospital_id", nph.as_str()),
                ("code", "NPH_ONLY"),
                ("name", "NPH only"),
                ("stage_code", "ONE"),
                ("stage_name", "One"),
                ("stage_event_code", "NPH_ONE"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let nph_tpl = template_id(&ui, "NPH_ONLY").await;
    let group_tpl = template_id(&ui, "OUTPATIENT_VISIT").await;

    let hadmin = ui.login("rgh_admin", PASSWORD).await;
    // Another hospital's template: 404 to read and to change.
    assert_eq!(
        ui.get(&hadmin, &format!("/ui/templates/{nph_tpl}"))
            .await
            .status(),
        404
    );
    let r = ui
        .post(
            &hadmin,
            &format!("/ui/templates/{nph_tpl}/name"),
            &[("name", "x")],
        )
        .await;
    assert_eq!(r.status(), 404);
    // A group-wide template: readable, but changing it is PX Admin's (403, localised page).
    let html = ui
        .page(&hadmin, &format!("/ui/templates/{group_tpl}"))
        .await;
    assert!(!html.contains("/stages\""), "no edit forms");
    let r = ui
        .post(
            &hadmin,
            &format!("/ui/templates/{group_tpl}/name"),
            &[("name", "x")],
        )
        .await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Access denied"));
    // A Nurse reads templates; creating one is refused.
    let nurse = ui.login("nurse1", PASSWORD).await;
    let html = ui.page(&nurse, "/ui/templates").await;
    assert!(!html.contains("action=\"/ui/templates\""), "no create form");
    assert!(
        !html.contains("NPH_ONLY"),
        "another hospital's template is not listed"
    );
    let r = ui
        .post(
            &nurse,
            "/ui/templates",
            &[
                ("code", "X"),
                ("name", "X"),
                ("stage_code", "A"),
                ("stage_name", "A"),
                ("stage_event_code", "A"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
    // Cross-site POST: refused before the handler, and audited.
    let before = ui.audits("ui.cross_origin_refused", None).await;
    let r = ui
        .http
        .post(ui.url(&format!("/ui/templates/{group_tpl}/name")))
        .header("cookie", admin.header())
        .header("origin", "http://evil.example")
        .form(&[("name", "pwned")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(ui.audits("ui.cross_origin_refused", None).await, before + 1);
    assert!(!ui.page(&admin, "/ui/templates").await.contains("pwned"));
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrations_keys_and_test_event() {
    let ui = Ui::start(Kind::Sqlite).await;
    let (rgh, _) = ui.ids("RGH", None).await;
    let (nph, _) = ui.ids("NPH", None).await;
    let admin = ui.admin().await;

    // Validation next to the field.
    let r = ui
        .post(
            &admin,
            "/ui/integrations/keys",
            &[
                ("hospital_id", rgh.as_str()),
                ("name", "HIS feed"),
                ("source_systems", " "),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"key-source_systems-error\""), "{html}");

    // Issue: the secret is on this answer only, with a ready curl.
    let r = ui
        .post(
            &admin,
            "/ui/integrations/keys",
            &[
                ("hospital_id", rgh.as_str()),
                ("name", "HIS feed"),
                ("source_systems", "HIS, LAB"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    let needle = "id=\"issued-secret\" value=\"";
    let at = html.find(needle).expect("secret shown") + needle.len();
    let secret: String = html[at..].chars().take_while(|c| *c != '"').collect();
    assert!(secret.starts_with("px360_"), "{secret}");
    assert!(
        html.contains(&format!("X-API-Key: {secret}")),
        "curl with the key"
    );
    assert!(html.contains("data-copy=\"issued-secret\""));
    let listed = ui.page(&admin, "/ui/integrations").await;
    assert!(
        listed.contains("HIS feed") && !listed.contains(&secret),
        "shown once"
    );
    let key_id: String = sqlx::query_scalar("SELECT id FROM api_keys WHERE name = 'HIS feed'")
        .fetch_one(&ui.db.pool)
        .await
        .unwrap();
    assert_eq!(ui.audits("create", Some(&key_id)).await, 1);

    // The key works against the API as shown.
    let r = ui
        .http
        .post(ui.url("/api/integrations/events/"))
        .header("x-api-key", &secret)
        .json(&serde_json::json!({"source_system": "HIS", "event_code": "OP_BOOKED", "encounter_id": "ENC-CURL",
            "patient_identifier": "RGH-CARD-0001", "payload_json": {"timestamp": "2026-01-31T12:30:00"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);

    // A test event through the intake; the worker processes it; the page links to it.
    let (stop, worker) = ui.start_worker();
    let r = ui
        .post(
            &admin,
            "/ui/integrations/test-event",
            &[("api_key_id", key_id.as_str()), ("event_code", "OP_BOOKED")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let loc = location(&r);
    let event: String = loc
        .split("test_event=")
        .nth(1)
        .unwrap()
        .split('#')
        .next()
        .unwrap()
        .to_owned();
    ui.wait_status(&event, "processed").await;
    let html = ui.page(&admin, &loc).await;
    assert!(html.contains(&format!("/ui/events/{event}")), "{html}");
    assert!(html.contains("Processed"));
    assert_eq!(ui.audits("integration.test_event", Some(&event)).await, 1);
    stop.send(true).unwrap();
    worker.await.unwrap();

    // Revoke: a confirmation page (a plain form), then the POST.
    let confirm = ui
        .page(&admin, &format!("/ui/integrations/keys/{key_id}/revoke"))
        .await;
    assert!(confirm.contains(&format!("action=\"/ui/integrations/keys/{key_id}/revoke\"")));
    let r = ui
        .post(
            &admin,
            &format!("/ui/integrations/keys/{key_id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    let revoked: Option<String> =
        sqlx::query_scalar("SELECT revoked_at FROM api_keys WHERE id = $1")
            .bind(&key_id)
            .fetch_one(&ui.db.pool)
            .await
            .unwrap();
    assert!(revoked.is_some());
    assert_eq!(ui.audits("delete", Some(&key_id)).await, 1);
    let r = ui
        .post(
            &admin,
            &format!("/ui/integrations/keys/{key_id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 409, "already revoked");

    // RBAC: a Hospital Admin of RGH cannot see NPH's key (404); a Nurse may not open the page.
    let nph_key = ui
        .db
        .create_api_key(&nph, "nph feed", &["*".into()], None)
        .await
        .unwrap()
        .key
        .id
        .to_string();
    ui.user("rgh_admin", "hospital_admin", Some("RGH"), None, None)
        .await;
    ui.user("nurse1", "nurse", Some("RGH"), Some("CARD"), None)
        .await;
    let hadmin = ui.login("rgh_admin", PASSWORD).await;
    assert!(
        !ui.page(&hadmin, "/ui/integrations")
            .await
            .contains("nph feed")
    );
    assert_eq!(
        ui.get(&hadmin, &format!("/ui/integrations/keys/{nph_key}/revoke"))
            .await
            .status(),
        404
    );
    let r = ui
        .post(
            &hadmin,
            &format!("/ui/integrations/keys/{nph_key}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = ui
        .post(
            &hadmin,
            "/ui/integrations/test-event",
            &[
                ("api_key_id", nph_key.as_str()),
                ("event_code", "OP_BOOKED"),
            ],
        )
        .await;
    assert_eq!(r.status(), 404);
    let nurse = ui.login("nurse1", PASSWORD).await;
    assert_eq!(ui.get(&nurse, "/ui/integrations").await.status(), 403);
    assert!(
        !ui.page(&nurse, "/ui/")
            .await
            .contains("href=\"/ui/integrations\"")
    );
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_viewer_filters_pages_and_is_audited() {
    let ui = Ui::start(Kind::Sqlite).await;
    let (rgh, _) = ui.ids("RGH", None).await;
    let (nph, _) = ui.ids("NPH", None).await;
    for i in 0..60 {
        ui.db
            .audit(&AuditEntry {
                actor_type: "user",
                actor_id: Some("bulk-actor".into()),
                action: "test.bulk".into(),
                object_type: Some("thing"),
                object_id: Some(format!("thing-{i}")),
                hospital_id: Some(if i % 2 == 0 { rgh.clone() } else { nph.clone() }),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    px360_store::audit::set_status(&Ok(42));
    let admin = ui.admin().await;
    let reads = ui.audits("audit.read", None).await;
    let html = ui.page(&admin, "/ui/audit?action=test.").await;
    assert_eq!(
        ui.audits("audit.read", None).await,
        reads + 1,
        "reading is audited"
    );
    assert!(html.contains("id=\"audit-chain\""));
    assert!(html.contains("intact: 42 records verified"), "{html}");
    // Newest first, 50 a page, then the older page by sequence number.
    assert!(html.contains("thing-59") && !html.contains("thing-9<"));
    let older = html
        .split("href=\"")
        .map(|s| {
            s.split('"')
                .next()
                .unwrap()
                .replace("&amp;", "&")
                .replace("&#38;", "&")
        })
        .find(|h| h.contains("before="))
        .expect("older link");
    let html = ui.page(&admin, &older).await;
    assert!(
        html.contains("thing-9<") && html.contains("thing-0<") && !html.contains("thing-59<"),
        "{older}: {html}"
    );
    // Filters: object, and an actor given by username.
    let html = ui.page(&admin, "/ui/audit?object=thing-7").await;
    assert!(html.contains("thing-7<") && !html.contains("thing-8<"));
    let html = ui
        .page(&admin, "/ui/audit?actor=admin&action=audit.read")
        .await;
    assert!(html.contains("audit.read") && !html.contains("test.bulk"));
    // A time window in the future has nothing; a malformed time is shown next to its field.
    let html = ui
        .page(&admin, "/ui/audit?action=test.bulk&from=2999-01-01")
        .await;
    assert!(html.contains("No audit records match"));
    let html = ui.page(&admin, "/ui/audit?from=yesterday").await;
    assert!(html.contains("id=\"f-from-error\""));

    // A Hospital Admin sees their hospital's records only; a Nurse is refused.
    ui.user("rgh_admin", "hospital_admin", Some("RGH"), None, None)
        .await;
    ui.user("nurse1", "nurse", Some("RGH"), Some("CARD"), None)
        .await;
    let hadmin = ui.login("rgh_admin", PASSWORD).await;
    let html = ui.page(&hadmin, "/ui/audit?action=test.bulk").await;
    assert!(html.contains("thing-58<") && !html.contains("thing-59<"));
    let nurse = ui.login("nurse1", PASSWORD).await;
    assert_eq!(ui.get(&nurse, "/ui/audit").await.status(), 403);

    // A broken chain is shown as such.
    px360_store::audit::reset_status();
    px360_store::audit::set_status(&Err(px360_store::audit::VerifyError::HeadMismatch));
    let html = ui.page(&admin, "/ui/audit").await;
    assert!(html.contains("alert-danger") && html.contains("BROKEN"));
    px360_store::audit::reset_status();
    ui.stop().await;
}

/// Each new page in Arabic: right to left, nothing English outside data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_pages_in_arabic() {
    let ui = Ui::start(Kind::Sqlite).await;
    let (rgh, _) = ui.ids("RGH", None).await;
    let mut jar: Jar = ui.admin().await;
    let r = ui.get(&jar, "/ui/?lang=ar").await;
    jar.update(r.headers());
    let key = ui
        .db
        .create_api_key(&rgh, "feed", &["HIS".into()], None)
        .await
        .unwrap()
        .key
        .id
        .to_string();
    let group_tpl = template_id(&ui, "OUTPATIENT_VISIT").await;
    let check = |what: String, html: String| {
        assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"), "{what}");
        let stray = latin::stray_latin(&html);
        assert!(stray.is_empty(), "{what}: {}", stray.join("\n"));
    };
    for path in [
        "/ui/templates".to_owned(),
        format!("/ui/templates/{group_tpl}?saved=moved"),
        "/ui/integrations?revoked=1".to_owned(),
        format!("/ui/integrations/keys/{key}/revoke"),
        "/ui/audit?from=bad".to_owned(),
    ] {
        let html = ui.page(&jar, &path).await;
        check(path, html);
    }
    // Form errors and the issued key's page.
    let r = ui
        .post(
            &jar,
            "/ui/templates",
            &[
                ("hospital_id", rgh.as_str()),
                ("code", "bad code"),
                ("name", ""),
                ("stage_code", ""),
                ("stage_name", ""),
                ("stage_event_code", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    check("template errors".into(), r.text().await.unwrap());
    let r = ui
        .post(
            &jar,
            "/ui/integrations/keys",
            &[
                ("hospital_id", rgh.as_str()),
                ("name", "lab"),
                ("source_systems", "LAB"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    check("issued key".into(), r.text().await.unwrap());
    ui.stop().await;
}
