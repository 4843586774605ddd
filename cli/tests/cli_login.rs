//! `wharf login` and `wharf token …`, run as a developer runs them: the
//! real binary, a `wharf.yaml` in a temp directory, bounded in time.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The workspace root (this package is its `cli/`).
fn repo() -> &'static Path {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR"));
    cli.parent().unwrap_or(cli)
}

/// The longest any one run of the binary may take.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// A temp directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("wharf-cli-login-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `wharf` in `dir`, with no store key or browser from the environment.
fn wharf(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wharf"));
    command
        .current_dir(dir)
        .env_remove("WHARF_TOKEN_KEY")
        .env("BROWSER", "false")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A running `wharf`, killed if the test ends before it does.
struct Running(Option<Child>);

impl Running {
    /// Waits up to [`RUN_LIMIT`], killing it after.
    fn wait(mut self) -> std::process::ExitStatus {
        let Some(mut child) = self.0.take() else {
            panic!("already waited for");
        };
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if started.elapsed() > RUN_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("wharf ran longer than {RUN_LIMIT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn read_all(mut from: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = from.read_to_end(&mut b);
        b
    })
}

/// Waits for `child` up to [`RUN_LIMIT`], killing it after.
fn finish(mut child: Child) -> Output {
    let out = read_all(child.stdout.take().unwrap());
    let err = read_all(child.stderr.take().unwrap());
    let status = Running(Some(child)).wait();
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn run(command: &mut Command) -> Output {
    finish(command.spawn().unwrap())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A failed run whose stderr is one `error:` line; returns that line.
fn one_line_error(output: &Output) -> String {
    let stderr = text(&output.stderr);
    assert!(
        !output.status.success(),
        "expected failure; stderr: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    lines[0].to_owned()
}

/// A spec with the given `securitySchemes` block (YAML, indented 4).
fn spec_with(schemes: &str) -> String {
    format!(
        "openapi: 3.0.3\ninfo: {{title: T, version: '1'}}\npaths: {{}}\ncomponents:\n  securitySchemes:\n{schemes}"
    )
}

const ONE_SCHEME: &str = "    harbor_oauth:
      type: oauth2
      flows:
        authorizationCode:
          authorizationUrl: http://127.0.0.1:9/oauth/authorize
          tokenUrl: http://127.0.0.1:9/oauth/token
          scopes: {user:read: r, repo:read: r}
";

#[test]
fn help_explains_the_verbs_and_the_config_file() {
    let dir = TempDir::new("help");
    let login = run(wharf(dir.path()).args(["login", "--help"]));
    assert!(login.status.success());
    let help = text(&login.stdout);
    for needle in [
        "--no-browser",
        "--scope",
        "--timeout",
        "--config",
        "client_secret_env",
        "securitySchemes",
        "issuer:",
        "WHARF_TOKEN_KEY",
        "0600",
    ] {
        assert!(help.contains(needle), "login --help lacks {needle}: {help}");
    }
    for verb in ["status", "refresh", "revoke"] {
        let out = run(wharf(dir.path()).args(["token", verb, "--help"]));
        assert!(out.status.success());
        let help = text(&out.stdout);
        assert!(
            help.contains("<INTEGRATION>") && help.contains("integrations:"),
            "token {verb} --help: {help}"
        );
    }
    let out = run(wharf(dir.path()).args(["token", "revoke", "--help"]));
    assert!(text(&out.stdout).contains("--local-only"));
    let top = run(wharf(dir.path()).arg("--help"));
    let help = text(&top.stdout);
    assert!(help.contains("login") && help.contains("token") && help.contains("generate"));
}

#[test]
fn a_missing_config_file_is_named_with_how_to_fix_it() {
    let dir = TempDir::new("noconfig");
    let line = one_line_error(&run(wharf(dir.path()).args(["token", "status", "harbor"])));
    assert!(
        line.contains("wharf.yaml") && line.contains("--config"),
        "{line}"
    );
    let line = one_line_error(&run(wharf(dir.path()).args([
        "login",
        "harbor",
        "--config",
        "elsewhere/w.yaml",
    ])));
    assert!(line.contains("elsewhere/w.yaml"), "{line}");
}

#[test]
fn an_unknown_integration_names_the_file_and_the_ones_it_has() {
    let dir = TempDir::new("unknown");
    dir.write(
        "wharf.yaml",
        "integrations:\n  zeta:\n    issuer: https://z.test\n    client_id: z\n  alpha:\n    issuer: https://a.test\n    client_id: a\n",
    );
    for args in [
        &["login", "harbor"][..],
        &["token", "status", "harbor"],
        &["token", "refresh", "harbor"],
        &["token", "revoke", "harbor"],
    ] {
        let line = one_line_error(&run(wharf(dir.path()).args(args)));
        assert!(
            line.contains("\"harbor\"")
                && line.contains("wharf.yaml")
                && line.contains("alpha, zeta"),
            "{args:?}: {line}"
        );
    }
}

#[test]
fn config_mistakes_are_one_clear_line_and_never_echo_a_secret() {
    let dir = TempDir::new("mistakes");
    let typo = dir.write(
        "typo.yaml",
        "integrations:\n  harbor:\n    issuer: https://h.test\n    client_id: c\n    scope: [a]\n",
    );
    let line = one_line_error(&run(wharf(dir.path())
        .args(["token", "status", "harbor", "--config"])
        .arg(&typo)));
    assert!(
        line.contains("typo.yaml")
            && line.contains("unknown field `scope`")
            && line.contains("line"),
        "{line}"
    );
    let secret = dir.write(
        "secret.yaml",
        "integrations:\n  harbor:\n    issuer: https://h.test\n    client_id: c\n    client_secret: CANARY-SECRET-IN-FILE\n",
    );
    let out = run(wharf(dir.path())
        .args(["login", "harbor", "--config"])
        .arg(&secret));
    let line = one_line_error(&out);
    assert!(line.contains("client_secret_env"), "{line}");
    assert!(!text(&out.stderr).contains("CANARY") && !text(&out.stdout).contains("CANARY"));
    let neither = dir.write(
        "neither.yaml",
        "integrations:\n  harbor:\n    client_id: c\n",
    );
    let line = one_line_error(&run(wharf(dir.path())
        .args(["login", "harbor", "--config"])
        .arg(&neither)));
    assert!(
        line.contains("`spec`") && line.contains("`issuer`"),
        "{line}"
    );
    let unset = dir.write(
        "unset.yaml",
        "integrations:\n  harbor:\n    spec: s.yaml\n    client_id: c\n    client_secret_env: WHARF_TEST_UNSET_SECRET\n",
    );
    dir.write("s.yaml", &spec_with(ONE_SCHEME));
    let line = one_line_error(&run(wharf(dir.path())
        .env_remove("WHARF_TEST_UNSET_SECRET")
        .args(["login", "harbor", "--config"])
        .arg(&unset)));
    assert!(
        line.contains("WHARF_TEST_UNSET_SECRET") && line.contains("not set"),
        "{line}"
    );
}

#[test]
fn spec_schemes_are_chosen_or_the_choice_is_explained() {
    let dir = TempDir::new("schemes");
    dir.write(
        "two.yaml",
        &spec_with(&format!(
            "{ONE_SCHEME}    other:\n      type: openIdConnect\n      openIdConnectUrl: https://id.test/.well-known/openid-configuration\n    key:\n      type: apiKey\n      in: header\n      name: X-Key\n"
        )),
    );
    dir.write(
        "wharf.yaml",
        "integrations:\n  two:\n    spec: two.yaml\n    client_id: c\n  named:\n    spec: two.yaml\n    scheme: nope\n    client_id: c\n  key:\n    spec: two.yaml\n    scheme: key\n    client_id: c\n  missing:\n    spec: missing.yaml\n    client_id: c\n",
    );
    let line = one_line_error(&run(wharf(dir.path()).args(["login", "two"])));
    assert!(
        line.contains("harbor_oauth, other") && line.contains("`scheme`"),
        "{line}"
    );
    let line = one_line_error(&run(wharf(dir.path()).args(["login", "named"])));
    assert!(
        line.contains("\"nope\"") && line.contains("harbor_oauth, other, key"),
        "{line}"
    );
    let line = one_line_error(&run(wharf(dir.path()).args(["login", "key"])));
    assert!(line.contains("apiKey"), "{line}");
    let line = one_line_error(&run(wharf(dir.path()).args(["login", "missing"])));
    assert!(line.contains("missing.yaml"), "{line}");
}

#[test]
fn nothing_stored_says_to_log_in_and_creates_nothing() {
    let dir = TempDir::new("nothing");
    dir.write("s.yaml", &spec_with(ONE_SCHEME));
    dir.write(
        "wharf.yaml",
        "integrations:\n  harbor:\n    spec: s.yaml\n    client_id: c\n",
    );
    for verb in ["status", "refresh", "revoke"] {
        let line = one_line_error(&run(wharf(dir.path()).args(["token", verb, "harbor"])));
        assert!(
            line.contains("no tokens stored for harbor")
                && line.contains("run `wharf login harbor`"),
            "{verb}: {line}"
        );
    }
    assert!(
        !dir.path().join(".wharf").exists(),
        "reading verbs create no store or key"
    );
    // With another config file, the hint says how to use it.
    std::fs::create_dir_all(dir.path().join("conf")).unwrap();
    dir.write(
        "conf/w.yaml",
        "integrations:\n  harbor:\n    spec: ../s.yaml\n    client_id: c\n",
    );
    let line = one_line_error(&run(wharf(dir.path()).args([
        "token",
        "status",
        "harbor",
        "--config",
        "conf/w.yaml",
    ])));
    assert!(
        line.contains("wharf login harbor --config conf/w.yaml"),
        "{line}"
    );
}

#[test]
fn login_prints_the_url_waits_visibly_and_times_out() {
    let dir = TempDir::new("timeout");
    dir.write("s.yaml", &spec_with(ONE_SCHEME));
    dir.write(
        "wharf.yaml",
        "integrations:\n  harbor:\n    spec: s.yaml\n    client_id: wharf-quickstart\n",
    );
    let started = Instant::now();
    let out = run(wharf(dir.path()).args([
        "login",
        "harbor",
        "--no-browser",
        "--timeout",
        "1s",
        "--scope",
        "user:read",
        "--scope",
        "admin",
    ]));
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    let url = stderr
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:9/oauth/authorize?"))
        .unwrap_or_else(|| panic!("no URL: {stderr}"));
    for part in [
        "response_type=code",
        "client_id=wharf-quickstart",
        "code_challenge_method=S256",
        "scope=user%3Aread+admin",
        "redirect_uri=http%3A%2F%2F127.0.0.1%3A",
    ] {
        assert!(url.contains(part), "{part} in {url}");
    }
    assert!(
        stderr.contains("scope \"admin\" is not defined by security scheme \"harbor_oauth\""),
        "{stderr}"
    );
    assert!(stderr.contains("Waiting for the sign-in"), "{stderr}");
    assert!(
        !stderr.contains('\r'),
        "no in-place redraw when not a terminal"
    );
    assert!(
        stderr
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("error: ")
                && l.contains("within 1s")
                && l.contains("--timeout")),
        "{stderr}"
    );
    assert!(text(&out.stdout).is_empty());
}

#[test]
fn login_opens_the_browser_named_by_the_browser_variable() {
    let dir = TempDir::new("browser");
    dir.write("s.yaml", &spec_with(ONE_SCHEME));
    dir.write(
        "wharf.yaml",
        "integrations:\n  harbor:\n    spec: s.yaml\n    client_id: c\n",
    );
    let opened = dir.path().join("opened.txt");
    let script = dir.write(
        "browser.sh",
        &format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", opened.display()),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let out = run(wharf(dir.path())
        .env("BROWSER", format!("{} %s", script.display()))
        .args(["login", "harbor", "--timeout", "2s"]));
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("Opened a browser"), "{stderr}");
    let url = std::fs::read_to_string(&opened).unwrap_or_default();
    assert!(
        url.starts_with("http://127.0.0.1:9/oauth/authorize?") && stderr.contains(&url),
        "the browser got the URL that was printed: {url:?} / {stderr}"
    );
}

// End to end, against the embedded sandbox authorization server.

use secrecy::ExposeSecret;
use std::sync::Arc;
use wharf::auth::{EncryptedFileStore, KeyRing, OAuthClient, TokenSet, TokenStore};
use wharf::testing::sandbox::{
    auto_browser, GrantType, RevocationCause, Sandbox, SandboxClient, SandboxConfig,
    QUICKSTART_CLIENT_ID,
};

/// The whole of one end-to-end test.
const TEST_LIMIT: Duration = Duration::from_secs(180);

fn sandbox_spec() -> PathBuf {
    repo().join("specs/sandbox.yaml")
}

/// A `wharf.yaml` for the sandbox: the spec's scheme for scopes, the
/// sandbox's issuer for endpoints.
fn sandbox_config(dir: &TempDir, sandbox: &Sandbox, client: &str, extra: &str) {
    dir.write(
        "wharf.yaml",
        &format!(
            "store: state/tokens\nintegrations:\n  harbor:\n    spec: {}\n    client_id: {client}\n    issuer: {}\n{extra}",
            sandbox_spec().display(),
            sandbox.issuer()
        ),
    );
}

/// Runs `wharf login` with stderr piped, reads the URL it prints, plays
/// the browser for it, and returns the finished run.
async fn login_playing_the_browser(command: &mut Command) -> Output {
    let mut child = command.spawn().unwrap();
    let out = read_all(child.stdout.take().unwrap());
    let stderr = child.stderr.take().unwrap();
    let running = Running(Some(child));
    let (lines, seen) = std::sync::mpsc::channel::<String>();
    let err = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            all.push_str(&line);
            all.push('\n');
            let _ = lines.send(line);
        }
        all
    });
    let url = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        while let Ok(line) = seen.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            if let Some(url) = line
                .split_whitespace()
                .find(|w| w.starts_with("http") && w.contains("/oauth/authorize?"))
            {
                return Some(url.to_owned());
            }
        }
        None
    })
    .await
    .unwrap();
    let Some(url) = url else {
        drop(running);
        panic!("no authorization URL on stderr: {}", err.join().unwrap());
    };
    auto_browser(&url)
        .await
        .unwrap()
        .expect("the stand-in browser completed the visit");
    let status = tokio::task::spawn_blocking(move || running.wait())
        .await
        .unwrap();
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap().into_bytes(),
    }
}

/// A finished run in the background (the sandbox keeps serving).
async fn run_async(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || run(&mut command))
        .await
        .unwrap()
}

/// Both streams, for "never shows X" checks.
fn all_output(o: &Output) -> String {
    format!("{}{}", text(&o.stdout), text(&o.stderr))
}

fn succeeded(o: &Output, what: &str) -> String {
    assert!(o.status.success(), "{what} failed: {}", all_output(o));
    text(&o.stdout)
}

/// What the store holds for `harbor`, read with the key file the login
/// made (the test's own decryption, not the binary's).
async fn stored_tokens(dir: &TempDir) -> Option<TokenSet> {
    let store_dir = dir.path().join("state/tokens");
    let keys = KeyRing::from_key_file(&store_dir.join("token.key")).unwrap();
    let store = EncryptedFileStore::open(&store_dir, keys).unwrap();
    store.load("harbor").await.unwrap()
}

fn store_file(dir: &TempDir) -> PathBuf {
    let keys = KeyRing::new(wharf::auth::DataKey::new("probe", [0; 32]));
    EncryptedFileStore::open(dir.path().join("state/tokens"), keys)
        .unwrap()
        .path_of("harbor")
}

/// Every secret of `tokens`, to look for where none may be.
fn secrets(tokens: &TokenSet) -> Vec<String> {
    let mut all = vec![tokens.access_token.expose_secret().to_owned()];
    if let Some(r) = &tokens.refresh_token {
        all.push(r.expose_secret().to_owned());
    }
    all
}

fn assert_absent(haystack: &[u8], secrets: &[String], place: &str) {
    for s in secrets {
        assert!(s.len() >= 8, "a real token");
        assert!(
            !haystack.windows(s.len()).any(|w| w == s.as_bytes()),
            "a token appears in {place}"
        );
    }
}

fn introspector(sandbox: &Sandbox) -> OAuthClient {
    sandbox
        .oauth_client(
            QUICKSTART_CLIENT_ID,
            Arc::new(Sandbox::transport().unwrap()),
        )
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_status_refresh_revoke_against_the_sandbox() {
    tokio::time::timeout(TEST_LIMIT, async {
        let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
        let dir = TempDir::new("e2e");
        sandbox_config(
            &dir,
            &sandbox,
            QUICKSTART_CLIENT_ID,
            "    scopes: [user:read, repo:read]\n",
        );
        let mut outputs = Vec::new();

        let login = login_playing_the_browser(wharf(dir.path()).args([
            "login",
            "harbor",
            "--no-browser",
            "--timeout",
            "60s",
        ]))
        .await;
        let stdout = succeeded(&login, "login");
        assert!(stdout.contains("Logged in to harbor"), "{stdout}");
        assert!(
            stdout.contains("scopes:        repo:read user:read"),
            "{stdout}"
        );
        assert!(stdout.contains("access token:  expires in 59m"), "{stdout}");
        assert!(stdout.contains("refresh token: stored"), "{stdout}");
        assert!(!stdout.contains("not granted"), "{stdout}");
        let stderr = text(&login.stderr);
        assert!(stderr.contains("Waiting for the sign-in"), "{stderr}");
        assert_eq!(sandbox.log().grants(GrantType::AuthorizationCode), 1);
        outputs.push(login);

        // The store: a file per integration, 0600, no token in clear; the
        // tokens in it are the ones the sandbox issued.
        let file = store_file(&dir);
        assert!(file.exists(), "{}", file.display());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in [file.clone(), dir.path().join("state/tokens/token.key")] {
                let mode = std::fs::metadata(&f).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", f.display());
            }
        }
        let first = stored_tokens(&dir).await.expect("tokens stored");
        assert_absent(
            &std::fs::read(&file).unwrap(),
            &secrets(&first),
            "the store file",
        );
        let active = introspector(&sandbox)
            .introspect(&first.access_token)
            .await
            .unwrap();
        assert!(active.active, "the stored access token is the sandbox's");

        let status = run_async({
            let mut c = wharf(dir.path());
            c.args(["token", "status", "harbor"]);
            c
        })
        .await;
        let stdout = succeeded(&status, "token status");
        assert!(
            stdout.contains("scopes:        repo:read user:read"),
            "{stdout}"
        );
        assert!(stdout.contains("expires in 59m"), "{stdout}");
        assert!(stdout.contains("refresh token: stored"), "{stdout}");
        assert!(stdout.contains(&file.display().to_string()), "{stdout}");
        outputs.push(status);

        let refresh = run_async({
            let mut c = wharf(dir.path());
            c.args(["token", "refresh", "harbor"]);
            c
        })
        .await;
        let stdout = succeeded(&refresh, "token refresh");
        assert!(
            stdout.contains("Refreshed the tokens of harbor"),
            "{stdout}"
        );
        assert!(stdout.contains("rotated the refresh token"), "{stdout}");
        assert_eq!(sandbox.log().refreshes(), 1, "one refresh grant");
        let second = stored_tokens(&dir).await.expect("tokens stored");
        assert_ne!(
            second.access_token.expose_secret(),
            first.access_token.expose_secret()
        );
        assert_ne!(
            second
                .refresh_token
                .as_ref()
                .map(|r| r.expose_secret().to_owned()),
            first
                .refresh_token
                .as_ref()
                .map(|r| r.expose_secret().to_owned()),
            "the rotated refresh token was stored"
        );
        assert_absent(
            &std::fs::read(&file).unwrap(),
            &secrets(&second),
            "the store file",
        );
        outputs.push(refresh);

        let revoke = run_async({
            let mut c = wharf(dir.path());
            c.args(["token", "revoke", "harbor"]);
            c
        })
        .await;
        let stdout = succeeded(&revoke, "token revoke");
        assert!(
            stdout.contains("Revoked the refresh token and the access token of harbor"),
            "{stdout}"
        );
        let log = sandbox.log();
        assert_eq!(
            log.revocations_by(RevocationCause::Endpoint),
            2,
            "{:?}",
            log.revocations
        );
        assert!(log
            .revocations
            .iter()
            .any(|r| r.token_type == Some("refresh_token") && r.grants == 1));
        let after = introspector(&sandbox)
            .introspect(&second.access_token)
            .await
            .unwrap();
        assert!(!after.active, "revoked at the server");
        assert!(!file.exists(), "deleted locally");
        outputs.push(revoke);

        let status = run_async({
            let mut c = wharf(dir.path());
            c.args(["token", "status", "harbor"]);
            c
        })
        .await;
        let line = one_line_error(&status);
        assert!(line.contains("no tokens stored for harbor"), "{line}");
        outputs.push(status);

        let mut every_token = secrets(&first);
        every_token.extend(secrets(&second));
        for o in &outputs {
            assert_absent(all_output(o).as_bytes(), &every_token, "the output");
        }
    })
    .await
    .expect("the test finished in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_secret_from_the_environment_never_appears_in_output() {
    tokio::time::timeout(TEST_LIMIT, async {
        let canary = format!("CANARY-CLIENT-SECRET-{}", std::process::id());
        let wrong = format!("CANARY-WRONG-SECRET-{}", std::process::id());
        let client = SandboxClient::confidential("wharf-canary", canary.clone())
            .with_grant(GrantType::AuthorizationCode)
            .with_grant(GrantType::RefreshToken);
        let config = SandboxConfig {
            clients: vec![client],
            ..SandboxConfig::default()
        };
        let sandbox = Sandbox::start(config).await.unwrap();
        let dir = TempDir::new("canary");
        sandbox_config(
            &dir,
            &sandbox,
            "wharf-canary",
            "    client_secret_env: WHARF_TEST_CLIENT_SECRET\n",
        );
        let verb = |args: &[&str], secret: &str| {
            let mut c = wharf(dir.path());
            c.args(args).env("WHARF_TEST_CLIENT_SECRET", secret);
            c
        };
        let mut outputs = Vec::new();

        let login = login_playing_the_browser(&mut verb(
            &["login", "harbor", "--no-browser", "--scope", "repo:read"],
            &canary,
        ))
        .await;
        let stdout = succeeded(&login, "login");
        assert!(stdout.contains("scopes:        repo:read\n"), "{stdout}");
        outputs.push(login);
        for args in [
            &["token", "status", "harbor"][..],
            &["token", "refresh", "harbor"],
        ] {
            let o = run_async(verb(args, &canary)).await;
            succeeded(&o, &args.join(" "));
            outputs.push(o);
        }
        // A wrong secret: refused by the server, reported without either.
        let o = run_async(verb(&["token", "refresh", "harbor"], &wrong)).await;
        let line = one_line_error(&o);
        assert!(line.contains("invalid_client"), "{line}");
        outputs.push(o);
        let o = run_async(verb(&["token", "revoke", "harbor"], &canary)).await;
        succeeded(&o, "token revoke");
        outputs.push(o);

        let log = sandbox.log();
        // Login and refresh got tokens, each authenticated by the secret.
        let granted: Vec<_> = log
            .token_requests
            .iter()
            .filter(|t| t.error.is_none())
            .collect();
        assert_eq!(granted.len(), 2, "{:?}", log.token_requests);
        assert!(
            granted
                .iter()
                .all(|t| t.client_id.as_deref() == Some("wharf-canary")),
            "the secret authenticated the client: {:?}",
            log.token_requests
        );
        assert_eq!(log.token_errors("invalid_client"), 1);
        for o in &outputs {
            let all = all_output(o);
            assert!(!all.contains("CANARY"), "a secret in the output: {all}");
        }
        let config = std::fs::read_to_string(dir.path().join("wharf.yaml")).unwrap();
        assert!(!config.contains("CANARY"));
    })
    .await
    .expect("the test finished in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_key_can_come_from_the_environment() {
    tokio::time::timeout(TEST_LIMIT, async {
        let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
        let dir = TempDir::new("envkey");
        sandbox_config(&dir, &sandbox, QUICKSTART_CLIENT_ID, "");
        let key = format!("k9:{}", "3a".repeat(32));
        let login =
            login_playing_the_browser(wharf(dir.path()).env("WHARF_TOKEN_KEY", &key).args([
                "login",
                "harbor",
                "--no-browser",
            ]))
            .await;
        let stdout = succeeded(&login, "login");
        // Every scope of the spec's scheme when neither --scope nor `scopes`.
        assert!(
            stdout.contains("scopes:        repo:read repo:write user:read"),
            "{stdout}"
        );
        assert!(store_file(&dir).exists());
        assert!(
            !dir.path().join("state/tokens/token.key").exists(),
            "no key file when the key comes from the environment"
        );
        let status = |key: Option<&str>| {
            let mut c = wharf(dir.path());
            c.args(["token", "status", "harbor"]);
            if let Some(k) = key {
                c.env("WHARF_TOKEN_KEY", k);
            }
            run_async(c)
        };
        let line = one_line_error(&status(None).await);
        assert!(
            line.contains("no key to read them") && line.contains("WHARF_TOKEN_KEY"),
            "{line}"
        );
        let other = format!("k9:{}", "4b".repeat(32));
        let line = one_line_error(&status(Some(&other)).await);
        assert!(
            line.contains("authentication failed") && line.contains("WHARF_TOKEN_KEY"),
            "{line}"
        );
        let line = one_line_error(&status(Some("not-a-key")).await);
        assert!(
            line.contains("WHARF_TOKEN_KEY") && line.contains("64 hex digits"),
            "{line}"
        );
        assert!(
            !line.contains("not-a-key"),
            "the bad key is not echoed: {line}"
        );
        succeeded(&status(Some(&key)).await, "status with the key");
    })
    .await
    .expect("the test finished in time");
}

/// `wharf sandbox` as a process and the README's walkthrough against it,
/// copy-paste: the `wharf.yaml` entry it prints, `wharf login`, then
/// `wharf token status|refresh|revoke`; Ctrl-C (SIGINT) stops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wharf_sandbox_runs_the_login_walkthrough_until_ctrl_c() {
    tokio::time::timeout(TEST_LIMIT, async {
        let dir = TempDir::new("sandbox");
        let mut sandbox = wharf(dir.path())
            .args(["sandbox", "--listen", "127.0.0.1:0"])
            .spawn()
            .unwrap();
        let stdout = sandbox.stdout.take().unwrap();
        let sandbox = Running(Some(sandbox));
        // Its first lines: the URL, the metadata, and the entry to paste.
        let (printed, lines) =
            read_through(BufReader::new(stdout).lines(), |l| l.starts_with("then:")).await;
        let url = printed[0]
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("{printed:?}"))
            .to_owned();
        assert_eq!(
            printed[1],
            format!("metadata: {url}/.well-known/oauth-authorization-server")
        );
        let metadata = reqwest_get(&format!("{url}/.well-known/oauth-authorization-server")).await;
        assert!(
            metadata.contains(&format!("\"issuer\":\"{url}\"")),
            "{metadata}"
        );
        let start = printed.iter().position(|l| l == "# wharf.yaml").unwrap();
        let entry: Vec<&str> = printed[start + 1..]
            .iter()
            .take_while(|l| !l.is_empty())
            .map(String::as_str)
            .collect();
        dir.write("wharf.yaml", &(entry.join("\n") + "\n"));

        // Then the API key to try it without OAuth; it opens the API.
        let (rest, lines) = read_through(lines, |l| l.contains("e.g. curl")).await;
        let key = rest
            .iter()
            .find_map(|l| l.split("X-Harbor-Key: ").nth(1))
            .unwrap_or_else(|| panic!("{rest:?}"))
            .trim()
            .to_owned();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let me = reqwest::Client::new()
            .get(format!("{url}/user"))
            .header("x-harbor-key", &key)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status().as_u16(), 200);
        assert!(me.text().await.unwrap().contains("\"login\":\"api-key\""));

        let login = login_playing_the_browser(wharf(dir.path()).args([
            "login",
            "harbor",
            "--no-browser",
            "--timeout",
            "60s",
        ]))
        .await;
        let out = succeeded(&login, "login");
        assert!(out.contains("Logged in to harbor"), "{out}");
        for verb in ["status", "refresh", "status", "revoke"] {
            let run = run_async({
                let mut c = wharf(dir.path());
                c.args(["token", verb, "harbor"]);
                c
            })
            .await;
            let out = succeeded(&run, verb);
            if verb == "status" {
                assert!(out.contains("scopes:        repo:read user:read"), "{out}");
            }
        }
        let after = run_async({
            let mut c = wharf(dir.path());
            c.args(["token", "status", "harbor"]);
            c
        })
        .await;
        assert!(!after.status.success(), "revoked: nothing stored");

        // Ctrl-C stops it, exit 0.
        let pid = sandbox.0.as_ref().map(Child::id).unwrap().to_string();
        let kill = Command::new("kill").args(["-INT", &pid]).status().unwrap();
        assert!(kill.success());
        drop(lines);
        let status = tokio::task::spawn_blocking(move || sandbox.wait())
            .await
            .unwrap();
        assert!(status.success(), "{status:?}");
    })
    .await
    .expect("bounded");
}

/// Lines of a child's output up to and including the first that `last`
/// accepts (or the end), and the rest still to read.
async fn read_through<R: BufRead + Send + 'static>(
    mut lines: std::io::Lines<R>,
    last: fn(&str) -> bool,
) -> (Vec<String>, std::io::Lines<R>) {
    tokio::task::spawn_blocking(move || {
        let mut read = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            let done = last(&line);
            read.push(line);
            if done {
                break;
            }
        }
        (read, lines)
    })
    .await
    .unwrap()
}

/// A GET over loopback, for the sandbox's metadata.
async fn reqwest_get(url: &str) -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::get(url).await.unwrap().text().await.unwrap()
}
