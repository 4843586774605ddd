//! Compiling generated code in batches with `cargo check`, attributing each
//! error to the spec whose file it is in, and remembering results.

use crate::specs::{module_name, Outcome};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Compile results by spec id: (hash of the generated code, error if any).
pub struct Results {
    file: PathBuf,
    pub by_id: BTreeMap<String, (u64, Option<String>)>,
    pub check_seconds: f64,
}

impl Results {
    pub fn load(dir: &Path, fresh: bool) -> Results {
        let file = dir.join("compiled.tsv");
        let mut by_id = BTreeMap::new();
        if !fresh {
            if let Ok(text) = std::fs::read_to_string(&file) {
                for line in text.lines() {
                    let mut parts = line.splitn(4, '\t');
                    if let (Some(id), Some(hash), Some(ok), rest) =
                        (parts.next(), parts.next(), parts.next(), parts.next())
                    {
                        let Ok(hash) = hash.parse() else { continue };
                        let error = (ok != "ok").then(|| rest.unwrap_or("").to_owned());
                        by_id.insert(id.to_owned(), (hash, error));
                    }
                }
            }
        }
        Results {
            file,
            by_id,
            check_seconds: 0.0,
        }
    }

    fn save(&self) -> Result<(), String> {
        let mut text = String::new();
        for (id, (hash, error)) in &self.by_id {
            let (ok, error) = match error {
                None => ("ok", String::new()),
                Some(e) => ("fail", e.replace(['\t', '\n'], " ")),
            };
            text.push_str(&format!("{id}\t{hash}\t{ok}\t{error}\n"));
        }
        std::fs::write(&self.file, text).map_err(|e| format!("{}: {e}", self.file.display()))
    }

    /// The compile result of a spec if it is current (same generated code).
    pub fn current(&self, outcome: &Outcome) -> Option<&Option<String>> {
        let hash = outcome.result.as_ref().ok()?.code_hash;
        self.by_id
            .get(&outcome.id)
            .filter(|(h, _)| *h == hash)
            .map(|(_, e)| e)
    }
}

pub fn check(
    dir: &Path,
    chosen: &[&Outcome],
    batch: usize,
    results: &mut Results,
) -> Result<(), String> {
    let crate_dir = dir.join("check");
    write_manifest(&crate_dir)?;
    let pending: Vec<&Outcome> = chosen
        .iter()
        .copied()
        .filter(|o| results.current(o).is_none())
        .collect();
    eprintln!(
        "{} already checked with the same code; {} to check",
        chosen.len() - pending.len(),
        pending.len()
    );
    let started = Instant::now();
    // A client this large cannot be compiled within this machine's memory:
    // it counts as not compiling, with the reason, instead of killing rustc.
    let (too_large, pending): (Vec<&Outcome>, Vec<&Outcome>) = pending.into_iter().partition(|o| {
        o.result
            .as_ref()
            .is_ok_and(|g| g.lines > MAX_CHECKABLE_LINES)
    });
    for o in &too_large {
        let Ok(g) = &o.result else { continue };
        let reason = format!(
            "not compiled: {} generated lines exceed what rustc can check in this machine's memory ({MAX_CHECKABLE_LINES} lines)",
            g.lines
        );
        eprintln!("{}: {reason}", o.id);
        results
            .by_id
            .insert(o.id.clone(), (g.code_hash, Some(reason)));
    }
    results.save()?;
    let groups = batches(&pending, batch, MAX_BATCH_LINES);
    let total = groups.len();
    for (n, group) in groups.iter().enumerate() {
        let group = group.as_slice();
        let t = Instant::now();
        let verdicts = check_batch(&crate_dir, group)?;
        let failed = verdicts.values().filter(|v| v.is_some()).count();
        for o in group {
            let Ok(g) = &o.result else { continue };
            let verdict = verdicts.get(&o.id).cloned().unwrap_or(None);
            results.by_id.insert(o.id.clone(), (g.code_hash, verdict));
        }
        results.save()?;
        eprintln!(
            "batch {}/{}: {} specs, {failed} failed, {:.1?}",
            n + 1,
            total,
            group.len(),
            t.elapsed()
        );
    }
    results.check_seconds = started.elapsed().as_secs_f64();
    Ok(())
}

/// Generated lines one `cargo check` may hold: rustc needs roughly 10 GB
/// per million lines of generated clients, and the machine has 24 GB.
const MAX_BATCH_LINES: usize = 400_000;

/// Beyond this a single client does not fit (Microsoft Graph beta, 3.4M
/// lines, took more than 15 GB before it was stopped).
const MAX_CHECKABLE_LINES: usize = 2_000_000;

/// Consecutive groups of at most `max_specs` specs and `max_lines` lines
/// (a spec larger than that goes alone).
fn batches<'a>(
    pending: &[&'a Outcome],
    max_specs: usize,
    max_lines: usize,
) -> Vec<Vec<&'a Outcome>> {
    let mut out: Vec<Vec<&Outcome>> = Vec::new();
    let mut lines = 0;
    for o in pending {
        let size = o.result.as_ref().map_or(0, |g| g.lines);
        let fits = out
            .last()
            .is_some_and(|b| b.len() < max_specs && lines + size <= max_lines);
        if !fits {
            out.push(Vec::new());
            lines = 0;
        }
        if let Some(b) = out.last_mut() {
            b.push(o);
        }
        lines += size;
    }
    out
}

fn write_manifest(crate_dir: &Path) -> Result<(), String> {
    let wharf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let wharf = wharf.canonicalize().unwrap_or(wharf);
    std::fs::create_dir_all(crate_dir.join("src")).map_err(|e| e.to_string())?;
    let manifest = format!(
        "[package]\nname = \"wharf-corpus-check\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n\n[dependencies]\nwharf = {{ package = \"wharf-sdk\", path = {:?}, default-features = false }}\n",
        wharf.display().to_string()
    );
    std::fs::write(crate_dir.join("Cargo.toml"), manifest).map_err(|e| e.to_string())
}

/// Checks one batch; returns each spec's first error (None: compiles).
fn check_batch(
    crate_dir: &Path,
    group: &[&Outcome],
) -> Result<HashMap<String, Option<String>>, String> {
    let mut lib = String::from("#![allow(dead_code, unused)]\n");
    let mut by_file = HashMap::new();
    for o in group {
        let Ok(g) = &o.result else { continue };
        let file = g.output.canonicalize().unwrap_or_else(|_| g.output.clone());
        lib.push_str(&format!(
            "pub mod {} {{ include!({:?}); }}\n",
            module_name(&o.id),
            file.display().to_string()
        ));
        by_file.insert(file.display().to_string(), o.id.clone());
    }
    std::fs::write(crate_dir.join("src/lib.rs"), lib).map_err(|e| e.to_string())?;
    let output = Command::new("cargo")
        .args(["check", "--quiet", "--message-format=json"])
        .current_dir(crate_dir)
        .env_remove("RUSTFLAGS")
        // Each batch is a different crate: incremental state is never reused,
        // and for the big specs it ran to gigabytes of disk per run.
        .env("CARGO_INCREMENTAL", "0")
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let mut verdicts: HashMap<String, Option<String>> =
        group.iter().map(|o| (o.id.clone(), None)).collect();
    let mut unattributed = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-message" || msg["message"]["level"] != "error" {
            continue;
        }
        let text = msg["message"]["message"]
            .as_str()
            .unwrap_or("error")
            .to_owned();
        let spans = msg["message"]["spans"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let located = spans.iter().find_map(|s| {
            let file = s["file_name"].as_str()?;
            let id = by_file.get(file)?;
            Some((id.clone(), format!("{text} (line {})", s["line_start"])))
        });
        match located {
            Some((id, error)) => {
                let slot = verdicts.entry(id).or_insert(None);
                if slot.is_none() {
                    *slot = Some(error);
                }
            }
            None if !text.starts_with("aborting") && !text.contains("could not compile") => {
                unattributed.get_or_insert(text);
            }
            None => {}
        }
    }
    if !output.status.success() && verdicts.values().all(Option::is_none) {
        let why = unattributed.unwrap_or_else(|| {
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or("cargo check failed")
                .to_owned()
        });
        return Err(format!(
            "cargo check failed without an error in a generated file: {why}"
        ));
    }
    Ok(verdicts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::specs::{Generation, Outcome};
    use std::time::Duration;

    fn spec(lines: usize) -> Outcome {
        Outcome {
            id: format!("s{lines}"),
            result: Ok(Generation {
                output: PathBuf::new(),
                code_hash: 0,
                types: 0,
                lines,
                warnings: 0,
                errors: 0,
                webhooks: 0,
                time: Duration::ZERO,
            }),
        }
    }

    #[test]
    fn batches_respect_count_and_size() {
        let specs: Vec<Outcome> = [100, 100, 100, 900, 50, 50, 50]
            .into_iter()
            .map(spec)
            .collect();
        let refs: Vec<&Outcome> = specs.iter().collect();
        let sizes: Vec<Vec<usize>> = batches(&refs, 2, 500)
            .iter()
            .map(|b| {
                b.iter()
                    .map(|o| o.result.as_ref().map_or(0, |g| g.lines))
                    .collect()
            })
            .collect();
        assert_eq!(
            sizes,
            [vec![100, 100], vec![100], vec![900], vec![50, 50], vec![50]]
        );
    }
}
