//! Backups: consistent snapshots in `AGORA_BACKUP_DIR`, kept at most 14 days, and a
//! restore that replays the deletion ledger so nothing erased comes back.
//!
//! SQLite: `VACUUM INTO`, an online, consistent copy of the database file.
//! PostgreSQL: a JSON dump of every table made through the connection (one
//! repeatable-read transaction), so no `pg_dump` of a matching version is needed.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::{PgConnection, SqliteConnection};
use serde_json::Value;

use crate::account::deletion::delete_account;
use crate::db::schema::{avatars, deletion_ledger, users};
use crate::db::{now, Database, DbConn};
use crate::privacy::ledger::{self, Entry};
use crate::record_erasure;

const PG_FORMAT: &str = "agora-postgres-backup-1";

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

/// Backups are named `agora-<unix seconds>.<sqlite|json>`; the time in the name is
/// what retention and restore go by.
fn backup_name(created_at: i64, postgres: bool) -> String {
    format!("agora-{created_at}.{}", if postgres { "json" } else { "sqlite" })
}

fn created_at_of(path: &Path) -> Option<i64> {
    let name = path.file_name()?.to_str()?;
    let rest = name.strip_prefix("agora-")?;
    let (seconds, extension) = rest.split_once('.')?;
    matches!(extension, "sqlite" | "json").then_some(())?;
    seconds.parse().ok()
}

#[derive(QueryableByName)]
struct JsonRows {
    #[diesel(sql_type = Text)]
    rows: String,
}

/// Writes a new backup and refreshes the ledger copy beside it.
#[tracing::instrument(name = "backup", skip_all)]
pub fn create(db: &Database, dir: &Path) -> anyhow::Result<Backup> {
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
            let c: &mut PgConnection = c;
            let tables = c.build_transaction().repeatable_read().read_only().run(|c| {
                let mut tables = serde_json::Map::new();
                for table in TABLES {
                    let dump: JsonRows = diesel::sql_query(format!(
                        "SELECT COALESCE(json_agg(t), '[]'::json)::text AS rows FROM {table} t"
                    ))
                    .get_result(c)?;
                    let rows: Value = serde_json::from_str(&dump.rows)
                        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
                    tables.insert(table.to_string(), rows);
                }
                Ok::<_, diesel::result::Error>(tables)
            })?;
            let document = serde_json::json!({"format": PG_FORMAT, "created_at": created_at, "tables": tables});
            let temporary = path.with_extension("partial");
            std::fs::write(&temporary, serde_json::to_vec(&document)?)?;
            std::fs::rename(&temporary, &path)?;
        }
    }
    ledger::write_file(&mut conn, dir)?;
    let bytes = std::fs::metadata(&path)?.len();
    tracing::info!(path = %path.display(), bytes, "backup written");
    Ok(Backup { path, created_at, bytes })
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

/// Deletes every backup older than `retention_days`; returns what was deleted.
pub fn prune(dir: &Path, retention_days: u32) -> anyhow::Result<Vec<PathBuf>> {
    let cutoff = now() - i64::from(retention_days) * 86400;
    let mut removed = Vec::new();
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
    // Sessions and e-mail links in a backup may have been ended or used since: none
    // survives a restore (members sign in again; links are asked for again).
    diesel::delete(crate::db::schema::sessions::table).execute(&mut *conn)?;
    diesel::delete(crate::db::schema::email_tokens::table).execute(&mut *conn)?;
    // The backup's rows of erased members were written and then erased again: on
    // PostgreSQL their old versions are in the files until the tables are rewritten.
    if let DbConn::Postgres(pg) = &mut *conn {
        crate::ops::rewrite::rewrite(pg, crate::ops::rewrite::Posts::Always)?;
    }
    ledger::write_file(&mut conn, ledger_dir)?;
    Ok(Restored { created_at, erasures_replayed: pending.len() })
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
    let document: Value = std::fs::read(file)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .filter(|d: &Value| d["format"] == PG_FORMAT)
        .ok_or_else(|| anyhow::anyhow!("{} is not an Agora PostgreSQL backup; nothing was changed", file.display()))?;
    // The target gets this version's schema; the backup brings the rows (restore with
    // the Agora version that made the backup).
    Database::connect(database_url, 1)?.migrate()?;
    let data_tables: Vec<&str> = TABLES.iter().copied().filter(|t| *t != "__diesel_schema_migrations").collect();
    let mut conn = PgConnection::establish(database_url)?;
    conn.transaction::<_, anyhow::Error, _>(|c| {
        c.batch_execute(&format!("TRUNCATE {} RESTART IDENTITY CASCADE", data_tables.join(", ")))?;
        for table in &data_tables {
            let rows = document["tables"][table].to_string();
            diesel::sql_query(format!("INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, $1::json)"))
                .bind::<Text, _>(rows)
                .execute(c)?;
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
            "newsletter" => diesel::update(target).set(users::newsletter.eq(false)).execute(conn)?,
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
