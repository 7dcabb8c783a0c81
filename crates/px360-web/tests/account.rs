//! "My account" (own display name and password through the API's self-service) and processing
//! warnings rendered from the catalogue in Arabic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Kind, PASSWORD, Ui};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_name_and_password() {
    let ui = Ui::start(Kind::Sqlite).await;
    ui.user("nurse1", "nurse", Some("RGH"), Some("CARD"), None)
        .await;
    let mut jar = ui.login("nurse1", PASSWORD).await;
    let html = ui.page(&jar, "/ui/account").await;
    assert!(html.contains("My account") && html.contains("href=\"/ui/account\""));

    let r = ui
        .post(&jar, "/ui/account/name", &[("display_name", "Nurse Joy")])
        .await;
    assert_eq!(r.status(), 303);
    let html = ui.page(&jar, "/ui/account?saved=name").await;
    assert!(html.contains("Nurse Joy") && html.contains("Your display name has been saved."));

    let r = ui
        .post(
            &jar,
            "/ui/account/password",
            &[
                ("current_password", "not my password"),
                ("new_password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("The current password is incorrect.")
    );
    let r = ui
        .post(
            &jar,
            "/ui/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    // This browser keeps its session with the new token pair.
    jar.update(r.headers());
    let ar = ui.page(&jar, "/ui/account?saved=password&lang=ar").await;
    assert!(ar.contains("تم تغيير كلمة المرور"), "{ar}");
    ui.login("nurse1", "a brand new password").await;
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warnings_in_arabic() {
    let ui = Ui::start(Kind::Sqlite).await;
    // GMC121 is a Riverside physician: unknown at Northfield.
    let id = ui
        .event("NPH", "OP_CHECKIN", "ENC-W1", "NPH-CARD-0001")
        .await;
    // Stored without a job: parked and replayed through the UI, which queues one.
    ui.park(&id).await;
    let jar = ui.admin().await;
    let r = ui.post(&jar, &format!("/ui/events/{id}/replay"), &[]).await;
    assert_eq!(r.status(), 303);
    let (stop, worker) = ui.start_worker();
    ui.wait_status(&id, "processed").await;
    let en = ui.page(&jar, &format!("/ui/events/{id}?lang=en")).await;
    assert!(en.contains("No physician with licence"), "{en}");
    let ar = ui.page(&jar, &format!("/ui/events/{id}?lang=ar")).await;
    assert!(ar.contains("لا يوجد طبيب برقم الترخيص"), "{ar}");
    assert!(ar.contains("GMC121"));
    assert!(
        !ar.contains("physician with licence"),
        "English warning text on the Arabic page"
    );
    assert!(
        ar.contains("(توقيت الرياض)") && !ar.contains("Asia/Riyadh"),
        "times in the hospital's zone, named"
    );
    stop.send(true).unwrap();
    worker.await.unwrap();
    ui.stop().await;
}
