//! `wharf alerts`: the Prometheus rules file for the named integrations.

use std::path::Path;
use std::process::ExitCode;
use wharf::observe::{alert_rules, AlertConfig};

/// The thresholds: defaults, or the YAML file's (every field optional,
/// unknown fields refused).
fn config(path: Option<&Path>) -> Result<AlertConfig, String> {
    let Some(path) = path else {
        return Ok(AlertConfig::default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn run(out: &Path, integrations: &[String], config_path: Option<&Path>) -> ExitCode {
    let rules =
        config(config_path).and_then(|c| alert_rules(&c, integrations).map_err(|e| e.to_string()));
    let rules = match rules {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if out.as_os_str() == "-" {
        print!("{rules}");
        return ExitCode::SUCCESS;
    }
    match std::fs::write(out, rules) {
        Ok(()) => {
            eprintln!(
                "wrote {} ({} integration{}); check it with `promtool check rules {}`",
                out.display(),
                integrations.len(),
                if integrations.len() == 1 { "" } else { "s" },
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}
