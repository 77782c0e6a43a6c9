//! What a public profile shows, read from the database (no HTTP here). Nothing here
//! reads an e-mail address, an IP or a session: a profile cannot show what it never
//! loads.

use diesel::prelude::*;

use crate::auth::role::Role;
use crate::db::schema::{avatars, posts, topics, users};
use crate::db::{DbConn, DbError};
use crate::forum::queries::readable_post;

/// How many of the member's newest posts and topics a profile lists.
pub const RECENT: i64 = 10;

#[derive(Debug, Queryable)]
pub struct Member {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub created_at: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub show_name: bool,
    pub avatar_version: i64,
}

impl Member {
    /// The name to show under the username: only when the member chose to show it.
    pub fn public_name(&self) -> Option<String> {
        if !self.show_name {
            return None;
        }
        let name =
            [self.first_name.as_deref(), self.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        (!name.is_empty()).then_some(name)
    }
}

/// A member by username, in any letter case. The shared Anonymous account has no
/// profile, and a deleted member's row is gone: both are `None`.
pub fn member_by_name(conn: &mut DbConn, username: &str) -> Result<Option<Member>, DbError> {
    Ok(users::table
        .filter(users::username_key.eq(username.to_lowercase()))
        .filter(users::role.ne(Role::System))
        .select((
            users::id,
            users::username,
            users::role,
            users::created_at,
            users::first_name,
            users::last_name,
            users::show_name,
            users::avatar_version,
        ))
        .first(conn)
        .optional()?)
}

/// The username of a member by id (mention links follow the id, so a rename keeps them).
pub fn username_of(conn: &mut DbConn, user_id: i64) -> Result<Option<String>, DbError> {
    Ok(users::table
        .find(user_id)
        .filter(users::role.ne(Role::System))
        .select(users::username)
        .first(conn)
        .optional()?)
}

#[derive(Debug, Queryable)]
pub struct RecentPost {
    pub topic_id: i64,
    pub topic_slug: String,
    pub topic_title: String,
    pub post_number: i64,
    pub created_at: i64,
    pub body_markdown: String,
    /// Hidden, deleted or held: listed only for the member and staff, and marked.
    pub removed: bool,
}

impl RecentPost {
    /// The start of the post's text, for the list.
    pub fn excerpt(&self) -> String {
        crate::text::markdown::excerpt(&self.body_markdown, 200)
    }
}

#[derive(Debug, Queryable)]
pub struct RecentTopic {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub created_at: i64,
    pub post_count: i64,
}

pub struct Activity {
    pub post_count: i64,
    pub topic_count: i64,
    pub posts: Vec<RecentPost>,
    pub topics: Vec<RecentTopic>,
}

/// The member's counts and newest posts and topics, read through `posts_by_author` and
/// `topics_by_author`. Others see what is public; the member and staff (`everything`)
/// also see what is hidden, deleted or waiting for review.
pub fn activity(conn: &mut DbConn, user_id: i64, everything: bool) -> Result<Activity, DbError> {
    let mut post_count = posts::table.inner_join(topics::table).filter(posts::user_id.eq(user_id)).into_boxed();
    let mut recent_posts = posts::table
        .inner_join(topics::table)
        .filter(posts::user_id.eq(user_id))
        .order(posts::id.desc())
        .limit(RECENT)
        .into_boxed();
    let mut topic_count = topics::table.filter(topics::user_id.eq(user_id)).into_boxed();
    let mut recent_topics =
        topics::table.filter(topics::user_id.eq(user_id)).order(topics::id.desc()).limit(RECENT).into_boxed();
    if !everything {
        post_count = post_count.filter(readable_post()).filter(topics::held.eq(false));
        recent_posts = recent_posts.filter(readable_post()).filter(topics::held.eq(false));
        topic_count = topic_count.filter(topics::held.eq(false));
        recent_topics = recent_topics.filter(topics::held.eq(false));
    }
    let removed = posts::hidden.or(posts::deleted_at.is_not_null()).or(posts::held).or(topics::held);
    Ok(Activity {
        post_count: post_count.count().get_result(conn)?,
        topic_count: topic_count.count().get_result(conn)?,
        posts: recent_posts
            .select((
                posts::topic_id,
                topics::slug,
                topics::title,
                posts::post_number,
                posts::created_at,
                posts::body_markdown,
                removed,
            ))
            .load(conn)?,
        topics: recent_topics
            .select((topics::id, topics::slug, topics::title, topics::created_at, topics::post_count))
            .load(conn)?,
    })
}

/// A stored picture: its content type and bytes.
pub type Picture = (String, Vec<u8>);

/// What `/avatars/{id}` serves: the username (for the generated picture), the
/// picture's version, and the stored picture if there is one. The Anonymous account
/// has a generated picture like everyone without one.
pub fn avatar_of(conn: &mut DbConn, user_id: i64) -> Result<Option<(String, i64, Option<Picture>)>, DbError> {
    let found = users::table
        .left_join(avatars::table)
        .filter(users::id.eq(user_id))
        .select((users::username, users::avatar_version, avatars::content_type.nullable(), avatars::image.nullable()))
        .first::<(String, i64, Option<String>, Option<Vec<u8>>)>(conn)
        .optional()?;
    Ok(found.map(|(username, version, content_type, image)| (username, version, content_type.zip(image))))
}
