//! `wharf login` and `wharf token …`, run as a developer runs them: the
//! real binary, a `wharf.yaml` in a temp directory, bounded in time.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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

/// Waits for `child` up to [`RUN_LIMIT`], killing it after.
fn finish(mut child: Child) -> Output {
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stdout.read_to_end(&mut b);
        b
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stderr.read_to_end(&mut b);
        b
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            panic!("wharf ran longer than {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
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
