//! Latest: the most recently active topics across every category (no HTTP here).

use diesel::prelude::*;

use crate::db::schema::{categories, topics, users};
use crate::db::written_limit::{written, written_limit};
use crate::db::{DbConn, DbError};
use crate::forum::queries::{last_poster_name, last_poster_of_topic, last_posters, TopicCursor};
use crate::forum::read_state::Listed;

/// Topics on the home page and on each page of `/latest`.
pub const LATEST_PER_PAGE: i64 = 30;

#[derive(Debug, Clone, Queryable)]
pub struct LatestTopic {
    pub id: i64,
    pub title: String,
    pub slug: String,
    pub author: String,
    pub last_post_at: i64,
    pub created_at: i64,
    pub post_count: i64,
    pub category_id: i64,
    pub category_slug: String,
    pub category: String,
    pub pinned: bool,
    pub locked: bool,
    /// Who wrote the last post, when anyone may read it.
    pub last_poster: Option<String>,
}

impl LatestTopic {
    /// What its read mark needs.
    pub fn listed(&self) -> Listed {
        Listed { id: self.id, category_id: self.category_id, post_count: self.post_count, created_at: self.created_at }
    }

    pub fn replies(&self) -> i64 {
        (self.post_count - 1).max(0)
    }
}

/// Columns of a Latest row, shared by Latest, `/unread` and `/new`.
#[diesel::dsl::auto_type]
pub fn latest_columns() -> _ {
    (
        topics::id,
        topics::title,
        topics::slug,
        users::username,
        topics::last_post_at,
        topics::created_at,
        topics::post_count,
        categories::id,
        categories::slug,
        categories::name,
        topics::pinned,
        topics::locked,
        last_poster_name(),
    )
}

/// One page of Latest, and the cursor of the next page when there is one. The list is
/// read through `topics_latest (last_post_at DESC, id DESC)`; the cursor condition is
/// written as a range on `last_post_at` so a deep page starts where it should instead
/// of scanning every newer topic.
pub fn latest_topics(
    conn: &mut DbConn,
    after: Option<TopicCursor>,
) -> Result<(Vec<LatestTopic>, Option<TopicCursor>), DbError> {
    let mut query = topics::table
        .inner_join(users::table)
        .inner_join(categories::table)
        .left_join(last_posters.on(last_poster_of_topic()))
        .filter(topics::held.eq(written(false)))
        .select(latest_columns())
        .order((topics::last_post_at.desc(), topics::id.desc()))
        .into_boxed();
    if let Some(cursor) = after {
        query = query
            .filter(topics::last_post_at.le(cursor.last_post_at))
            .filter(topics::last_post_at.lt(cursor.last_post_at).or(topics::id.lt(cursor.id)));
    }
    let mut rows: Vec<LatestTopic> = written_limit(query, LATEST_PER_PAGE + 1).load(conn)?;
    let next = if rows.len() as i64 > LATEST_PER_PAGE {
        rows.truncate(LATEST_PER_PAGE as usize);
        rows.last().map(|t| TopicCursor { last_post_at: t.last_post_at, id: t.id })
    } else {
        None
    };
    Ok((rows, next))
}
