//! How the busiest pages (home, Latest, a category, a topic) read: who is asking, the
//! content version, and the page's own rows, in one trip to the database.
//!
//! A visitor's page is looked up in the page cache first (under a version read for the
//! purpose, shared between pages on PostgreSQL). A member's session is looked up in the
//! same trip as the page's rows, and its statement brings the content version along:
//! on PostgreSQL every trip to the blocking pool and every statement is a round trip,
//! and a member's page used to make three trips where one does.

use actix_web::HttpResponse;

use crate::auth::sessions::{self, SessionUser};
use crate::auth::visitor::{Arrival, Visitor};
use crate::db::DbConn;
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

/// Reads a page: `rows(conn, reader, version)` reads its rows for the signed-in member
/// (`None` for a visitor), keeping rows every reader shares under `version`, which was
/// read before them. Visitors' pages kept from before are answered without a read.
/// `rows` may run twice (see `Database::read`): it must only read.
pub async fn read_page<T, F>(state: &AppState, arrival: Arrival, rows: F) -> Result<PageRead<T>, AppError>
where
    F: Fn(&mut DbConn, Option<&SessionUser>, i64) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
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
        .read(move |c| match sessions::find(c, &token)? {
            Some(found) => {
                let rows = rows(c, Some(&found.user), found.content_version)?;
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
