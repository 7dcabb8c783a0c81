//! The weekly report in a real browser (headless Chromium), English and Arabic: a department
//! manager ticks "weekly report" on `/ui/account` and sees it saved (the API's audit written);
//! then the weekly job queues the reports and the email the worker sends (its HTML, built by
//! `px360_worker::weekly_email`) is opened in the browser. Screenshots land in
//! `target/screenshots/browser_weekly/<lang>-<page>.png`.
//!
//! Without chromium/chromedriver the test is skipped with a message, and fails under `CI=true`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use browser_test::Browser;
use chrono::Utc;
use common::{Kind, PASSWORD, Ui};

const TEST: &str = "browser_weekly";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_weekly() {
    let Some(b) = Browser::start(TEST).await else {
        return;
    };
    // Last week and the week before have responses, so the report has numbers and trends.
    let ui = Ui::with_responses(Kind::Sqlite, 1200, 16, 17).await;
    let en_user = ui
        .user(
            "dmcard",
            "department_manager",
            Some("RGH"),
            Some("CARD"),
            Some("dmcard@hospital.example.sa"),
        )
        .await;
    let ar_user = ui
        .user(
            "hadmin",
            "hospital_admin",
            Some("RGH"),
            None,
            Some("hadmin@hospital.example.sa"),
        )
        .await;
    {
        // The Arabic manager receives what PX360 sends in Arabic.
        let mut c = ui.db.writer.acquire().await.unwrap();
        px360_store::notify_email::set_user_language(&mut c, ar_user.parse().unwrap(), "ar")
            .await
            .unwrap();
    }
    let subscribed = |user: String| {
        let db = ui.db.clone();
        async move {
            db.weekly_report_subscribed(user.parse().unwrap())
                .await
                .unwrap()
        }
    };
    for (lang, dir, user, id, saved) in [
        (
            "en",
            "ltr",
            "dmcard",
            &en_user,
            "Your weekly report choice has been saved.",
        ),
        (
            "ar",
            "rtl",
            "hadmin",
            &ar_user,
            "تم حفظ اختيارك للتقرير الأسبوعي.",
        ),
    ] {
        let shot = |page: &str| format!("{lang}-{page}");
        b.goto(&ui.url(&format!("/ui/login?lang={lang}")))
            .await
            .unwrap();
        b.type_into("#username", user).await.unwrap();
        b.type_into("#password", PASSWORD).await.unwrap();
        b.click("form[action='/ui/login'] button[type=submit]")
            .await
            .unwrap();
        b.wait_until("return location.pathname === '/ui/';")
            .await
            .unwrap();
        b.goto(&ui.url("/ui/account")).await.unwrap();
        assert_eq!(b.attr("html", "dir").await.unwrap().as_deref(), Some(dir));
        let ticked = "return document.getElementById('weekly_subscribed').checked;";
        assert_eq!(b.eval(ticked).await.unwrap().as_bool(), Some(false));
        assert!(!subscribed(id.clone()).await);
        b.click("#weekly_subscribed").await.unwrap();
        b.click("form[action='/ui/account/weekly-report'] button[type=submit]")
            .await
            .unwrap();
        b.wait_until("return location.search === '?saved=weekly';")
            .await
            .unwrap();
        assert_eq!(
            b.eval(ticked).await.unwrap().as_bool(),
            Some(true),
            "the page shows the saved choice"
        );
        let main = b.text("main").await.unwrap();
        assert!(main.contains(saved), "{main}");
        assert!(subscribed(id.clone()).await, "{user} subscribed");
        let audited: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'analytics.weekly_report.subscribe' AND actor_id = $1",
        )
        .bind(id)
        .fetch_one(&ui.db.pool)
        .await
        .unwrap();
        assert_eq!(audited, 1, "the API's audit record");
        b.screenshot(&shot("account")).await.unwrap();
        b.click("form[action='/ui/logout'] button").await.unwrap();
        b.wait_until("return location.pathname === '/ui/login';")
            .await
            .unwrap();
    }

    // The job queues one report per subscriber; the worker's email builder renders them.
    let st = px360_api::AppState::new(
        ui.db.clone(),
        px360_api::ApiConfig::default(),
        ui.jobs.clone(),
    )
    .await
    .unwrap();
    let now = Utc::now();
    assert_eq!(
        px360_api::weekly_report::run_weekly(&st, now)
            .await
            .unwrap(),
        2
    );
    let jobs = ui
        .db
        .notification_email_claim(now, std::time::Duration::from_secs(60), 10)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 2);
    let dir = std::env::temp_dir().join(format!("px360-{TEST}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for job in &jobs {
        let ar = job.user_id.to_string() == ar_user;
        let (lang, dir_attr, title, tile) = if ar {
            ("ar", "rtl", "التقرير الأسبوعي", "معدل الاستجابة")
        } else {
            (
                "en",
                "ltr",
                "Weekly patient experience report",
                "Response rate",
            )
        };
        let texts = px360_worker::notify::Texts::new(job, &ui.base);
        assert!(texts.subject.starts_with(title), "{}", texts.subject);
        // The week's date is isolated left to right in the Arabic sentences (else it reads
        // backwards: 29-11-2026).
        assert_eq!(texts.html.contains('\u{2066}'), ar, "{}", texts.html);
        let file = dir.join(format!("{lang}-email.html"));
        std::fs::write(&file, &texts.html).unwrap();
        b.goto(url::Url::from_file_path(&file).unwrap().as_str())
            .await
            .unwrap();
        assert_eq!(
            b.attr("html", "dir").await.unwrap().as_deref(),
            Some(dir_attr)
        );
        let body = b.text("body").await.unwrap();
        assert!(body.contains(tile), "{body}");
        // The link to the dashboard names the week.
        let href = b.attr("a", "href").await.unwrap().unwrap_or_default();
        assert!(
            href.starts_with(&format!("{}/ui/analytics?period=", ui.base)),
            "{href}"
        );
        b.screenshot(&shot_name(lang)).await.unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
    b.quit().await;
    ui.stop().await;
}

fn shot_name(lang: &str) -> String {
    format!("{lang}-email")
}
