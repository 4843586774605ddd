//! `wharf key set|status|delete` end to end: a key stored from stdin or an
//! environment variable is read by an app with `KeySource::from_store`,
//! authenticates calls to the sandbox's API-key scheme, and a key set again
//! is picked up by the running app (`reload_from`) without a restart. The
//! key never appears in what the CLI prints.

use secrecy::ExposeSecret;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use wharf::auth::{EncryptedFileStore, KeyRing, KeySource, SchemeAuth, TokenSet, TokenStore};
use wharf::call::{
    CallOptions, Integration, OperationMeta, Request, SchemeScopes, SecurityRequirement,
};
use wharf::http::Method;
use wharf::secrecy::SecretString;
use wharf::testing::sandbox::{self, Sandbox, SandboxConfig};

const NAME: &str = "harbor:harbor_key";

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wharf-cli-key-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `wharf key ARGS` in `dir` (no config file there: the default store),
/// with `stdin` piped in.
fn wharf_key(dir: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wharf"))
        .arg("key")
        .args(args)
        .current_dir(dir)
        .env_remove("WHARF_TOKEN_KEY")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let written = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    // A command refused on its arguments may exit before reading stdin.
    if let Err(e) = written {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

fn said(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

/// The store the CLI wrote, opened as an app would.
fn store(dir: &Path) -> EncryptedFileStore {
    let tokens = dir.join(".wharf/tokens");
    let keys = KeyRing::from_key_file(&tokens.join("token.key")).unwrap();
    EncryptedFileStore::open(&tokens, keys).unwrap()
}

fn get_user(base: &str) -> Request {
    let mut meta = OperationMeta::new("getUser", Method::GET, "/user");
    meta.security = &[SecurityRequirement {
        schemes: &[SchemeScopes {
            scheme: "harbor_key",
            scopes: &[],
            oauth: false,
        }],
    }];
    Request::new(meta, format!("{base}/user"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_key_authenticates_an_app_and_rotates_without_a_restart() {
    let dir = scratch("rotate");
    let sandbox = Sandbox::start(SandboxConfig {
        api_keys: vec![sandbox::API_KEY.to_owned(), "hk_rotated_key_2".to_owned()],
        ..SandboxConfig::default()
    })
    .await
    .unwrap();

    let set = wharf_key(
        &dir,
        &["set", NAME],
        &format!("{}\n", sandbox::API_KEY),
        &[],
    );
    assert!(set.status.success(), "{}", said(&set));
    assert!(
        said(&set).contains("Stored the key harbor:harbor_key"),
        "{}",
        said(&set)
    );
    assert!(
        !said(&set).contains(sandbox::API_KEY),
        "the key was printed"
    );

    let status = wharf_key(&dir, &["status", NAME], "", &[]);
    assert!(status.status.success(), "{}", said(&status));
    assert!(
        said(&status).contains(&format!("({} characters)", sandbox::API_KEY.len())),
        "{}",
        said(&status)
    );
    assert!(
        !said(&status).contains(sandbox::API_KEY),
        "the key was printed"
    );

    // The app: the key from the store, in the scheme's header.
    let store = store(&dir);
    let source = KeySource::from_store(&store, NAME).await.unwrap();
    let auth = SchemeAuth::api_key_header("harbor_key", "X-Harbor-Key", source.clone()).unwrap();
    let integration = Integration::builder("harbor")
        .transport(Arc::new(Sandbox::transport().unwrap()))
        .authenticator(Arc::new(auth))
        .build()
        .unwrap();
    let answer = integration
        .call(get_user(&sandbox.base_url()), CallOptions::default())
        .await
        .unwrap();
    assert_eq!(answer.status.as_u16(), 200);

    // A new key, from the environment; the running app reloads it.
    let set = wharf_key(
        &dir,
        &["set", NAME, "--from-env", "NEW_HARBOR_KEY"],
        "",
        &[("NEW_HARBOR_KEY", "hk_rotated_key_2")],
    );
    assert!(set.status.success(), "{}", said(&set));
    assert!(said(&set).contains("Replaced"), "{}", said(&set));
    assert!(source.reload_from(&store, NAME).await.unwrap(), "rotated");
    assert_eq!(source.current().0.expose_secret(), "hk_rotated_key_2");
    assert_eq!(source.current().1, 2, "a second generation");
    let answer = integration
        .call(get_user(&sandbox.base_url()), CallOptions::default())
        .await
        .unwrap();
    assert_eq!(answer.status.as_u16(), 200);
    assert!(
        !source.reload_from(&store, NAME).await.unwrap(),
        "unchanged"
    );

    let delete = wharf_key(&dir, &["delete", NAME], "", &[]);
    assert!(delete.status.success(), "{}", said(&delete));
    let status = wharf_key(&dir, &["status", NAME], "", &[]);
    assert_eq!(status.status.code(), Some(1), "{}", said(&status));
    assert!(said(&status).contains("no key is stored under harbor:harbor_key"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keys_that_cannot_be_sent_are_refused_with_the_reason() {
    let dir = scratch("refuse");
    for (stdin, reason) in [
        ("\n", "the key is empty"),
        ("abc\u{7}def\n", "control character at position 4"),
    ] {
        let set = wharf_key(&dir, &["set", NAME], stdin, &[]);
        assert_eq!(set.status.code(), Some(1), "{}", said(&set));
        assert!(said(&set).contains(reason), "{}", said(&set));
    }
    let set = wharf_key(&dir, &["set", "bad name"], "k\n", &[]);
    assert_eq!(set.status.code(), Some(1));
    assert!(said(&set).contains("use letters, digits"), "{}", said(&set));
    // OAuth tokens stored under a name are never overwritten by a key.
    let set = wharf_key(&dir, &["set", "harbor"], "k1\n", &[]);
    assert!(set.status.success(), "{}", said(&set));
    let tokens = TokenSet {
        access_token: SecretString::from("oauth-access".to_owned()),
        refresh_token: None,
        id_token: None,
        token_type: "Bearer".into(),
        issued_at: std::time::SystemTime::now(),
        lifetime: None,
        scopes: Default::default(),
    };
    block_on(store(&dir).save("harbor", &tokens)).unwrap();
    for args in [&["set", "harbor"][..], &["delete", "harbor"][..]] {
        let run = wharf_key(&dir, args, "k2\n", &[]);
        assert_eq!(run.status.code(), Some(1), "{}", said(&run));
        assert!(said(&run).contains("holds OAuth tokens"), "{}", said(&run));
    }
    let kept = block_on(store(&dir).load("harbor")).unwrap().unwrap();
    assert_eq!(kept.access_token.expose_secret(), "oauth-access");
    let set = wharf_key(
        &dir,
        &["set", NAME, "--from-env", "WHARF_TEST_UNSET_VAR"],
        "",
        &[],
    );
    assert_eq!(set.status.code(), Some(1));
    assert!(
        said(&set).contains("WHARF_TEST_UNSET_VAR is not set"),
        "{}",
        said(&set)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
