//! deploy/systemd: every unit passes `systemd-analyze verify` without a single warning, and
//! its hardening scores "OK" (exposure ≤ 2.0) in `systemd-analyze security --offline`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

const UNITS: [&str; 3] = ["xhuma.service", "px360.service", "px360-worker.service"];

/// The units with `ExecStart` pointing at an executable that exists here (verify checks it).
fn staged() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for unit in UNITS {
        let text =
            std::fs::read_to_string(common::deploy_dir().join("systemd").join(unit)).unwrap();
        let text = text
            .replace("/usr/local/bin/xhuma", "/bin/true")
            .replace("/usr/local/bin/px360", "/bin/true");
        std::fs::write(dir.path().join(unit), text).unwrap();
    }
    dir
}

#[test]
fn units_verify_without_warnings() {
    let Some(tool) = common::tool("systemd-analyze", "systemd") else {
        return;
    };
    let dir = staged();
    for unit in UNITS {
        let out = Command::new(&tool)
            .arg("verify")
            .arg(dir.path().join(unit))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Unknown keys and unparsable values are only warnings for systemd: fail on them too.
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "{unit}: {stderr}"
        );
    }
}

#[test]
fn units_are_hardened() {
    let Some(tool) = common::tool("systemd-analyze", "systemd") else {
        return;
    };
    let dir = staged();
    for unit in UNITS {
        let text = std::fs::read_to_string(dir.path().join(unit)).unwrap();
        for required in [
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "PrivateTmp=yes",
            "CapabilityBoundingSet=\n",
            "ReadWritePaths=/var/lib/",
            "EnvironmentFile=/etc/",
        ] {
            assert!(text.contains(required), "{unit} lacks {required:?}");
        }
        assert!(
            text.lines()
                .any(|l| l.starts_with("User=") && l != "User=root"),
            "{unit} runs as a dedicated user"
        );
        let out = Command::new(&tool)
            .args(["security", "--offline=true", "--threshold=20", "--no-pager"])
            .arg(dir.path().join(unit))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{unit} exposure above 2.0:\n{}",
            stdout.lines().rev().take(3).collect::<Vec<_>>().join("\n")
        );
    }
}

#[test]
fn environment_examples_name_only_known_variables() {
    // Every variable of the examples is one the binaries read, so an operator copying them
    // gets no silently ignored setting.
    let xhuma_cli = [
        include_str!("../../xhuma/src/config.rs"),
        include_str!("../../service-kit/src/telemetry.rs"),
    ]
    .concat();
    let px360_cli = include_str!("../../px360/src/main.rs").to_owned();
    for (file, known) in [
        ("xhuma.env.example", &xhuma_cli),
        ("px360.env.example", &px360_cli),
    ] {
        let text = std::fs::read_to_string(common::deploy_dir().join(file)).unwrap();
        for line in text.lines() {
            let line = line.trim_start_matches('#');
            let Some((name, _)) = line.split_once('=') else {
                continue;
            };
            if name.contains(' ') || name == "RUST_LOG" {
                continue;
            }
            let field = name
                .split_once('_')
                .map(|(_, rest)| rest.to_ascii_lowercase())
                .unwrap_or_default();
            let leaf = field.rsplit("__").next().unwrap_or_default().to_owned();
            assert!(
                known.contains(name) || known.contains(&format!("pub {leaf}:")),
                "{file}: {name} is not read by the binary"
            );
        }
    }
}
