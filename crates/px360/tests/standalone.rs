//! The binary alone: `px360` copied to an empty directory and started there with a clean
//! environment creates its SQLite databases and keys in that directory and serves its API and
//! web UI (templates, assets and migrations are embedded).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_binary_starts_from_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("px360");
    std::fs::copy(env!("CARGO_BIN_EXE_px360"), &bin).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", dir.path())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("px360 exited: {status}");
        }
        if let Ok(r) = http.get(format!("{base}/health/")).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(Instant::now() < deadline, "px360 never became healthy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = http
        .get(format!("{base}/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http.get(format!("{base}/ui/login")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("<form"), "login page without a form");
    // Its stylesheet comes from the binary too.
    let css = page
        .split('"')
        .find(|s| s.starts_with("/static/") && s.ends_with(".css"))
        .map(str::to_owned);
    if let Some(css) = css {
        let r = http.get(format!("{base}{css}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{css}");
    }
    let data = dir.path().join("px360-data");
    assert!(
        data.join("px360.db").is_file(),
        "SQLite database in ./px360-data"
    );
    assert!(
        data.join("audit.key").is_file(),
        "audit key in ./px360-data"
    );
}
