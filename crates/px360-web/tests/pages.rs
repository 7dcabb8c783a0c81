//! The web UI over real HTTP: dashboard, events (scope, replay, htmx filter), journeys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Kind, PASSWORD, Ui};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn px_admin_dashboard() {
    let ui = Ui::start(Kind::Sqlite).await;
    let a = ui
        .event("RGH", "OP_CHECKIN", "ENC-A", "RGH-CARD-0001")
        .await;
    let b = ui
        .event("NPH", "OP_CHECKIN", "ENC-B", "NPH-CARD-0001")
        .await;
    ui.park(&b).await;
    ui.journey(
        "RGH",
        "CARD",
        "ENC-J1",
        &["completed", "completed", "pending", "pending"],
    )
    .await;
    let jar = ui.admin().await;
    let html = ui.page(&jar, "/ui/").await;
    assert!(html.contains("<html lang=\"en\" dir=\"ltr\">"));
    assert!(html.contains("Dashboard"));
    assert!(html.contains("PX Administrator"), "display name");
    assert!(html.contains("All hospitals of the group"));
    assert!(html.contains("Integration events by status"));
    assert!(html.contains("Recent events"));
    assert!(html.contains(&format!("/ui/events/{a}")));
    assert!(html.contains(&format!("/ui/events/{b}")));
    assert!(
        html.contains("Riverside General Hospital") && html.contains("Northfield Park Hospital")
    );
    // Counts: one received, one parked; one journey in progress.
    assert!(
        html.contains(
            "<div class=\"px-stat\">1</div><span class=\"badge text-bg-danger\">Parked</span>"
        ),
        "{html}"
    );
    assert!(html.contains(
        "<div class=\"px-stat\">1</div><span class=\"badge text-bg-primary\">In progress</span>"
    ));
    // Navigation for a PX Admin: every page.
    for href in ["/ui/events", "/ui/journeys", "/ui/org"] {
        assert!(html.contains(&format!("href=\"{href}\"")), "{href}");
    }
    ui.stop().await;
}

async fn hospital_scope(kind: Kind) {
    let ui = Ui::start(kind).await;
    let own = ui
        .event("RGH", "OP_CHECKIN", "ENC-1", "RGH-CARD-0001")
        .await;
    let other = ui
        .event("NPH", "OP_CHECKIN", "ENC-2", "NPH-CARD-0001")
        .await;
    ui.user("rgh-admin", "hospital_admin", Some("RGH"), None, None)
        .await;
    let jar = ui.login("rgh-admin", PASSWORD).await;

    let html = ui.page(&jar, &format!("/ui/events/{own}")).await;
    assert!(html.contains("Riverside General Hospital"));
    let denied = ui.audits("permission.denied", Some(&other)).await;
    let r = ui.get(&jar, &format!("/ui/events/{other}")).await;
    assert_eq!(r.status(), 404);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("There is no such object in your scope."),
        "{html}"
    );
    assert!(
        !html.contains("Northfield"),
        "nothing about the event leaks"
    );
    assert_eq!(
        ui.audits("permission.denied", Some(&other)).await,
        denied + 1
    );
    // Unknown ids answer the same.
    assert_eq!(
        ui.get(&jar, "/ui/events/00000000-0000-0000-0000-000000000000")
            .await
            .status(),
        404
    );
    // The list holds only the own hospital's events; so do dashboard and organisation.
    let list = ui.page(&jar, "/ui/events").await;
    assert!(list.contains(&own) && !list.contains(&other));
    let dash = ui.page(&jar, "/ui/").await;
    assert!(dash.contains(&own) && !dash.contains(&other));
    let org = ui.page(&jar, "/ui/org").await;
    assert!(
        org.contains("Riverside General Hospital") && !org.contains("Northfield Park Hospital")
    );
    // Replaying another hospital's event: 404 as well, and nothing changes.
    ui.park(&other).await;
    let r = ui
        .post(&jar, &format!("/ui/events/{other}/replay"), &[])
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(ui.status(&other).await.0, "parked");
    ui.stop().await;
}
both_backends!(hospital_scope);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_is_refused_events_and_replay() {
    let ui = Ui::start(Kind::Sqlite).await;
    let id = ui
        .event("RGH", "OP_CHECKIN", "ENC-V", "RGH-CARD-0001")
        .await;
    ui.park(&id).await;
    ui.user("viewer", "viewer", Some("RGH"), Some("CARD"), None)
        .await;
    let jar = ui.login("viewer", PASSWORD).await;

    let denied = ui.audits("permission.denied", None).await;
    let r = ui.post(&jar, &format!("/ui/events/{id}/replay"), &[]).await;
    assert_eq!(r.status(), 403);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Your role or scope does not allow this."),
        "{html}"
    );
    assert_eq!(ui.status(&id).await, ("parked".into(), 5));
    assert_eq!(ui.audits("permission.denied", None).await, denied + 1);
    // The same 403 for an id that does not exist: the answer discloses nothing.
    let r = ui.post(&jar, "/ui/events/nope/replay", &[]).await;
    assert_eq!(r.status(), 403);
    assert_eq!(ui.get(&jar, "/ui/events").await.status(), 403);
    assert_eq!(
        ui.get(&jar, &format!("/ui/events/{id}")).await.status(),
        403
    );
    assert_eq!(
        ui.get(&jar, "/ui/journeys").await.status(),
        403,
        "journeys need level 20"
    );
    // The viewer's dashboard and navigation offer neither events nor journeys.
    let dash = ui.page(&jar, "/ui/").await;
    assert!(!dash.contains("href=\"/ui/events\"") && !dash.contains("href=\"/ui/journeys\""));
    assert!(dash.contains("href=\"/ui/org\""));
    assert!(!dash.contains("Integration events by status"));
    assert!(dash.contains("Cardiology"), "own department shown");
    // Organisation without physicians (level 20).
    let org = ui.page(&jar, "/ui/org").await;
    assert!(org.contains("Cardiology") && !org.contains("GMC"));
    ui.stop().await;
}

async fn replay_resets_a_parked_event(kind: Kind) {
    let ui = Ui::start(kind).await;
    let id = ui
        .event("RGH", "OP_CHECKIN", "ENC-R", "RGH-CARD-0001")
        .await;
    ui.park(&id).await;
    ui.user("coord", "px_coordinator", Some("RGH"), None, None)
        .await;
    let jar = ui.login("coord", PASSWORD).await;

    let html = ui.page(&jar, &format!("/ui/events/{id}")).await;
    assert!(
        html.contains(&format!("action=\"/ui/events/{id}/replay\"")),
        "replay offered"
    );
    assert!(html.contains("stored payload: boom"), "last error shown");
    let r = ui.post(&jar, &format!("/ui/events/{id}/replay"), &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/ui/events/{id}?replayed=1")
    );
    assert_eq!(ui.status(&id).await, ("received".into(), 0));
    assert_eq!(ui.audits("event.replay", Some(&id)).await, 1);
    let html = ui.page(&jar, &format!("/ui/events/{id}?replayed=1")).await;
    assert!(html.contains("The event was reset and will be processed again."));
    assert!(
        !html.contains("/replay\""),
        "a received event offers no replay"
    );

    // Replaying again is a conflict: only parked or failed events can be replayed.
    let r = ui.post(&jar, &format!("/ui/events/{id}/replay"), &[]).await;
    assert_eq!(r.status(), 409);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Only parked or failed events can be replayed.")
    );
    assert_eq!(ui.audits("event.replay", Some(&id)).await, 1);

    // The replay queued a job: the worker processes the event again (attempts 0 → 1). A
    // control event reset in the database alone, without the UI's hand-back, stays untouched.
    let control = ui.event("RGH", "OP_SEEN", "ENC-R", "RGH-CARD-0001").await;
    ui.park(&control).await;
    assert!(ui.db.reset_for_replay(&control).await.unwrap());
    let (stop, worker) = ui.start_worker();
    assert_eq!(
        ui.wait_status(&id, "processed").await,
        ("processed".into(), 1)
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(ui.status(&control).await, ("received".into(), 0));
    let html = ui.page(&jar, &format!("/ui/events/{id}")).await;
    assert!(html.contains("Processed"));
    let journeys = ui.page(&jar, "/ui/journeys").await;
    assert!(journeys.contains("ENC-R") && journeys.contains("Checked in · Completed"));
    stop.send(true).unwrap();
    worker.await.unwrap();
    ui.stop().await;
}
both_backends!(replay_resets_a_parked_event);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_pages_hide_patient_data_and_filter_with_htmx() {
    let ui = Ui::start(Kind::Sqlite).await;
    let received = ui
        .event("RGH", "OP_CHECKIN", "ENC-H1", "RGH-CARD-0001")
        .await;
    let parked = ui.event("RGH", "OP_SEEN", "ENC-H2", "RGH-CARD-0002").await;
    ui.park(&parked).await;
    let jar = ui.admin().await;

    let html = ui.page(&jar, &format!("/ui/events/{received}")).await;
    assert!(html.contains("•••••001"), "masked identifier shown");
    assert!(
        !html.contains("RGH-CARD-0001"),
        "raw identifier never shown"
    );
    assert!(
        !html.contains("custom-secret-value"),
        "custom payload fields not shown"
    );
    for shown in [
        "EPIC",
        "OP_CHECKIN",
        "ENC-H1",
        "GMC121",
        "2025-03-01 13:00</span>",
        "(Riyadh time)",
        "Received",
    ] {
        assert!(html.contains(shown), "{shown}");
    }

    // Full page: the filter form with htmx attributes, the selected status, both rows.
    let page = ui.page(&jar, "/ui/events?status=parked").await;
    assert!(page.contains("hx-get=\"/ui/events\"") && page.contains("hx-target=\"#event-rows\""));
    assert!(page.contains("<option value=\"parked\" selected>"));
    assert!(page.contains(&parked) && !page.contains(&received));
    // htmx request: only the table fragment.
    let r = ui
        .http
        .get(ui.url("/ui/events?status=received"))
        .header("cookie", jar.header())
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["vary"], "HX-Request");
    let frag = r.text().await.unwrap();
    assert!(
        !frag.contains("<html") && !frag.contains("<select"),
        "{frag}"
    );
    assert!(frag.contains(&received) && !frag.contains(&parked));
    assert!(frag.contains("One event shown"));
    // A history restore wants the whole page.
    let r = ui
        .http
        .get(ui.url("/ui/events"))
        .header("cookie", jar.header())
        .header("hx-request", "true")
        .header("hx-history-restore-request", "true")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("<html"));
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journeys_show_template_and_stage_progress() {
    let ui = Ui::start(Kind::Sqlite).await;
    ui.journey(
        "RGH",
        "CARD",
        "ENC-J1",
        &["completed", "skipped", "completed", "pending"],
    )
    .await;
    ui.journey(
        "NPH",
        "ORTH",
        "ENC-J2",
        &["completed", "completed", "completed", "completed"],
    )
    .await;
    ui.user("nurse", "nurse", Some("RGH"), Some("CARD"), None)
        .await;
    let jar = ui.login("nurse", PASSWORD).await;
    let html = ui.page(&jar, "/ui/journeys").await;
    assert!(html.contains("Outpatient visit"));
    assert!(
        html.contains("ENC-J1") && !html.contains("ENC-J2"),
        "department scope"
    );
    assert!(html.contains("2 of 4 stages completed"));
    assert!(html.contains("<progress class=\"px-progress\" value=\"2\" max=\"4\">"));
    assert!(html.contains("Checked in · Skipped") && html.contains("Checked out · Pending"));
    assert!(!html.contains("RGH-CARD-0001"), "no patient identifier");
    let ar = ui.page(&jar, "/ui/journeys?lang=ar").await;
    assert!(ar.contains("زيارة العيادات الخارجية") && ar.contains("تم تخطيها"));

    let admin = ui.admin().await;
    let html = ui.page(&admin, "/ui/journeys").await;
    assert!(html.contains("ENC-J1") && html.contains("ENC-J2"));
    assert!(html.contains("Completed"));
    ui.stop().await;
}
