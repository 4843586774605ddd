//! wharf quickstart (offline, no accounts).
//!
//! Part 1 decodes a drifted payload with types generated at build time.
//! Part 2 (`resilience.rs`) makes calls through wharf's runtime against the
//! embedded fault server and shows what the resilience stack does.
//!
//! The types below were generated from `specs/tolerant.yaml` by `build.rs`.
//! A provider returns a page of repositories that has drifted from its spec:
//! a renamed enum value, numbers sent as strings, a `null` where the spec
//! says never, a new field, one malformed date. wharf decodes what can be
//! decoded, keeps what it cannot model, and reports every fix-up.

mod resilience;

// A binary uses part of a generated API; the rest is not dead code to fix.
#[allow(dead_code)]
mod api {
    include!(concat!(env!("OUT_DIR"), "/tolerant.rs"));
}

const PAGE: &str = r#"[
  {"id": 1, "name": "wharf", "visibility": "public", "created_at": "2026-01-02T03:04:05Z",
   "owner": {"login": "acme"}, "description": null, "stars": 12},
  {"id": "2", "name": "dock", "visibility": "archived", "created_at": "2026-02-03T04:05:06+01:00",
   "owner": {"login": "acme", "site_admin": "false"}, "topics": null, "stars": "40",
   "released": "not a date", "sponsor_tier": "gold"}
]"#;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    decode_drift();
    resilience::run().await;
}

fn decode_drift() {
    println!("== tolerant decoding with drift report");
    println!(
        "decoding a page of {} bytes with wharf::decode ...",
        PAGE.len()
    );
    let page = match wharf::decode::<Vec<api::Repo>>(PAGE.as_bytes()) {
        Ok(page) => page,
        Err(e) => {
            eprintln!("the payload could not be decoded: {e}");
            std::process::exit(1);
        }
    };
    for repo in &page.value {
        println!(
            "  #{:<3} {:<8} visibility={:<10} stars={:<4} description={}",
            repo.id,
            repo.name,
            repo.visibility.to_string(),
            repo.stars.map_or("-".to_owned(), |s| s.to_string()),
            match &repo.description {
                wharf::Nullable::Absent => "(absent)".to_owned(),
                wharf::Nullable::Null => "null".to_owned(),
                wharf::Nullable::Value(d) => format!("{d:?}"),
            }
        );
    }
    println!(
        "\ncontract drift ({} fix-ups; the provider no longer matches its spec):",
        page.drift.len()
    );
    for drift in &page.drift {
        println!("  {drift}");
    }
    println!("\nre-encoded first repository (absent stays absent, null stays null):");
    println!("  {}", serde_json_string(&page.value[0]));
}

fn serde_json_string(repo: &api::Repo) -> String {
    wharf::__private::serde_json::to_string(repo).unwrap_or_else(|e| format!("<{e}>"))
}
