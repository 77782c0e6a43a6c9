//! The privacy policy: versions kept in the database (the first one is the Markdown
//! file in the repository), served at `/privacy`, and changed only with notice.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::db::schema::{policy_versions, users};
use crate::db::{now, Database, DbConn, DbError};
use crate::mail::Mail;
use crate::per_backend;
use crate::web::filters;

/// The version shipped with Agora, in effect until an operator publishes another.
pub const BUNDLED_POLICY_VERSION: &str = "2026-12-08";
const BUNDLED_POLICY: &str = include_str!("../../templates/privacy/policy.md");
/// Members hear of a material change at least this long before it takes effect.
pub const NOTICE_SECONDS: i64 = 72 * 3600;

#[derive(Debug, Clone, Queryable)]
pub struct PolicyVersion {
    pub version: String,
    pub markdown: String,
    pub published_at: i64,
    pub effective_at: i64,
}

const COLUMNS: (
    policy_versions::version,
    policy_versions::markdown,
    policy_versions::published_at,
    policy_versions::effective_at,
) = (policy_versions::version, policy_versions::markdown, policy_versions::published_at, policy_versions::effective_at);

/// Records the bundled policy: on a new forum it is in effect at once (nobody is there
/// to be told). A forum that already has a policy gets a newer build's text only as a
/// new version, published with the 72 hours' notice like any other change: returned
/// with the addresses to notify, for the caller to mail (of several instances starting
/// together, one publishes and is told to). A published version's text is never
/// rewritten.
pub fn seed(db: &Database) -> Result<Option<(PolicyVersion, Vec<String>)>, DbError> {
    let mut conn = db.get()?;
    if find(&mut conn, BUNDLED_POLICY_VERSION)?.is_some() {
        return Ok(None);
    }
    let first = (
        policy_versions::version.eq(BUNDLED_POLICY_VERSION),
        policy_versions::markdown.eq(BUNDLED_POLICY),
        policy_versions::published_at.eq(0i64),
        policy_versions::effective_at.eq(0i64),
    );
    let inserted = conn.write_transaction::<_, diesel::result::Error, _>(|c| {
        let any: i64 = policy_versions::table.count().get_result(c)?;
        if any > 0 {
            return Ok(false);
        }
        per_backend!(&mut *c, |c| diesel::insert_into(policy_versions::table)
            .values(first)
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(true)
    })?;
    if inserted {
        return Ok(None);
    }
    match publish(&mut conn, BUNDLED_POLICY_VERSION, BUNDLED_POLICY, now() + NOTICE_SECONDS) {
        Ok(recipients) => {
            let version = find(&mut conn, BUNDLED_POLICY_VERSION)?.ok_or(diesel::result::Error::NotFound)?;
            tracing::info!(version = %version.version, members = recipients.len(), "this build's privacy policy published with notice");
            Ok(Some((version, recipients)))
        }
        // Another instance published it a moment ago.
        Err(PublishError::Exists(_)) => Ok(None),
        Err(PublishError::Db(e)) if e.is_unique_violation() => Ok(None),
        Err(PublishError::Db(e)) => Err(e),
        Err(other) => {
            tracing::error!(error = %other, "this build's privacy policy could not be published");
            Ok(None)
        }
    }
}

/// The policy as shown: the parts that come from this forum's settings and from the
/// code itself (every cookie it sets) filled in where the text marks them.
pub fn fill_in(markdown: &str, config: &crate::config::Config) -> String {
    let contact = match &config.contact_email {
        Some(email) => {
            let mut text = format!("Write to the people who run this forum at <{email}>");
            if let Some(postal) = &config.postal_address {
                text.push_str(&format!(", or by post: {postal}"));
            }
            text.push('.');
            text
        }
        None => "This forum is not public yet and has no contact address (`AGORA_CONTACT_EMAIL`).".into(),
    };
    let location = match &config.data_location {
        Some(sentence) => sentence.clone(),
        None => "The data is stored on the server that runs this forum, and in its backups.".into(),
    };
    markdown
        .replace("[[cookies]]", &crate::web::cookies::policy_table(config.secure_cookies()))
        .replace("[[contact]]", &format!("{contact}\n\n{location}"))
        .replace("[[request-retention-days]]", &config.privacy_request_retention_days.to_string())
        .replace("[[log-retention-days]]", &config.log_retention_days.to_string())
        .replace("[[notification-retention-days]]", &config.notification_retention_days.to_string())
}

/// The version in effect now.
pub fn current(conn: &mut DbConn) -> Result<PolicyVersion, DbError> {
    let now = now();
    Ok(policy_versions::table
        .filter(policy_versions::effective_at.le(now))
        .order(policy_versions::effective_at.desc())
        .select(COLUMNS)
        .first(conn)?)
}

/// The version members accept when they register now.
pub fn current_version(conn: &mut DbConn) -> Result<String, DbError> {
    Ok(current(conn)?.version)
}

/// A published version that is not in effect yet.
pub fn upcoming(conn: &mut DbConn) -> Result<Option<PolicyVersion>, DbError> {
    let now = now();
    Ok(policy_versions::table
        .filter(policy_versions::effective_at.gt(now))
        .order(policy_versions::effective_at)
        .select(COLUMNS)
        .first(conn)
        .optional()?)
}

pub fn history(conn: &mut DbConn) -> Result<Vec<PolicyVersion>, DbError> {
    Ok(policy_versions::table.order(policy_versions::effective_at.desc()).select(COLUMNS).load(conn)?)
}

pub fn find(conn: &mut DbConn, version: &str) -> Result<Option<PolicyVersion>, DbError> {
    Ok(policy_versions::table.find(version).select(COLUMNS).first(conn).optional()?)
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the effective date must be at least 72 hours from now (members must be told in time)")]
    TooSoon,
    #[error("version {0} already exists")]
    Exists(String),
    #[error("the policy text is empty")]
    Empty,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Publishes a new version that takes effect at `effective_at`; returns the addresses
/// of every member to notify.
pub fn publish(
    conn: &mut DbConn,
    version: &str,
    markdown: &str,
    effective_at: i64,
) -> Result<Vec<String>, PublishError> {
    let now = now();
    if markdown.trim().is_empty() {
        return Err(PublishError::Empty);
    }
    if effective_at < now + NOTICE_SECONDS {
        return Err(PublishError::TooSoon);
    }
    if find(conn, version)?.is_some() {
        return Err(PublishError::Exists(version.to_string()));
    }
    let recipients = conn
        .write_transaction::<_, diesel::result::Error, _>(|conn| {
            diesel::insert_into(policy_versions::table)
                .values((
                    policy_versions::version.eq(version),
                    policy_versions::markdown.eq(markdown),
                    policy_versions::published_at.eq(now),
                    policy_versions::effective_at.eq(effective_at),
                ))
                .execute(conn)?;
            users::table.filter(users::email.is_not_null()).select(users::email.assume_not_null()).load::<String>(conn)
        })
        .map_err(DbError::from)?;
    Ok(recipients)
}

/// The notice every member gets about a published change.
pub fn change_notice(public_url: &str, to: String, version: &PolicyVersion) -> Mail {
    let date = filters::when(version.effective_at, askama::NO_VALUES).unwrap_or_default();
    crate::privacy::mails::policy_change(public_url, &to, &version.version, &date)
}

/// A coming change: its version and when it takes effect.
pub type Upcoming = (String, i64);

/// The banner about an upcoming change, looked up at most once a minute per instance.
#[derive(Default)]
pub struct UpcomingCache {
    cached: Mutex<Option<(Instant, Option<Upcoming>)>>,
}

impl UpcomingCache {
    pub async fn get(&self, db: &Database) -> Option<Upcoming> {
        if let Some((at, value)) = self.cached.lock().ok()?.as_ref() {
            if at.elapsed() < Duration::from_secs(60) {
                return value.clone();
            }
        }
        let found = db.run(upcoming).await.ok()?.map(|v| (v.version, v.effective_at));
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some((Instant::now(), found.clone()));
        }
        found
    }
}
