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
use std::sync::Mutex;

use actix_web::web::Bytes;
use diesel::prelude::*;

use crate::db::schema::content_version;
use crate::db::DbConn;

/// The most page bytes kept; past it the cache starts again empty.
const MAX_BYTES: usize = 8 * 1024 * 1024;

#[derive(Default)]
pub struct PageCache {
    inner: Mutex<Inner>,
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

impl PageCache {
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
