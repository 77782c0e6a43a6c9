//! The forum's identity, which every page shows: its name, short description, contact
//! address and logo, kept by admins on `/admin/settings` (`moderation::settings`).
//!
//! Every page needs it, so each instance keeps it in memory and reads it again when it
//! is a few seconds old: a change made on one instance shows on the others within
//! `FRESH_FOR`, and on the instance that made it at once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::db::schema::site_settings;
use crate::db::{Database, DbConn, DbError};

/// How long an instance shows what it last read before reading it again.
const FRESH_FOR: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Queryable)]
pub struct SiteIdentity {
    pub name: String,
    pub description: String,
    /// Shown in every page's footer when set.
    pub contact_email: String,
    /// The uploaded logo's type, when there is one.
    pub logo_type: Option<String>,
    /// Moves with every change: part of the logo's URL and of cached pages' keys.
    pub revision: i64,
    /// Staff must sign in with two factors to use the staff pages.
    pub staff_two_factor: bool,
}

impl Default for SiteIdentity {
    /// What a forum is called before its database says otherwise (and on the bare error
    /// page shown when the database cannot be reached).
    fn default() -> Self {
        SiteIdentity {
            name: "Agora".into(),
            description: "A community forum: read without an account, sign in to write.".into(),
            contact_email: String::new(),
            logo_type: None,
            revision: 0,
            staff_two_factor: false,
        }
    }
}

impl SiteIdentity {
    /// The logo's address, versioned so browsers may keep each one for a year.
    pub fn logo_url(&self) -> Option<String> {
        self.logo_type.as_ref().map(|_| format!("/site/logo?v={}", self.revision))
    }
}

pub fn load(conn: &mut DbConn) -> Result<SiteIdentity, DbError> {
    Ok(site_settings::table
        .find(1)
        .select((
            site_settings::name,
            site_settings::description,
            site_settings::contact_email,
            site_settings::logo_type,
            site_settings::revision,
            site_settings::staff_two_factor,
        ))
        .first(conn)?)
}

/// The logo's bytes, type and revision, when there is one.
pub fn logo(conn: &mut DbConn) -> Result<Option<(Vec<u8>, String, i64)>, DbError> {
    let row: (Option<Vec<u8>>, Option<String>, i64) = site_settings::table
        .find(1)
        .select((site_settings::logo, site_settings::logo_type, site_settings::revision))
        .first(conn)?;
    Ok(match row {
        (Some(bytes), Some(content_type), revision) => Some((bytes, content_type, revision)),
        _ => None,
    })
}

/// What an admin changes.
pub struct SiteChange {
    pub name: String,
    pub description: String,
    pub contact_email: String,
    pub logo: LogoChange,
    pub staff_two_factor: bool,
}

pub enum LogoChange {
    Keep,
    Remove,
    /// A sniffed image: its bytes and type.
    Replace(Vec<u8>, &'static str),
}

/// Saves a change inside the caller's transaction (which also writes the audit row).
pub fn save(conn: &mut DbConn, change: &SiteChange, now: i64) -> Result<(), diesel::result::Error> {
    let row = site_settings::table.find(1);
    diesel::update(row)
        .set((
            site_settings::name.eq(&change.name),
            site_settings::description.eq(&change.description),
            site_settings::contact_email.eq(&change.contact_email),
            site_settings::staff_two_factor.eq(change.staff_two_factor),
            site_settings::revision.eq(site_settings::revision + 1),
            site_settings::updated_at.eq(now),
        ))
        .execute(conn)?;
    match &change.logo {
        LogoChange::Keep => {}
        LogoChange::Remove => {
            diesel::update(row)
                .set((site_settings::logo.eq(None::<Vec<u8>>), site_settings::logo_type.eq(None::<String>)))
                .execute(conn)?;
        }
        LogoChange::Replace(bytes, content_type) => {
            diesel::update(row)
                .set((site_settings::logo.eq(bytes), site_settings::logo_type.eq(*content_type)))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// The identity this instance shows, read again once it is `FRESH_FOR` old.
#[derive(Default)]
pub struct SiteCache {
    cached: Mutex<Option<(Instant, Arc<SiteIdentity>)>>,
}

impl SiteCache {
    pub async fn get(&self, db: &Database) -> Result<Arc<SiteIdentity>, DbError> {
        if let Some((at, identity)) = self.cached.lock().ok().and_then(|c| c.clone()) {
            if at.elapsed() < FRESH_FOR {
                return Ok(identity);
            }
        }
        let identity = Arc::new(db.read(load).await?);
        self.put(identity.clone());
        Ok(identity)
    }

    /// Forgets what was read, so the next page reads the change just saved.
    pub fn forget(&self) {
        if let Ok(mut cached) = self.cached.lock() {
            *cached = None;
        }
    }

    fn put(&self, identity: Arc<SiteIdentity>) {
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some((Instant::now(), identity));
        }
    }
}
