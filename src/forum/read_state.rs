//! How far each member has read (no HTTP here). Two facts are kept per member:
//!
//! - `topic_reads`: for each topic they opened, the highest post number they have had on
//!   a page. Opening a page reads the position and writes only when it moved forward, so
//!   rereading costs no write. A topic they opened with posts past that number is
//!   *unread*, and shows how many.
//! - `category_reads`: when they last marked a category read. A topic they never opened
//!   is *new* when it was started after they joined, after that mark, and within
//!   [`NEW_TOPIC_WINDOW`]; older topics they never opened are simply not theirs to track.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::auth::sessions::{Found, SessionLookup, SessionRow};
use crate::db::id_list::{id_pairs, in_ids, parse_pairs, InIds};
use crate::db::one_value::one_value;
use crate::db::schema::{categories, category_reads, topic_reads, topics, users};
use crate::db::written_limit::{written, written_limit};
use crate::db::{now, DbConn, DbError};
use crate::forum::latest::{latest_columns, LatestTopic, LATEST_PER_PAGE};
use crate::forum::queries::{last_poster_of_topic, last_posters, TopicCursor};
use crate::per_backend;

/// How long a topic nobody marked read stays "new" (Discourse's idea: after two weeks a
/// topic you never opened is history, not news, and `/new` need not walk back further).
pub const NEW_TOPIC_WINDOW: i64 = 14 * 86400;

/// The highest post number the member has seen in the topic, if they opened it.
pub fn position(conn: &mut DbConn, user_id: i64, topic_id: i64) -> Result<Option<i64>, DbError> {
    Ok(topic_reads::table
        .find((user_id, topic_id))
        .select(topic_reads::last_read_post_number)
        .first(conn)
        .optional()?)
}

/// Moves the member's position forward to `seen_up_to`; never back. Returns the
/// position before (`None` for a topic they had not opened), so the page can mark where
/// the new posts begin.
pub fn advance(conn: &mut DbConn, user_id: i64, topic_id: i64, seen_up_to: i64) -> Result<Option<i64>, DbError> {
    let before = position(conn, user_id, topic_id)?;
    match before {
        Some(at) if at >= seen_up_to => {}
        Some(_) => {
            diesel::update(topic_reads::table.find((user_id, topic_id)))
                .filter(topic_reads::last_read_post_number.lt(seen_up_to))
                .set((topic_reads::last_read_post_number.eq(seen_up_to), topic_reads::updated_at.eq(now())))
                .execute(conn)?;
        }
        None => {
            // Two tabs opening the topic at once: the second insert changes nothing.
            per_backend!(conn, |c| diesel::insert_into(topic_reads::table)
                .values(read_row(user_id, topic_id, seen_up_to))
                .on_conflict_do_nothing()
                .execute(c))?;
        }
    }
    Ok(before)
}

/// What a member wrote they have read: their own post moves their position to it
/// (called inside the transaction that writes the post).
pub fn read_own_post(
    conn: &mut DbConn,
    user_id: i64,
    topic_id: i64,
    post_number: i64,
) -> Result<(), diesel::result::Error> {
    per_backend!(conn, |c| diesel::insert_into(topic_reads::table)
        .values(read_row(user_id, topic_id, post_number))
        .on_conflict((topic_reads::user_id, topic_reads::topic_id))
        .do_update()
        .set((topic_reads::last_read_post_number.eq(post_number), topic_reads::updated_at.eq(now())))
        .execute(c))?;
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = topic_reads)]
struct ReadRow {
    user_id: i64,
    topic_id: i64,
    last_read_post_number: i64,
    updated_at: i64,
}

fn read_row(user_id: i64, topic_id: i64, up_to: i64) -> ReadRow {
    ReadRow { user_id, topic_id, last_read_post_number: up_to, updated_at: now() }
}

/// What a topic list shows a member about one topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Opened before, and this many posts came after what they read.
    Unread(i64),
    /// Opened, and read to the end.
    Read,
    /// Never opened, and new to them.
    New,
}

impl Mark {
    /// `horizon`: the later of when they joined and when they marked its category read.
    fn of(post_count: i64, created_at: i64, read_up_to: Option<i64>, horizon: i64, now: i64) -> Option<Mark> {
        match read_up_to {
            Some(read) if post_count > read => Some(Mark::Unread(post_count - read)),
            Some(_) => Some(Mark::Read),
            None if created_at > horizon && created_at > now - NEW_TOPIC_WINDOW => Some(Mark::New),
            None => None,
        }
    }
}

/// The marks of one page of a topic list, by topic id (empty for visitors).
#[derive(Debug, Default, Clone)]
pub struct ReadMarks(HashMap<i64, Mark>);

impl ReadMarks {
    /// How many posts of the topic the member has not read, if any.
    pub fn unread(&self, topic_id: &i64) -> Option<i64> {
        match self.0.get(topic_id) {
            Some(Mark::Unread(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn is_new(&self, topic_id: &i64) -> bool {
        self.0.get(topic_id) == Some(&Mark::New)
    }

    /// Where the topic's title leads: for a topic the member opened before, to the first
    /// post they have not read (or the last, when all is read).
    pub fn link(&self, topic_id: &i64, slug: &str) -> String {
        match self.0.get(topic_id) {
            Some(Mark::Unread(_) | Mark::Read) => format!("/t/{topic_id}/{slug}/unread"),
            _ => format!("/t/{topic_id}/{slug}"),
        }
    }
}

/// A topic on a list page, as its mark needs it.
pub struct Listed {
    pub id: i64,
    pub category_id: i64,
    pub post_count: i64,
    pub created_at: i64,
}

/// What a member has read, as a list page's marks need it: their position in each of the
/// page's topics they opened and when they marked each category read. Read in the session's
/// statement ([`own_reads_columns`]) when the page knows its topics beforehand, else on
/// its own ([`own_reads`]).
#[derive(Debug)]
pub struct OwnReads {
    /// The topics the positions were read for.
    topic_ids: Vec<i64>,
    positions: HashMap<i64, i64>,
    /// When they marked each category read, by category.
    marked: HashMap<i64, i64>,
}

/// What [`own_reads_columns`] reads.
pub type OwnReadsRow = (Option<String>, Option<String>);

/// The member's positions in `topics` and their category marks, as subqueries on
/// `users::id`: they ride in the statement that finds the member's session.
#[diesel::dsl::auto_type]
pub fn own_reads_columns(topics: InIds<topic_reads::topic_id>) -> _ {
    let position: id_pairs<topic_reads::topic_id, topic_reads::last_read_post_number> =
        id_pairs(topic_reads::topic_id, topic_reads::last_read_post_number);
    let mark: id_pairs<category_reads::category_id, category_reads::marked_at> =
        id_pairs(category_reads::category_id, category_reads::marked_at);
    (
        one_value(topic_reads::table.filter(topic_reads::user_id.eq(users::id)).filter(topics).select(position)),
        one_value(category_reads::table.filter(category_reads::user_id.eq(users::id)).select(mark)),
    )
}

impl OwnReads {
    /// From what [`own_reads_columns`] read for `topic_ids`.
    pub fn from_row(topic_ids: Vec<i64>, (positions, marked): OwnReadsRow) -> Result<Self, DbError> {
        Ok(OwnReads {
            topic_ids,
            positions: parse_pairs(positions.as_deref())?,
            marked: parse_pairs(marked.as_deref())?,
        })
    }

    /// Whether the positions were read for exactly these topics.
    pub fn covers(&self, topic_ids: &[i64]) -> bool {
        self.topic_ids == topic_ids
    }
}

/// The session behind a cookie token and the member's reads of `topic_ids` (the topics a
/// list page showed last: see `PageCache::kept_rows`), in the session's own statement.
pub fn list_reader(conn: &mut DbConn, token: &str, topic_ids: Vec<i64>) -> Result<Option<(Found, OwnReads)>, DbError> {
    let lookup = SessionLookup::for_token(token);
    let own = own_reads_columns(in_ids(topic_reads::topic_id, &topic_ids));
    let query = lookup.sessions().select((lookup.columns(), own));
    let row = per_backend!(conn, |c| query.get_result::<(SessionRow, OwnReadsRow)>(c).optional())?;
    let Some((session, own)) = row else { return Ok(None) };
    Ok(Some((lookup.found(session)?, OwnReads::from_row(topic_ids, own)?)))
}

/// The member's reads for these topics (a page of a list), in a statement of their own.
pub fn own_reads(conn: &mut DbConn, user_id: i64, topic_ids: Vec<i64>) -> Result<OwnReads, DbError> {
    let columns = own_reads_columns(in_ids(topic_reads::topic_id, &topic_ids));
    let row = per_backend!(conn, |c| users::table.find(user_id).select(columns).first(c))?;
    OwnReads::from_row(topic_ids, row)
}

impl ReadMarks {
    /// The marks of a list page's topics for a member who joined at `joined_at`.
    pub fn of(topics: impl IntoIterator<Item = Listed>, own: &OwnReads, joined_at: i64) -> ReadMarks {
        let now = now();
        let mark = |topic: Listed| {
            let marked_at = own.marked.get(&topic.category_id);
            let horizon = marked_at.map_or(joined_at - 1, |&m| m.max(joined_at - 1));
            let position = own.positions.get(&topic.id).copied();
            Mark::of(topic.post_count, topic.created_at, position, horizon, now).map(|mark| (topic.id, mark))
        };
        ReadMarks(topics.into_iter().filter_map(mark).collect())
    }
}

/// `/unread`: topics the member opened that have posts past their position, latest
/// activity first. It walks the member's own positions (one index range), not the forum.
pub fn unread_topics(
    conn: &mut DbConn,
    user_id: i64,
    after: Option<TopicCursor>,
) -> Result<(Vec<LatestTopic>, Option<TopicCursor>), DbError> {
    let mut query = topics::table
        .inner_join(users::table)
        .inner_join(categories::table)
        .left_join(last_posters.on(last_poster_of_topic()))
        .inner_join(topic_reads::table.on(topic_reads::topic_id.eq(topics::id)))
        .filter(topic_reads::user_id.eq(user_id))
        .filter(topics::post_count.gt(topic_reads::last_read_post_number))
        .filter(topics::held.eq(written(false)))
        .select(latest_columns())
        .order((topics::last_post_at.desc(), topics::id.desc()))
        .into_boxed();
    if let Some(cursor) = after {
        query = query
            .filter(topics::last_post_at.le(cursor.last_post_at))
            .filter(topics::last_post_at.lt(cursor.last_post_at).or(topics::id.lt(cursor.id)));
    }
    let rows: Vec<LatestTopic> = written_limit(query, LATEST_PER_PAGE + 1).load(conn)?;
    Ok(next_page(rows, |t| TopicCursor { last_post_at: t.last_post_at, id: t.id }))
}

/// `/new`: topics the member never opened, started after their horizon, newest first.
/// Read through `topics_created` from now back to the horizon, and no further. The
/// cursor's `last_post_at` carries the topic's start here.
pub fn new_topics(
    conn: &mut DbConn,
    user_id: i64,
    after: Option<TopicCursor>,
) -> Result<(Vec<LatestTopic>, Option<TopicCursor>), DbError> {
    let joined: i64 = users::table.find(user_id).select(users::created_at).first(conn)?;
    let since = joined.max(now() - NEW_TOPIC_WINDOW);
    let mut query = topics::table
        .inner_join(users::table)
        .inner_join(categories::table)
        .left_join(last_posters.on(last_poster_of_topic()))
        .left_join(topic_reads::table.on(topic_reads::topic_id.eq(topics::id).and(topic_reads::user_id.eq(user_id))))
        .left_join(
            category_reads::table
                .on(category_reads::category_id.eq(topics::category_id).and(category_reads::user_id.eq(user_id))),
        )
        .filter(topics::created_at.ge(since))
        .filter(topic_reads::topic_id.nullable().is_null())
        .filter(
            category_reads::marked_at
                .nullable()
                .is_null()
                .or(topics::created_at.nullable().gt(category_reads::marked_at.nullable())),
        )
        .filter(topics::held.eq(written(false)))
        .select((latest_columns(), topics::created_at))
        .order((topics::created_at.desc(), topics::id.desc()))
        .into_boxed();
    if let Some(cursor) = after {
        query = query
            .filter(topics::created_at.le(cursor.last_post_at))
            .filter(topics::created_at.lt(cursor.last_post_at).or(topics::id.lt(cursor.id)));
    }
    let rows: Vec<(LatestTopic, i64)> = written_limit(query, LATEST_PER_PAGE + 1).load(conn)?;
    let (rows, next) = next_page(rows, |(t, created)| TopicCursor { last_post_at: *created, id: t.id });
    Ok((rows.into_iter().map(|(topic, _)| topic).collect(), next))
}

/// Cuts a page of `LATEST_PER_PAGE + 1` rows, returning the next page's cursor.
fn next_page<T>(mut rows: Vec<T>, cursor_of: impl Fn(&T) -> TopicCursor) -> (Vec<T>, Option<TopicCursor>) {
    if rows.len() as i64 > LATEST_PER_PAGE {
        rows.truncate(LATEST_PER_PAGE as usize);
        let next = rows.last().map(cursor_of);
        (rows, next)
    } else {
        (rows, None)
    }
}

/// "Mark all as read", for one category or (`None`) for every one, in one transaction:
/// each topic they opened there moves to its last post, and the category's mark moves
/// to now so the topics started before are no longer new. Returns false for a category
/// that does not exist.
pub fn mark_read(conn: &mut DbConn, user_id: i64, category: Option<i64>) -> Result<bool, DbError> {
    let marked_at = now();
    Ok(conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        let ids: Vec<i64> = match category {
            Some(id) => categories::table.find(id).select(categories::id).load(conn)?,
            None => categories::table.select(categories::id).load(conn)?,
        };
        if ids.is_empty() {
            return Ok(category.is_none());
        }
        // Only the member's positions that are behind: one index range of their rows.
        let behind: Vec<(i64, i64)> = topic_reads::table
            .inner_join(topics::table)
            .filter(topic_reads::user_id.eq(user_id))
            .filter(topics::category_id.eq_any(&ids))
            .filter(topics::post_count.gt(topic_reads::last_read_post_number))
            .select((topics::id, topics::post_count))
            .load(conn)?;
        for (topic_id, post_count) in behind {
            diesel::update(topic_reads::table.find((user_id, topic_id)))
                .set((topic_reads::last_read_post_number.eq(post_count), topic_reads::updated_at.eq(marked_at)))
                .execute(conn)?;
        }
        for category_id in ids {
            let row = (
                category_reads::user_id.eq(user_id),
                category_reads::category_id.eq(category_id),
                category_reads::marked_at.eq(marked_at),
            );
            per_backend!(conn, |c| diesel::insert_into(category_reads::table)
                .values(row)
                .on_conflict((category_reads::user_id, category_reads::category_id))
                .do_update()
                .set(category_reads::marked_at.eq(marked_at))
                .execute(c))?;
        }
        Ok(true)
    })?)
}

/// The member's read state, for the export: every topic they opened and how far they
/// read it, and when they marked categories read.
pub struct Exported {
    pub topics: Vec<(i64, String, i64, i64)>,
    pub categories: Vec<(i64, String, i64)>,
}

pub fn read_by(conn: &mut DbConn, user_id: i64) -> Result<Exported, DbError> {
    let topics = topic_reads::table
        .inner_join(topics::table)
        .filter(topic_reads::user_id.eq(user_id))
        .order(topic_reads::topic_id)
        .select((topic_reads::topic_id, topics::title, topic_reads::last_read_post_number, topic_reads::updated_at))
        .load(conn)?;
    let categories = category_reads::table
        .inner_join(categories::table)
        .filter(category_reads::user_id.eq(user_id))
        .order(category_reads::category_id)
        .select((category_reads::category_id, categories::name, category_reads::marked_at))
        .load(conn)?;
    Ok(Exported { topics, categories })
}

/// Deletion: the member's read state goes with the account.
pub fn forget(conn: &mut DbConn, user_id: i64) -> Result<(), diesel::result::Error> {
    diesel::delete(topic_reads::table.filter(topic_reads::user_id.eq(user_id))).execute(conn)?;
    diesel::delete(category_reads::table.filter(category_reads::user_id.eq(user_id))).execute(conn)?;
    Ok(())
}
