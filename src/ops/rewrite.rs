//! On PostgreSQL erased data leaves the database's files only when the tables it lived
//! in are rewritten. A deleted or updated row's old version stays in the table's file,
//! and its key in the index files, until the space happens to be reused: VACUUM marks
//! the space free, it does not overwrite it. `VACUUM FULL` writes a table and its
//! indexes (and TOAST) into new files and truncates the old ones when it commits.
//!
//! So the daily maintenance rewrites every table that holds a member's text or
//! pictures (found from the registry and the live schema, so a new table cannot be
//! missed), and `posts`, a gigabyte at a million posts, only when an account was erased
//! since its last rewrite (an erased member's IPs and staff's reasons about them stay in
//! its old row versions). A restore rewrites everything once it has replayed the ledger.
//! SQLite needs none of this: `secure_delete` overwrites freed space as it goes.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::PgConnection;

use crate::db::schema::{deletion_ledger, settings};
use crate::privacy::registry::{self, OnDeletion};

/// Public content, rewritten only after an account erasure.
const POSTS: &str = "posts";
/// The settings row holding up to when `posts` was rewritten (Unix seconds).
const POSTS_REWRITTEN_THROUGH: &str = "posts_rewritten_through";
/// How long a rewrite waits for readers to let go of a table before it gives up on it
/// until the next day, rather than holding up every page queued behind it.
const LOCK_TIMEOUT: &str = "10s";

/// Whether `posts` is rewritten too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posts {
    /// When an account was erased since its last rewrite (the daily maintenance).
    IfAccountErased,
    /// Always (after a restore).
    Always,
}

/// What one rewrite did: each table and how long it was locked.
#[derive(Debug, Default)]
pub struct Rewritten {
    pub tables: Vec<(String, Duration)>,
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
}

/// Tables with a column of a member's text or bytes that deletion removes or blanks,
/// `posts` aside; tables of ids alone (likes, read positions) leave nothing readable.
pub fn personal_tables(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema()",
    )
    .load(conn)?;
    let mut tables: Vec<String> = columns
        .into_iter()
        .filter(|c| matches!(c.data_type.as_str(), "text" | "bytea" | "character varying"))
        .filter(|c| {
            registry::find(&c.table_name, &c.column_name)
                .is_some_and(|r| r.personal && matches!(r.on_deletion, OnDeletion::RowDeleted | OnDeletion::Erased))
        })
        .map(|c| c.table_name)
        .filter(|t| t != POSTS)
        .collect();
    tables.sort();
    tables.dedup();
    Ok(tables)
}

/// Rewrites the tables erased data may linger in (see the module). Each table is its
/// own short lock; one that cannot be had within [`LOCK_TIMEOUT`] fails the run, which
/// the next day's maintenance tries again.
pub fn rewrite(conn: &mut PgConnection, posts: Posts) -> anyhow::Result<Rewritten> {
    let started = crate::db::now();
    let mut tables = personal_tables(conn)?;
    let through = rewritten_through(conn)?;
    let posts_too = match posts {
        Posts::Always => true,
        Posts::IfAccountErased => account_erased_since(conn, through)?,
    };
    if posts_too {
        tables.push(POSTS.to_string());
    }
    // Sample values ANALYZE took of columns before they were excluded from it (see the
    // migration `no_statistics_of_personal_data`): only a superuser may rewrite it, and
    // PostgreSQL skips it with a warning for anyone else.
    tables.push("pg_statistic".to_string());
    // A transaction older than an erasure still sees the erased rows, and VACUUM FULL
    // copies what someone may still see: posts count as rewritten only up to then.
    let oldest = oldest_transaction_start(conn)?.unwrap_or(started).min(started);
    conn.batch_execute(&format!("SET lock_timeout = '{LOCK_TIMEOUT}'"))?;
    let mut done = Rewritten::default();
    let outcome = tables.iter().try_for_each(|table| {
        let clock = Instant::now();
        conn.batch_execute(&format!("VACUUM (FULL) {table}"))?;
        done.tables.push((table.clone(), clock.elapsed()));
        Ok::<_, diesel::result::Error>(())
    });
    conn.batch_execute("RESET lock_timeout")?;
    outcome?;
    if posts_too {
        set_rewritten_through(conn, oldest)?;
    }
    let slowest = done.tables.iter().max_by_key(|(_, took)| *took);
    tracing::info!(
        tables = done.tables.len(),
        posts = posts_too,
        slowest = ?slowest,
        "tables holding erased data rewritten"
    );
    Ok(done)
}

#[derive(QueryableByName)]
struct Seconds {
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    at: Option<i64>,
}

/// When the oldest open transaction in this database began (other sessions', where
/// this role may see them).
fn oldest_transaction_start(conn: &mut PgConnection) -> QueryResult<Option<i64>> {
    let oldest: Seconds = diesel::sql_query(
        "SELECT EXTRACT(EPOCH FROM MIN(xact_start))::bigint AS at FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .get_result(conn)?;
    Ok(oldest.at)
}

fn account_erased_since(conn: &mut PgConnection, through: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        deletion_ledger::table
            .filter(deletion_ledger::erased.eq("account"))
            .filter(deletion_ledger::erased_at.ge(through)),
    ))
    .get_result(conn)
}

fn rewritten_through(conn: &mut PgConnection) -> QueryResult<i64> {
    let seen: Option<String> =
        settings::table.find(POSTS_REWRITTEN_THROUGH).select(settings::value).first(conn).optional()?;
    Ok(seen.and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn set_rewritten_through(conn: &mut PgConnection, at: i64) -> QueryResult<()> {
    diesel::insert_into(settings::table)
        .values((settings::name.eq(POSTS_REWRITTEN_THROUGH), settings::value.eq(at.to_string())))
        .on_conflict(settings::name)
        .do_update()
        .set(settings::value.eq(at.to_string()))
        .execute(conn)?;
    Ok(())
}

/// What in the server's settings keeps copies of erased data beyond the database's
/// own files, each as a sentence for `agora maintenance status` and the start-up log.
pub fn wal_warnings(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        setting: String,
    }
    let found: Vec<Setting> = diesel::sql_query(
        "SELECT name::text, setting::text FROM pg_settings \
         WHERE name IN ('wal_recycle', 'archive_mode', 'wal_keep_size')",
    )
    .load(conn)?;
    let setting = |name: &str| found.iter().find(|s| s.name == name).map(|s| s.setting.as_str()).unwrap_or("");
    let mut warnings = Vec::new();
    if setting("wal_recycle") == "on" {
        warnings.push(
            "wal_recycle is on: used write-ahead log segments are renamed for reuse, not removed, and keep \
             erased data until overwritten; set wal_recycle = off"
                .to_string(),
        );
    }
    if !matches!(setting("archive_mode"), "off" | "") {
        warnings.push(format!(
            "archive_mode is {}: the WAL archive holds erased data; delete archived segments after at most 14 days",
            setting("archive_mode")
        ));
    }
    if !matches!(setting("wal_keep_size"), "0" | "") {
        warnings.push(format!(
            "wal_keep_size is {} MB: that much WAL is kept past checkpoints; keep it small enough to be \
             written over within 14 days, or 0",
            setting("wal_keep_size")
        ));
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let slots: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM pg_replication_slots").get_result(conn)?;
    if slots.n > 0 {
        warnings.push(format!(
            "{} replication slot(s): WAL is kept until every replica has it, and each replica's files need \
             the same care (the rewrites reach replicas through the WAL; set wal_recycle = off there too)",
            slots.n
        ));
    }
    Ok(warnings)
}
