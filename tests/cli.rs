//! The `agora` binary itself: its commands, start-up on a fresh directory, and its logs.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const AGORA: &str = env!("CARGO_BIN_EXE_agora");

/// The agora binary with no AGORA_* settings from the environment leaking in.
fn agora(dir: &Path) -> Command {
    let mut command = Command::new(AGORA);
    command.current_dir(dir);
    for (name, _) in std::env::vars() {
        if name.starts_with("AGORA_") || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    command
}

#[test]
fn help_lists_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let output = agora(dir.path()).arg("--help").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("serve") && text.contains("migrate"), "{text}");
}

#[test]
fn migrate_applies_migrations_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = agora(dir.path()).arg("migrate").output().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let said = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(said.contains("migration(s) applied to the sqlite database") && !said.starts_with("0 "), "{said}");
    assert!(dir.path().join("agora.db").exists(), "the default database is ./agora.db");
    let again = agora(dir.path()).arg("migrate").output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 migration(s) applied"));
}

#[test]
fn bad_settings_are_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = agora(dir.path()).env("AGORA_TRUSTED_PROXIES", "10.0.0.1,nonsense").output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("AGORA_TRUSTED_PROXIES is not valid"));
    let output = agora(dir.path()).env("AGORA_DATABASE_URL", "mysql://x").arg("migrate").output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unsupported database URL"));
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[test]
fn serve_starts_on_a_fresh_directory_and_logs_every_request() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = agora(dir.path())
        .env("AGORA_BIND", format!("127.0.0.1:{port}"))
        .env("AGORA_LOG_DIR", &logs)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);

    let mut home = None;
    wait_for("the server to answer", || {
        home = http_get(port, "/");
        home.is_some()
    });
    let home = home.unwrap();
    assert!(home.starts_with("HTTP/1.1 200"), "{home}");
    assert!(home.contains("General"), "the first category exists at once");

    let missing = http_get(port, "/no-such-page").unwrap();
    assert!(missing.starts_with("HTTP/1.1 404"));

    let log_line = |text: &str| {
        text.lines().any(|l| {
            l.contains("method=GET")
                && l.contains("path=/no-such-page")
                && l.contains("status=404")
                && l.contains("latency_ms=")
                && l.contains("client_ip=127.0.0.1")
        })
    };
    wait_for("a daily log file with the request", || {
        std::fs::read_dir(&logs)
            .map(|entries| {
                entries.flatten().any(|e| {
                    e.file_name().to_string_lossy().starts_with("agora.log.")
                        && std::fs::read_to_string(e.path()).is_ok_and(|t| log_line(&t))
                })
            })
            .unwrap_or(false)
    });

    let _ = server.0.kill();
    let mut stdout = String::new();
    server.0.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    assert!(log_line(&stdout), "stdout has the request too: {stdout}");
}
