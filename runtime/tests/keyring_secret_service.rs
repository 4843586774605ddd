//! The OS keyring store on a real Secret Service: GNOME Keyring's daemon
//! (Debian `gnome-keyring`) on a private D-Bus session bus (Debian
//! `dbus-daemon`), both started here in a temporary home and stopped at the
//! end. Tokens go to the Secret Service encrypted, the data key is made
//! once, large bundles overflow to an encrypted file, and
//! `os_credential_store()` picks the Secret Service only when a bus offers
//! one.
//!
//! The bus address reaches the store through `DBUS_SESSION_BUS_ADDRESS`,
//! which is process-wide: this file is its own test binary, with one test.
//! Missing daemons fail the test (with what to install); they do not skip it.
#![cfg(target_os = "linux")]

use keyring_core::{CredentialStore, Error as KeyringError};
use secrecy::ExposeSecret;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wharf_runtime::auth::{
    os_credential_store, EncryptedFileStore, KeyRing, KeyringStore, OsStore, OsStoreUnavailable,
    TokenStore,
};

const INSTALL_HINT: &str = "install the Debian packages dbus-daemon and gnome-keyring \
     (`apt-get install dbus-daemon gnome-keyring`; scripts/test.sh does it)";
const UNLOCK_PASSWORD: &str = "wharf-test-unlock-password";
const SECRET_SERVICE_VENDOR: &str = "Secret Service";
const KEYUTILS_VENDOR: &str = "Linux keyutils";

mod keyring_common;
use keyring_common::tokens;

fn find_program(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{name} not found on PATH: {INSTALL_HINT}"))
}

/// The bus and the keyring daemon; killed (and the home removed) on drop,
/// also when the test fails.
struct Daemons {
    children: Vec<(&'static str, Child)>,
    dir: PathBuf,
}

impl Daemons {
    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("{name}.log"))).unwrap_or_default()
    }

    fn spawn(&mut self, name: &'static str, command: &mut Command) -> &mut Child {
        let log = std::fs::File::create(self.dir.join(format!("{name}.log"))).unwrap();
        let child = command
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}; {INSTALL_HINT}"));
        self.children.push((name, child));
        &mut self.children.last_mut().unwrap().1
    }
}

impl Drop for Daemons {
    fn drop(&mut self) {
        // The keyring daemon first, then the bus it is on.
        for (_, child) in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A session bus of our own, without service activation (so nothing is
/// started behind our back: `org.freedesktop.secrets` exists only once we
/// start the keyring daemon). Returns its address.
fn start_bus(daemons: &mut Daemons) -> String {
    let dbus_daemon = find_program("dbus-daemon");
    let socket = daemons.dir.join("run/bus");
    let config = daemons.dir.join("session.conf");
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            socket.display()
        ),
    )
    .unwrap();
    let child = daemons.spawn(
        "dbus-daemon",
        Command::new(dbus_daemon)
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped()),
    );
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let address = rx
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_default()
        .trim()
        .to_owned();
    assert!(
        address.starts_with("unix:"),
        "dbus-daemon printed no address within 10 s: {}",
        daemons.log("dbus-daemon")
    );
    address
}

/// gnome-keyring-daemon with only its Secret Service, on `address`, its
/// login keyring created (and unlocked) in the temporary home with a
/// password read from stdin.
fn start_keyring(daemons: &mut Daemons, address: &str) {
    let program = find_program("gnome-keyring-daemon");
    let home = daemons.dir.join("home");
    let child = daemons.spawn(
        "gnome-keyring-daemon",
        Command::new(program)
            .args(["--foreground", "--components=secrets", "--unlock"])
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_RUNTIME_DIR", daemons.dir.join("run"))
            .env("DBUS_SESSION_BUS_ADDRESS", address)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdin(Stdio::piped())
            .stdout(Stdio::null()),
    );
    // The password, then end of input.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(UNLOCK_PASSWORD.as_bytes()).unwrap();
    drop(stdin);
}

/// Opens the Secret Service until it answers (the daemon is starting).
fn wait_for_secret_service(daemons: &mut Daemons) -> Arc<CredentialStore> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match OsStore::SecretService.open() {
            Ok(store) => return store,
            Err(e) if Instant::now() < deadline => {
                let exited = daemons
                    .children
                    .iter_mut()
                    .find_map(|(name, child)| Some((*name, child.try_wait().ok()??)));
                if let Some((name, status)) = exited {
                    panic!("{name} exited ({status}; {e}): {}", daemons.log(name));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!(
                "no Secret Service within 20 s ({e}): {}",
                daemons.log("gnome-keyring-daemon")
            ),
        }
    }
}

/// The raw secret of an entry, read through the backend (on a blocking
/// thread: the Secret Service store must not block a runtime thread).
async fn raw(store: &Arc<CredentialStore>, service: &str, user: &str) -> Result<Vec<u8>, String> {
    let (store, service, user) = (store.clone(), service.to_owned(), user.to_owned());
    tokio::task::spawn_blocking(move || {
        match store
            .build(&service, &user, None)
            .and_then(|e| e.get_secret())
        {
            Ok(bytes) => Ok(bytes),
            Err(KeyringError::NoEntry) => Err("no entry".to_owned()),
            Err(e) => Err(e.to_string()),
        }
    })
    .await
    .unwrap()
}

/// How many Secret Service items hold `service`'s data key.
fn data_key_items(store: &Arc<CredentialStore>, service: &str) -> usize {
    store
        .search(&[("service", service), ("username", "wharf-data-key")].into())
        .unwrap()
        .len()
}

fn vendor(store: &Arc<CredentialStore>) -> String {
    store.vendor()
}

#[test]
fn tokens_round_trip_through_a_real_secret_service_encrypted() {
    // A current-thread runtime for the first run (the store's calls must not
    // need the thread they would block), a multi-threaded one for the
    // second; in both, Secret Service stores are opened and dropped inside
    // async code (zbus in tokio mode panicked there, even in `Drop`).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let runtime2 = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("wharf-secret-service-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    wharf_runtime::auth::create_private_dir(&dir.join("run")).unwrap();
    wharf_runtime::auth::create_private_dir(&dir.join("home")).unwrap();
    // Declared after the runtimes: when an assertion fails, the daemons are
    // killed first, so a runtime's shutdown waits on no keyring call.
    let mut daemons = Daemons {
        children: Vec::new(),
        dir: dir.clone(),
    };

    let address = start_bus(&mut daemons);
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &address);

    // A bus without a Secret Service: the explicit constructor says which
    // store is missing and why, and the default falls back to keyutils.
    let err = OsStore::SecretService.open().unwrap_err();
    assert_eq!(err.store, OsStore::SecretService);
    assert!(
        matches!(err.reason, OsStoreUnavailable::Failed(_)),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("the Secret Service credential store is unavailable: "),
        "{err}"
    );
    let fallback = os_credential_store().unwrap();
    assert!(
        vendor(&fallback).starts_with(KEYUTILS_VENDOR),
        "{}",
        vendor(&fallback)
    );
    // Other platforms' stores are named in their errors.
    let err = OsStore::WindowsCredentialManager.open().unwrap_err();
    assert_eq!(err.reason, OsStoreUnavailable::OtherPlatform);
    assert!(err.to_string().contains("Windows Credential Manager"));

    start_keyring(&mut daemons, &address);
    let secret_service = wait_for_secret_service(&mut daemons);
    assert!(vendor(&secret_service).starts_with(SECRET_SERVICE_VENDOR));

    // With the bus there, the default is the Secret Service.
    let store = os_credential_store().unwrap();
    assert!(
        vendor(&store).starts_with(SECRET_SERVICE_VENDOR),
        "{}",
        vendor(&store)
    );

    let service = format!("wharf-test-{}", std::process::id());
    let overflow = dir.join("overflow");

    let flow = async {
        // Opened inside the runtime (the data key is created in the
        // keyring here).
        let keyring = KeyringStore::open(store.clone(), &service, &overflow).unwrap();

        keyring.save("github:me", &tokens(0)).await.unwrap();
        let stored = raw(&secret_service, &service, "token:github:me")
            .await
            .unwrap();
        assert!(stored.len() > 16);
        assert!(
            !String::from_utf8_lossy(&stored).contains("CANARY"),
            "encrypted in the Secret Service"
        );
        // In the Secret Service, not in the kernel keyring.
        assert_eq!(
            raw(&fallback, &service, "token:github:me").await,
            Err("no entry".to_owned())
        );
        let back = keyring.load("github:me").await.unwrap().unwrap();
        assert_eq!(back.access_token.expose_secret(), "CANARY-ACCESS");
        assert_eq!(
            back.refresh_token.unwrap().expose_secret(),
            "CANARY-REFRESH"
        );

        // A bundle too large for a Windows credential goes to a file,
        // encrypted; the entry only points there.
        keyring.save("big", &tokens(6_000)).await.unwrap();
        assert_eq!(
            raw(&secret_service, &service, "token:big").await.unwrap(),
            b"wharf:in-file"
        );
        let files: Vec<_> = std::fs::read_dir(&overflow)
            .unwrap()
            .map(|f| f.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "one overflow file");
        assert!(!String::from_utf8_lossy(&std::fs::read(&files[0]).unwrap()).contains("CANARY"));
        let big = keyring.load("big").await.unwrap().unwrap();
        assert_eq!(big.id_token.unwrap().expose_secret().len(), 6_007);

        // Smaller again: back into the entry, the file gone.
        keyring.save("big", &tokens(10)).await.unwrap();
        assert_ne!(
            raw(&secret_service, &service, "token:big").await.unwrap(),
            b"wharf:in-file"
        );
        assert!(!files[0].exists());
        keyring
    };
    let keyring = runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(60), flow).await })
        .expect("the Secret Service flow finished within 60 s");

    // The data key was made once: one item, and what a key from one read
    // seals, a key from another read opens.
    assert_eq!(data_key_items(&secret_service, &service), 1);
    let a = KeyRing::from_os_keyring(&store, &service).unwrap();
    let b = KeyRing::from_os_keyring(&store, &service).unwrap();
    let key_dir = dir.join("same-key");
    let with_a = EncryptedFileStore::open(&key_dir, a).unwrap();
    let with_b = EncryptedFileStore::open(&key_dir, b).unwrap();

    // A second "run" on a multi-threaded runtime, with a new connection
    // (opened, used and dropped in async code): finds the tokens, then
    // deletes them.
    let second_run = async {
        with_a.save("k", &tokens(10)).await.unwrap();
        assert!(with_b.load("k").await.unwrap().is_some());

        let again = OsStore::SecretService.open().unwrap();
        let reopened = KeyringStore::open(again, &service, &overflow).unwrap();
        let back = reopened.load("github:me").await.unwrap().unwrap();
        assert_eq!(back.access_token.expose_secret(), "CANARY-ACCESS");

        for key in ["github:me", "big"] {
            reopened.delete(key).await.unwrap();
            assert!(reopened.load(key).await.unwrap().is_none());
            assert!(keyring.load(key).await.unwrap().is_none());
            assert_eq!(
                raw(&secret_service, &service, &format!("token:{key}")).await,
                Err("no entry".to_owned())
            );
        }
        reopened.delete("never-there").await.unwrap();
        assert!(!format!("{reopened:?}").contains("CANARY"));
    };
    runtime2.block_on(async {
        tokio::time::timeout(Duration::from_secs(60), second_run)
            .await
            .expect("the second run finished within 60 s")
    });

    // Four opens later, still the one data key.
    assert_eq!(data_key_items(&secret_service, &service), 1);

    // Tidy the data key (the daemons and their home go with `daemons`).
    let removed = secret_service
        .build(&service, "wharf-data-key", None)
        .and_then(|e| e.delete_credential());
    assert!(removed.is_ok(), "{removed:?}");
    assert_eq!(data_key_items(&secret_service, &service), 0);
}
