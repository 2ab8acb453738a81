//! The real `serve` and `keys` binaries as child processes: a `Server` on a loopback port
//! (its address read from its "listening addr=…" log line; its log printed when a test
//! fails), and keys created with `keys create`.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

pub const SERVE: &str = env!("CARGO_BIN_EXE_serve");
pub const KEYS: &str = env!("CARGO_BIN_EXE_keys");

/// One of the crate's binaries, run from the crate root, with no configuration inherited
/// from the environment.
pub fn command(bin: &str) -> Command {
    let mut c = Command::new(bin);
    c.current_dir(super::files::root())
        .stdin(Stdio::null())
        .env("NO_COLOR", "1");
    for (k, _) in std::env::vars() {
        if k.starts_with("VIGIE_") || k == "DATABASE_URL" || k == "RUST_LOG" {
            c.env_remove(k);
        }
    }
    c
}

/// `keys create NAME --role ROLE` on the database `db` names; returns the key.
pub fn create_key(db: &[&str], name: &str, role: &str) -> String {
    let out = command(KEYS)
        .args(db)
        .args(["create", name, "--role", role])
        .output()
        .expect("run keys");
    assert!(
        out.status.success(),
        "keys create {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("vg_"), "{key:?}");
    key
}

pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters, then a final byte in @..~.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) && c != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A running `serve`. Dropping it kills the process (and, when a test is failing, prints
/// the end of what it logged).
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `serve --addr 127.0.0.1:0` with the committed model and thresholds and `args`,
    /// and waits for its "listening addr=…" line.
    pub fn start(args: &[&str]) -> Server {
        let mut child = command(SERVE)
            .args(["--addr", "127.0.0.1:0"])
            .args(["--model", "models/default.vigie"])
            .args(["--thresholds", "models/thresholds.toml"])
            // The burst is the point here, not the per-key rate limit (tested in api/limits.rs).
            .args(["--rate-limit", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start serve");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        collect(child.stdout.take().unwrap(), log.clone(), Some(tx));
        collect(child.stderr.take().unwrap(), log.clone(), None);
        let mut server = Server {
            child,
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            log,
        };
        server.addr = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("serve did not log \"listening addr=…\" (it exited, or took over 2 minutes)");
        server
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
            eprintln!("--- serve (pid {}) logged:", self.child.id());
            let skip = log.len().saturating_sub(120);
            for (i, l) in log.iter().enumerate() {
                if i < 60 || i >= skip.max(60) {
                    eprintln!("  {l}");
                } else if i == 60 {
                    eprintln!("  […]");
                }
            }
        }
    }
}

/// Reads a child's output into `log` on a thread (so the pipe never fills); on stdout,
/// sends the address of the "listening" line.
pub fn collect(
    out: impl Read + Send + 'static,
    log: Arc<Mutex<Vec<String>>>,
    mut addr_tx: Option<mpsc::Sender<SocketAddr>>,
) {
    std::thread::spawn(move || {
        let mut r = BufReader::new(out);
        let mut buf = Vec::new();
        while matches!(r.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
            let line = strip_ansi(String::from_utf8_lossy(&buf).trim_end());
            buf.clear();
            if line.contains("listening") {
                let addr = line
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("addr="))
                    .and_then(|a| a.parse().ok());
                if let (Some(addr), Some(tx)) = (addr, addr_tx.take()) {
                    let _ = tx.send(addr);
                }
            }
            log.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    });
}
