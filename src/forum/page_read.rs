//! How the busiest pages (home, Latest, a category, a topic) read: who is asking, the
//! content version, and the page's own rows, in one trip to the database.
//!
//! A visitor's page is looked up in the page cache first (under a version read for the
//! purpose, shared between pages on PostgreSQL). A member's session is looked up in the
//! same trip as the page's rows, and its statement brings the content version along:
//! on PostgreSQL every trip to the blocking pool and every statement is a round trip,
//! and a member's page used to make three trips where one does.

use actix_web::HttpResponse;

use crate::auth::sessions::{Found, SessionUser};
use crate::auth::visitor::{Arrival, Visitor};
use crate::db::{DbConn, DbError};
use crate::forum::page_cache::{self, cache_slot, cached, CacheSlot};
use crate::web::errors::AppError;
use crate::AppState;

/// What [`read_page`] found.
pub enum PageRead<T> {
    /// A visitor's page, as kept from before.
    Kept(HttpResponse),
    /// The page's rows, to be rendered for this visitor (and kept in `slot`, if any).
    Fresh { visitor: Visitor, slot: Option<CacheSlot>, rows: T },
}

/// Reads a page. `lookup(conn, token)` finds the member behind a cookie token: their
/// session, and what the page asks of their own in the same statement
/// (`sessions::SessionLookup`). `rows(conn, reader, version)` reads the page's rows for
/// that member and what `lookup` found (`None` for a visitor), keeping rows every
/// reader shares under `version`, which was read before them. Visitors' pages kept
/// from before are answered without a read. `rows` may run twice (see
/// `Database::read`): it must only read.
pub async fn read_page<T, X, L, F>(
    state: &AppState,
    arrival: Arrival,
    lookup: L,
    rows: F,
) -> Result<PageRead<T>, AppError>
where
    L: Fn(&mut DbConn, &str) -> Result<Option<(Found, X)>, DbError> + Send + 'static,
    F: Fn(&mut DbConn, Option<(&SessionUser, X)>, i64) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
    X: 'static,
{
    let Some(token) = arrival.session_token().map(str::to_owned) else {
        let visitor = arrival.visitor(None).await?;
        let slot = cache_slot(state, &visitor).await?;
        if let Some(page) = cached(state, &slot) {
            return Ok(PageRead::Kept(page));
        }
        let version = match &slot {
            Some(slot) => slot.version,
            None => state.page_cache.current_version(&state.db).await?,
        };
        let rows = state.db.read(move |c| rows(c, None, version)).await?;
        return Ok(PageRead::Fresh { visitor, slot, rows });
    };
    let (found, rows) = state
        .db
        .read(move |c| match lookup(c, &token)? {
            Some((found, own)) => {
                let rows = rows(c, Some((&found.user, own)), found.content_version)?;
                Ok::<_, AppError>((Some(found), rows))
            }
            // A cookie whose session ended: a visitor, whose page is not kept.
            None => {
                let version = page_cache::version(c)?;
                Ok((None, rows(c, None, version)?))
            }
        })
        .await?;
    let visitor = arrival.visitor(found).await?;
    Ok(PageRead::Fresh { visitor, slot: None, rows })
}
