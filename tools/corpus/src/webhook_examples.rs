//! `--webhook-examples`: GitHub's own webhook payload examples
//! (`@octokit/webhooks-examples`, 329 payloads of 58 event types) decoded
//! into the typed events generated from GitHub's webhooks description, in
//! a small program built and run here. Every example must decode, and each
//! one the description covers must become its own event (the one whose
//! event type is the example's `X-GitHub-Event` and whose action is the
//! payload's). Examples of events the description lacks may be at most 5%.
//! The few examples the description carries itself must each decode into
//! exactly their webhook. Examples older than the description (a field it now requires, such as
//! `repository.has_discussions`, is absent) are reported as such: they
//! fail with that reason and no other.

use crate::specs::{Outcome, GITHUB_WEBHOOK_EXAMPLES};
use std::path::Path;
use std::process::Command;

/// The spec whose generated events are checked.
pub const SPEC_ID: &str = "octokit/webhooks.api.github.com.json";

const MAIN: &str = r##"#![allow(dead_code, unused)]
mod github {
    include!(GENERATED);
}
use github::WebhookEvent;

/// Decoding runs on a thread with tokio's default worker stack (2 MiB),
/// where a webhook handler would run it.
fn main() {
    let worker = std::thread::Builder::new().stack_size(2 * 1024 * 1024).spawn(decode_all);
    let healthy = worker.ok().and_then(|w| w.join().ok()).unwrap_or(false);
    std::process::exit(if healthy { 0 } else { 1 });
}

fn decode_all() -> bool {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: webhook-examples INDEX_JSON");
        return false;
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let groups: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (mut total, mut matched, mut drift) = (0usize, 0usize, 0usize);
    let (mut unknown, mut failed, mut wrong, mut older) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut drift_seen = Vec::new();
    for group in groups.as_array().into_iter().flatten() {
        let event = group["name"].as_str().unwrap_or_default();
        for example in group["examples"].as_array().into_iter().flatten() {
            total += 1;
            let body = serde_json::to_vec(example).unwrap_or_default();
            let action = example.get("action").and_then(|a| a.as_str());
            let label = format!("{event}{}", action.map(|a| format!(".{a}")).unwrap_or_default());
            match WebhookEvent::decode(Some(event), &body) {
                // A field the description requires that the (older)
                // example lacks: a payload from before GitHub added it.
                Err(e) if e.to_string().starts_with("missing required field") => {
                    older.push(format!("{label}: {e}"))
                }
                Err(e) => failed.push(format!("{label}: {e}")),
                Ok(decoded) => {
                    drift += decoded.drift.len();
                    for d in decoded.drift.iter().take(2) {
                        if drift_seen.len() < 10 {
                            drift_seen.push(format!("{label}: {d}"));
                        }
                    }
                    match decoded.value.name() {
                        None => unknown.push(label),
                        Some(name) => {
                            let info = WebhookEvent::EVENTS.iter().find(|e| e.name == name);
                            let right = info.is_some_and(|i| {
                                i.event_type == Some(event) && (i.action == action || i.action.is_none())
                            });
                            if right {
                                matched += 1;
                            } else {
                                wrong.push(format!("{label} decoded as {name}"));
                            }
                        }
                    }
                }
            }
        }
    }
    println!(
        "webhook examples: {total}, decoded into their own event: {matched}, older than the description (a field it requires is absent): {}, not in the description: {}, failed: {}, wrong event: {}, drift reports: {drift}",
        older.len(),
        unknown.len(),
        failed.len(),
        wrong.len()
    );
    for line in failed.iter().chain(&wrong) {
        println!("  FAIL {line}");
    }
    for line in &unknown {
        println!("  not described: {line}");
    }
    for line in &older {
        println!("  older: {line}");
    }
    for line in &drift_seen {
        println!("  drift: {line}");
    }
    let embedded = std::env::args().nth(2).map_or(true, |spec| decode_embedded(&spec));
    embedded && total > 0 && failed.is_empty() && wrong.is_empty() && unknown.len() * 20 <= total
}

/// The examples the description itself carries (`components/examples`,
/// referenced from webhooks' request bodies): each must decode, without a
/// missing field, into exactly the webhook it illustrates.
fn decode_embedded(spec: &str) -> bool {
    let text = std::fs::read_to_string(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{spec}: {e}"));
    let (mut checked, mut bad) = (0usize, Vec::new());
    for (name, item) in doc["webhooks"].as_object().into_iter().flatten() {
        let op = &item["post"];
        let event_type = op["x-github"]["subcategory"].as_str();
        let media = &op["requestBody"]["content"]["application/json"];
        for example in media["examples"].as_object().into_iter().flatten().map(|(_, e)| e) {
            let value = match example["$ref"].as_str().and_then(|r| r.strip_prefix("#/")) {
                Some(pointer) => doc.pointer(&format!("/{pointer}/value")).cloned(),
                None => example.get("value").cloned(),
            };
            let Some(value) = value else { continue };
            checked += 1;
            let body = serde_json::to_vec(&value).unwrap_or_default();
            match WebhookEvent::decode(event_type, &body) {
                Ok(decoded) if decoded.value.name() == Some(name.as_str()) => {}
                Ok(decoded) => bad.push(format!("{name}: decoded as {:?}", decoded.value.name())),
                Err(e) => bad.push(format!("{name}: {e}")),
            }
        }
    }
    println!("examples in the description: {checked}, not decoded into their webhook: {}", bad.len());
    for line in &bad {
        println!("  FAIL {line}");
    }
    checked > 0 && bad.is_empty()
}
"##;

/// Builds and runs the decoder; `Ok(false)` when an example failed.
pub fn run(dir: &Path, generation: &[Outcome]) -> Result<bool, String> {
    let outcome = generation
        .iter()
        .find(|o| o.id == SPEC_ID)
        .ok_or_else(|| format!("{SPEC_ID} is not in the corpus"))?;
    let generated = outcome
        .result
        .as_ref()
        .map_err(|_| format!("{SPEC_ID} did not generate"))?;
    let file = generated
        .output
        .canonicalize()
        .map_err(|e| format!("{}: {e}", generated.output.display()))?;
    let spec = dir
        .join(crate::specs::GITHUB_WEBHOOKS)
        .canonicalize()
        .map_err(|e| format!("{}: {e}", crate::specs::GITHUB_WEBHOOKS))?;
    let examples = dir
        .join(GITHUB_WEBHOOK_EXAMPLES)
        .canonicalize()
        .map_err(|e| format!("{GITHUB_WEBHOOK_EXAMPLES}: {e}"))?;
    let crate_dir = dir.join("webhook-examples");
    std::fs::create_dir_all(crate_dir.join("src")).map_err(|e| e.to_string())?;
    let wharf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let wharf = wharf.canonicalize().unwrap_or(wharf);
    let manifest = format!(
        "[package]\nname = \"wharf-webhook-examples\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n\n[dependencies]\nwharf = {{ package = \"wharf-sdk\", path = {:?}, default-features = false }}\nserde_json = \"1\"\n\n[profile.dev]\ndebug = false\n",
        wharf.display().to_string()
    );
    std::fs::write(crate_dir.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    let main = MAIN.replace("GENERATED", &format!("{:?}", file.display().to_string()));
    std::fs::write(crate_dir.join("src/main.rs"), main).map_err(|e| e.to_string())?;
    eprintln!(
        "building the webhook examples decoder ({} generated lines)",
        generated.lines
    );
    let started = std::time::Instant::now();
    let status = Command::new("cargo")
        .args(["run", "--quiet", "--"])
        .arg(&examples)
        .arg(&spec)
        .current_dir(&crate_dir)
        .env_remove("RUSTFLAGS")
        .env("CARGO_INCREMENTAL", "0")
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    eprintln!(
        "webhook examples: built and run in {:.1?}",
        started.elapsed()
    );
    Ok(status.success())
}
