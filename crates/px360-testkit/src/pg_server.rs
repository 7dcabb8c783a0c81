//! A PostgreSQL server of the test's own (initdb in a temporary directory, on a free loopback
//! port), for tests that must stop the database under a running application. The shared server
//! on 127.0.0.1:5432 is never stopped by a test.
//!
//! Uses the Debian server binaries (`/usr/lib/postgresql/<n>/bin`, or `PX360_TEST_PG_BIN`).
//! PostgreSQL refuses to run as root, so as root the cluster is owned by and run as the
//! `postgres` user (`runuser`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub struct OwnPostgres {
    /// `postgres://postgres@127.0.0.1:<port>/postgres`
    pub url: String,
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    as_postgres: bool,
    running: bool,
    _dir: tempfile::TempDir,
}

fn bin_dir() -> Option<PathBuf> {
    if let Ok(b) = std::env::var("PX360_TEST_PG_BIN") {
        return Some(PathBuf::from(b));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| Some(e.ok()?.path().join("bin")))
        .filter(|b| b.join("initdb").exists())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl OwnPostgres {
    /// Start a fresh cluster; `None` when no PostgreSQL server binaries are installed.
    pub async fn start() -> Option<OwnPostgres> {
        let bin = bin_dir()?;
        let dir = tempfile::Builder::new()
            .prefix("px360-own-pg")
            .tempdir()
            .unwrap();
        let data = dir.path().join("data");
        let as_postgres = is_root();
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown of the test cluster's directory");
        }
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut pg = OwnPostgres {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            port,
            bin,
            data,
            as_postgres,
            running: false,
            _dir: dir,
        };
        let data = pg.data.display().to_string();
        pg.run(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            pg._dir.path().display()
        );
        let log = pg._dir.path().join("server.log").display().to_string();
        pg.run(
            "pg_ctl",
            &[
                "-D", &data, "-o", &opts, "-l", &log, "-w", "-t", "60", "start",
            ],
        );
        pg.running = true;
        // Ready for TCP connections (pg_ctl -w waits for the socket, not always for TCP).
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(pg)
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        let mut c = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        // The `postgres` user may not be allowed into the test's working directory.
        c.current_dir(self._dir.path());
        c
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self.command(tool).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stop the server (fast shutdown: sessions are terminated, as in a real outage).
    pub fn stop(&mut self) {
        if self.running {
            self.running = false;
            let data = self.data.display().to_string();
            self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        if self.running {
            let data = self.data.display().to_string();
            let _ = self
                .command("pg_ctl")
                .args(["-D", &data, "-m", "immediate", "stop"])
                .output();
        }
    }
}
