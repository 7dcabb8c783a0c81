//! The staff complaint pages and the action board over HTTP, on SQLite and PostgreSQL: intake
//! with errors next to fields (English and Arabic, no stray English), the lifecycle forms
//! (audited as the API audits them), the clock paused while waiting on the patient, notes and
//! patient messages apart, attachments (limits, download in scope only, audited), list filters
//! and masking, CSRF refusals, and the action board worked to closure with verification by a
//! second person. Then the role × scope matrix of the pages: out of scope 404, in scope with a
//! role too low a localised 403.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/latin.rs"]
#[allow(dead_code)]
mod latin;

use common::{Jar, Kind, PASSWORD, Ui};
use latin::stray_latin;

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn one(ui: &Ui, sql: &str, bind: &str) -> String {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(bind)
        .fetch_one(&ui.db.pool)
        .await
        .unwrap()
}

/// File a complaint through the staff form and return its id.
async fn file(ui: &Ui, jar: &Jar, dept: &str, severity: &str, mrn: &str) -> String {
    let r = ui
        .post(
            jar,
            "/ui/complaints/new",
            &[
                ("hospital_id", ""),
                ("department_id", dept),
                ("category_code", "communication"),
                ("severity", severity),
                ("source_channel", "phone"),
                ("patient_mrn", mrn),
                ("subject", "Nobody called back"),
                ("description", "Waited three days for a call."),
                ("complainant_name", "Huda Saleh"),
                ("complainant_contact", "huda@example.org"),
                ("language", "ar"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let loc = location(&r);
    assert!(loc.ends_with("?done=created"), "{loc}");
    loc.trim_start_matches("/ui/complaints/")
        .trim_end_matches("?done=created")
        .to_owned()
}

async fn status(ui: &Ui, id: &str) -> String {
    one(ui, "SELECT status FROM complaints WHERE id = $1", id).await
}

async fn command(ui: &Ui, jar: &Jar, id: &str, cmd: &str, text: &str) -> reqwest::Response {
    ui.post(
        jar,
        &format!("/ui/complaints/{id}/command"),
        &[("command", cmd), ("text", text)],
    )
    .await
}

/// A file sent by the page's upload form (multipart/form-data, field `file`).
async fn upload(
    ui: &Ui,
    jar: &Jar,
    id: &str,
    name: &str,
    ct: &str,
    bytes: &[u8],
) -> reqwest::Response {
    let boundary = "px360-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {ct}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    ui.http
        .post(ui.url(&format!("/ui/complaints/{id}/attachments")))
        .header("cookie", jar.header())
        .header("origin", ui.origin())
        .header("sec-fetch-site", "same-origin")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn lifecycle(kind: Kind) {
    let ui = Ui::start(kind).await;
    let (_, card) = ui.ids("RGH", Some("CARD")).await;
    let card = card.unwrap();
    let coord_id = ui
        .user("coord", "px_coordinator", Some("RGH"), None, None)
        .await;
    ui.user("nurse", "nurse", Some("RGH"), Some("CARD"), None)
        .await;
    ui.user("far", "px_coordinator", Some("NPH"), None, None)
        .await;
    let coord = ui.login("coord", PASSWORD).await;
    let nurse = ui.login("nurse", PASSWORD).await;
    let far = ui.login("far", PASSWORD).await;
    let admin = ui.admin().await;

    // The navigation links to both pages.
    let home = ui.page(&coord, "/ui/").await;
    assert!(home.contains("href=\"/ui/complaints\"") && home.contains("href=\"/ui/actions\""));

    // Sent empty: 422, each error next to its field.
    let r = ui
        .post(&coord, "/ui/complaints/new", &[("source_channel", "staff")])
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    for f in ["category_code", "subject", "description", "hospital_id"] {
        assert!(html.contains(&format!("id=\"{f}-error\"")), "{f}: {html}");
    }
    assert!(html.contains("Give a subject of 1 to 200 characters."));
    // In Arabic, with nothing in English outside data.
    let r = ui
        .post(
            &coord,
            "/ui/complaints/new?lang=ar",
            &[
                ("source_channel", "staff"),
                ("department_id", &card),
                ("patient_mrn", "NOPE-1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let ar = r.text().await.unwrap();
    assert!(ar.contains("id=\"patient_mrn-error\""), "{ar}");
    assert!(ar.contains("لا يوجد مريض بهذا الرقم"), "{ar}");
    assert_eq!(stray_latin(&ar), Vec::<String>::new());
    // Filed: audited as the API audits intake.
    let before = ui.audits("complaint.create", None).await;
    let id = file(&ui, &coord, &card, "high", "RGH-CARD-0001").await;
    assert_eq!(ui.audits("complaint.create", None).await, before + 1);
    let reference = one(&ui, "SELECT reference FROM complaints WHERE id = $1", &id).await;

    // Detail: the clocks with the zone named, the full MRN for a coordinator, masked for a nurse.
    let page = ui.page(&coord, &format!("/ui/complaints/{id}")).await;
    assert!(
        page.contains(&reference)
            && page.contains("First response")
            && page.contains("Riyadh time"),
        "{page}"
    );
    assert!(page.contains("RGH-CARD-0001") && page.contains("huda@example.org"));
    let masked = ui.page(&nurse, &format!("/ui/complaints/{id}")).await;
    assert!(!masked.contains("RGH-CARD-0001") && !masked.contains("huda@example.org"));
    assert!(masked.contains("•••••001"));
    let list = ui.page(&nurse, "/ui/complaints").await;
    assert!(list.contains(&reference) && !list.contains("RGH-CARD-0001"));
    assert!(
        ui.page(&coord, "/ui/complaints")
            .await
            .contains("RGH-CARD-0001")
    );
    // The Arabic detail page: no stray English.
    let ar = ui
        .page(&coord, &format!("/ui/complaints/{id}?lang=ar"))
        .await;
    assert_eq!(stray_latin(&ar), Vec::<String>::new());

    // Another hospital: 404 on the page, its forms and its files; absent from its list.
    assert_eq!(
        ui.get(&far, &format!("/ui/complaints/{id}")).await.status(),
        404
    );
    assert_eq!(
        command(&ui, &far, &id, "acknowledge", "").await.status(),
        404
    );
    assert!(!ui.page(&far, "/ui/complaints").await.contains(&reference));

    // CSRF: a cross-site POST is refused and changes nothing.
    let r = ui
        .http
        .post(ui.url(&format!("/ui/complaints/{id}/command")))
        .header("cookie", coord.header())
        .header("origin", "http://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[("command", "acknowledge")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(status(&ui, &id).await, "new");

    // The lifecycle, each step audited.
    let st_before = ui.audits("complaint.status", Some(&id)).await;
    let r = command(&ui, &coord, &id, "acknowledge", "").await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r),
        format!("/ui/complaints/{id}?done=acknowledge")
    );
    assert_eq!(status(&ui, &id).await, "acknowledged");
    // A stale form: acknowledging twice is a 409 page that shows the current state.
    let r = command(&ui, &coord, &id, "acknowledge", "").await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("id=\"form-problem\""));
    let r = ui
        .post(
            &coord,
            &format!("/ui/complaints/{id}/assign"),
            &[("to", &coord_id)],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(ui.audits("complaint.assign", Some(&id)).await, 1);
    assert_eq!(
        command(&ui, &coord, &id, "start_work", "").await.status(),
        303
    );
    assert_eq!(
        command(&ui, &coord, &id, "wait_on_patient", "")
            .await
            .status(),
        303
    );
    let page = ui.page(&coord, &format!("/ui/complaints/{id}")).await;
    assert!(page.contains("id=\"sla-paused\""), "clock not shown paused");
    // Notes and messages to the patient, kept apart.
    let r = ui
        .post(
            &coord,
            &format!("/ui/complaints/{id}/updates"),
            &[("visibility", "internal"), ("body", "Called the ward")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = ui
        .post(
            &coord,
            &format!("/ui/complaints/{id}/updates"),
            &[
                ("visibility", "patient"),
                ("body", "We are looking into it"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = ui
        .post(
            &coord,
            &format!("/ui/complaints/{id}/updates"),
            &[("visibility", "internal"), ("body", " ")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"body-error\""));
    let page = ui.page(&coord, &format!("/ui/complaints/{id}")).await;
    let patient_at = page.find("We are looking into it").unwrap();
    let internal_at = page.find("Called the ward").unwrap();
    let block = |at: usize| {
        page[..at]
            .rfind("<li class=")
            .map(|i| &page[i..at])
            .unwrap()
    };
    assert!(block(patient_at).contains("px-to-patient"));
    assert!(block(internal_at).contains("px-internal"));
    // Resolve: the summary is required, next to its field.
    let r = command(&ui, &coord, &id, "resolve", "").await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("id=\"text-resolve-error\"")
    );
    assert_eq!(
        command(&ui, &coord, &id, "resolve", "Apologised and called back")
            .await
            .status(),
        303
    );
    assert_eq!(status(&ui, &id).await, "resolved");
    assert_eq!(
        ui.audits("complaint.status", Some(&id)).await,
        st_before + 4
    );

    // Attachments: accepted, listed, downloaded in scope (audited), refused elsewhere.
    let r = upload(
        &ui,
        &coord,
        &id,
        "call-log.txt",
        "text/plain",
        b"called at 10:00",
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let att = one(&ui, "SELECT id FROM attachments WHERE owner_id = $1", &id).await;
    assert!(
        ui.page(&coord, &format!("/ui/complaints/{id}"))
            .await
            .contains(&format!("/ui/attachments/{att}"))
    );
    let r = ui.get(&coord, &format!("/ui/attachments/{att}")).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"called at 10:00");
    assert_eq!(ui.audits("attachment.download", Some(&att)).await, 1);
    assert_eq!(
        ui.get(&far, &format!("/ui/attachments/{att}"))
            .await
            .status(),
        404
    );
    // A type that does not match the content is refused next to the field.
    let r = upload(&ui, &coord, &id, "x.png", "image/png", b"not a png").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"file-error\""));

    // List filters.
    let has = |q: &'static str| {
        let (ui, coord, reference) = (&ui, &coord, reference.clone());
        async move {
            ui.page(coord, &format!("/ui/complaints?{q}"))
                .await
                .contains(&reference)
        }
    };
    assert!(has("status=resolved").await);
    assert!(!has("status=new").await);
    assert!(has("mine=1").await);
    assert!(has("severity=high&source=phone&category=communication").await);
    assert!(!has("source=letter").await);
    assert!(!has("overdue=1").await);
    assert!(!has("from=2001-01-01&to=2001-01-02").await);
    let part = reference[8..].to_lowercase();
    assert!(
        ui.page(&coord, &format!("/ui/complaints?q={part}"))
            .await
            .contains(&reference)
    );
    assert!(!has("q=zzzz").await);
    // Closed, then reopened with a reason: a second cycle of the clock.
    assert_eq!(command(&ui, &coord, &id, "close", "").await.status(), 303);
    let r = command(&ui, &coord, &id, "reopen", " ").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"text-reopen-error\""));
    assert_eq!(
        command(&ui, &coord, &id, "reopen", "The patient called again")
            .await
            .status(),
        303
    );
    assert_eq!(status(&ui, &id).await, "in_progress");
    let page = ui.page(&coord, &format!("/ui/complaints/{id}")).await;
    assert!(page.contains("2 / 2"), "no second cycle shown");
    assert_eq!(ui.audits("complaint.reopen", Some(&id)).await, 1);

    // The action raised by the rules (high severity) is linked and on the owner's board.
    let action = one(&ui, "SELECT id FROM px_actions WHERE origin_id = $1", &id).await;
    let page = ui.page(&coord, &format!("/ui/complaints/{id}")).await;
    assert!(page.contains(&format!("/ui/actions/{action}")));
    let board = ui.page(&coord, "/ui/actions?board=mine").await;
    assert!(
        board.contains(&format!("/ui/actions/{action}"))
            && board.contains(&format!("/ui/complaints/{id}"))
    );
    let act = |cmd: &'static str, field: &'static str, text: &'static str| {
        let (ui, action) = (&ui, action.clone());
        move |jar: Jar| async move {
            ui.post(
                &jar,
                &format!("/ui/actions/{action}/command"),
                &[("command", cmd), (field, text)],
            )
            .await
        }
    };
    assert_eq!(act("start", "note", "")(coord.clone()).await.status(), 303);
    // Closing without evidence: refused, the reason next to the close form.
    let r = act("submit_for_closure", "note", "")(coord.clone()).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("id=\"submit_for_closure-error\"")
    );
    assert_eq!(
        act("add_evidence", "note", "")(coord.clone())
            .await
            .status(),
        422
    );
    assert_eq!(
        act("add_evidence", "note", "Retrained the desk team")(coord.clone())
            .await
            .status(),
        303
    );
    assert_eq!(
        act("submit_for_closure", "note", "")(coord.clone())
            .await
            .status(),
        303
    );
    let st = one(&ui, "SELECT status FROM px_actions WHERE id = $1", &action).await;
    assert_eq!(st, "pending_verification");
    // The owner cannot verify their own work; a second person can.
    let r = act("verify", "note", "")(coord.clone()).await;
    assert!(r.status() == 409 || r.status() == 403, "{}", r.status());
    assert_eq!(act("verify", "note", "")(admin.clone()).await.status(), 303);
    let st = one(&ui, "SELECT status FROM px_actions WHERE id = $1", &action).await;
    assert_eq!(st, "closed");
    assert_eq!(ui.audits("px_action.verify", Some(&action)).await, 1);
    let page = ui
        .page(&coord, &format!("/ui/actions/{action}?lang=ar"))
        .await;
    assert_eq!(stray_latin(&page), Vec::<String>::new());

    // An action by hand: errors next to fields; then created; a nurse may not create one.
    let r = ui
        .post(
            &coord,
            "/ui/actions/new",
            &[
                ("title", ""),
                ("severity", "low"),
                ("category_code", "communication"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"title-error\""));
    let r = ui
        .post(
            &coord,
            "/ui/actions/new",
            &[
                ("title", "Fix the phone rota"),
                ("severity", "low"),
                ("category_code", "communication"),
                ("department_id", &card),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).ends_with("?done=created"));
    assert_eq!(ui.get(&nurse, "/ui/actions/new").await.status(), 403);
    let r = ui
        .post(
            &nurse,
            "/ui/actions/new",
            &[
                ("title", "x"),
                ("severity", "low"),
                ("category_code", "communication"),
                ("department_id", &card),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complaint_pages_sqlite() {
    lifecycle(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complaint_pages_postgres() {
    lifecycle(Kind::Postgres).await;
}

/// Every role against a complaint and an action in its own department, a sibling department and
/// another hospital: the page answers 200 in scope with a role that may read, 403 (localised) in
/// scope with a role too low, 404 out of scope. The list pages: 200 or 403.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_scope_matrix() {
    let ui = Ui::start(Kind::Sqlite).await;
    let admin = ui.admin().await;
    let roles = [
        ("px_admin", 100, None, None),
        ("hospital_admin", 80, Some("RGH"), None),
        ("department_manager", 60, Some("RGH"), Some("CARD")),
        ("px_coordinator", 50, Some("RGH"), None),
        ("physician", 40, Some("RGH"), Some("CARD")),
        ("nurse", 30, Some("RGH"), Some("CARD")),
        ("staff", 20, Some("RGH"), Some("CARD")),
        ("viewer", 10, Some("RGH"), Some("CARD")),
    ];
    for (role, _, h, d) in roles {
        ui.user(&format!("m-{role}"), role, h, d, None).await;
    }
    // Someone to own the other hospital's actions.
    ui.user("nph-coord", "px_coordinator", Some("NPH"), None, None)
        .await;
    let mut targets = Vec::new();
    for (h, d) in [("RGH", "CARD"), ("RGH", "ORTH"), ("NPH", "CARD")] {
        let (_, dept) = ui.ids(h, Some(d)).await;
        let id = file(&ui, &admin, &dept.unwrap(), "high", "").await;
        let action = one(&ui, "SELECT id FROM px_actions WHERE origin_id = $1", &id).await;
        targets.push((id, action));
    }
    for (role, level, h, d) in roles {
        let name = format!("m-{role}");
        let jar = ui.login(&name, PASSWORD).await;
        for (i, (c, a)) in targets.iter().enumerate() {
            let in_scope = match (h, d) {
                (None, _) => true,
                (Some(_), None) => i < 2,
                (Some(_), Some(_)) => i == 0,
            };
            let want = match (in_scope, level >= 20) {
                (true, true) => 200,
                (true, false) => 403,
                (false, _) => 404,
            };
            for path in [format!("/ui/complaints/{c}"), format!("/ui/actions/{a}")] {
                let r = ui.get(&jar, &format!("{path}?lang=ar")).await;
                assert_eq!(r.status(), want, "{role} {path} target {i}");
                if want == 403 {
                    let html = r.text().await.unwrap();
                    assert!(
                        html.contains("lang=\"ar\"") && stray_latin(&html).is_empty(),
                        "{role}: {html}"
                    );
                }
            }
            // A form POST follows the same rule (the viewer's 403 before any change).
            let r = command(&ui, &jar, c, "close", "").await;
            let got = r.status().as_u16();
            match want {
                404 => assert_eq!(got, 404, "{role} POST target {i}"),
                403 => assert_eq!(got, 403, "{role} POST target {i}"),
                _ => assert!(got == 409 || got == 403, "{role} POST target {i}: {got}"),
            }
        }
        for list in ["/ui/complaints", "/ui/actions", "/ui/complaints/new"] {
            let want = if level >= 20 { 200 } else { 403 };
            assert_eq!(ui.get(&jar, list).await.status(), want, "{role} {list}");
        }
        assert_eq!(
            ui.get(&jar, "/ui/actions/new").await.status(),
            if level >= 50 { 200 } else { 403 },
            "{role} /ui/actions/new"
        );
    }
    ui.stop().await;
}
