//! The PostgreSQL token store against a real PostgreSQL (Debian package,
//! temporary data directory, loopback port), and the cross-process refresh
//! stampede: four OS processes of fifty tasks each, sharing the store, at
//! the expiry of a real oidc-provider token with refresh-token rotation.
//! The server's own events must show exactly one refresh per expiry, no
//! `invalid_grant` and no revoked grant.

mod peers;

use peers::oidc::{login, OidcServer};
use peers::postgres::Postgres;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wharf_runtime::auth::{DataKey, KeyRing, PostgresStore, TokenSet, TokenStore};

fn canary_tokens() -> TokenSet {
    TokenSet {
        access_token: SecretString::from("CANARY-ACCESS".to_owned()),
        refresh_token: Some(SecretString::from("CANARY-REFRESH".to_owned())),
        id_token: None,
        token_type: "Bearer".into(),
        issued_at: SystemTime::now(),
        lifetime: Some(Duration::from_secs(600)),
        scopes: ["repo".to_owned()].into(),
    }
}

#[tokio::test]
async fn a_refused_connection_says_so() {
    // A loopback port nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let keys = KeyRing::new(DataKey::generate("test").unwrap());
    let err = PostgresStore::connect(&format!("host=127.0.0.1 port={port} user=x"), keys)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("error connecting to server") && err.to_lowercase().contains("refused"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_encrypted_before_the_database_and_leases_are_exclusive() {
    let pg = Postgres::start();
    let key = DataKey::generate("k1").unwrap();
    let key_text = key.to_text();
    let store = PostgresStore::connect(&pg.config(), KeyRing::new(key))
        .await
        .unwrap();
    store.save("github:me", &canary_tokens()).await.unwrap();
    let back = store.load("github:me").await.unwrap().unwrap();
    assert_eq!(back.access_token.expose_secret(), "CANARY-ACCESS");

    // What the database holds is an envelope, not tokens.
    let (client, connection) = tokio_postgres::connect(&pg.config(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT envelope FROM wharf_tokens WHERE credential = 'github:me'",
            &[],
        )
        .await
        .unwrap();
    let raw: Vec<u8> = row.get(0);
    assert!(!String::from_utf8_lossy(&raw).contains("CANARY"));

    // A second instance with the same key reads it; one with another key cannot.
    let same = PostgresStore::connect(
        &pg.config(),
        KeyRing::new(DataKey::parse(key_text.expose_secret()).unwrap()),
    )
    .await
    .unwrap();
    assert!(same.load("github:me").await.unwrap().is_some());
    let other =
        PostgresStore::connect(&pg.config(), KeyRing::new(DataKey::generate("k1").unwrap()))
            .await
            .unwrap();
    assert!(other.load("github:me").await.is_err());

    // Leases: the second waits until the first is dropped.
    let first = store.lease("github:me").await.unwrap();
    let store = Arc::new(store);
    let s2 = store.clone();
    let second = tokio::spawn(async move { s2.lease("github:me").await.map(|_| ()) });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "the lease is held");
    drop(first);
    tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .expect("released when the holder's connection closed")
        .unwrap()
        .unwrap();
    store.delete("github:me").await.unwrap();
    assert!(store.load("github:me").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_share_one_refresh_per_expiry_through_postgres() {
    let pg = Postgres::start();
    let server = OidcServer::start(r#"{"autoConsent":true,"accessTtl":3}"#);
    let client = server.client("cli", None).await;
    let tokens = login(&server, &client).await;
    let key = DataKey::generate("k1").unwrap();
    let key_text = key.to_text();
    let store = PostgresStore::connect(&pg.config(), KeyRing::new(key))
        .await
        .unwrap();
    store.save("oidc:shared", &tokens).await.unwrap();
    let dir = std::env::temp_dir().join(format!("wharf-stampede-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.der");
    std::fs::write(&ca, &server.ca_der).unwrap();

    for round in 1..=2 {
        // Everyone starts together, just after the token expires.
        let start =
            SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_millis(3_500);
        let children: Vec<_> = (0..4)
            .map(|_| {
                std::process::Command::new(env!("CARGO_BIN_EXE_wharf-test-stampede"))
                    .arg(&server.issuer)
                    .arg(&ca)
                    .arg(pg.config())
                    .arg(key_text.expose_secret())
                    .arg(start.as_millis().to_string())
                    .arg("50")
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .expect("child process")
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && text.contains("OK 50"),
                "round {round}: {text}"
            );
        }
        assert_eq!(
            server.count("refresh_token.consumed"),
            round,
            "one refresh per expiry across 4 processes"
        );
    }
    assert_eq!(
        server.invalid_grants(),
        0,
        "no process used a rotated refresh token"
    );
    assert_eq!(server.count("grant.revoked"), 0, "the grant survived");
    let _ = std::fs::remove_dir_all(&dir);
}
