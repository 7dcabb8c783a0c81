//! Test-only real-browser harness: headless Chromium driven by `chromedriver` through the W3C
//! WebDriver HTTP API, spoken directly with the workspace's reqwest (no WebDriver client crate:
//! the dozen endpoints used here are small and stay under our control, and no second rustls
//! provider can come in).
//!
//! One [`Browser`] per test file is the intended use: starting Chromium costs about a second,
//! a page a few hundred milliseconds. Screenshots are full-page PNGs under
//! `target/screenshots/<test>/<name>.png` (test artefacts, never in git).
//!
//! Missing `chromium` or `chromedriver`: [`Browser::start`] returns `None` after a loud message
//! on a developer's machine, and panics under `CI=true`, so CI never passes by not testing.

use base64::Engine;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// W3C name of the element reference in WebDriver JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 900;
/// Tallest full-page screenshot taken (keeps artefacts small on runaway pages).
const MAX_HEIGHT: u32 = 6000;

/// A WebDriver or harness failure, with the command that failed.
#[derive(Debug)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

fn err(context: &str, e: impl std::fmt::Display) -> Error {
    Error(format!("{context}: {e}"))
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// `name` on `PATH`, or in `/usr/bin`.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The browser binary (`PX_CHROMIUM` overrides).
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PX_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(which)
}

/// `target/screenshots`: the test binary lives in `target/<profile>/deps/`.
fn screenshot_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("screenshots");
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(|p| p.to_path_buf()))
        .unwrap_or_else(std::env::temp_dir)
        .join("screenshots")
}

/// One headless Chromium session behind its own chromedriver process.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
    shots: PathBuf,
    _profile: tempfile::TempDir,
}

/// An element found on the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Browser {
    /// Start chromedriver and a headless Chromium session for `test` (names the screenshot
    /// folder). `None`: the browser is not installed and this is not CI (a message says so).
    pub async fn start(test: &str) -> Option<Browser> {
        let (Some(chrome), Some(driver)) = (chromium(), which("chromedriver")) else {
            if ci() {
                panic!(
                    "browser test `{test}`: chromium/chromedriver missing and CI=true: install them (see .ci/run)"
                );
            }
            eprintln!(
                "\n*** SKIPPED browser test `{test}`: chromium and chromedriver are not installed \
                 (apt-get install chromium chromium-driver) ***\n"
            );
            return None;
        };
        match Browser::launch(test, &chrome, &driver).await {
            Ok(b) => Some(b),
            Err(e) => panic!("browser test `{test}`: could not start the browser: {e}"),
        }
    }

    async fn launch(
        test: &str,
        chrome: &std::path::Path,
        driver: &std::path::Path,
    ) -> Result<Browser> {
        let mut child = Command::new(driver)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| err("spawn chromedriver", e))?;
        let out = child
            .stdout
            .take()
            .ok_or_else(|| Error("no stdout".into()))?;
        let mut lines = BufReader::new(out).lines();
        let port = tokio::time::timeout(Duration::from_secs(20), async {
            while let Ok(Some(l)) = lines.next_line().await {
                if let Some(rest) = l.split("started successfully on port ").nth(1) {
                    return rest.trim_end_matches('.').trim().parse::<u16>().ok();
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .ok_or_else(|| Error("chromedriver did not report its port".into()))?;
        // Keep draining its output so the pipe never fills up.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

        let profile = tempfile::tempdir().map_err(|e| err("profile dir", e))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| err("http client", e))?;
        let base = format!("http://127.0.0.1:{port}");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {
                "binary": chrome.display().to_string(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--hide-scrollbars", "--force-device-scale-factor=1",
                    format!("--window-size={WIDTH},{HEIGHT}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let resp: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .map_err(|e| err("new session", e))?
            .json()
            .await
            .map_err(|e| err("new session", e))?;
        let session = resp["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| Error(format!("new session: {resp}")))?
            .to_owned();
        Ok(Browser {
            http,
            session: format!("{base}/session/{session}"),
            driver: child,
            shots: screenshot_root().join(test),
            _profile: profile,
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let url = format!("{}{path}", self.session);
        let mut rq = self.http.request(method.clone(), &url);
        if let Some(b) = body {
            rq = rq.json(&b);
        } else if method == reqwest::Method::POST {
            rq = rq.json(&json!({}));
        }
        let resp = rq.send().await.map_err(|e| err(path, e))?;
        let ok = resp.status().is_success();
        let v: Value = resp.json().await.map_err(|e| err(path, e))?;
        if !ok {
            let msg = v["value"]["message"]
                .as_str()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("");
            return Err(Error(format!(
                "{method} {path}: {} {msg}",
                v["value"]["error"].as_str().unwrap_or("error")
            )));
        }
        Ok(v["value"].clone())
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Result<Value> {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// Load `url` and wait for the page (WebDriver waits for the load event).
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.post("/url", json!({ "url": url })).await.map(|_| ())
    }

    pub async fn current_url(&self) -> Result<String> {
        Ok(self
            .get("/url")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// The first element matching a CSS selector, waiting up to 5 s for it to appear (pages
    /// reached by a form POST are still loading when the click returns).
    pub async fn find(&self, css: &str) -> Result<Element> {
        let start = Instant::now();
        loop {
            match self
                .post("/element", json!({"using": "css selector", "value": css}))
                .await
            {
                Ok(v) => {
                    let id = v[ELEMENT]
                        .as_str()
                        .ok_or_else(|| Error(format!("find {css}: {v}")))?;
                    return Ok(Element(id.to_owned()));
                }
                Err(e) if start.elapsed() > Duration::from_secs(5) => {
                    return Err(Error(format!("find `{css}`: {e}")));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Does an element match now (no waiting)?
    pub async fn exists(&self, css: &str) -> Result<bool> {
        let v = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await?;
        Ok(v.as_array().is_some_and(|a| !a.is_empty()))
    }

    pub async fn click(&self, css: &str) -> Result<()> {
        let e = self.find(css).await?;
        let start = Instant::now();
        loop {
            // chromedriver scrolls a target only until it touches the window's bottom edge,
            // which it takes from the window size; headless Chromium's viewport is shorter than
            // that window, so a button just below the fold was "not clickable" (click
            // intercepted). Centre it first, without smooth scrolling.
            self.post(
                "/execute/sync",
                json!({
                    "script": "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'}); return true;",
                    "args": [{ ELEMENT: e.0.clone() }],
                }),
            )
            .await?;
            match self
                .post(&format!("/element/{}/click", e.0), json!({}))
                .await
            {
                Ok(_) => return Ok(()),
                // A layout still moving (a chart drawing, a font arriving) can cover the target
                // for a moment; something that keeps covering it is a real fault and fails.
                Err(Error(m))
                    if m.contains("click intercepted")
                        && start.elapsed() < Duration::from_secs(2) =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Clear a field, then type `text` into it key by key (Arabic too).
    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        let e = self.find(css).await?;
        self.post(&format!("/element/{}/clear", e.0), json!({}))
            .await?;
        self.post(&format!("/element/{}/value", e.0), json!({ "text": text }))
            .await
            .map(|_| ())
    }

    /// Choose the local file `path` in a file input (WebDriver sends the path as the input's
    /// keys; the browser uploads it with the form).
    pub async fn choose_file(&self, css: &str, path: &std::path::Path) -> Result<()> {
        let e = self.find(css).await?;
        self.post(
            &format!("/element/{}/value", e.0),
            json!({ "text": path.display().to_string() }),
        )
        .await
        .map(|_| ())
    }

    /// The rendered (visible) text of the first match.
    pub async fn text(&self, css: &str) -> Result<String> {
        let e = self.find(css).await?;
        Ok(self
            .get(&format!("/element/{}/text", e.0))
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// An attribute of the first match (`None` when absent).
    pub async fn attr(&self, css: &str, name: &str) -> Result<Option<String>> {
        let e = self.find(css).await?;
        Ok(self
            .get(&format!("/element/{}/attribute/{name}", e.0))
            .await?
            .as_str()
            .map(str::to_owned))
    }

    /// Run a script in the page (`return …;` gives the value).
    pub async fn eval(&self, script: &str) -> Result<Value> {
        self.post("/execute/sync", json!({"script": script, "args": []}))
            .await
    }

    /// Wait until `script` returns `true` (up to 5 s).
    pub async fn wait_until(&self, script: &str) -> Result<()> {
        let start = Instant::now();
        loop {
            if self.eval(script).await? == Value::Bool(true) {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(5) {
                return Err(Error(format!("timed out waiting for `{script}`")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Make the window `width` pixels wide (the usual height); `None` restores the default
    /// 1280 px. For layout checks at a phone's width.
    pub async fn set_width(&self, width: Option<u32>) -> Result<()> {
        let w = width.unwrap_or(WIDTH);
        self.post("/window/rect", json!({"width": w, "height": HEIGHT}))
            .await?;
        self.settle_viewport(w, HEIGHT).await
    }

    /// Wait until the page's layout viewport fits a `width`×`height` window (headless Chromium
    /// applies a window resize after `/window/rect` has answered).
    async fn settle_viewport(&self, width: u32, height: u32) -> Result<()> {
        self.wait_until(&format!(
            "const frame = Math.max(0, window.outerHeight - window.innerHeight); return window.innerWidth <= {width} && window.innerHeight + frame <= {height};"
        ))
        .await
    }

    /// Full-page PNG screenshot to `target/screenshots/<test>/<name>.png`; returns the path.
    /// The window is made as tall as the page for the shot, then restored.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        self.screenshot_at(name, WIDTH).await
    }

    /// [`Browser::screenshot`] with the window `width` pixels wide (a phone's, say): the page
    /// is laid out at that width, shot full-page, and the window restored.
    pub async fn screenshot_at(&self, name: &str, width: u32) -> Result<PathBuf> {
        self.post("/window/rect", json!({"width": width, "height": HEIGHT}))
            .await?;
        // From the top (a page opened at an #anchor is scrolled), then as tall as the page.
        // The window's height includes the browser's own frame (about 120 px in headless
        // Chromium), so the page's height alone cut the bottom of every full-page shot.
        let h = self
            .eval("window.scrollTo(0, 0); return Math.ceil(document.documentElement.scrollHeight) + Math.max(0, window.outerHeight - window.innerHeight);")
            .await?
            .as_u64()
            .unwrap_or(u64::from(HEIGHT));
        let h = u32::try_from(h)
            .unwrap_or(MAX_HEIGHT)
            .clamp(HEIGHT, MAX_HEIGHT);
        self.post("/window/rect", json!({"width": width, "height": h}))
            .await?;
        // The resize may scroll back to an #anchor the page was opened at.
        self.eval("window.scrollTo(0, 0); return true;").await?;
        let png = self.get("/screenshot").await;
        self.post("/window/rect", json!({"width": WIDTH, "height": HEIGHT}))
            .await?;
        // The resize is applied asynchronously: a click straight after a full-page shot was
        // scrolled into view in the tall viewport, then landed below the restored one (CI saw
        // "click intercepted" at y=1053 in a 900 px window).
        self.settle_viewport(WIDTH, HEIGHT).await?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(png?.as_str().unwrap_or_default())
            .map_err(|e| err("screenshot", e))?;
        std::fs::create_dir_all(&self.shots).map_err(|e| err("screenshot dir", e))?;
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).map_err(|e| err("screenshot", e))?;
        Ok(path)
    }

    /// PNG screenshot of the first element matching `css` (scrolled into view) to
    /// `target/screenshots/<test>/<name>.png`; returns the path.
    pub async fn screenshot_element(&self, css: &str, name: &str) -> Result<PathBuf> {
        let e = self.find(css).await?;
        let png = self.get(&format!("/element/{}/screenshot", e.0)).await?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .map_err(|e| err("element screenshot", e))?;
        std::fs::create_dir_all(&self.shots).map_err(|e| err("screenshot dir", e))?;
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).map_err(|e| err("element screenshot", e))?;
        Ok(path)
    }

    /// End the session and stop chromedriver (dropping the browser also stops chromedriver,
    /// which takes Chromium with it).
    pub async fn quit(mut self) {
        let _ = self.call(reqwest::Method::DELETE, "", None).await;
        let _ = self.driver.kill().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screenshots_land_under_target() {
        let root = screenshot_root();
        assert!(root.ends_with("screenshots"), "{}", root.display());
    }
}
