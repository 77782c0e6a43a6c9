//! The daily work the running servers do themselves: a backup, pruning backups past
//! their retention, deleting request-log and mail files past theirs and expired rows,
//! and on PostgreSQL rewriting the tables erased data lingered in (`ops::rewrite`).
//! Once a day across all instances (the last run's time is in the database, claimed by
//! compare-and-set, and on PostgreSQL an advisory lock is held while it runs). Failures
//! are logged as errors; the next day tries again.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::config::Config;
use crate::db::Database;
use crate::ops::backup;

/// How often expired rows are purged. A GitHub sign-up nobody finished is readable by
/// nobody after 30 minutes (it is checked on use) and gone from the database within
/// this much more.
pub const PURGE_EVERY: Duration = Duration::from_secs(300);

/// Purges expired rows every few minutes, on every instance (it is idempotent).
pub fn spawn_frequent(db: Database, config: Config) {
    actix_web::rt::spawn(async move {
        // The first purge comes one period after start: start-up stays quick, and a
        // server that lives for seconds (a test, a command) never runs one.
        let first = actix_web::rt::time::Instant::now() + PURGE_EVERY;
        let mut every = actix_web::rt::time::interval_at(first, PURGE_EVERY);
        loop {
            every.tick().await;
            let (db, config) = (db.clone(), config.clone());
            match actix_web::web::block(move || purge_expired(&db, &config)).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::error!(error = %format!("{error:#}"), "purging expired rows failed"),
                Err(error) => tracing::error!(%error, "purging expired rows did not run"),
            }
        }
    });
}

/// How often each instance asks whether the day's maintenance is due.
pub const DAILY_CHECK_EVERY: Duration = Duration::from_secs(600);
const DAY_SECONDS: i64 = 24 * 3600;
/// The settings row holding when the day's maintenance last started (Unix seconds).
const LAST_RUN: &str = "maintenance_last_run";
/// The PostgreSQL advisory lock held while maintenance runs.
const MAINTENANCE_LOCK: i64 = 4_242_002;

/// Every instance checks every few minutes; the one that claims the day runs it. The
/// last run's time lives in the database, so restarting a server does not run it again.
pub fn spawn_daily(db: Database, config: Config) {
    actix_web::rt::spawn(async move {
        let first = actix_web::rt::time::Instant::now() + DAILY_CHECK_EVERY;
        let mut every = actix_web::rt::time::interval_at(first, DAILY_CHECK_EVERY);
        loop {
            every.tick().await;
            let (db, config) = (db.clone(), config.clone());
            match actix_web::web::block(move || run_if_due(&db, &config)).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::error!(error = %format!("{error:#}"), "daily maintenance failed"),
                Err(error) => tracing::error!(%error, "daily maintenance did not run"),
            }
        }
    });
}

/// Runs the day's maintenance if a day has passed since the last run and no other
/// instance claimed it first; returns whether this call ran it.
pub fn run_if_due(db: &Database, config: &Config) -> anyhow::Result<bool> {
    if !claim_day(&mut *db.get()?, crate::db::now())? {
        return Ok(false);
    }
    run_locked(db, config)
}

/// `agora maintenance run`: now, whatever the time of the last run (which it moves).
pub fn run_now(db: &Database, config: &Config) -> anyhow::Result<bool> {
    set_last_run(&mut *db.get()?, crate::db::now())?;
    run_locked(db, config)
}

/// On PostgreSQL, holds an advisory lock while running, so a run from the command line
/// and a server's never overlap; false when another holds it.
fn run_locked(db: &Database, config: &Config) -> anyhow::Result<bool> {
    use diesel::connection::SimpleConnection;
    use diesel::RunQueryDsl;
    let mut lock = db.get()?;
    let locked = match &mut *lock {
        crate::db::DbConn::Postgres(pg) => {
            #[derive(diesel::QueryableByName)]
            struct Taken {
                #[diesel(sql_type = diesel::sql_types::Bool)]
                taken: bool,
            }
            let taken: Taken = diesel::sql_query(format!("SELECT pg_try_advisory_lock({MAINTENANCE_LOCK}) AS taken"))
                .get_result(pg)?;
            if !taken.taken {
                tracing::info!("daily maintenance is running elsewhere");
                return Ok(false);
            }
            true
        }
        crate::db::DbConn::Sqlite(_) => false,
    };
    let outcome = run_once(db, config);
    if locked {
        lock.batch_execute(&format!("SELECT pg_advisory_unlock({MAINTENANCE_LOCK})"))?;
    }
    outcome.map(|()| true)
}

/// Moves the last run to `now` if a day has passed since it: a compare-and-set on the
/// settings row, so of several instances asking at once exactly one gets the day.
pub fn claim_day(conn: &mut crate::db::DbConn, now: i64) -> Result<bool, crate::db::DbError> {
    use crate::db::schema::settings;
    use diesel::prelude::*;
    let first = (settings::name.eq(LAST_RUN), settings::value.eq("0"));
    crate::per_backend!(&mut *conn, |c| diesel::insert_into(settings::table)
        .values(first)
        .on_conflict_do_nothing()
        .execute(c))?;
    let seen: String = settings::table.find(LAST_RUN).select(settings::value).first(conn)?;
    let last: i64 = seen.parse().unwrap_or(0);
    if now - last < DAY_SECONDS {
        return Ok(false);
    }
    let claimed = diesel::update(settings::table.find(LAST_RUN).filter(settings::value.eq(&seen)))
        .set(settings::value.eq(now.to_string()))
        .execute(conn)?;
    Ok(claimed == 1)
}

/// When the day's maintenance last started, if ever.
pub fn last_run(conn: &mut crate::db::DbConn) -> Result<Option<i64>, crate::db::DbError> {
    use crate::db::schema::settings;
    use diesel::prelude::*;
    let seen: Option<String> = settings::table.find(LAST_RUN).select(settings::value).first(conn).optional()?;
    Ok(seen.and_then(|v| v.parse().ok()).filter(|&at| at > 0))
}

/// What `agora maintenance status` tells.
pub struct Status {
    pub last_run: Option<i64>,
    pub backup: backup::Health,
    /// Settings of the database server that keep erased data beyond the promise.
    pub warnings: Vec<String>,
}

pub fn status(db: &Database) -> anyhow::Result<Status> {
    let mut conn = db.get()?;
    let warnings = match &mut *conn {
        crate::db::DbConn::Postgres(pg) => crate::ops::rewrite::wal_warnings(pg)?,
        crate::db::DbConn::Sqlite(_) => Vec::new(),
    };
    Ok(Status { last_run: last_run(&mut conn)?, backup: backup::health(&mut conn)?, warnings })
}

fn set_last_run(conn: &mut crate::db::DbConn, at: i64) -> Result<(), crate::db::DbError> {
    use crate::db::schema::settings;
    use diesel::prelude::*;
    diesel::delete(settings::table.find(LAST_RUN)).execute(conn)?;
    diesel::insert_into(settings::table)
        .values((settings::name.eq(LAST_RUN), settings::value.eq(at.to_string())))
        .execute(conn)?;
    Ok(())
}

pub fn run_once(db: &Database, config: &Config) -> anyhow::Result<()> {
    let purged = purge_expired(db, config)?;
    // After the purge, so what it deleted goes from the files too; before the backup, so
    // a failed backup does not hold up erasure. A rewrite that fails (a table it could not
    // lock in time) holds up nothing else either: its error is the run's, at the end.
    let rewritten = match &mut *db.get()? {
        crate::db::DbConn::Postgres(pg) => {
            crate::ops::rewrite::rewrite(pg, crate::ops::rewrite::Posts::IfAccountErased)
        }
        crate::db::DbConn::Sqlite(_) => Ok(Default::default()),
    };
    backup::create(db, &config.backup_dir)?;
    let pruned = backup::prune(&config.backup_dir, config.backup_retention_days)?;
    let logs = match &config.log_dir {
        Some(dir) => prune_logs(dir, config.log_retention_days)?,
        None => 0,
    };
    // Mail files hold addresses and names: kept no longer than backups.
    let mails = match &config.mail {
        crate::mail::MailSettings::Files(dir) => {
            crate::mail::prune_files(dir, Duration::from_secs(u64::from(config.backup_retention_days) * 86400))?
        }
        crate::mail::MailSettings::Smtp(_) => 0,
    };
    tracing::info!(
        expired_rows_purged = purged,
        backups_pruned = pruned.len(),
        log_files_pruned = logs,
        mail_files_pruned = mails,
        "daily maintenance done"
    );
    rewritten.map(drop).map_err(|e| e.context("rewriting the tables erased data lingers in"))
}

/// Deletes what has outlived its purpose: expired sessions and e-mail links, sign-in
/// round trips nobody finished, GitHub sign-ups nobody completed (personal data that
/// must not wait for the next sign-up to be cleared), old rate-limit counters, and who
/// asked what in answered privacy requests from people who never had an account, and
/// notifications past their retention.
pub fn purge_expired(db: &Database, config: &Config) -> anyhow::Result<usize> {
    use crate::auth::github::store::{SIGNUP_LIFETIME_SECONDS, STATE_LIFETIME_SECONDS};
    use crate::db::schema::{email_tokens, github_signups, oauth_states, privacy_requests, sessions};
    let answered_before = crate::db::now() - i64::from(config.privacy_request_retention_days) * 86400;
    use diesel::prelude::*;
    let now = crate::db::now();
    let mut conn = db.get()?;
    let conn: &mut crate::db::DbConn = &mut conn;
    let mut purged = diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)?;
    purged += diesel::delete(email_tokens::table.filter(email_tokens::expires_at.le(now))).execute(conn)?;
    purged += diesel::delete(oauth_states::table.filter(oauth_states::created_at.lt(now - STATE_LIFETIME_SECONDS)))
        .execute(conn)?;
    purged +=
        diesel::delete(github_signups::table.filter(github_signups::created_at.lt(now - SIGNUP_LIFETIME_SECONDS)))
            .execute(conn)?;
    purged += diesel::update(
        privacy_requests::table
            .filter(privacy_requests::user_id.is_null())
            .filter(privacy_requests::status.ne(crate::privacy::requests::RequestStatus::Open))
            .filter(privacy_requests::updated_at.lt(answered_before))
            .filter(privacy_requests::email.ne("")),
    )
    .set((
        privacy_requests::email.eq(""),
        privacy_requests::message.eq(""),
        privacy_requests::staff_note.eq(""),
        privacy_requests::refusal_reason.eq(None::<String>),
    ))
    .execute(conn)?;
    purged += crate::web::rate_limit::purge(conn)?;
    let notified_before = now - i64::from(config.notification_retention_days) * 86400;
    purged += crate::forum::notifications::prune(conn, notified_before)?;
    // What was sent is kept no longer than backups keep anything.
    let mailed_before = now - i64::from(config.backup_retention_days) * 86400;
    purged += crate::mail::queue::prune(conn, mailed_before)?;
    Ok(purged)
}

/// Deletes `agora.log.*` files not written to for `retention_days`.
pub fn prune_logs(dir: &Path, retention_days: u32) -> anyhow::Result<usize> {
    let cutoff = SystemTime::now() - Duration::from_secs(u64::from(retention_days) * 86400);
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)?.flatten() {
        let is_log = entry.file_name().to_str().is_some_and(|n| n.starts_with("agora.log."));
        let modified = entry.metadata().and_then(|m| m.modified())?;
        if is_log && modified < cutoff {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}
