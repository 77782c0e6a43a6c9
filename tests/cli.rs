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

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut command = agora(dir);
    command.args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// A member with an e-mail address, written straight into the folder's database.
fn add_member(dir: &Path, username: &str) {
    use agora::db::schema::users;
    use diesel::prelude::*;
    let url = format!("sqlite://{}", dir.join("agora.db").display());
    let db = agora::db::Database::connect(&url, 1).unwrap();
    db.migrate().unwrap();
    let mut conn = db.get().unwrap();
    diesel::insert_into(users::table)
        .values((
            users::username.eq(username),
            users::username_key.eq(username),
            users::email.eq(format!("{username}@example.org")),
            users::created_at.eq(0i64),
        ))
        .execute(&mut *conn)
        .unwrap();
}

fn mails_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join("mail"))
        .map(|entries| entries.flatten().map(|e| std::fs::read_to_string(e.path()).unwrap()).collect())
        .unwrap_or_default()
}

#[test]
fn backup_commands_create_list_prune_and_refuse_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, said) = run(dir.path(), &["backup", "create"], &[]);
    assert!(ok, "{said}");
    assert!(said.contains("backups/agora-") && said.contains(".sqlite"), "{said}");
    let (_, listed) = run(dir.path(), &["backup", "list"], &[]);
    assert_eq!(listed.lines().filter(|l| l.contains("agora-")).count(), 1, "{listed}");
    let (ok, said) = run(dir.path(), &["backup", "prune"], &[("AGORA_BACKUP_RETENTION_DAYS", "15")]);
    assert!(!ok);
    assert!(said.contains("more than 14"), "{said}");
    std::fs::write(dir.path().join("bogus.db"), "nope").unwrap();
    let (ok, said) = run(dir.path(), &["backup", "restore", "bogus.db"], &[]);
    assert!(!ok);
    assert!(said.contains("is not an Agora backup"), "{said}");
}

#[test]
fn p18_policy_publish_needs_72_hours_and_notifies_every_member() {
    let dir = tempfile::tempdir().unwrap();
    add_member(dir.path(), "reader");
    std::fs::write(dir.path().join("policy.md"), "# Privacy policy\n\nNew words.").unwrap();
    let date = |days: i64| {
        let at = time::OffsetDateTime::now_utc() + time::Duration::days(days);
        format!("{:04}-{:02}-{:02}", at.year(), at.month() as u8, at.day())
    };
    let (ok, said) = run(dir.path(), &["policy", "publish", "policy.md", "--effective", &date(1)], &[]);
    assert!(!ok);
    assert!(said.contains("at least 72 hours"), "{said}");
    assert!(mails_in(dir.path()).is_empty());
    let (ok, said) = run(dir.path(), &["policy", "publish", "policy.md", "--effective", &date(5)], &[]);
    assert!(ok, "{said}");
    assert!(said.contains("1 member(s) notified"), "{said}");
    let mails = mails_in(dir.path());
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("To: reader@example.org") && mails[0].contains("Subject: Our privacy policy is changing")
    );
}

#[test]
fn p17_operators_erase_an_account_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    add_member(dir.path(), "child");
    // Free text is refused: the ledger records only a fixed category.
    let (ok, said) = run(dir.path(), &["account", "erase", "child", "--category", "kid named Tim"], &[]);
    assert!(!ok, "{said}");
    let (ok, said) = run(dir.path(), &["account", "erase", "child", "--category", "under-13"], &[]);
    assert!(ok, "{said}");
    assert!(said.contains("erased (under-13)"));
    assert!(mails_in(dir.path()).iter().any(|m| m.contains("Subject: Your account has been deleted")));
    let ledger = std::fs::read_to_string(dir.path().join("backups").join("deletion-ledger.json")).unwrap();
    assert!(ledger.contains("under-13") && !ledger.contains("child"));
    let (ok, said) = run(dir.path(), &["account", "erase", "child", "--category", "under-13"], &[]);
    assert!(!ok);
    assert!(said.contains("no member"), "{said}");
}

#[test]
fn the_first_admin_is_made_from_the_command_line() {
    use agora::db::schema::users;
    use diesel::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    add_member(dir.path(), "founder");
    let role = || {
        let url = format!("sqlite://{}", dir.path().join("agora.db").display());
        let db = agora::db::Database::connect(&url, 1).unwrap();
        let mut conn = db.get().unwrap();
        users::table.filter(users::username_key.eq("founder")).select(users::role).first::<String>(&mut *conn).unwrap()
    };
    let (ok, said) = run(dir.path(), &["admin", "grant", "founder", "admin"], &[]);
    assert!(ok, "{said}");
    assert_eq!(role(), "admin");
    let (ok, _) = run(dir.path(), &["admin", "grant", "founder", "emperor"], &[]);
    assert!(!ok, "only moderator or admin");
    run(dir.path(), &["admin", "revoke", "founder"], &[]);
    assert_eq!(role(), "member");
    let (ok, said) = run(dir.path(), &["admin", "grant", "nobody", "moderator"], &[]);
    assert!(!ok && said.contains("no member"), "{said}");
}

/// A member who lost their authenticator app and their recovery codes gets back in: an
/// admin turns two-factor sign-in off from the command line, and the audit log says so.
#[test]
fn two_factor_is_turned_off_from_the_command_line_with_a_reason() {
    use agora::db::schema::{audit_log, two_factor, users};
    use diesel::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    add_member(dir.path(), "lostphone");
    let url = format!("sqlite://{}", dir.path().join("agora.db").display());
    let db = agora::db::Database::connect(&url, 1).unwrap();
    let id: i64 = {
        let mut conn = db.get().unwrap();
        let id = users::table.filter(users::username_key.eq("lostphone")).select(users::id).first(&mut *conn).unwrap();
        let secret = agora::auth::two_factor::new_secret();
        agora::auth::two_factor::turn_on(&mut conn, id, &secret, 0, agora::db::now()).unwrap();
        id
    };
    let (ok, said) =
        run(dir.path(), &["admin", "two-factor-off", "lostphone", "lost phone; checked by video call"], &[]);
    assert!(ok, "{said}");
    let mut conn = db.get().unwrap();
    let left: i64 = two_factor::table.filter(two_factor::user_id.eq(id)).count().get_result(&mut *conn).unwrap();
    let on: bool = users::table.find(id).select(users::two_factor_on).first(&mut *conn).unwrap();
    assert_eq!((left, on), (0, false));
    let reason: String = audit_log::table
        .filter(audit_log::action.eq("turn off two-factor sign-in"))
        .select(audit_log::reason)
        .first(&mut *conn)
        .unwrap();
    assert_eq!(reason, "lost phone; checked by video call");
    let (ok, said) = run(dir.path(), &["admin", "two-factor-off", "nobody", "x"], &[]);
    assert!(!ok && said.contains("no member"), "{said}");
}

/// A member left with no way to sign in gets one back: a new address, and a reset link
/// mailed to it; the audit log says who did it and why.
#[test]
fn access_is_recovered_from_the_command_line_with_a_new_address_and_a_reset_link() {
    use agora::db::schema::{audit_log, users};
    use diesel::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    add_member(dir.path(), "stranded");
    add_member(dir.path(), "other");
    let url = format!("sqlite://{}", dir.path().join("agora.db").display());
    let db = agora::db::Database::connect(&url, 1).unwrap();
    {
        let mut conn = db.get().unwrap();
        diesel::update(users::table.filter(users::username_key.eq("stranded")))
            .set((users::email.eq(None::<String>), users::password_hash.eq(None::<String>)))
            .execute(&mut *conn)
            .unwrap();
    }
    let (ok, said) = run(dir.path(), &["admin", "recover-access", "stranded", "other@example.org", "x"], &[]);
    assert!(!ok && said.contains("another member"), "{said}");
    let (ok, said) = run(
        dir.path(),
        &["admin", "recover-access", "stranded", "Back@Example.org", "lost access; checked by phone"],
        &[],
    );
    assert!(ok, "{said}");
    let mut conn = db.get().unwrap();
    let (email, verified): (Option<String>, bool) = users::table
        .filter(users::username_key.eq("stranded"))
        .select((users::email, users::email_verified))
        .first(&mut *conn)
        .unwrap();
    assert_eq!((email.as_deref(), verified), (Some("back@example.org"), false));
    let mails: Vec<String> = std::fs::read_dir(dir.path().join("mail"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert!(
        mails.iter().any(|m| m.contains("To: back@example.org") && m.contains("/password/reset?token")),
        "a reset link went to the new address"
    );
    let reason: String = audit_log::table
        .filter(audit_log::action.eq("recover access: new address and reset link"))
        .select(audit_log::reason)
        .first(&mut *conn)
        .unwrap();
    assert_eq!(reason, "lost access; checked by phone");
}

/// Hole 18: SIGTERM lets a request in flight finish, then the server exits.
#[test]
fn hole_18_sigterm_finishes_requests_in_flight_then_exits() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = agora(dir.path())
        .env("AGORA_BIND", format!("127.0.0.1:{port}"))
        .env("AGORA_DAILY_MAINTENANCE", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    wait_for("the server to answer", || http_get(port, "/").is_some());

    // A request whose body is still arriving when the signal comes.
    let body = "csrf_token=x&login=someone&password=whatever";
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let pid = server.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    std::thread::sleep(Duration::from_millis(300));
    // New connections are no longer accepted…
    assert!(http_get(port, "/").is_none(), "the server stopped accepting");
    // …but the request in flight gets its whole answer (a 403: its CSRF token is made up).
    stream.write_all(&body.as_bytes()[10..]).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 403"), "{response}");
    assert!(response.contains("did not come from this site"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the server exits once idle");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "a graceful stop exits cleanly: {status:?}");
}

#[test]
fn mail_queue_shows_what_waits_and_mail_send_sends_it() {
    use agora::db::schema::{mail_queue, notifications, users};
    use diesel::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    add_member(dir.path(), "reader");
    let (ok, said) = run(dir.path(), &["mail", "queue"], &[]);
    assert!(ok, "{said}");
    assert!(said.contains("the queue is empty"), "{said}");

    // A moderator's notice to a member with a confirmed address, queued to go now.
    let url = format!("sqlite://{}", dir.path().join("agora.db").display());
    let db = agora::db::Database::connect(&url, 1).unwrap();
    let mut conn = db.get().unwrap();
    let id: i64 = users::table.filter(users::username.eq("reader")).select(users::id).first(&mut *conn).unwrap();
    diesel::update(users::table.find(id)).set(users::email_verified.eq(true)).execute(&mut *conn).unwrap();
    agora::forum::notifications::notice(
        &mut conn,
        id,
        agora::forum::notifications::Kind::Moderation,
        "Thanks for the flag",
        None,
    )
    .unwrap();
    drop(conn);
    let (ok, said) = run(dir.path(), &["mail", "queue"], &[]);
    assert!(ok, "{said}");
    assert!(said.contains("1 pending; in all: 1 pending"), "{said}");
    assert!(said.lines().any(|l| l.starts_with("1\t") && l.contains("\tnotification\t")), "{said}");

    let (ok, said) = run(dir.path(), &["mail", "send"], &[]);
    assert!(ok, "{said}");
    assert!(said.contains("1 sent, 0 skipped"), "{said}");
    let mails = mails_in(dir.path());
    assert!(
        mails.iter().any(|m| m.contains("To: reader@example.org") && m.contains("Thanks for the flag")),
        "{mails:?}"
    );
    let (_, said) = run(dir.path(), &["mail", "queue"], &[]);
    assert!(said.contains("0 pending; in all: 1 sent"), "{said}");
    let mut conn = db.get().unwrap();
    let left: i64 = mail_queue::table.filter(mail_queue::status.eq("pending")).count().get_result(&mut *conn).unwrap();
    assert_eq!(left, 0);
    let told: i64 = notifications::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(told, 1);
}

#[test]
fn seed_and_maintenance_commands() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, said) =
        run(dir.path(), &["seed", "--members", "5", "--topics", "10", "--posts", "200", "--big-topic", "50"], &[]);
    assert!(ok, "{said}");
    assert!(said.contains("seeded 5 members, 10 topics and 250 posts"), "{said}");
    assert!(said.contains("the long topic is /t/11"), "{said}");
    let (ok, said) = run(dir.path(), &["seed", "--members", "5", "--topics", "10", "--posts", "200"], &[]);
    assert!(!ok);
    assert!(said.contains("already holds 250 posts"), "{said}");

    let (ok, said) = run(dir.path(), &["maintenance", "status"], &[]);
    assert!(ok && said.contains("never run"), "{said}");
    let (ok, said) = run(dir.path(), &["maintenance", "run"], &[]);
    assert!(ok, "{said}");
    assert!(said.contains("daily maintenance done"), "{said}");
    let backups = std::fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("agora-"))
        .count();
    assert_eq!(backups, 1);
    let (ok, said) = run(dir.path(), &["maintenance", "status"], &[]);
    assert!(ok && said.contains("last run: 20") && said.contains("last backup: 20"), "{said}");

    // A backup that cannot be written is loud: the command and the status fail, and say why.
    let blocked = dir.path().join("a-file-not-a-folder");
    std::fs::write(&blocked, "x").unwrap();
    let (ok, said) = run(dir.path(), &["backup", "create"], &[("AGORA_BACKUP_DIR", blocked.to_str().unwrap())]);
    assert!(!ok, "{said}");
    let (ok, said) = run(dir.path(), &["maintenance", "status"], &[]);
    assert!(!ok && said.contains("the last backup failed at 20"), "{said}");
    let (ok, _) = run(dir.path(), &["backup", "create"], &[]);
    assert!(ok);
    let (ok, said) = run(dir.path(), &["maintenance", "status"], &[]);
    assert!(ok, "a backup that works again clears it: {said}");
}

#[test]
fn json_logs_are_one_object_per_line_and_health_checks_stay_out_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = agora(dir.path())
        .env("AGORA_BIND", format!("127.0.0.1:{port}"))
        .env("AGORA_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    wait_for("the server to answer", || http_get(port, "/healthz").is_some());
    http_get(port, "/readyz").unwrap();
    http_get(port, "/no-such-page").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let _ = server.0.kill();
    let mut stdout = String::new();
    server.0.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    let lines: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect();
    assert!(
        lines.iter().any(|l| l["message"] == "request" && l["path"] == "/no-such-page" && l["status"] == 404),
        "{stdout}"
    );
    assert!(
        !lines.iter().any(|l| l["path"] == "/healthz" || l["path"] == "/readyz"),
        "health checks at debug only: {stdout}"
    );
    let (ok, said) = run(dir.path(), &["migrate"], &[("AGORA_LOG_FORMAT", "xml")]);
    assert!(!ok && said.contains("AGORA_LOG_FORMAT"), "{said}");
}
