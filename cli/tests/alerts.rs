//! `wharf alerts` proven with the real tool: the rules it writes pass
//! `promtool check rules`, and `promtool test rules` (Debian's
//! `prometheus` package) feeds series to each alert and checks which fire
//! and which stay silent, with the default thresholds and with configured
//! ones (tests/alerts/*.test.yaml).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn wharf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wharf"))
        .args(args)
        .output()
        .expect("run wharf")
}

fn promtool(dir: &Path, args: &[&str]) -> Output {
    Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool is missing: scripts/test.sh installs Debian's prometheus package")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wharf-alerts-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Writes the rules into a scratch directory beside `test_file`, then
/// checks and unit-tests them there.
fn prove(name: &str, extra: &[&str], test_file: &str) {
    let dir = scratch(name);
    let rules = dir.join("rules.yaml");
    let mut args = vec!["alerts", "--out", rules.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = wharf(&args);
    assert!(out.status.success(), "{}", text(&out));

    let check = promtool(&dir, &["check", "rules", "rules.yaml"]);
    assert!(check.status.success(), "{}", text(&check));
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/alerts")
        .join(test_file);
    std::fs::copy(&source, dir.join(test_file)).unwrap();
    let test = promtool(&dir, &["test", "rules", test_file]);
    assert!(test.status.success(), "{}", text(&test));
    assert!(text(&test).contains("SUCCESS"), "{}", text(&test));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn default_rules_fire_and_stay_silent_as_promtool_tests_say() {
    prove("default", &["--integration", "github"], "default.test.yaml");
}

#[test]
fn each_integration_gets_a_group_of_its_own() {
    let dir = scratch("groups");
    let rules = dir.join("rules.yaml");
    let out = wharf(&[
        "alerts",
        "--out",
        rules.to_str().unwrap(),
        "--integration",
        "github",
        "--integration",
        "stripe",
        "--integration",
        "github",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let check = promtool(&dir, &["check", "rules", "rules.yaml"]);
    assert!(check.status.success(), "{}", text(&check));
    // 18 alerts and one recording rule per integration, each named once.
    assert!(text(&check).contains("38 rules found"), "{}", text(&check));
    let rules = std::fs::read_to_string(dir.join("rules.yaml")).unwrap();
    assert_eq!(rules.matches("- name: ").count(), 2);
    assert!(
        rules.contains("- name: \"wharf-github\"") && rules.contains("- name: \"wharf-stripe\"")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn configured_thresholds_are_the_ones_in_force() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/alerts/configured.yaml");
    prove(
        "configured",
        &[
            "--integration",
            "github",
            "--config",
            config.to_str().unwrap(),
        ],
        "configured.test.yaml",
    );
}

#[test]
fn the_default_rules_would_fail_the_configured_tests() {
    // The configured tests are not vacuous: under the defaults, 10% errors
    // fire and a 995 ms p99 has no baseline yet.
    let dir = scratch("mismatch");
    let rules = dir.join("rules.yaml");
    let out = wharf(&[
        "alerts",
        "--out",
        rules.to_str().unwrap(),
        "--integration",
        "github",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/alerts/configured.test.yaml");
    std::fs::copy(source, dir.join("configured.test.yaml")).unwrap();
    let test = promtool(&dir, &["test", "rules", "configured.test.yaml"]);
    assert!(!test.status.success(), "{}", text(&test));
    assert!(
        text(&test).contains("WharfErrorRateHigh"),
        "{}",
        text(&test)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_refused_with_what_and_where() {
    let dir = scratch("bad");
    let config = dir.join("alerts.yaml");
    std::fs::write(&config, "queue_depht: {warning: 1, critical: 2}\n").unwrap();
    let rules = dir.join("rules.yaml");
    let out = wharf(&[
        "alerts",
        "--out",
        rules.to_str().unwrap(),
        "--integration",
        "github",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out);
    assert!(
        said.contains("queue_depht") && said.contains("alerts.yaml"),
        "{said}"
    );
    assert!(!rules.exists(), "nothing written");

    std::fs::write(&config, "window: 5 minutes\n").unwrap();
    let out = wharf(&[
        "alerts",
        "--out",
        "-",
        "--integration",
        "github",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("window"), "{}", text(&out));

    // No integration: a usage error.
    let out = wharf(&["alerts", "--out", "-"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // Standard output.
    let out = wharf(&["alerts", "--out", "-", "--integration", "github"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("# Alerting rules"));
    let _ = std::fs::remove_dir_all(&dir);
}
