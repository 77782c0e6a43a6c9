//! Rendered pages for visitors (home, Latest, category and topic pages), kept in memory
//! per instance and keyed by the database's `content_version`, which triggers move forward
//! in the transaction of every change to posts, topics, members, categories and likes. A
//! page is looked up under the version read *before* the page's own queries, so a page
//! rendered from older rows can only be stored under an older version, and a change that
//! commits makes every page rendered before it unreachable at once, on every instance (the
//! version lives in the database). Only visitors' pages: a member's page holds their own
//! likes, read position and forms. Pages also say how long ago each post was written
//! ("5 minutes ago"), so a page is kept only for the minute it was rendered in.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::web::Bytes;
use actix_web::HttpResponse;
use askama::Template;
use diesel::prelude::*;

use crate::auth::visitor::Visitor;
use crate::forum::queries::{PostView, TopicHeader};
use crate::web::errors::AppError;
use crate::web::page_html;
use crate::AppState;

use crate::db::schema::content_version;
use crate::db::{Backend, Database, DbConn, DbError};

/// The most page bytes kept; past it the cache starts again empty.
const MAX_BYTES: usize = 8 * 1024 * 1024;

/// The most bytes one page or set of rows may take to be kept: a topic of the largest
/// posts would otherwise empty the cache for everyone each time it is shown.
const MAX_ENTRY_BYTES: usize = MAX_BYTES / 16;

/// The most keys remembered as asked for once (8 bytes each); past it they are forgotten.
const MAX_ASKED_ONCE: usize = 16 * 1024;

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
    /// Pages kept only when asked for again (see `put_when_asked_again`): the keys
    /// rendered once so far, hashed.
    asked_once: HashSet<u64>,
    /// Rows every reader of a page shares, by what they are (`topic 12 from 21`).
    rows: HashMap<String, Arc<dyn Any + Send + Sync>>,
    bytes: usize,
}

/// A page of a topic as every reader shares it: the topic and its posts, before anything
/// of the reader's own (their likes, read position, blocks) is added. Members' pages
/// are rendered from it; the rows only change when the content version moves.
pub struct TopicRows {
    pub topic: TopicHeader,
    pub posts: Vec<PostView>,
}

impl TopicRows {
    /// About how much memory the rows hold.
    pub fn bytes(&self) -> usize {
        let post = |p: &PostView| {
            std::mem::size_of::<PostView>()
                + p.author.len()
                + p.body_html.len()
                + p.moderation_reason.as_ref().map_or(0, String::len)
        };
        std::mem::size_of::<Self>() + self.topic.title.len() * 2 + self.posts.iter().map(post).sum::<usize>()
    }
}

impl Inner {
    /// Makes room for `bytes` more kept under `version`, starting again empty for a newer
    /// version, a new minute or a full cache. False when `version` is older than what is
    /// kept, or `bytes` more than one entry may take.
    fn make_room(&mut self, version: i64, bytes: usize) -> bool {
        if version < self.version || bytes > MAX_ENTRY_BYTES {
            return false;
        }
        let minute = this_minute();
        if version > self.version || minute != self.minute || self.bytes + bytes > MAX_BYTES {
            self.pages.clear();
            self.asked_once.clear();
            self.rows.clear();
            self.bytes = 0;
            self.version = version;
            self.minute = minute;
        }
        self.bytes += bytes;
        true
    }

    fn holds(&self, version: i64) -> bool {
        self.version == version && self.minute == this_minute()
    }

    /// Keeps a page, unless the same page is kept already (two requests rendered it at
    /// once): its bytes are counted once.
    fn keep_page(&mut self, version: i64, key: String, page: Bytes) {
        if self.holds(version) && self.pages.contains_key(&key) {
            return;
        }
        if self.make_room(version, page.len() + key.len()) {
            self.pages.insert(key, page);
        }
    }

    /// Keeps shared rows of about `bytes`, like [`keep_page`](Self::keep_page): rows read
    /// twice at once are counted once.
    fn keep_rows(&mut self, version: i64, key: String, rows: Arc<dyn Any + Send + Sync>, bytes: usize) {
        if self.holds(version) && self.rows.contains_key(&key) {
            return;
        }
        if self.make_room(version, bytes + key.len()) {
            self.rows.insert(key, rows);
        }
    }
}

/// The current content version (on the backend's own connection, whose statement cache
/// finds the statement by its type; see `sessions::SessionLookup`).
pub fn version(conn: &mut DbConn) -> Result<i64, diesel::result::Error> {
    let query = content_version::table.find(1).select(content_version::version);
    crate::per_backend!(conn, |c| query.first(c))
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

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The page stored under `key` for exactly this version.
    pub fn get(&self, version: i64, key: &str) -> Option<Bytes> {
        let inner = self.inner();
        inner.holds(version).then(|| inner.pages.get(key).cloned()).flatten()
    }

    /// Keeps a page rendered from rows read at `version` (or later). Pages of an older
    /// version are dropped when a newer one arrives; a page older than what is kept is not stored.
    pub fn put(&self, version: i64, key: String, page: Bytes) {
        self.inner().keep_page(version, key, page);
    }

    /// Keeps a page like [`put`](Self::put), but only the second time it is rendered under
    /// this version and minute: for pages whose addresses have no end (a search's words),
    /// so that searches nobody repeats (a crawler's, a flood's) neither hold memory nor
    /// push out the pages read every minute. Measured: peak RSS under 32 new searches at
    /// once, with 8 MB of them kept, was 59-64 MB.
    pub fn put_when_asked_again(&self, version: i64, key: String, page: Bytes) {
        let mut inner = self.inner();
        if !inner.holds(version) && !inner.make_room(version, 0) {
            return;
        }
        if inner.asked_once.len() >= MAX_ASKED_ONCE {
            inner.asked_once.clear();
        }
        let hash = inner.asked_once.hasher().hash_one(&key);
        if inner.asked_once.insert(hash) {
            return;
        }
        inner.keep_page(version, key, page);
    }

    /// The rows kept under `key`, whatever version they were read at: a page that asks
    /// its reader's questions about them (their positions in its topics) before it knows
    /// the version must check, once it does, that the rows it uses are these.
    pub fn kept_rows<T: Any + Send + Sync>(&self, key: &str) -> Option<Arc<T>> {
        let kept = self.inner().rows.get(key).cloned();
        kept.and_then(|rows| rows.downcast::<T>().ok())
    }

    /// The rows kept under `key` for `version`, or `read` and kept: rows every reader of
    /// a page shares (members' pages are rendered from them every time, with their own
    /// marks, likes and forms added). The version must have been read *before* the rows
    /// (`current_version`, or a statement of the page's own that includes it), so rows read
    /// before a change are never used after it commits.
    pub fn shared_rows<T: Any + Send + Sync>(
        &self,
        version: i64,
        c: &mut DbConn,
        key: String,
        read: impl FnOnce(&mut DbConn) -> Result<(T, usize), AppError>,
    ) -> Result<Arc<T>, AppError> {
        let kept = {
            let inner = self.inner();
            inner.holds(version).then(|| inner.rows.get(&key).cloned()).flatten()
        };
        if let Some(rows) = kept.and_then(|rows| rows.downcast::<T>().ok()) {
            return Ok(rows);
        }
        let (rows, bytes) = read(c)?;
        let rows = Arc::new(rows);
        self.inner().keep_rows(version, key, rows.clone(), bytes);
        Ok(rows)
    }
}

/// Where a visitor's page may be kept: the content version, read *before* the page's own
/// queries, and the key. Members' pages are never kept (they hold the member's own
/// marks, likes and forms).
pub struct CacheSlot {
    pub version: i64,
    key: String,
    /// Kept only when asked for again (`PageCache::put_when_asked_again`).
    when_asked_again: bool,
}

impl CacheSlot {
    /// The page is kept only the second time it is rendered: for searches.
    pub fn when_asked_again(self) -> Self {
        CacheSlot { when_asked_again: true, ..self }
    }
}

pub async fn cache_slot(state: &AppState, visitor: &Visitor) -> Result<Option<CacheSlot>, AppError> {
    if visitor.user.is_some() {
        return Ok(None);
    }
    let version = state.page_cache.current_version(&state.db).await?;
    // A visitor's page differs by its address (the sign-in link), the policy banner and
    // the site's settings.
    let key = format!("{}|{:?}|{}", visitor.path, visitor.policy_change, visitor.site.revision);
    Ok(Some(CacheSlot { version, key, when_asked_again: false }))
}

/// The kept page for this slot, if there is one.
pub fn cached(state: &AppState, slot: &Option<CacheSlot>) -> Option<HttpResponse> {
    let slot = slot.as_ref()?;
    state.page_cache.get(slot.version, &slot.key).map(html_page)
}

/// Renders the page, and keeps it for the next visitor when it was asked for under its
/// own address (not every made-up query string or cursor is kept).
pub fn kept_page(
    state: &AppState,
    slot: Option<CacheSlot>,
    own_address: bool,
    page: &impl Template,
) -> Result<HttpResponse, AppError> {
    let mut html = page_html(page)?;
    let Some(slot) = slot.filter(|_| own_address) else {
        return Ok(html_page(Bytes::from(html)));
    };
    // A kept page holds only its own bytes, not the rendering buffer's spare room.
    html.shrink_to_fit();
    let html = Bytes::from(html);
    match slot.when_asked_again {
        true => state.page_cache.put_when_asked_again(slot.version, slot.key, html.clone()),
        false => state.page_cache.put(slot.version, slot.key, html.clone()),
    }
    Ok(html_page(html))
}

fn html_page(html: Bytes) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_kept_twice_at_once_is_counted_once() {
        let cache = PageCache::default();
        let page = Bytes::from_static(b"<html>a topic</html>");
        cache.put(7, "topic 1".into(), page.clone());
        let once = cache.inner().bytes;
        assert_eq!(once, page.len() + "topic 1".len());
        cache.put(7, "topic 1".into(), page.clone());
        assert_eq!(cache.inner().bytes, once);
        assert_eq!(cache.get(7, "topic 1"), Some(page));
        // Another page adds its own bytes.
        cache.put(7, "topic 2".into(), Bytes::from_static(b"<html>another</html>"));
        assert!(cache.inner().bytes > once);
    }

    #[test]
    fn rows_kept_twice_at_once_are_counted_once() {
        let cache = PageCache::default();
        let rows: Arc<dyn Any + Send + Sync> = Arc::new(vec![1_i64, 2, 3]);
        cache.inner().keep_rows(7, "topic 1 from 1".into(), rows.clone(), 100);
        let once = cache.inner().bytes;
        assert_eq!(once, 100 + "topic 1 from 1".len());
        cache.inner().keep_rows(7, "topic 1 from 1".into(), rows, 100);
        assert_eq!(cache.inner().bytes, once);
        assert_eq!(cache.kept_rows::<Vec<i64>>("topic 1 from 1").as_deref(), Some(&vec![1, 2, 3]));
    }

    #[test]
    fn a_page_too_big_to_keep_leaves_the_others_kept() {
        let cache = PageCache::default();
        let small = Bytes::from_static(b"<html>a topic</html>");
        cache.put(7, "topic 1".into(), small.clone());
        cache.put(7, "topic 2".into(), Bytes::from(vec![b'x'; MAX_ENTRY_BYTES + 1]));
        assert_eq!(cache.get(7, "topic 2"), None, "not kept");
        assert_eq!(cache.get(7, "topic 1"), Some(small), "and nothing was thrown out for it");
    }
}
