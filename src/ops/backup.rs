//! Backups: consistent snapshots in `AGORA_BACKUP_DIR`, kept at most 14 days, and a
//! restore that replays the deletion ledger so nothing erased comes back.
//!
//! SQLite: `VACUUM INTO`, an online, consistent copy of the database file.
//! PostgreSQL: every table's rows as JSON lines, gzipped, read through a cursor in one
//! repeatable-read transaction and written as they come, so memory stays bounded
//! whatever the size of the forum and no `pg_dump` of a matching version is needed.
//! (Backups made before 2026-12-07 are one JSON document, `.json`; they still restore.)
//!
//! A backup is written to `<name>.partial` and renamed when complete; a crashed one's
//! partial file goes with the next prune. Every attempt's outcome is kept in the
//! database, for `agora maintenance status` and `/metrics`.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::{PgConnection, SqliteConnection};
use serde_json::Value;

use crate::account::deletion::delete_account;
use crate::db::schema::{avatars, deletion_ledger, member_blocks, newsletter_events, users};
use crate::db::{now, Database, DbConn};
use crate::forum::{blocks, notification_settings};
use crate::privacy::ledger::{self, Entry};
use crate::record_erasure;

/// The one-document format of earlier versions (restore only).
const PG_FORMAT_DOCUMENT: &str = "agora-postgres-backup-1";
/// JSON lines: a header object, then per table a `["table", name]` line followed by its
/// rows (objects), and last `["end", rows]`, without which a restore refuses the file.
const PG_FORMAT_LINES: &str = "agora-postgres-backup-2";
/// Rows fetched from the cursor, and inserted by a restore, at a time.
const BATCH_ROWS: usize = 2000;
/// A crashed backup's partial file is removed once it is this old (no backup takes a day).
const PARTIAL_KEPT_SECONDS: u64 = 86400;
/// The settings rows holding the last backup that worked and the last that failed.
const LAST_SUCCESS: &str = "backup_last_success";
const LAST_FAILURE: &str = "backup_last_failure";

/// Every table, parents before children (the order a restore fills them in).
const TABLES: &[&str] = &[
    "__diesel_schema_migrations",
    "settings",
    "content_version",
    "site_settings",
    "policy_versions",
    "users",
    "categories",
    "topics",
    "posts",
    "post_edits",
    "likes",
    "topic_reads",
    "category_reads",
    "sessions",
    "avatars",
    "oauth_states",
    "github_signups",
    "email_tokens",
    "newsletter_events",
    "deletion_ledger",
    "flags",
    "notifications",
    "post_mentions",
    "topic_watches",
    "category_watches",
    "notification_settings",
    "member_blocks",
    "mail_queue",
    "audit_log",
    "privacy_requests",
    "rate_limits",
    "two_factor",
    "recovery_codes",
];

/// Tables whose `id` comes from an identity sequence on PostgreSQL.
const IDENTITY_TABLES: &[&str] = &[
    "users",
    "sessions",
    "categories",
    "topics",
    "posts",
    "post_edits",
    "newsletter_events",
    "deletion_ledger",
    "flags",
    "notifications",
    "mail_queue",
    "audit_log",
    "privacy_requests",
];

/// Tables whose `id` comes from a PostgreSQL identity sequence (set after a copy).
pub fn identity_tables() -> &'static [&'static str] {
    IDENTITY_TABLES
}

/// Every table a backup holds, for the test that compares them with the live schema.
pub fn backed_up_tables() -> &'static [&'static str] {
    TABLES
}

#[derive(Debug, Clone)]
pub struct Backup {
    pub path: PathBuf,
    pub created_at: i64,
    pub bytes: u64,
}

/// Backups are named `agora-<unix seconds>.<sqlite|jsonl.gz>`; the time in the name is
/// what retention and restore go by.
fn backup_name(created_at: i64, postgres: bool) -> String {
    format!("agora-{created_at}.{}", if postgres { "jsonl.gz" } else { "sqlite" })
}

fn created_at_of(path: &Path) -> Option<i64> {
    let name = path.file_name()?.to_str()?;
    let rest = name.strip_prefix("agora-")?;
    let (seconds, extension) = rest.split_once('.')?;
    matches!(extension, "sqlite" | "jsonl.gz" | "json").then_some(())?;
    seconds.parse().ok()
}

#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = Text)]
    row: String,
}

/// Writes a new backup and refreshes the ledger copy beside it, and records how it
/// went (a failure is also logged as an error).
#[tracing::instrument(name = "backup", skip_all)]
pub fn create(db: &Database, dir: &Path) -> anyhow::Result<Backup> {
    let made = write_backup(db, dir);
    let outcome = match &made {
        Ok(_) => record_outcome(db, LAST_SUCCESS, String::new()),
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "backup failed");
            record_outcome(db, LAST_FAILURE, format!("{error:#}"))
        }
    };
    if let Err(error) = outcome {
        tracing::error!(error = %format!("{error:#}"), "the backup's outcome could not be recorded");
    }
    made
}

/// When the last backup was written, and when the last one failed and why (Unix
/// seconds).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Health {
    pub last_success: Option<i64>,
    pub last_failure: Option<(i64, String)>,
    /// The last attempt failed.
    pub failing: bool,
}

pub fn health(conn: &mut DbConn) -> Result<Health, crate::db::DbError> {
    use crate::db::schema::settings;
    // Kept in milliseconds, so a failure and a success within one second stay in order.
    let mut read = |name: &str| -> Result<Option<(i64, String)>, crate::db::DbError> {
        let value: Option<String> = settings::table.find(name).select(settings::value).first(conn).optional()?;
        Ok(value.and_then(|v| {
            let (at, details) = v.split_once(' ').unwrap_or((&v, ""));
            Some((at.parse().ok()?, details.to_string()))
        }))
    };
    let (success, failure) = (read(LAST_SUCCESS)?, read(LAST_FAILURE)?);
    let failing = match (&failure, &success) {
        (Some((failed, _)), Some((worked, _))) => failed > worked,
        (failure, _) => failure.is_some(),
    };
    Ok(Health {
        last_success: success.map(|(at, _)| at / 1000),
        last_failure: failure.map(|(at, why)| (at / 1000, why)),
        failing,
    })
}

/// Keeps `<Unix milliseconds> <details>` under `name`.
fn record_outcome(db: &Database, name: &str, details: String) -> anyhow::Result<()> {
    use crate::db::schema::settings;
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis();
    let value = format!("{millis} {details}").trim_end().to_string();
    let mut conn = db.get()?;
    conn.write_transaction::<_, diesel::result::Error, _>(|c| {
        diesel::delete(settings::table.find(name)).execute(c)?;
        diesel::insert_into(settings::table)
            .values((settings::name.eq(name), settings::value.eq(&value)))
            .execute(c)?;
        Ok(())
    })?;
    Ok(())
}

fn write_backup(db: &Database, dir: &Path) -> anyhow::Result<Backup> {
    std::fs::create_dir_all(dir)?;
    let mut created_at = now();
    let mut conn = db.get()?;
    let postgres = matches!(*conn, DbConn::Postgres(_));
    // Two backups in one second would collide; the later one waits its turn.
    while dir.join(backup_name(created_at, postgres)).exists() {
        created_at += 1;
    }
    let path = dir.join(backup_name(created_at, postgres));
    match &mut *conn {
        DbConn::Sqlite(c) => {
            let target = path.to_str().ok_or_else(|| anyhow::anyhow!("backup path is not UTF-8"))?;
            c.batch_execute(&format!("VACUUM INTO '{}'", target.replace('\'', "''")))?;
        }
        DbConn::Postgres(c) => {
            let temporary = partial_path(&path);
            let written = write_postgres(c, &temporary, created_at);
            if let Err(error) = written {
                let _ = std::fs::remove_file(&temporary);
                return Err(error);
            }
            std::fs::rename(&temporary, &path)?;
        }
    }
    ledger::write_file(&mut conn, dir)?;
    let bytes = std::fs::metadata(&path)?.len();
    tracing::info!(path = %path.display(), bytes, "backup written");
    Ok(Backup { path, created_at, bytes })
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Streams every table through a cursor into `target` (see the module), in one
/// repeatable-read transaction so the tables agree with each other.
fn write_postgres(c: &mut PgConnection, target: &Path, created_at: i64) -> anyhow::Result<()> {
    use std::io::Write;
    let file = std::fs::File::create(target)?;
    let mut out = std::io::BufWriter::new(flate2::write::GzEncoder::new(
        std::io::BufWriter::new(file),
        flate2::Compression::fast(),
    ));
    writeln!(out, "{}", serde_json::json!({"format": PG_FORMAT_LINES, "created_at": created_at}))?;
    let rows = c.build_transaction().repeatable_read().read_only().run(|c| {
        let mut rows = 0u64;
        for table in TABLES {
            writeln!(out, "{}", serde_json::json!(["table", table]))?;
            c.batch_execute(&format!(
                "DECLARE backup_rows NO SCROLL CURSOR FOR SELECT row_to_json(t)::text AS row FROM {table} t"
            ))?;
            loop {
                let batch: Vec<JsonRow> = diesel::sql_query(format!("FETCH {BATCH_ROWS} FROM backup_rows")).load(c)?;
                for row in &batch {
                    out.write_all(row.row.as_bytes())?;
                    out.write_all(b"\n")?;
                }
                rows += batch.len() as u64;
                if batch.len() < BATCH_ROWS {
                    break;
                }
            }
            c.batch_execute("CLOSE backup_rows")?;
        }
        Ok::<_, anyhow::Error>(rows)
    })?;
    writeln!(out, "{}", serde_json::json!(["end", rows]))?;
    let file = out.into_inner().map_err(|e| e.into_error())?.finish()?.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(())
}

/// The backups in `dir`, oldest first.
pub fn list(dir: &Path) -> anyhow::Result<Vec<Backup>> {
    let mut backups = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(backups),
        Err(e) => return Err(e.into()),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if let Some(created_at) = created_at_of(&path) {
            backups.push(Backup { bytes: entry.metadata()?.len(), path, created_at });
        }
    }
    backups.sort_by_key(|b| b.created_at);
    Ok(backups)
}

/// Deletes every backup older than `retention_days`, and the partial file of any
/// backup that crashed a day or more ago; returns what was deleted.
pub fn prune(dir: &Path, retention_days: u32) -> anyhow::Result<Vec<PathBuf>> {
    let cutoff = now() - i64::from(retention_days) * 86400;
    let mut removed = Vec::new();
    let crashed_before = std::time::SystemTime::now() - std::time::Duration::from_secs(PARTIAL_KEPT_SECONDS);
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let partial = path.extension().is_some_and(|e| e == "partial")
            && path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("agora-"));
        if partial && entry.metadata()?.modified()? < crashed_before {
            std::fs::remove_file(&path)?;
            removed.push(path);
        }
    }
    for backup in list(dir)? {
        if backup.created_at < cutoff {
            std::fs::remove_file(&backup.path)?;
            removed.push(backup.path);
        }
    }
    Ok(removed)
}

#[derive(Debug)]
pub struct Restored {
    pub created_at: i64,
    /// Ledger entries newer than the backup, applied to it.
    pub erasures_replayed: usize,
    /// Members left with no way to sign in (no password, address or GitHub account: the
    /// ones they had in the backup were replaced since, and the new ones are not in it).
    /// `agora admin recover-access` gives each a way back.
    pub stranded: Vec<String>,
}

/// Restores a backup into the configured database, then replays every erasure
/// recorded after the backup was taken (from the ledger file beside the backups
/// and the ledger inside the backup). Run it with the server stopped.
pub fn restore(database_url: &str, file: &Path, ledger_dir: &Path) -> anyhow::Result<Restored> {
    let created_at = created_at_of(file).ok_or_else(|| {
        anyhow::anyhow!(
            "{} is not an Agora backup (expected a file named agora-<seconds>.sqlite or .json)",
            file.display()
        )
    })?;
    let entries_outside = ledger::read_file(ledger_dir)?;
    if let Some(path) = database_url.strip_prefix("sqlite://") {
        restore_sqlite(file, Path::new(path))?;
    } else {
        restore_postgres(database_url, file)?;
    }
    let db = Database::connect(database_url, 1)?;
    db.migrate()?;
    let mut conn = db.get()?;
    let mut pending: Vec<Entry> = ledger::entries(&mut conn)?;
    for entry in entries_outside {
        if !pending.iter().any(|known| known.same_erasure(&entry)) {
            pending.push(entry);
        }
    }
    pending.retain(|e| e.erased_at >= created_at);
    pending.sort_by_key(|e| e.erased_at);
    for entry in &pending {
        replay(&mut conn, entry)?;
    }
    // Sessions, e-mail links and unfinished GitHub sign-ups in a backup may have been
    // ended, used or abandoned since: none survives a restore (members sign in again;
    // links are asked for again).
    diesel::delete(crate::db::schema::sessions::table).execute(&mut *conn)?;
    diesel::delete(crate::db::schema::email_tokens::table).execute(&mut *conn)?;
    diesel::delete(crate::db::schema::github_signups::table).execute(&mut *conn)?;
    // The backup's rows of erased members were written and then erased again: on
    // PostgreSQL their old versions are in the files until the tables are rewritten.
    if let DbConn::Postgres(pg) = &mut *conn {
        crate::ops::rewrite::rewrite(pg, crate::ops::rewrite::Posts::Always)?;
    }
    ledger::write_file(&mut conn, ledger_dir)?;
    let stranded: Vec<String> = users::table
        .filter(users::role.ne(crate::auth::role::Role::System))
        .filter(users::password_hash.is_null())
        .filter(users::email.is_null())
        .filter(users::github_id.is_null())
        .order(users::id)
        .select(users::username)
        .load(&mut *conn)?;
    Ok(Restored { created_at, erasures_replayed: pending.len(), stranded })
}

fn restore_sqlite(file: &Path, target: &Path) -> anyhow::Result<()> {
    let mut header = [0u8; 16];
    let readable = std::fs::File::open(file).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header));
    if readable.is_err() || &header != b"SQLite format 3\0" {
        anyhow::bail!("{} is not an SQLite backup; nothing was changed", file.display());
    }
    // An SQLite file that is not Agora's would replace the forum with nonsense.
    let path = file.to_str().ok_or_else(|| anyhow::anyhow!("backup path is not UTF-8"))?;
    let mut probe = SqliteConnection::establish(path)?;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let tables: Count = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'posts', '__diesel_schema_migrations')",
    )
    .get_result(&mut probe)?;
    drop(probe);
    if tables.n != 3 {
        anyhow::bail!("{} is an SQLite file but not an Agora backup; nothing was changed", file.display());
    }
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", target.display()));
        if side.exists() {
            std::fs::remove_file(side)?;
        }
    }
    std::fs::copy(file, target)?;
    Ok(())
}

fn restore_postgres(database_url: &str, file: &Path) -> anyhow::Result<()> {
    let refuse = || anyhow::anyhow!("{} is not an Agora PostgreSQL backup; nothing was changed", file.display());
    let lines = file.to_str().is_some_and(|name| name.ends_with(".jsonl.gz"));
    // Read (and a document parsed) before anything is changed.
    let document = if lines {
        None
    } else {
        let document: Value = std::fs::read(file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .filter(|d: &Value| d["format"] == PG_FORMAT_DOCUMENT)
            .ok_or_else(refuse)?;
        Some(document)
    };
    // The target gets this version's schema; the backup brings the rows (restore with
    // the Agora version that made the backup).
    Database::connect(database_url, 1)?.migrate()?;
    let data_tables: Vec<&str> = TABLES.iter().copied().filter(|t| *t != "__diesel_schema_migrations").collect();
    let mut conn = PgConnection::establish(database_url)?;
    conn.transaction::<_, anyhow::Error, _>(|c| {
        c.batch_execute(&format!("TRUNCATE {} RESTART IDENTITY CASCADE", data_tables.join(", ")))?;
        match &document {
            Some(document) => {
                for table in &data_tables {
                    insert_rows(c, table, &document["tables"][table].to_string())?;
                }
            }
            None => restore_lines(c, file)?,
        }
        for table in IDENTITY_TABLES {
            c.batch_execute(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ))?;
        }
        Ok(())
    })?;
    Ok(())
}

fn insert_rows(c: &mut PgConnection, table: &str, json_array: &str) -> QueryResult<usize> {
    diesel::sql_query(format!("INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, $1::json)"))
        .bind::<Text, _>(json_array)
        .execute(c)
}

/// Inserts a JSON-lines backup's rows, [`BATCH_ROWS`] at a time; fails (and the
/// caller's transaction undoes everything) unless the file ends as a complete backup
/// ends.
fn restore_lines(c: &mut PgConnection, file: &Path) -> anyhow::Result<()> {
    use std::io::BufRead;
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(std::fs::File::open(file)?));
    let incomplete = || anyhow::anyhow!("{} is incomplete (no end line); nothing was changed", file.display());
    let mut lines = reader.lines();
    let header: Value = serde_json::from_str(&lines.next().ok_or_else(incomplete)??)?;
    if header["format"] != PG_FORMAT_LINES {
        anyhow::bail!("{} is not an Agora PostgreSQL backup; nothing was changed", file.display());
    }
    let mut table: Option<String> = None;
    let mut batch = String::from("[");
    let mut in_batch = 0usize;
    let mut rows = 0u64;
    let flush = |c: &mut PgConnection, table: &Option<String>, batch: &mut String, in_batch: &mut usize| {
        if *in_batch == 0 {
            return Ok::<_, anyhow::Error>(());
        }
        let table = table.as_deref().ok_or_else(|| anyhow::anyhow!("rows before any table"))?;
        batch.push(']');
        if table != "__diesel_schema_migrations" {
            insert_rows(c, table, batch)?;
        }
        batch.truncate(1);
        *in_batch = 0;
        Ok(())
    };
    for line in lines {
        let line = line?;
        if line.starts_with('[') {
            flush(c, &table, &mut batch, &mut in_batch)?;
            let marker: (String, Value) = serde_json::from_str(&line)?;
            match marker.0.as_str() {
                "table" => {
                    let name = marker.1.as_str().unwrap_or_default();
                    let known =
                        TABLES.iter().find(|t| **t == name).ok_or_else(|| anyhow::anyhow!("unknown table {name}"))?;
                    table = Some(known.to_string());
                }
                "end" if marker.1.as_u64() == Some(rows) => return Ok(()),
                _ => anyhow::bail!("{}: unexpected line {line:?}; nothing was changed", file.display()),
            }
        } else {
            if in_batch > 0 {
                batch.push(',');
            }
            batch.push_str(&line);
            in_batch += 1;
            rows += 1;
            if in_batch == BATCH_ROWS {
                flush(c, &table, &mut batch, &mut in_batch)?;
            }
        }
    }
    Err(incomplete())
}

/// Applies one erasure to a restored database.
fn replay(conn: &mut DbConn, entry: &Entry) -> anyhow::Result<()> {
    let user_id = entry.user_id;
    if entry.erased == "account" {
        delete_account(conn, user_id, crate::account::deletion::ErasureReason::from_ledger(&entry.reason))?;
        return Ok(());
    }
    let now = entry.erased_at;
    let placeholder = format!("member{user_id}");
    conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        let target = users::table.find(user_id);
        match entry.erased.as_str() {
            "first_name" => diesel::update(target).set(users::first_name.eq(None::<String>)).execute(conn)?,
            "last_name" => diesel::update(target).set(users::last_name.eq(None::<String>)).execute(conn)?,
            "email" => diesel::update(target)
                .set((users::email.eq(None::<String>), users::email_verified.eq(false)))
                .execute(conn)?,
            "username" => diesel::update(target)
                .set((users::username.eq(&placeholder), users::username_key.eq(&placeholder)))
                .execute(conn)?,
            "avatar" => diesel::delete(avatars::table.find(user_id)).execute(conn)?,
            "newsletter" => {
                // The opt-out is in the member's history too, as it was before the restore.
                let exists = diesel::select(diesel::dsl::exists(target)).get_result::<bool>(conn)?;
                let recorded = diesel::select(diesel::dsl::exists(
                    newsletter_events::table
                        .filter(newsletter_events::user_id.eq(user_id))
                        .filter(newsletter_events::subscribed.eq(false))
                        .filter(newsletter_events::created_at.ge(entry.erased_at)),
                ))
                .get_result::<bool>(conn)?;
                if exists && !recorded {
                    diesel::insert_into(newsletter_events::table)
                        .values((
                            newsletter_events::user_id.eq(user_id),
                            newsletter_events::subscribed.eq(false),
                            newsletter_events::source.eq("unsubscribed (replayed after a restore)"),
                            newsletter_events::created_at.eq(entry.erased_at),
                        ))
                        .execute(conn)?;
                }
                diesel::update(target).set(users::newsletter.eq(false)).execute(conn)?
            }
            "show_name" => diesel::update(target).set(users::show_name.eq(false)).execute(conn)?,
            crate::auth::two_factor::LEDGER_KIND => {
                crate::auth::two_factor::erase(conn, user_id)?;
                0
            }
            unblock if unblock.starts_with(blocks::UNBLOCKED) => {
                let blocked: i64 = unblock[blocks::UNBLOCKED.len()..].parse().unwrap_or(0);
                diesel::delete(member_blocks::table.find((user_id, blocked))).execute(conn)?
            }
            mail_off if mail_off.starts_with(notification_settings::MAIL_OFF) => {
                let kind = crate::forum::notifications::Kind::parse(&mail_off[notification_settings::MAIL_OFF.len()..]);
                let exists = diesel::select(diesel::dsl::exists(target)).get_result::<bool>(conn)?;
                if let (Some(kind), true) = (kind, exists) {
                    notification_settings::replay_mail_off(conn, user_id, kind)?;
                }
                0
            }
            "github" => diesel::update(target)
                .set((users::github_id.eq(None::<i64>), users::github_login.eq(None::<String>)))
                .execute(conn)?,
            // The password in the backup was replaced since: nobody may use it, so the
            // member sets a new one through "forgot password".
            "password" => diesel::update(target).set(users::password_hash.eq(None::<String>)).execute(conn)?,
            _ => 0,
        };
        let known = diesel::select(diesel::dsl::exists(
            deletion_ledger::table
                .filter(deletion_ledger::user_id.eq(user_id))
                .filter(deletion_ledger::erased.eq(&entry.erased))
                .filter(deletion_ledger::erased_at.eq(entry.erased_at)),
        ))
        .get_result::<bool>(conn)?;
        if !known {
            record_erasure!(conn, user_id, &entry.erased, &entry.reason, now)?;
        }
        Ok(())
    })?;
    Ok(())
}
