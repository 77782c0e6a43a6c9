//! The `agora` command: parse arguments, load settings, call into the library.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use agora::account::{deletion, newsletter, store};
use agora::config::Config;
use agora::db::Database;
use agora::mail::Mailer;
use agora::ops::backup;
use agora::privacy::{ledger, policy};

/// mimalloc instead of glibc's allocator: the profile of a page showed a tenth of its
/// time in malloc/free, and glibc keeps an arena of freed memory per thread.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "agora", version, about = "A fast, privacy-respecting community forum")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the forum (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Backups in AGORA_BACKUP_DIR.
    Backup {
        #[command(subcommand)]
        action: BackupAction,
    },
    /// Publish a new version of the privacy policy.
    Policy {
        #[command(subcommand)]
        action: PolicyAction,
    },
    /// Send a newsletter to the members who opted in.
    Newsletter {
        #[command(subcommand)]
        action: NewsletterAction,
    },
    /// Operator actions on one account.
    Account {
        #[command(subcommand)]
        action: AccountAction,
    },
    /// The deletion ledger's copy beside the backups.
    Ledger {
        #[command(subcommand)]
        action: LedgerAction,
    },
    /// The daily maintenance (backup, pruning, expired rows), which running servers do once a day.
    Maintenance {
        #[command(subcommand)]
        action: MaintenanceAction,
    },
    /// Fill an empty database with a realistic community (for benchmarks and demos).
    Seed {
        #[arg(long, default_value_t = 1000)]
        members: i64,
        #[arg(long, default_value_t = 5000)]
        topics: i64,
        /// Posts in all, first posts included, spread over the topics.
        #[arg(long, default_value_t = 100000)]
        posts: i64,
        /// One more topic with this many posts.
        #[arg(long)]
        big_topic: Option<i64>,
        /// Add to a database that already has posts.
        #[arg(long)]
        force: bool,
    },
    /// The database as a whole.
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// The outgoing-mail queue (notification mail and digests).
    Mail {
        #[command(subcommand)]
        action: MailAction,
    },
    /// Staff roles.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Make USERNAME a moderator or an admin.
    Grant {
        username: String,
        #[arg(value_parser = ["moderator", "admin"])]
        role: String,
    },
    /// Make USERNAME an ordinary member again.
    Revoke { username: String },
    /// Turn two-factor sign-in off for USERNAME, who lost their authenticator app and
    /// their recovery codes (check it is them first); REASON goes in the audit log.
    TwoFactorOff { username: String, reason: String },
    /// Give USERNAME, left with no way to sign in (after a restore), a way back: ADDRESS
    /// becomes their e-mail address and a password-reset link is mailed to it (check
    /// it is them first); REASON goes in the audit log.
    RecoverAccess { username: String, address: String, reason: String },
}

#[derive(Subcommand)]
enum DbAction {
    /// Copy this SQLite community into an empty PostgreSQL database (stop the server first).
    Copy {
        /// The PostgreSQL database, e.g. postgres://agora:secret@db.internal/agora
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

#[derive(Subcommand)]
enum MaintenanceAction {
    /// Run it now (the servers then wait a day from now).
    Run,
    /// When it last ran.
    Status,
}

#[derive(Subcommand)]
enum MailAction {
    /// Show what waits to be sent, soonest first, and how many were sent, skipped or given up.
    Queue {
        /// At most this many rows.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Send what is due now, from this command (as a running server does every few seconds).
    Send,
}

#[derive(Subcommand)]
enum LedgerAction {
    /// Write deletion-ledger.json afresh from the database (if it was lost or damaged).
    Rewrite,
}

#[derive(Subcommand)]
enum BackupAction {
    /// Write a consistent snapshot of the database.
    Create,
    /// List the backups, oldest first.
    List,
    /// Delete backups older than AGORA_BACKUP_RETENTION_DAYS.
    Prune,
    /// Replace the database with a backup, then re-apply every later erasure. Stop the server first.
    Restore { file: PathBuf },
}

#[derive(Subcommand)]
enum PolicyAction {
    /// Publish FILE (Markdown) as the policy in effect from DATE (YYYY-MM-DD, UTC, at least 72 hours ahead);
    /// every member with an e-mail address is notified.
    Publish {
        file: PathBuf,
        #[arg(long, value_name = "DATE")]
        effective: String,
    },
}

#[derive(Subcommand)]
enum NewsletterAction {
    /// Send FILE (Markdown, sent as text) to every member who opted in and confirmed their address.
    Send {
        file: PathBuf,
        #[arg(long)]
        subject: String,
    },
}

#[derive(Subcommand)]
enum AccountAction {
    /// Delete an account at once, as the member could. The ledger records only the category.
    Erase {
        username: String,
        #[arg(long, value_parser = ["under-13", "staff-other"])]
        category: String,
    },
}

fn main() -> anyhow::Result<()> {
    agora::web::memory::no_transparent_huge_pages();
    let cli = Cli::parse();
    let config = Config::from_env()?;
    let _log_guard = agora::telemetry::init(config.log_dir.as_deref(), config.log_format)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(async {
            let app = agora::App::build(config.clone())?;
            tracing::info!(address = %config.bind, port = app.port(), public_url = %config.public_url, "Agora is listening");
            app.run_until_stopped().await?;
            anyhow::Ok(())
        })?,
        Command::Migrate => {
            let db = Database::connect(&config.database_url, 1)?;
            let applied = db.migrate()?;
            println!("{applied} migration(s) applied to the {} database", db.backend_name());
        }
        Command::Backup { action } => run_backup(&config, action)?,
        Command::Policy { action: PolicyAction::Publish { file, effective } } => publish_policy(&config, &file, &effective)?,
        Command::Newsletter { action: NewsletterAction::Send { file, subject } } => send_newsletter(&config, &file, &subject)?,
        Command::Account { action: AccountAction::Erase { username, category } } => {
            let reason = deletion::ErasureReason::parse_staff_choice(&category).context("unknown category")?;
            erase_account(&config, &username, reason)?
        }
        Command::Mail { action } => run_mail(&config, action)?,
        Command::Db { action: DbAction::Copy { to } } => {
            let db = open(&config)?;
            let bar = indicatif::ProgressBar::new(0).with_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows ({msg}), {eta} left")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let copied = agora::ops::copy::to_postgres(&db, &to, &|table, done, total| {
                bar.set_length(total);
                bar.set_position(done);
                bar.set_message(table.to_string());
            })?;
            bar.finish_and_clear();
            let rows: i64 = copied.tables.iter().map(|(_, n)| n).sum();
            println!("copied {rows} rows in {} tables; every count matches", copied.tables.len());
            println!("point AGORA_DATABASE_URL at the PostgreSQL database and start Agora");
        }
        Command::Seed { members, topics, posts, big_topic, force } => {
            let plan = agora::ops::seed::Plan { members, topics, posts, big_topic };
            seed(&config, &plan, force)?
        }
        Command::Maintenance { action } => {
            let db = open(&config)?;
            match action {
                MaintenanceAction::Run => {
                    if agora::ops::maintenance::run_now(&db, &config)? {
                        println!("daily maintenance done");
                    } else {
                        anyhow::bail!("daily maintenance is running on another instance; try again when it is done");
                    }
                }
                MaintenanceAction::Status => {
                    let status = agora::ops::maintenance::status(&db)?;
                    match status.last_run {
                        Some(at) => println!("last run: {}", rfc3339(at)),
                        None => println!("never run"),
                    }
                    match status.backup.last_success {
                        Some(at) => println!("last backup: {}", rfc3339(at)),
                        None => println!("no backup yet"),
                    }
                    for warning in &status.warnings {
                        println!("warning: {warning}");
                    }
                    if let (true, Some((at, why))) = (status.backup.failing, &status.backup.last_failure) {
                        anyhow::bail!("the last backup failed at {}: {why}", rfc3339(*at));
                    }
                }
            }
        }
        Command::Ledger { action: LedgerAction::Rewrite } => {
            let db = open(&config)?;
            let written = ledger::rewrite_file(&mut *db.get()?, &config.backup_dir)?;
            println!("{} written with {written} entr(y/ies)", config.backup_dir.join(ledger::FILE_NAME).display());
        }
        Command::Admin { action } => {
            let (username, role) = match action {
                AdminAction::Grant { username, role } => {
                    (username, agora::auth::role::Role::parse_assignable(&role).context("unknown role")?)
                }
                AdminAction::Revoke { username } => (username, agora::auth::role::Role::Member),
                AdminAction::RecoverAccess { username, address, reason } => {
                    let address = agora::auth::domain::Email::parse(&address).map_err(|e| anyhow::anyhow!("{e}"))?;
                    let db = open(&config)?;
                    let mut conn = db.get()?;
                    let user_id = store::member_by_username(&mut conn, &username)?
                        .with_context(|| format!("no member {username:?}"))?;
                    let (name, token) = agora::moderation::members::recover_access(
                        &mut conn,
                        0,
                        user_id,
                        address.as_str(),
                        &reason,
                    )
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                    let mailer = Mailer::new(&config.mail, &config.mail_from)?;
                    let mail = agora::privacy::mails::password_reset(&config.public_url, address.as_str(), &name, &token);
                    actix_web::rt::System::new().block_on(mailer.send(mail))?;
                    println!("{name} now has the address {}; a password-reset link was mailed to it", address.as_str());
                    return Ok(());
                }
                AdminAction::TwoFactorOff { username, reason } => {
                    let db = open(&config)?;
                    let mut conn = db.get()?;
                    let user_id = store::member_by_username(&mut conn, &username)?
                        .with_context(|| format!("no member {username:?}"))?;
                    // Account 0 in the audit log is the command line.
                    agora::moderation::members::turn_off_two_factor(&mut conn, 0, user_id, &reason)
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("two-factor sign-in is off for {username}; they sign in with their password again");
                    return Ok(());
                }
            };
            let db = open(&config)?;
            let mut conn = db.get()?;
            let user_id =
                store::member_by_username(&mut conn, &username)?.with_context(|| format!("no member {username:?}"))?;
            // Account 0 in the audit log is the command line.
            agora::moderation::members::set_role(&mut conn, 0, user_id, role).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{username} is now {role}");
        }
    }
    Ok(())
}

fn open(config: &Config) -> anyhow::Result<Database> {
    let db = Database::connect(&config.database_url, 2)?;
    db.migrate()?;
    if let Some((version, recipients)) = policy::seed(&db)? {
        announce_policy(config, &version, &recipients)?;
    }
    Ok(db)
}

/// Mails every member the notice of a published policy version.
fn announce_policy(config: &Config, version: &policy::PolicyVersion, recipients: &[String]) -> anyhow::Result<()> {
    let mailer = Mailer::new(&config.mail, &config.mail_from)?;
    actix_web::rt::System::new().block_on(async {
        for to in recipients {
            mailer.send_or_log(policy::change_notice(&config.public_url, to.clone(), version)).await;
        }
    });
    Ok(())
}

fn run_backup(config: &Config, action: BackupAction) -> anyhow::Result<()> {
    let dir = &config.backup_dir;
    match action {
        BackupAction::Create => {
            let made = backup::create(&open(config)?, dir)?;
            println!("{} ({} bytes)", made.path.display(), made.bytes);
        }
        BackupAction::List => {
            for b in backup::list(dir)? {
                println!("{}\t{} bytes", b.path.display(), b.bytes);
            }
        }
        BackupAction::Prune => {
            let removed = backup::prune(dir, config.backup_retention_days)?;
            println!("{} backup(s) older than {} days deleted", removed.len(), config.backup_retention_days);
        }
        BackupAction::Restore { file } => {
            let restored = backup::restore(&config.database_url, &file, dir)?;
            println!("restored {}; {} later erasure(s) re-applied", file.display(), restored.erasures_replayed);
            if !restored.stranded.is_empty() {
                println!(
                    "{} member(s) can no longer sign in (their password, address and GitHub account all changed \
                     after the backup): {}. Once sure who they are, run `agora admin recover-access USERNAME \
                     ADDRESS REASON` for each.",
                    restored.stranded.len(),
                    restored.stranded.join(", ")
                );
            }
        }
    }
    Ok(())
}

fn seed(config: &Config, plan: &agora::ops::seed::Plan, force: bool) -> anyhow::Result<()> {
    let db = open(config)?;
    let total = (plan.posts + plan.big_topic.unwrap_or(0)).max(0) as u64;
    let bar = indicatif::ProgressBar::new(total).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} posts, {per_sec}, {eta} left")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let seeded = agora::ops::seed::seed(&mut *db.get()?, plan, force, &|done| bar.set_position(done))?;
    bar.finish_and_clear();
    println!(
        "seeded {} members, {} topics and {} posts in {:.1} s; members sign in as member1 … with the password {:?}",
        seeded.members,
        seeded.topics,
        seeded.posts,
        started.elapsed().as_secs_f64(),
        agora::ops::seed::PASSWORD
    );
    if let Some(id) = seeded.big_topic {
        println!("the long topic is /t/{id}");
    }
    Ok(())
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

fn run_mail(config: &Config, action: MailAction) -> anyhow::Result<()> {
    let db = open(config)?;
    match action {
        MailAction::Queue { limit } => {
            let mut conn = db.get()?;
            let (waiting, count) = agora::mail::queue::pending(&mut conn, limit)?;
            let counts = agora::mail::queue::counts(&mut conn)?;
            let said: Vec<String> = counts.iter().map(|(status, n)| format!("{n} {status}")).collect();
            if said.is_empty() {
                println!("the queue is empty");
            } else {
                println!("{count} pending; in all: {}", said.join(", "));
            }
            if !waiting.is_empty() {
                println!("id	member	kind	queued	due	attempts	last error");
            }
            let at = rfc3339;
            for job in waiting {
                let claimed =
                    if job.claimed_until.is_some_and(|until| until > agora::db::now()) { " (sending)" } else { "" };
                println!(
                    "{}	{}	{}	{}	{}{claimed}	{}	{}",
                    job.id,
                    job.user_id,
                    job.kind,
                    at(job.created_at),
                    at(job.send_after),
                    job.attempts,
                    job.last_error
                );
            }
        }
        MailAction::Send => {
            let outbox = agora::conversation::mailing::Outbox::new(db, config)?;
            let done = actix_web::rt::System::new().block_on(outbox.deliver_due())?;
            println!(
                "{} sent, {} skipped, {} waiting for the member to be away, {} failed (to be tried again)",
                done.sent, done.skipped, done.postponed, done.failed
            );
        }
    }
    Ok(())
}

fn publish_policy(config: &Config, file: &PathBuf, effective: &str) -> anyhow::Result<()> {
    let markdown = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let date = time::Date::parse(effective, time::macros::format_description!("[year]-[month]-[day]"))
        .with_context(|| format!("{effective:?} is not a date like 2026-12-31"))?;
    let effective_at = date.midnight().assume_utc().unix_timestamp();
    let db = open(config)?;
    let mut conn = db.get()?;
    let recipients = policy::publish(&mut conn, effective, &markdown, effective_at)?;
    let version = policy::find(&mut conn, effective)?.context("the published version is missing")?;
    announce_policy(config, &version, &recipients)?;
    println!("policy {effective} published; {} member(s) notified", recipients.len());
    Ok(())
}

fn send_newsletter(config: &Config, file: &PathBuf, subject: &str) -> anyhow::Result<()> {
    let markdown = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let db = open(config)?;
    let mut conn = db.get()?;
    let recipients = newsletter::subscribers(&mut conn)?;
    let signer = agora::web::signing::Signer::new(agora::db::settings::signing_key(&mut conn)?);
    let mailer = Mailer::new(&config.mail, &config.mail_from)?;
    let total = recipients.len();
    let sent = actix_web::rt::System::new().block_on(newsletter::send(
        &mailer,
        &signer,
        &config.public_url,
        recipients,
        subject,
        &markdown,
    ));
    println!("newsletter sent to {sent} of {total} subscriber(s)");
    Ok(())
}

fn erase_account(config: &Config, username: &str, reason: deletion::ErasureReason) -> anyhow::Result<()> {
    let db = open(config)?;
    let mut conn = db.get()?;
    let user_id = store::member_by_username(&mut conn, username)?.with_context(|| format!("no member {username:?}"))?;
    let deleted = deletion::delete_account(&mut conn, user_id, reason)?.context("the account was already gone")?;
    drop(conn);
    let forget = agora::privacy::erasure::Forget {
        email: deleted.email.as_deref(),
        username: Some(&deleted.username),
        member_id: Some(deleted.user_id),
    };
    agora::privacy::erasure::settle(&db, config, Some(forget))?;
    let mailer = Mailer::new(&config.mail, &config.mail_from)?;
    if let Some(email) = &deleted.email {
        actix_web::rt::System::new()
            .block_on(mailer.send_or_log(agora::privacy::mails::account_deleted(email, &deleted.username)));
    }
    println!("account {user_id} erased ({})", reason.as_str());
    Ok(())
}
