//! Notifications, stored (no HTTP here): what happened that concerns a member. Written
//! in the transaction of what causes them (a post, a like, a moderator's decision), with
//! one statement for all of a post's recipients. The pages are `conversation::notifications`.

use diesel::prelude::*;

use crate::db::schema::{notifications, posts, topics, users};
use crate::db::{now, DbConn, DbError};
use crate::forum::watching::WatchLevel;

crate::text_enum! {
    pub enum Kind {
        /// A reply in a topic the member started or watches.
        Reply => "reply",
        Mention => "mention",
        Quote => "quote",
        /// Likes on one post, grouped while unread.
        Like => "like",
        /// A moderator's decision about the member's flag or content.
        Moderation => "moderation",
    }
}

/// A new post, as the notifications it causes need it.
pub struct PostEvent<'a> {
    pub actor: i64,
    pub topic_id: i64,
    pub post_id: i64,
    /// The topic's starter, for a reply (not for the topic's first post).
    pub topic_starter: Option<i64>,
    pub mentioned: &'a [i64],
    pub quoted: &'a [i64],
}

#[derive(Insertable)]
#[diesel(table_name = notifications)]
struct NewNotification {
    user_id: i64,
    kind: Kind,
    actor_id: Option<i64>,
    topic_id: Option<i64>,
    post_id: Option<i64>,
    created_at: i64,
}

/// Who hears about a new post, each once, by the strongest reason (a mention, then a
/// quote, then a reply in a topic they started or watch); never the author, nobody who
/// muted the topic. One read of the topic's watchers, one INSERT for all of them.
pub fn post_written(conn: &mut DbConn, event: &PostEvent<'_>) -> Result<usize, diesel::result::Error> {
    let now = now();
    let levels = crate::forum::watching::levels_in(conn, event.topic_id)?;
    let muted = |id: i64| levels.iter().any(|&(user, level)| user == id && level == WatchLevel::Muted);
    let watchers: Vec<i64> = if event.topic_starter.is_some() {
        levels.iter().filter(|(_, level)| *level == WatchLevel::Watching).map(|(user, _)| *user).collect()
    } else {
        Vec::new()
    };
    let mut rows: Vec<NewNotification> = Vec::new();
    let reasons = event
        .mentioned
        .iter()
        .map(|&id| (id, Kind::Mention))
        .chain(event.quoted.iter().map(|&id| (id, Kind::Quote)))
        .chain(event.topic_starter.map(|id| (id, Kind::Reply)))
        .chain(watchers.into_iter().map(|id| (id, Kind::Reply)));
    for (user_id, kind) in reasons {
        if user_id == event.actor || muted(user_id) || rows.iter().any(|r| r.user_id == user_id) {
            continue;
        }
        rows.push(NewNotification {
            user_id,
            kind,
            actor_id: Some(event.actor),
            topic_id: Some(event.topic_id),
            post_id: Some(event.post_id),
            created_at: now,
        });
    }
    if rows.is_empty() {
        return Ok(0);
    }
    // One statement for every recipient (a batch insert is written per backend).
    crate::per_backend!(conn, |c| diesel::insert_into(notifications::table).values(&rows).execute(c))
}

/// A like: grouped with the post's unread like notification when there is one ("alice
/// and 3 others liked …"), a new one otherwise. Nothing for liking one's own post.
pub fn liked(conn: &mut DbConn, liker: i64, post_id: i64) -> Result<(), diesel::result::Error> {
    let (author, topic_id): (i64, i64) =
        posts::table.find(post_id).select((posts::user_id, posts::topic_id)).first(conn)?;
    if author == liker {
        return Ok(());
    }
    let now = now();
    let grouped = diesel::update(
        notifications::table
            .filter(notifications::user_id.eq(author))
            .filter(notifications::kind.eq(Kind::Like))
            .filter(notifications::post_id.eq(post_id))
            .filter(notifications::read_at.is_null()),
    )
    .set((
        notifications::others.eq(notifications::others + 1),
        notifications::actor_id.eq(liker),
        notifications::created_at.eq(now),
    ))
    .execute(conn)?;
    if grouped == 0 {
        diesel::insert_into(notifications::table)
            .values(&NewNotification {
                user_id: author,
                kind: Kind::Like,
                actor_id: Some(liker),
                topic_id: Some(topic_id),
                post_id: Some(post_id),
                created_at: now,
            })
            .execute(conn)?;
    }
    Ok(())
}

/// A notice in the forum's own words (a moderator's decision).
/// `post_id` is the post it is about, if any: the notification links it.
pub fn notice(
    conn: &mut DbConn,
    user_id: i64,
    kind: Kind,
    message: &str,
    post_id: Option<i64>,
) -> Result<(), diesel::result::Error> {
    let topic_id = match post_id {
        Some(id) => posts::table.find(id).select(posts::topic_id).first::<i64>(conn).optional()?,
        None => None,
    };
    diesel::insert_into(notifications::table)
        .values((
            notifications::user_id.eq(user_id),
            notifications::kind.eq(kind),
            notifications::message.eq(message),
            notifications::post_id.eq(post_id),
            notifications::topic_id.eq(topic_id),
            notifications::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The newest notifications a page lists.
pub const LISTED: i64 = 50;

#[derive(Debug, Queryable)]
pub struct Listed {
    pub id: i64,
    pub kind: Kind,
    pub message: String,
    pub others: i64,
    pub created_at: i64,
    pub read_at: Option<i64>,
    pub actor: Option<String>,
    pub topic_title: Option<String>,
    pub post_id: Option<i64>,
}

/// A member's newest notifications, with who did it and in which topic: one query over
/// `notifications_by_member`.
pub fn newest(conn: &mut DbConn, user_id: i64) -> Result<Vec<Listed>, DbError> {
    listed(conn, user_id, Some(LISTED))
}

fn listed(conn: &mut DbConn, user_id: i64, limit: Option<i64>) -> Result<Vec<Listed>, DbError> {
    let mut query = notifications::table
        .left_join(users::table.on(users::id.nullable().eq(notifications::actor_id)))
        .left_join(topics::table.on(topics::id.nullable().eq(notifications::topic_id)))
        .filter(notifications::user_id.eq(user_id))
        .order(notifications::id.desc())
        .select((
            notifications::id,
            notifications::kind,
            notifications::message,
            notifications::others,
            notifications::created_at,
            notifications::read_at,
            users::username.nullable(),
            topics::title.nullable(),
            notifications::post_id,
        ))
        .into_boxed();
    if let Some(limit) = limit {
        query = query.limit(limit);
    }
    Ok(query.load(conn)?)
}

/// Where a notification leads: a post's topic id, slug and number.
pub type Target = (i64, String, i64);

/// Marks one of the member's notifications read and says where it leads: the post's
/// topic, slug and number, or `None` for a notice without a post. `Err(NotFound)` when
/// it is not theirs.
pub fn open(conn: &mut DbConn, user_id: i64, id: i64) -> Result<Option<Option<Target>>, DbError> {
    let mine = notifications::table.find(id).filter(notifications::user_id.eq(user_id));
    let found: Option<Option<i64>> = mine.select(notifications::post_id).first(conn).optional()?;
    let Some(post_id) = found else { return Ok(None) };
    diesel::update(mine.filter(notifications::read_at.is_null()))
        .set(notifications::read_at.eq(now()))
        .execute(conn)?;
    let Some(post_id) = post_id else { return Ok(Some(None)) };
    let target = posts::table
        .inner_join(topics::table)
        .filter(posts::id.eq(post_id))
        .select((topics::id, topics::slug, posts::post_number))
        .first(conn)
        .optional()?;
    Ok(Some(target))
}

pub fn mark_all_read(conn: &mut DbConn, user_id: i64) -> Result<usize, DbError> {
    Ok(diesel::update(
        notifications::table.filter(notifications::user_id.eq(user_id)).filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(now()))
    .execute(conn)?)
}

/// Daily maintenance: notifications older than `before` go.
pub fn prune(conn: &mut DbConn, before: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(notifications::table.filter(notifications::created_at.lt(before))).execute(conn)?)
}

/// Deletion: the member's notifications, and those their actions caused others (who
/// liked, mentioned or quoted is about them).
pub fn forget(conn: &mut DbConn, user_id: i64) -> Result<(), diesel::result::Error> {
    diesel::delete(
        notifications::table.filter(notifications::user_id.eq(user_id).or(notifications::actor_id.eq(user_id))),
    )
    .execute(conn)?;
    Ok(())
}

/// The export: every notification the member has, oldest first.
pub fn of_member(conn: &mut DbConn, user_id: i64) -> Result<Vec<Listed>, DbError> {
    let mut all = listed(conn, user_id, None)?;
    all.reverse();
    Ok(all)
}
