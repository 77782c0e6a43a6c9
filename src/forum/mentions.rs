//! Mentions (`@name`) and quotes (`[quote="name, post:N, topic:T"]`), resolved when a
//! post is saved (no HTTP here). The rendered post links a mentioned member by id and a
//! quote by its post, so a rename breaks neither; `post_mentions` keeps whom a post
//! has referred to, so deleting a member can render those posts again without the link,
//! and nobody hears of the same post twice.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::auth::role::Role;
use crate::db::schema::{post_edits, post_mentions, posts, topics, users};
use crate::db::DbConn;
use crate::text::markdown::{self, Attribution, References};

/// At most this many members hear about one post's mentions.
pub const MAX_NOTIFIED: usize = 10;
/// Names looked up per post (a post listing a hundred names links the first ones).
const MAX_LOOKED_UP: usize = 30;
/// Quotes resolved per post.
const MAX_QUOTES: usize = 10;

/// What a post refers to, resolved: the references the renderer links, and whom to
/// notify.
#[derive(Debug, Default)]
pub struct Resolved {
    pub references: References,
    /// Mentioned members, in the order written, without the author, at most
    /// [`MAX_NOTIFIED`].
    pub mentioned: Vec<i64>,
    /// Authors of quoted posts, without the author.
    pub quoted: Vec<i64>,
}

impl Resolved {
    /// Every member the post refers to, for `post_mentions`.
    fn members(&self) -> Vec<i64> {
        let mut all: Vec<i64> = self.references.mentions.values().copied().chain(self.quoted.iter().copied()).collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// Looks up the names and quoted posts in `markdown`: existing members who are not
/// banned (never the Anonymous account), and posts others may read.
pub fn resolve(conn: &mut DbConn, markdown: &str, author: i64) -> Result<Resolved, diesel::result::Error> {
    resolve_refs(conn, &Refs::of(markdown), author)
}

/// The names and quoted posts a post's text refers to, before they are looked up: read
/// from the text (a parse of all of it) apart from the lookup, so that a caller can
/// read them where parsing is bounded (`forum::rendering`).
#[derive(Debug, Default, Clone)]
pub struct Refs {
    names: Vec<String>,
    quotes: Vec<(i64, i64)>,
}

impl Refs {
    pub fn of(markdown: &str) -> Self {
        Refs {
            names: markdown::mention_candidates(markdown).into_iter().take(MAX_LOOKED_UP).collect(),
            quotes: markdown::quote_sources(markdown).into_iter().take(MAX_QUOTES).collect(),
        }
    }
}

/// [`resolve`], for references read already.
pub fn resolve_refs(conn: &mut DbConn, refs: &Refs, author: i64) -> Result<Resolved, diesel::result::Error> {
    let mut resolved = Resolved::default();
    let names = &refs.names;
    if !names.is_empty() {
        let found: Vec<(i64, String)> = users::table
            .filter(users::username_key.eq_any(names))
            .filter(users::role.ne(Role::System))
            .filter(users::banned.eq(false))
            .select((users::id, users::username_key))
            .load(conn)?;
        let by_key: HashMap<String, i64> = found.into_iter().map(|(id, key)| (key, id)).collect();
        for name in names {
            if let Some(&id) = by_key.get(name) {
                resolved.references.mentions.insert(name.clone(), id);
                if id != author && resolved.mentioned.len() < MAX_NOTIFIED && !resolved.mentioned.contains(&id) {
                    resolved.mentioned.push(id);
                }
            }
        }
    }
    for &(topic_id, number) in &refs.quotes {
        let source: Option<(i64, String, Role, String)> = posts::table
            .inner_join(topics::table)
            .inner_join(users::table)
            .filter(posts::topic_id.eq(topic_id))
            .filter(posts::post_number.eq(number))
            .filter(crate::forum::queries::readable_post())
            .filter(topics::held.eq(false))
            .select((users::id, users::username, users::role, topics::slug))
            .first(conn)
            .optional()?;
        let Some((user_id, username, role, slug)) = source else { continue };
        resolved
            .references
            .quotes
            .insert((topic_id, number), Attribution { name: username, url: format!("/t/{topic_id}/{slug}/{number}") });
        if role != Role::System && user_id != author && !resolved.quoted.contains(&user_id) {
            resolved.quoted.push(user_id);
        }
    }
    Ok(resolved)
}

/// Records whom a post refers to, and returns whom it had referred to before. Rows are
/// only ever added while the post lives: someone mentioned once, edited out and in again,
/// is told once per post, not once per edit.
pub fn record(conn: &mut DbConn, post_id: i64, resolved: &Resolved) -> Result<Vec<i64>, diesel::result::Error> {
    let before: Vec<i64> =
        post_mentions::table.filter(post_mentions::post_id.eq(post_id)).select(post_mentions::user_id).load(conn)?;
    let rows: Vec<_> = resolved
        .members()
        .into_iter()
        .filter(|id| !before.contains(id))
        .map(|user_id| (post_mentions::post_id.eq(post_id), post_mentions::user_id.eq(user_id)))
        .collect();
    if !rows.is_empty() {
        crate::per_backend!(conn, |c| diesel::insert_into(post_mentions::table).values(&rows).execute(c))?;
    }
    Ok(before)
}

/// Deletion, first step: the posts that mention or quote the member (their own posts
/// are Anonymous's by now, so quotes of them will name Anonymous).
pub fn referring(conn: &mut DbConn, user_id: i64) -> Result<Vec<i64>, diesel::result::Error> {
    let mut ids: Vec<i64> =
        post_mentions::table.filter(post_mentions::user_id.eq(user_id)).select(post_mentions::post_id).load(conn)?;
    ids.sort_unstable();
    Ok(ids)
}

/// Deletion, last step, once the member's row is gone: those posts are rendered again,
/// so a mention of them is plain text, and what they refer to is recorded again. Quote
/// headers Agora wrote with the member's name (`deleted_name`) name Anonymous instead,
/// so neither the page, the search index, the stored text nor its edit history keeps it
/// (a hidden quoted post could not be looked up to correct the attribution otherwise).
pub fn render_again(conn: &mut DbConn, post_ids: &[i64], deleted_name: &str) -> Result<(), diesel::result::Error> {
    for &post_id in post_ids {
        let (author, mut body): (i64, String) =
            posts::table.find(post_id).select((posts::user_id, posts::body_markdown)).first(conn)?;
        if let Some(renamed) = markdown::rename_quoted(&body, deleted_name, crate::auth::accounts::ANONYMOUS_NAME) {
            body = renamed;
            diesel::update(posts::table.find(post_id)).set(posts::body_markdown.eq(&body)).execute(conn)?;
        }
        // Earlier versions in the post's edit history quoted them by name too.
        let versions: Vec<(i64, String)> = post_edits::table
            .filter(post_edits::post_id.eq(post_id))
            .select((post_edits::id, post_edits::previous_markdown))
            .load(conn)?;
        for (edit_id, previous) in versions {
            if let Some(renamed) =
                markdown::rename_quoted(&previous, deleted_name, crate::auth::accounts::ANONYMOUS_NAME)
            {
                diesel::update(post_edits::table.find(edit_id))
                    .set(post_edits::previous_markdown.eq(renamed))
                    .execute(conn)?;
            }
        }
        let resolved = resolve(conn, &body, author)?;
        let html = markdown::render_with(&body, &resolved.references);
        diesel::update(posts::table.find(post_id)).set(posts::body_html.eq(html)).execute(conn)?;
        record(conn, post_id, &resolved)?;
    }
    Ok(())
}
