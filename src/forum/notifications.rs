//! Notifications, stored (no HTTP here): what happened that concerns a member. Written
//! in the transaction of what causes them (a post, a like, a moderator's decision), with
//! one statement for all of a post's recipients. The pages are `conversation::notifications`.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::schema::{likes, notifications, posts, topics, users};
use crate::db::{now, DbConn, DbError};
use crate::forum::notification_settings::{self, MailChoice, Settings};
use crate::forum::watching::WatchLevel;
use crate::mail::queue::NotificationJob;

crate::text_enum! {
    pub enum Kind {
        /// A reply in a topic the member started or watches.
        Reply => "reply",
        /// A new topic in a category the member watches.
        Topic => "topic",
        Mention => "mention",
        Quote => "quote",
        /// Likes on one post, grouped while unread.
        Like => "like",
        /// A moderator's decision about the member's flag or content.
        Moderation => "moderation",
        /// A privacy request of theirs was answered (its mail is transactional, sent anyway).
        Privacy => "privacy",
    }
}

/// A digest is sent this long after the first thing it tells.
pub const DIGEST_AFTER_SECONDS: i64 = 24 * 3600;

/// What a post event is.
#[derive(Debug, Clone, Copy)]
pub enum Written {
    /// A topic's first post.
    NewTopic,
    Reply {
        topic_starter: i64,
    },
    /// An edit: only the members it newly mentions or quotes hear of it.
    Edit,
}

/// A new or edited post, as the notifications it causes need it.
pub struct PostEvent<'a> {
    pub actor: i64,
    pub category_id: i64,
    pub topic_id: i64,
    pub post_id: i64,
    pub written: Written,
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

/// Who hears about a new post, each once, by the strongest reason: a mention, then a
/// quote, then a reply in a topic they started or watch (or in a watched category), or
/// a new topic in a watched category. Never the author, nobody who muted the topic,
/// nobody who blocked the author; replies and new topics not where the member tracks
/// the topic or muted its category. A few reads (levels, blocks, settings), one INSERT
/// for all recipients, one for the mail they asked for.
pub fn post_written(conn: &mut DbConn, event: &PostEvent<'_>) -> Result<usize, diesel::result::Error> {
    let topic_levels = crate::forum::watching::levels_in(conn, event.topic_id)?;
    let category_levels = crate::forum::watching::category_levels_in(conn, event.category_id)?;
    let level_of = |levels: &[(i64, WatchLevel)], id: i64| levels.iter().find(|(user, _)| *user == id).map(|l| l.1);
    let watching = |levels: &[(i64, WatchLevel)]| -> Vec<i64> {
        levels.iter().filter(|(_, level)| *level == WatchLevel::Watching).map(|(user, _)| *user).collect()
    };
    let mut reasons: Vec<(i64, Kind)> = event
        .mentioned
        .iter()
        .map(|&id| (id, Kind::Mention))
        .chain(event.quoted.iter().map(|&id| (id, Kind::Quote)))
        .collect();
    match event.written {
        Written::Reply { topic_starter } => {
            reasons.push((topic_starter, Kind::Reply));
            reasons.extend(watching(&topic_levels).into_iter().map(|id| (id, Kind::Reply)));
            reasons.extend(watching(&category_levels).into_iter().map(|id| (id, Kind::Reply)));
        }
        Written::NewTopic => reasons.extend(watching(&category_levels).into_iter().map(|id| (id, Kind::Topic))),
        Written::Edit => {}
    }
    let mut candidates: Vec<(i64, Kind)> = Vec::new();
    for (user_id, kind) in reasons {
        if user_id != event.actor && !candidates.iter().any(|(id, _)| *id == user_id) {
            candidates.push((user_id, kind));
        }
    }
    let ids: Vec<i64> = candidates.iter().map(|(id, _)| *id).collect();
    let blocked = crate::forum::blocks::who_blocked(conn, event.actor, &ids)?;
    let settings = notification_settings::of_members(conn, &ids)?;
    let told = |&(user_id, kind): &(i64, Kind)| {
        if blocked.contains(&user_id) {
            return false;
        }
        let topic_level = level_of(&topic_levels, user_id);
        let about_the_topic = matches!(kind, Kind::Reply | Kind::Topic);
        match topic_level {
            Some(WatchLevel::Muted) => false,
            Some(WatchLevel::Tracking) => !about_the_topic,
            Some(WatchLevel::Watching) => true,
            None if !about_the_topic => true,
            None => match level_of(&category_levels, user_id) {
                Some(WatchLevel::Muted) => false,
                Some(_) => true,
                // Only the starter hears of replies without any level: if they want to.
                None => settings.get(&user_id).is_none_or(|s| s.watch_own),
            },
        }
    };
    let now = now();
    let rows: Vec<NewNotification> = candidates
        .iter()
        .filter(|candidate| told(candidate))
        .map(|&(user_id, kind)| NewNotification {
            user_id,
            kind,
            actor_id: Some(event.actor),
            topic_id: Some(event.topic_id),
            post_id: Some(event.post_id),
            created_at: now,
        })
        .collect();
    insert_and_mail(conn, &rows, &settings)
}

/// Inserts notifications in one statement and queues the mail their members chose.
fn insert_and_mail(
    conn: &mut DbConn,
    rows: &[NewNotification],
    settings: &HashMap<i64, Settings>,
) -> Result<usize, diesel::result::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    // One statement for every recipient (a batch insert is written per backend).
    let created: Vec<(i64, i64, Kind)> = crate::per_backend!(conn, |c| diesel::insert_into(notifications::table)
        .values(rows)
        .returning((notifications::id, notifications::user_id, notifications::kind))
        .get_results(c))?;
    let now = now();
    let mut each = Vec::new();
    let mut digests = Vec::new();
    for &(notification_id, user_id, kind) in &created {
        let choice = settings
            .get(&user_id)
            .map_or_else(|| Settings::defaults(user_id, false).mail_for(kind), |s| s.mail_for(kind));
        match choice {
            MailChoice::Off => {}
            MailChoice::Away | MailChoice::Each => {
                each.push(NotificationJob { user_id, notification_id, send_after: now })
            }
            MailChoice::Digest => digests.push(user_id),
        }
    }
    crate::mail::queue::enqueue_notifications(conn, &each)?;
    crate::mail::queue::enqueue_digests(conn, &digests, now + DIGEST_AFTER_SECONDS)?;
    Ok(created.len())
}

/// A like: grouped with the post's unread like notification when there is one ("alice
/// and 3 others liked …"), a new one otherwise. Nothing for liking one's own post, nor
/// for an author who blocked the liker.
pub fn liked(conn: &mut DbConn, liker: i64, post_id: i64) -> Result<(), diesel::result::Error> {
    let (author, topic_id): (i64, i64) =
        posts::table.find(post_id).select((posts::user_id, posts::topic_id)).first(conn)?;
    if author == liker || !crate::forum::blocks::who_blocked(conn, liker, &[author])?.is_empty() {
        return Ok(());
    }
    let now = now();
    // "… and N others": the others who like the post now, counted from the likes
    // themselves, so liking and unliking over and over counts nobody twice.
    let others: i64 =
        likes::table.filter(likes::post_id.eq(post_id)).filter(likes::user_id.ne(liker)).count().get_result(conn)?;
    let grouped = diesel::update(
        notifications::table
            .filter(notifications::user_id.eq(author))
            .filter(notifications::kind.eq(Kind::Like))
            .filter(notifications::post_id.eq(post_id))
            .filter(notifications::read_at.is_null()),
    )
    .set((notifications::others.eq(others), notifications::actor_id.eq(liker), notifications::created_at.eq(now)))
    .execute(conn)?;
    if grouped == 0 {
        // A grouped like rides on the mail already queued for the first one.
        let row = NewNotification {
            user_id: author,
            kind: Kind::Like,
            actor_id: Some(liker),
            topic_id: Some(topic_id),
            post_id: Some(post_id),
            created_at: now,
        };
        let settings = notification_settings::of_members(conn, &[author])?;
        insert_and_mail(conn, &[row], &settings)?;
    }
    Ok(())
}

/// A notice in the forum's own words (a moderator's decision, an answered request).
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
    let notification_id: i64 = diesel::insert_into(notifications::table)
        .values((
            notifications::user_id.eq(user_id),
            notifications::kind.eq(kind),
            notifications::message.eq(message),
            notifications::post_id.eq(post_id),
            notifications::topic_id.eq(topic_id),
            notifications::created_at.eq(now()),
        ))
        .returning(notifications::id)
        .get_result(conn)?;
    match notification_settings::of_member(conn, user_id)?.mail_for(kind) {
        MailChoice::Off => {}
        MailChoice::Away | MailChoice::Each => {
            let job = NotificationJob { user_id, notification_id, send_after: now() };
            crate::mail::queue::enqueue_notifications(conn, &[job])?;
        }
        MailChoice::Digest => {
            crate::mail::queue::enqueue_digests(conn, &[user_id], now() + DIGEST_AFTER_SECONDS)?;
        }
    }
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
    pub actor_id: Option<i64>,
    pub topic_title: Option<String>,
    pub post_id: Option<i64>,
}

impl Listed {
    /// What happened, in words that follow the actor's name ("replied in “Topic”").
    pub fn what(&self) -> String {
        let topic = self.topic_title.as_deref().unwrap_or("a topic");
        match self.kind {
            Kind::Reply => format!("replied in “{topic}”"),
            Kind::Topic => format!("started “{topic}”"),
            Kind::Mention => format!("mentioned you in “{topic}”"),
            Kind::Quote => format!("quoted you in “{topic}”"),
            Kind::Like if self.others == 1 => format!("and 1 other liked your post in “{topic}”"),
            Kind::Like if self.others > 1 => format!("and {} others liked your post in “{topic}”", self.others),
            Kind::Like => format!("liked your post in “{topic}”"),
            Kind::Moderation | Kind::Privacy => match &self.topic_title {
                Some(topic) => format!("{} (“{topic}”)", self.message),
                None => self.message.clone(),
            },
        }
    }
}

/// A member's newest notifications.
pub fn newest(conn: &mut DbConn, user_id: i64) -> Result<Vec<Listed>, DbError> {
    listed(conn, user_id, Only { limit: Some(LISTED), ..Only::default() })
}

/// One of the member's notifications (for its mail).
pub fn find(conn: &mut DbConn, user_id: i64, id: i64) -> Result<Option<Listed>, DbError> {
    Ok(listed(conn, user_id, Only { id: Some(id), ..Only::default() })?.pop())
}

/// The member's unread notifications of `kinds` after `after_id`, oldest first, at most
/// `limit` (a digest).
pub fn unread_after(
    conn: &mut DbConn,
    user_id: i64,
    after_id: i64,
    kinds: &[Kind],
    limit: i64,
) -> Result<Vec<Listed>, DbError> {
    let only = Only { after: Some(after_id), kinds: Some(kinds), unread: true, limit: Some(limit), ..Only::default() };
    let mut found = listed(conn, user_id, only)?;
    found.reverse();
    Ok(found)
}

/// Which of a member's notifications to list.
#[derive(Default)]
struct Only<'a> {
    id: Option<i64>,
    after: Option<i64>,
    kinds: Option<&'a [Kind]>,
    unread: bool,
    limit: Option<i64>,
}

/// The member's notifications, newest first, with who did it and in which topic: one
/// query over `notifications_by_member`.
fn listed(conn: &mut DbConn, user_id: i64, only: Only<'_>) -> Result<Vec<Listed>, DbError> {
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
            notifications::actor_id,
            topics::title.nullable(),
            notifications::post_id,
        ))
        .into_boxed();
    if let Some(id) = only.id {
        query = query.filter(notifications::id.eq(id));
    }
    if let Some(after) = only.after {
        query = query.filter(notifications::id.gt(after));
    }
    if let Some(kinds) = only.kinds {
        query = query.filter(notifications::kind.eq_any(kinds.to_vec()));
    }
    if only.unread {
        query = query.filter(notifications::read_at.is_null());
    }
    if let Some(limit) = only.limit {
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
    let mut all = listed(conn, user_id, Only::default())?;
    all.reverse();
    Ok(all)
}
