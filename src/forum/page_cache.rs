//! Rendered pages for visitors (home, Latest, category and topic pages), kept in memory
//! per instance and keyed by the database's `content_version`, which triggers move forward
//! in the transaction of every change to posts, topics, members, categories and likes. A
//! page is looked up under the version read *before* the page's own queries, so a page
//! rendered from older rows can only be stored under an older version, and a change that
//! commits makes every page rendered before it unreachable at once, on every instance (the
//! version lives in the database). Only visitors' pages: a member's page holds their own
//! likes, read position and forms. Pages also say how long ago each post was written
//! ("5 minutes ago"), so a page is kept only for the minute it was rendered in.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use actix_web::web::Bytes;
use diesel::prelude::*;

use crate::db::schema::content_version;
use crate::db::{Backend, Database, DbConn, DbError};

/// The most page bytes kept; past it the cache starts again empty.
const MAX_BYTES: usize = 8 * 1024 * 1024;

#[derive(Default)]
pub struct PageCache {
    inner: Mutex<Inner>,
    version_reads: SharedVersionReads,
}

#[derive(Default)]
struct Inner {
    version: i64,
    /// The minute (Unix seconds / 60) the kept pages were rendered in.
    minute: i64,
    pages: HashMap<String, Bytes>,
    bytes: usize,
}

/// The current content version.
pub fn version(conn: &mut DbConn) -> Result<i64, diesel::result::Error> {
    content_version::table.find(1).select(content_version::version).first(conn)
}

fn this_minute() -> i64 {
    crate::db::now() / 60
}

/// Reads of the content version, shared by the pages waiting for one. A page needs the
/// version as it stood when the page was asked for (so it sees every change committed
/// before), but not a read of its own: any read that *started* after the page arrived
/// will do. One read runs at a time; the pages that arrive while it runs share the next.
/// On PostgreSQL this turns a round trip per cached page into one per batch of pages.
#[derive(Default)]
struct SharedVersionReads {
    /// How many reads have started.
    started: AtomicU64,
    /// The number of the last read that finished, and what it found; held while reading.
    last: tokio::sync::Mutex<(u64, i64)>,
}

impl SharedVersionReads {
    async fn version(&self, db: &Database) -> Result<i64, DbError> {
        let arrived = self.started.load(Ordering::SeqCst);
        let mut last = self.last.lock().await;
        if last.0 > arrived {
            // That read started after this page arrived.
            return Ok(last.1);
        }
        let number = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let found = db.read(|c| version(c).map_err(DbError::from)).await?;
        *last = (number, found);
        Ok(found)
    }
}

impl PageCache {
    /// The content version as it stands now (read after this call began).
    pub async fn current_version(&self, db: &Database) -> Result<i64, DbError> {
        match db.backend() {
            // A read in the process costs less than sharing it would.
            Backend::Sqlite => db.read(|c| version(c).map_err(DbError::from)).await,
            Backend::Postgres => self.version_reads.version(db).await,
        }
    }

    /// The page stored under `key` for exactly this version.
    pub fn get(&self, version: i64, key: &str) -> Option<Bytes> {
        let inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if inner.version != version || inner.minute != this_minute() {
            return None;
        }
        inner.pages.get(key).cloned()
    }

    /// Keeps a page rendered from rows read at `version` (or later). Pages of an older
    /// version are dropped when a newer one arrives; a page older than what is kept is not stored.
    pub fn put(&self, version: i64, key: String, page: Bytes) {
        let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if version < inner.version {
            return;
        }
        let minute = this_minute();
        if version > inner.version || minute != inner.minute || inner.bytes + page.len() > MAX_BYTES {
            inner.pages.clear();
            inner.bytes = 0;
            inner.version = version;
            inner.minute = minute;
        }
        inner.bytes += page.len() + key.len();
        inner.pages.insert(key, page);
    }
}
