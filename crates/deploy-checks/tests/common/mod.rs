//! Helpers shared by the deploy tests: the repository's `deploy/` folder, external tools with
//! the missing-tool rule, and the workspace's built binaries.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

/// `<repo>/deploy`.
pub fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// The tool's path, or `None` after a loud message when it is missing on a developer's
/// machine. Under CI (`CI=true`) a missing tool fails the test: `.ci/run` installs it.
pub fn tool(name: &str, package: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{name} is missing: .ci/run installs it (apt-get install -y {package})"
        );
        eprintln!(
            "\n!!!!! SKIPPED: {name} is not installed (apt-get install -y {package}); this test \
             runs under CI !!!!!\n"
        );
    }
    found
}

/// A binary of this workspace, built next to this test (`target/<profile>/<name>`).
/// `cargo test --workspace` builds every package's binaries before running any test; alone,
/// build them first: `cargo build -p xhuma -p px360`.
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test>-<hash>
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = profile_dir.join(name);
    assert!(
        bin.is_file(),
        "{} is not built: run `cargo build -p {name}` (cargo test --workspace builds it)",
        bin.display()
    );
    bin
}

/// A free loopback port (bound then released; the callers bind it straight away).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
