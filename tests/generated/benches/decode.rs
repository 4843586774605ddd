//! Decoding speed: generated tolerant types against plain `#[derive(Deserialize)]`
//! types of the same shape, on the same payloads, in the same process.
//!
//! `cargo bench -p wharf-generated-tests --bench decode` prints throughput of
//! each path and the ratios the foundation issue sets goals for:
//! tolerant ≥ 0.9× strict, drift collection on ≥ 0.8× strict.

use serde::Deserialize;
use std::hint::black_box;
use std::time::{Duration, Instant};
use wharf_generated_tests::tolerant::Repo;

/// The strict baseline: what a hand-written client would derive.
mod strict {
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub struct Repo {
        pub id: i64,
        pub name: String,
        #[serde(rename = "full-name")]
        pub full_name: Option<String>,
        pub description: Option<String>,
        pub topics: Option<Vec<String>>,
        pub stars: Option<i32>,
        pub private: Option<bool>,
        pub score: Option<f64>,
        pub visibility: Visibility,
        pub owner: User,
        pub license: Option<License>,
        pub created_at: chrono::DateTime<chrono::FixedOffset>,
        pub labels: Option<std::collections::BTreeMap<String, i64>>,
        #[serde(rename = "+1")]
        pub plus_1: Option<i64>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub struct User {
        pub login: String,
        pub id: Option<i64>,
        pub site_admin: Option<bool>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub struct License {
        pub key: Option<String>,
        pub spdx_id: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Visibility {
        Public,
        Private,
        Internal,
    }
}

fn payload(count: usize) -> Vec<u8> {
    let visibilities = ["public", "private", "internal"];
    let repos: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            serde_json::json!({
                "id": i,
                "name": format!("repo-{i}"),
                "full-name": format!("acme/repo-{i}"),
                "description": if i % 3 == 0 { serde_json::Value::Null } else { format!("A repository numbered {i}, with a description of some length.").into() },
                "topics": ["rust", "http", "openapi"],
                "stars": i * 7 % 1000,
                "private": i % 2 == 0,
                "score": i as f64 / 3.0,
                "visibility": visibilities[i % 3],
                "owner": {"login": format!("user{}", i % 50), "id": i % 50, "site_admin": false},
                "license": {"key": "mit", "spdx_id": "MIT"},
                "created_at": "2024-05-06T07:08:09+00:00",
                "labels": {"bug": i % 5, "docs": 1},
                "+1": i % 11
            })
        })
        .collect();
    serde_json::to_vec(&repos).unwrap_or_default()
}

/// Median time of `rounds` runs of `f`.
fn measure(rounds: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[rounds / 2]
}

fn main() {
    let bytes = payload(2_000);
    let mb = bytes.len() as f64 / 1e6;
    // Sanity: all three paths decode the payload.
    assert_eq!(
        serde_json::from_slice::<Vec<strict::Repo>>(&bytes)
            .map(|v| v.len())
            .ok(),
        Some(2_000)
    );
    assert_eq!(
        serde_json::from_slice::<Vec<Repo>>(&bytes)
            .map(|v| v.len())
            .ok(),
        Some(2_000)
    );
    let decoded = wharf::decode::<Vec<Repo>>(&bytes).ok();
    assert_eq!(
        decoded.as_ref().map(|d| (d.value.len(), d.drift.len())),
        Some((2_000, 0))
    );

    let rounds = 31;
    // Interleave the three paths so machine noise hits them alike.
    let mut strict_t = Vec::new();
    let mut tolerant_t = Vec::new();
    let mut drift_t = Vec::new();
    for _ in 0..5 {
        strict_t.push(measure(rounds, || {
            black_box(serde_json::from_slice::<Vec<strict::Repo>>(black_box(&bytes)).ok());
        }));
        tolerant_t.push(measure(rounds, || {
            black_box(serde_json::from_slice::<Vec<Repo>>(black_box(&bytes)).ok());
        }));
        drift_t.push(measure(rounds, || {
            black_box(wharf::decode::<Vec<Repo>>(black_box(&bytes)).ok());
        }));
    }
    let best = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64()
    };
    let (s, t, d) = (
        best(&mut strict_t),
        best(&mut tolerant_t),
        best(&mut drift_t),
    );
    println!("payload: 2000 repositories, {mb:.2} MB");
    println!("strict  #[derive(Deserialize)] : {:8.1} MB/s", mb / s);
    println!(
        "tolerant (serde_json::from_slice): {:8.1} MB/s  ratio {:.2}x (goal >= 0.90x)",
        mb / t,
        s / t
    );
    println!(
        "tolerant + drift (wharf::decode) : {:8.1} MB/s  ratio {:.2}x (goal >= 0.80x)",
        mb / d,
        s / d
    );

    // The same with drift present in every element.
    let drifted = String::from_utf8_lossy(&bytes)
        .replace("\"stars\":", "\"stars_new\": 1, \"stars\":")
        .replace("\"public\"", "\"archived\"")
        .into_bytes();
    let n = wharf::decode::<Vec<Repo>>(&drifted)
        .map(|d| d.drift.len())
        .unwrap_or(0);
    let dt = measure(rounds, || {
        black_box(wharf::decode::<Vec<Repo>>(black_box(&drifted)).ok());
    });
    println!(
        "drifting payload ({n} drift records)  : {:8.1} MB/s  ratio {:.2}x of strict on clean input",
        drifted.len() as f64 / 1e6 / dt.as_secs_f64(),
        s / dt.as_secs_f64() * (drifted.len() as f64 / bytes.len() as f64)
    );
    let _ = strict::Visibility::deserialize(serde_json::Value::from("public"));
}
