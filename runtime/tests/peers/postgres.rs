//! A throwaway PostgreSQL server (Debian's `postgresql` package) in a
//! temporary data directory on a loopback port. As root, it runs as the
//! `postgres` user (PostgreSQL refuses to run as root). Self-contained, so
//! other packages' tests include it too (`#[path]`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A per-server suffix for the data directory (std's random hasher keys).
fn dir_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(11);
    h.finish()
}

pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The newest installed server binaries (`/usr/lib/postgresql/<v>/bin`).
fn server_bin() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|b| b.join("initdb").is_file());
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!("PostgreSQL server binaries not found under /usr/lib/postgresql (scripts/test.sh installs the Debian `postgresql` package)")
    })
}

fn run(bin: &Path, tool: &str, args: &[&str], as_postgres: bool) {
    let mut cmd = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    };
    let out = cmd
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = server_bin();
        let root = is_root();
        let dir =
            std::env::temp_dir().join(format!("wharf-pg-{}-{}", std::process::id(), dir_suffix()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        if root {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status();
            assert!(status.is_ok_and(|s| s.success()), "chown to postgres");
        }
        let data = dir.join("data");
        let data_s = data.to_string_lossy().into_owned();
        run(
            &bin,
            "initdb",
            &[
                "-D",
                &data_s,
                "-U",
                "wharf",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            root,
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port");
        let options = format!("-h 127.0.0.1 -p {port} -k {} -F", dir.display());
        let log = dir.join("log").to_string_lossy().into_owned();
        run(
            &bin,
            "pg_ctl",
            &[
                "-D", &data_s, "-o", &options, "-l", &log, "-w", "-t", "60", "start",
            ],
            root,
        );
        let pg = Postgres { dir, bin, port };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "PostgreSQL did not listen within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        pg
    }

    /// A tokio-postgres configuration string.
    pub fn config(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=wharf dbname=postgres",
            self.port
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data").to_string_lossy().into_owned();
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"));
            c
        } else {
            Command::new(self.bin.join("pg_ctl"))
        };
        let _ = cmd.args(["-D", &data, "-m", "immediate", "stop"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
