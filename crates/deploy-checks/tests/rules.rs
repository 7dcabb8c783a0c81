//! `promtool` on deploy/prometheus: the rule files and the example configuration load, and
//! the alert unit tests (deploy/prometheus/tests/*.test.yml) pass.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

fn promtool(args: &[&str]) {
    let Some(promtool) = common::tool("promtool", "prometheus") else {
        return;
    };
    let out = Command::new(promtool)
        .args(args)
        .current_dir(common::deploy_dir().join("prometheus"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn rule_files_are_valid() {
    promtool(&["check", "rules", "xhuma.rules.yml", "px360.rules.yml"]);
}

#[test]
fn example_configuration_loads_the_rules() {
    promtool(&["check", "config", "prometheus.yml"]);
}

#[test]
fn alert_unit_tests_pass() {
    promtool(&[
        "test",
        "rules",
        "tests/xhuma.test.yml",
        "tests/px360.test.yml",
    ]);
}
