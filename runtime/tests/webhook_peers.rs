//! wharf's webhook verifier against the providers' own libraries, both
//! ways: deliveries the libraries signed (and mutated: tampered bodies,
//! other secrets, stale, future and edge timestamps, rotated secret lists)
//! get the libraries' verdict from wharf, and deliveries wharf signed (and
//! mutated the same ways) get wharf's verdict from the libraries. 10,000
//! cases per scheme and direction; Python's `standardwebhooks`, `stripe`,
//! `slack_sdk` and `twilio`, npm's `@octokit/webhooks-methods`, installed
//! by `scripts/install-webhook-peers.sh` (the test script runs it). A
//! missing library fails the test.

use http::{HeaderMap, HeaderName, HeaderValue};
use secrecy::SecretString;
use serde_json::{json, Value};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};
use wharf_runtime::webhooks::{Delivery, Scheme, Verifier};

const CASES: usize = 10_000;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the runtime sits in the workspace")
        .to_path_buf()
}

fn peers() -> PathBuf {
    workspace().join("build/webhook-peers")
}

/// The command that runs `scheme`'s reference library.
fn reference(scheme: Scheme) -> Command {
    let missing =
        "the providers' webhook libraries are not installed: run scripts/install-webhook-peers.sh";
    if scheme == Scheme::GitHub {
        let node_dir = peers().join("node");
        assert!(
            node_dir
                .join("node_modules/@octokit/webhooks-methods")
                .is_dir(),
            "{missing}"
        );
        // ES modules resolve packages next to the script: run it from there.
        let script = node_dir.join("github.mjs");
        std::fs::copy(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/webhooks/github.mjs"),
            &script,
        )
        .unwrap();
        let mut command = Command::new("node");
        command.arg(script);
        command
    } else {
        let python = peers().join("venv/bin/python");
        assert!(python.is_file(), "{missing}");
        let mut command = Command::new(python);
        command.arg(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/webhooks/reference.py"),
        );
        command
    }
}

fn run(mut command: Command, input: Option<String>) -> String {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the reference library runs");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        if let Some(input) = input {
            stdin.write_all(input.as_bytes()).unwrap();
        }
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        output.status.success(),
        "the reference library failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// wharf's verdict on a case (the JSON the scripts read and write).
fn wharf_verdict(case: &Value) -> bool {
    let scheme: Scheme = case["scheme"].as_str().unwrap().parse().unwrap();
    let secrets: Vec<SecretString> = case["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| SecretString::from(s.as_str().unwrap().to_owned()))
        .collect();
    let mut headers = HeaderMap::new();
    for pair in case["headers"].as_array().unwrap() {
        headers.append(
            HeaderName::from_bytes(pair[0].as_str().unwrap().as_bytes()).unwrap(),
            HeaderValue::from_str(pair[1].as_str().unwrap()).unwrap(),
        );
    }
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(case["now"].as_u64().unwrap());
    let verifier = Verifier::new(scheme, &secrets).unwrap();
    let delivery = Delivery {
        headers: &headers,
        body: case["body"].as_str().unwrap().as_bytes(),
        url: case["url"].as_str(),
    };
    verifier.verify(&delivery, now).is_ok()
}

/// Deliveries the library signed: wharf agrees with the library's verdict.
fn library_signed(scheme: Scheme, seed: u64) {
    let mut command = reference(scheme);
    command.args([
        "cases",
        scheme.as_str(),
        &CASES.to_string(),
        &seed.to_string(),
    ]);
    let out = run(command, None);
    let mut disagreements = Vec::new();
    let (mut valid, mut total) = (0, 0);
    for line in out.lines() {
        let case: Value = serde_json::from_str(line).unwrap();
        let library = case["valid"].as_bool().unwrap();
        total += 1;
        valid += usize::from(library);
        if wharf_verdict(&case) != library {
            disagreements.push(case);
        }
    }
    println!(
        "{scheme}: {total} cases signed by the library ({valid} valid), {} disagreements",
        disagreements.len()
    );
    assert_eq!(total, CASES);
    assert!(
        valid > CASES / 4 && valid < CASES * 3 / 4,
        "{scheme}: {valid} valid"
    );
    assert!(
        disagreements.is_empty(),
        "{scheme}: first: {}",
        disagreements[0]
    );
}

/// A small deterministic generator for the cases wharf signs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn secret(&mut self, scheme: Scheme) -> String {
        if scheme == Scheme::Standard {
            use base64::Engine as _;
            let bytes: Vec<u8> = (0..24).map(|_| self.next() as u8).collect();
            format!(
                "whsec_{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )
        } else {
            (0..8 + self.below(30))
                .map(|_| {
                    char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[self.below(36) as usize])
                })
                .collect()
        }
    }
}

/// Deliveries wharf signed: the library agrees with wharf's verdict.
fn wharf_signed(scheme: Scheme, seed: u64) {
    let mut rng = Rng(seed | 1);
    let mut cases = Vec::with_capacity(CASES);
    for i in 0..CASES {
        let now = 1_700_000_000 + rng.below(1_000_000) as i64;
        let (secret, other) = (rng.secret(scheme), rng.secret(scheme));
        let texts = ["a", "café", "☃ snow", "", "x&y=z"];
        let text = texts[rng.below(texts.len() as u64) as usize];
        let mut body = if scheme == Scheme::Twilio {
            let form: Vec<(String, String)> = ["To", "From", "Body", "a", "Z"]
                .iter()
                .take(1 + rng.below(5) as usize)
                .map(|k| ((*k).to_owned(), format!("{text}{}", rng.below(100))))
                .collect();
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish()
        } else {
            json!({"id": format!("evt_{i}"), "amount": rng.below(1_000_000), "text": text})
                .to_string()
        };
        let url = (scheme == Scheme::Twilio)
            .then(|| format!("https://example.test/hooks/{i}?x={}", rng.below(10)));
        let kinds = [
            "valid",
            "tampered",
            "wrong_secret",
            "stale",
            "future",
            "rotated",
            "edge",
        ];
        let kind = kinds[rng.below(kinds.len() as u64) as usize];
        let ts = match kind {
            "stale" => now - 301 - rng.below(100_000) as i64,
            "future" => now + 301 + rng.below(100_000) as i64,
            "edge" => now + [-301, -300, -299, 299, 300, 301][rng.below(6) as usize],
            _ => now - rng.below(250) as i64,
        };
        let signer = Verifier::new(scheme, &[SecretString::from(secret.clone())]).unwrap();
        let signed = signer
            .sign(body.as_bytes(), &format!("msg_{i}"), ts, url.as_deref())
            .unwrap();
        let mut secrets = vec![secret.clone()];
        match kind {
            "tampered" => body.push(' '),
            "wrong_secret" => secrets = vec![other],
            "rotated" => secrets = vec![other, secret],
            _ => {}
        }
        let headers: Vec<Value> = signed.headers.iter().map(|(n, v)| json!([n, v])).collect();
        let mut case = json!({
            "scheme": scheme.as_str(), "kind": kind, "secrets": secrets, "headers": headers,
            "body": body, "url": url, "now": now,
        });
        case["valid"] = json!(wharf_verdict(&case));
        cases.push(case);
    }
    let input: String = cases.iter().map(|c| format!("{c}\n")).collect();
    let mut command = reference(scheme);
    command.arg("judge");
    let verdicts = run(command, Some(input));
    let verdicts: Vec<&str> = verdicts.lines().collect();
    assert_eq!(verdicts.len(), CASES);
    let valid = cases.iter().filter(|c| c["valid"] == json!(true)).count();
    let disagreements: Vec<&Value> = cases
        .iter()
        .zip(&verdicts)
        .filter(|(case, verdict)| case["valid"].as_bool() != Some(**verdict == "true"))
        .map(|(case, _)| case)
        .collect();
    println!(
        "{scheme}: {CASES} cases signed by wharf ({valid} valid), {} disagreements",
        disagreements.len()
    );
    assert!(
        valid > CASES / 4 && valid < CASES * 3 / 4,
        "{scheme}: {valid} valid"
    );
    assert!(
        disagreements.is_empty(),
        "{scheme}: first: {}",
        disagreements[0]
    );
}

#[test]
fn standard_webhooks_agrees_with_its_reference_library() {
    library_signed(Scheme::Standard, 1);
    wharf_signed(Scheme::Standard, 2);
}

#[test]
fn stripe_agrees_with_stripe_python() {
    library_signed(Scheme::Stripe, 3);
    wharf_signed(Scheme::Stripe, 4);
}

#[test]
fn slack_agrees_with_slack_sdk() {
    library_signed(Scheme::Slack, 5);
    wharf_signed(Scheme::Slack, 6);
}

#[test]
fn twilio_agrees_with_twilio_python() {
    library_signed(Scheme::Twilio, 7);
    wharf_signed(Scheme::Twilio, 8);
}

#[test]
fn github_agrees_with_octokit_webhooks_methods() {
    library_signed(Scheme::GitHub, 9);
    wharf_signed(Scheme::GitHub, 10);
}
