//! Watching, tracking and muting topics and categories (no HTTP here). A watched topic
//! tells the member of every reply; a tracked one counts new replies but tells only of
//! mentions and quotes; a muted one tells nothing (not even mentions or quotes in it).
//! Without a row the member hears of replies in topics they started (unless they turned
//! that off) and of mentions and quotes. A watched category tells of every new topic and
//! reply in it; a muted one of none (mentions and quotes still come); a topic's own level
//! wins over its category's. Replying to a topic watches it, unless the member already
//! chose a level for it or turned that off.

use diesel::prelude::*;

use crate::auth::sessions::{Found, SessionLookup, SessionRow};
use crate::db::id_list::in_ids;
use crate::db::one_value::one_value;
use crate::db::schema::{category_watches, topic_reads, topic_watches, users};
use crate::db::{DbConn, DbError};
use crate::forum::read_state::{own_reads_columns, OwnReads, OwnReadsRow};

crate::text_enum! {
    pub enum WatchLevel {
        Watching => "watching",
        /// Topics only: new replies are counted, not told.
        Tracking => "tracking",
        Muted => "muted",
    }
}

/// The member's level for a topic; `None` is the default.
pub fn level(conn: &mut DbConn, user_id: i64, topic_id: i64) -> Result<Option<WatchLevel>, DbError> {
    Ok(topic_watches::table.find((user_id, topic_id)).select(topic_watches::level).first(conn).optional()?)
}

/// Sets (or, with `None`, clears) the member's level for a topic.
pub fn set(conn: &mut DbConn, user_id: i64, topic_id: i64, level: Option<WatchLevel>) -> Result<(), DbError> {
    let row = topic_watches::table.find((user_id, topic_id));
    conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        diesel::delete(row).execute(conn)?;
        if let Some(level) = level {
            diesel::insert_into(topic_watches::table)
                .values((
                    topic_watches::user_id.eq(user_id),
                    topic_watches::topic_id.eq(topic_id),
                    topic_watches::level.eq(level),
                ))
                .execute(conn)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// A reply watches the topic for its author, unless they chose a level already or
/// turned "watch topics I reply to" off.
pub fn watch_on_reply(conn: &mut DbConn, user_id: i64, topic_id: i64) -> Result<(), diesel::result::Error> {
    if !crate::forum::notification_settings::of_member(conn, user_id)?.watch_own {
        return Ok(());
    }
    let row = (
        topic_watches::user_id.eq(user_id),
        topic_watches::topic_id.eq(topic_id),
        topic_watches::level.eq(WatchLevel::Watching),
    );
    crate::per_backend!(conn, |c| diesel::insert_into(topic_watches::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Everyone with a level for the topic: who watches it and who muted it.
pub fn levels_in(conn: &mut DbConn, topic_id: i64) -> Result<Vec<(i64, WatchLevel)>, diesel::result::Error> {
    topic_watches::table
        .filter(topic_watches::topic_id.eq(topic_id))
        .select((topic_watches::user_id, topic_watches::level))
        .load(conn)
}

/// The session behind a cookie token, its member's level for the category (`None` is
/// the default) and their reads of `topic_ids` (the topics the page showed last), in the
/// session's own statement: a category page's questions of its own.
pub fn category_reader(
    conn: &mut DbConn,
    token: &str,
    category_id: i64,
    topic_ids: Vec<i64>,
) -> Result<Option<(Found, CategoryReader)>, DbError> {
    let lookup = SessionLookup::for_token(token);
    let level = one_value(
        category_watches::table
            .filter(category_watches::user_id.eq(users::id))
            .filter(category_watches::category_id.eq(category_id))
            .select(category_watches::level),
    );
    let own = own_reads_columns(in_ids(topic_reads::topic_id, &topic_ids));
    let query = lookup.sessions().select((lookup.columns(), (level, own)));
    type Own = (Option<WatchLevel>, OwnReadsRow);
    let row = crate::per_backend!(conn, |c| query.get_result::<(SessionRow, Own)>(c).optional())?;
    let Some((session, (watch, own))) = row else { return Ok(None) };
    Ok(Some((lookup.found(session)?, CategoryReader { watch, reads: OwnReads::from_row(topic_ids, own)? })))
}

/// What a category page asks of its reader beside their session.
pub struct CategoryReader {
    pub watch: Option<WatchLevel>,
    pub reads: OwnReads,
}

/// Sets (or, with `None`, clears) the member's level for a category (watching or muted).
pub fn set_category(
    conn: &mut DbConn,
    user_id: i64,
    category_id: i64,
    level: Option<WatchLevel>,
) -> Result<(), DbError> {
    let row = category_watches::table.find((user_id, category_id));
    conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        diesel::delete(row).execute(conn)?;
        if let Some(level) = level {
            diesel::insert_into(category_watches::table)
                .values((
                    category_watches::user_id.eq(user_id),
                    category_watches::category_id.eq(category_id),
                    category_watches::level.eq(level),
                ))
                .execute(conn)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Everyone with a level for the category.
pub fn category_levels_in(
    conn: &mut DbConn,
    category_id: i64,
) -> Result<Vec<(i64, WatchLevel)>, diesel::result::Error> {
    category_watches::table
        .filter(category_watches::category_id.eq(category_id))
        .select((category_watches::user_id, category_watches::level))
        .load(conn)
}

/// The export: the member's categories and levels.
pub fn categories_of_member(conn: &mut DbConn, user_id: i64) -> Result<Vec<(i64, WatchLevel)>, DbError> {
    Ok(category_watches::table
        .filter(category_watches::user_id.eq(user_id))
        .order(category_watches::category_id)
        .select((category_watches::category_id, category_watches::level))
        .load(conn)?)
}

/// The export: the member's topics and levels.
pub fn of_member(conn: &mut DbConn, user_id: i64) -> Result<Vec<(i64, WatchLevel)>, DbError> {
    Ok(topic_watches::table
        .filter(topic_watches::user_id.eq(user_id))
        .order(topic_watches::topic_id)
        .select((topic_watches::topic_id, topic_watches::level))
        .load(conn)?)
}

/// Deletion.
pub fn forget(conn: &mut DbConn, user_id: i64) -> Result<(), diesel::result::Error> {
    diesel::delete(topic_watches::table.filter(topic_watches::user_id.eq(user_id))).execute(conn)?;
    diesel::delete(category_watches::table.filter(category_watches::user_id.eq(user_id))).execute(conn)?;
    Ok(())
}
