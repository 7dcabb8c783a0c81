//! The analytics dashboard in a real browser (headless Chromium), English and Arabic: tiles,
//! both charts drawn by the vendored Chart.js (the x axis reversed on the Arabic page), the
//! drill-down to a department's physicians, and the executive summary. Screenshots land in
//! `target/screenshots/browser_analytics/<lang>-<page>.png`.
//!
//! Without chromium/chromedriver the test is skipped with a message, and fails under `CI=true`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use browser_test::Browser;
use common::{ADMIN_PASSWORD, Kind, Ui};

const TEST: &str = "browser_analytics";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_analytics() {
    let Some(b) = Browser::start(TEST).await else {
        return;
    };
    // Spread over the last 20 days, so that the daily series has a shape.
    let ui = Ui::with_responses(Kind::Sqlite, 1500, 20, 9).await;
    let (rgh, card) = ui.ids("RGH", Some("CARD")).await;
    let card = card.unwrap();
    for (lang, dir) in [("en", "ltr"), ("ar", "rtl")] {
        let shot = |page: &str| format!("{lang}-{page}");
        b.goto(&ui.url(&format!("/ui/login?lang={lang}")))
            .await
            .unwrap();
        b.type_into("#username", "admin").await.unwrap();
        b.type_into("#password", ADMIN_PASSWORD).await.unwrap();
        b.click("form[action='/ui/login'] button[type=submit]")
            .await
            .unwrap();
        b.wait_until("return location.pathname === '/ui/';")
            .await
            .unwrap();

        b.click("nav a[href='/ui/analytics']").await.unwrap();
        b.wait_until("return location.pathname === '/ui/analytics';")
            .await
            .unwrap();
        assert_eq!(b.attr("html", "dir").await.unwrap().as_deref(), Some(dir));
        // The last 30 days as a month may miss the first days: look at the quarter.
        b.goto(&ui.url("/ui/analytics?granularity=quarter"))
            .await
            .unwrap();
        b.wait_until(
            "return document.getElementById('px-charts')?.getAttribute('data-drawn') === '1';",
        )
        .await
        .unwrap();
        let drawn = b
            .eval(
                "const s = Chart.getChart('px-chart-series'), d = Chart.getChart('px-chart-dist'); \
                 return [s.data.labels.length, d.data.labels.length, s.options.scales.x.reverse, \
                         s.data.datasets[0].data.filter(v => v !== null).length];",
            )
            .await
            .unwrap();
        assert!(drawn[0].as_u64().unwrap() >= 15, "{drawn}");
        assert!(drawn[1].as_u64().unwrap() >= 4, "{drawn}");
        assert_eq!(
            drawn[2].as_bool(),
            Some(dir == "rtl"),
            "x axis mirrored on Arabic pages"
        );
        assert!(drawn[3].as_u64().unwrap() >= 15, "{drawn}");
        b.screenshot(&shot("dashboard")).await.unwrap();
        // Drill down: the hospital, then a department with its physicians.
        b.goto(&ui.url(&format!(
            "/ui/analytics?granularity=quarter&hospital_id={rgh}&department_id={card}"
        )))
        .await
        .unwrap();
        b.wait_until(
            "return document.getElementById('px-charts')?.getAttribute('data-drawn') === '1';",
        )
        .await
        .unwrap();
        assert!(b.exists("#px-physicians").await.unwrap());
        b.screenshot(&shot("department")).await.unwrap();

        b.goto(&ui.url("/ui/analytics/summary?granularity=quarter"))
            .await
            .unwrap();
        assert!(b.exists("#px-summary").await.unwrap());
        b.screenshot(&shot("summary")).await.unwrap();

        b.click("form[action='/ui/logout'] button").await.unwrap();
        b.wait_until("return location.pathname === '/ui/login';")
            .await
            .unwrap();
    }
    b.quit().await;
    ui.stop().await;
}
