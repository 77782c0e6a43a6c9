//! Categories, topics, posts and likes in the database (no HTTP here).
//! Every list is read through an index: topics by (category, activity), posts by
//! (topic, number), so page 1,000 costs what page 1 does.

use diesel::prelude::*;

use crate::auth::sessions::{Found, SessionLookup, SessionRow};
use crate::db::one_value::one_value;
use crate::db::schema::{categories, likes, post_edits, posts, topics, users};
use crate::db::written_limit::{written, written_limit};
use crate::db::{now, DbConn, DbError};
use crate::forum::notifications::Written;
use crate::forum::read_state::Listed;
use crate::per_backend;

pub const TOPICS_PER_PAGE: i64 = 30;

// Topic lists name who wrote a topic's last post (`topics.last_poster_id`, kept by
// triggers: NULL when that post is not readable).
diesel::alias!(users as last_posters: LastPosters);

/// The last poster's name, after the `last_posters` join.
#[diesel::dsl::auto_type]
pub fn last_poster_name() -> _ {
    last_posters.field(users::username).nullable()
}

/// The join condition of `last_posters` (join it with `left_join`).
#[diesel::dsl::auto_type]
pub fn last_poster_of_topic() -> _ {
    last_posters.field(users::id).nullable().eq(topics::last_poster_id)
}
pub const POSTS_PER_PAGE: i64 = 20;

#[derive(Debug, Clone, Queryable)]
pub struct Category {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub topic_count: i64,
    pub post_count: i64,
    /// Only moderators and admins start topics here (announcements); replies stay open.
    pub staff_only_topics: bool,
}

impl Category {
    /// Whether this visitor may start a topic here (the handlers ask; the page hides the button).
    pub fn may_start_topics(&self, staff: bool) -> bool {
        !self.staff_only_topics || staff
    }
}

type CategoryColumns = (
    categories::id,
    categories::slug,
    categories::name,
    categories::description,
    categories::topic_count,
    categories::post_count,
    categories::staff_only_topics,
);
const CATEGORY_COLUMNS: CategoryColumns = (
    categories::id,
    categories::slug,
    categories::name,
    categories::description,
    categories::topic_count,
    categories::post_count,
    categories::staff_only_topics,
);

pub fn list_categories(conn: &mut DbConn) -> Result<Vec<Category>, DbError> {
    Ok(categories::table.select(CATEGORY_COLUMNS).order((categories::position, categories::id)).load(conn)?)
}

pub fn find_category(conn: &mut DbConn, id: i64) -> Result<Option<Category>, DbError> {
    Ok(categories::table.find(id).select(CATEGORY_COLUMNS).first(conn).optional()?)
}

#[derive(Debug, Clone, Queryable)]
pub struct TopicSummary {
    pub id: i64,
    pub title: String,
    pub slug: String,
    pub author: String,
    pub created_at: i64,
    pub last_post_at: i64,
    pub post_count: i64,
    pub pinned: bool,
    pub locked: bool,
    /// Who wrote the last post, when anyone may read it.
    pub last_poster: Option<String>,
}

impl TopicSummary {
    /// What its read mark needs (a category's list knows its category).
    pub fn listed(&self, category_id: i64) -> Listed {
        Listed { id: self.id, category_id, post_count: self.post_count, created_at: self.created_at }
    }
}

#[diesel::dsl::auto_type]
fn topic_summary_columns() -> _ {
    (
        topics::id,
        topics::title,
        topics::slug,
        users::username,
        topics::created_at,
        topics::last_post_at,
        topics::post_count,
        topics::pinned,
        topics::locked,
        last_poster_name(),
    )
}

/// Where a page of a category's topic list starts: just after this topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicCursor {
    pub last_post_at: i64,
    pub id: i64,
}

impl TopicCursor {
    /// Cursors travel in URLs as `SECONDS.ID`.
    pub fn parse(raw: &str) -> Option<Self> {
        let (at, id) = raw.split_once('.')?;
        Some(TopicCursor { last_post_at: at.parse().ok()?, id: id.parse().ok()? })
    }

    pub fn encode(&self) -> String {
        format!("{}.{}", self.last_post_at, self.id)
    }
}

/// Which page of a category's topic list: the first, the one just older than a
/// cursor ("Older topics"), or the one just newer than it ("Newer topics").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicListPage {
    First,
    After(TopicCursor),
    Before(TopicCursor),
}

/// A page of a category's topics, latest activity first.
#[derive(Debug, Clone)]
pub struct TopicList {
    pub topics: Vec<TopicSummary>,
    /// Where the next older page starts, when there is one.
    pub older: Option<TopicCursor>,
    /// Where the next newer page ends, when this is not the top of the list.
    pub newer: Option<TopicCursor>,
}

/// One page of a category's topics, latest activity first, with the cursors of the
/// pages on either side. Both directions are a range on `(category, last_post_at, id)`:
/// a newer page reads upwards from its cursor and is turned round, so page 300 costs
/// what page 1 does whichever way the reader goes.
pub fn list_topics(conn: &mut DbConn, category_id: i64, page: TopicListPage) -> Result<TopicList, DbError> {
    let query = topics::table
        .inner_join(users::table)
        .left_join(last_posters.on(last_poster_of_topic()))
        .filter(topics::category_id.eq(category_id))
        // Flags written into the text, not bound, so the plan PostgreSQL keeps for the
        // statement knows them (see `db::written_limit`).
        .filter(topics::pinned.eq(written(false)))
        .filter(topics::held.eq(written(false)))
        .select(topic_summary_columns())
        .into_boxed();
    let cursor_of = |t: &TopicSummary| TopicCursor { last_post_at: t.last_post_at, id: t.id };
    match page {
        TopicListPage::First | TopicListPage::After(_) => {
            let mut query = query.order((topics::last_post_at.desc(), topics::id.desc()));
            if let TopicListPage::After(cursor) = page {
                // Written as a range on `last_post_at` (then the tie-break), so a deep page
                // starts in the index where it should: `a < x OR (a = x AND id < y)` is not
                // used as a range by SQLite, and page N would scan N pages of entries first.
                query = query
                    .filter(topics::last_post_at.le(cursor.last_post_at))
                    .filter(topics::last_post_at.lt(cursor.last_post_at).or(topics::id.lt(cursor.id)));
            }
            let mut topics: Vec<TopicSummary> = written_limit(query, TOPICS_PER_PAGE + 1).load(conn)?;
            let older = (topics.len() as i64 > TOPICS_PER_PAGE).then(|| {
                topics.truncate(TOPICS_PER_PAGE as usize);
                topics.last().map(cursor_of)
            });
            let newer = match page {
                TopicListPage::First => None,
                _ => topics.first().map(cursor_of),
            };
            Ok(TopicList { topics, older: older.flatten(), newer })
        }
        TopicListPage::Before(cursor) => {
            let query = query
                .order((topics::last_post_at.asc(), topics::id.asc()))
                .filter(topics::last_post_at.ge(cursor.last_post_at))
                .filter(topics::last_post_at.gt(cursor.last_post_at).or(topics::id.gt(cursor.id)));
            let mut topics: Vec<TopicSummary> = written_limit(query, TOPICS_PER_PAGE + 1).load(conn)?;
            let more_newer = topics.len() as i64 > TOPICS_PER_PAGE;
            topics.truncate(TOPICS_PER_PAGE as usize);
            topics.reverse();
            let newer = if more_newer { topics.first().map(cursor_of) } else { None };
            // A newer page always has the page it came from below it.
            let older = topics.last().map(cursor_of);
            Ok(TopicList { topics, older, newer })
        }
    }
}

/// A category's pinned topics, shown above the others on its first page.
pub fn pinned_topics(conn: &mut DbConn, category_id: i64) -> Result<Vec<TopicSummary>, DbError> {
    Ok(topics::table
        .inner_join(users::table)
        .left_join(last_posters.on(last_poster_of_topic()))
        .filter(topics::category_id.eq(category_id))
        .filter(topics::pinned.eq(written(true)))
        .filter(topics::held.eq(written(false)))
        .select(topic_summary_columns())
        .order((topics::last_post_at.desc(), topics::id.desc()))
        .load(conn)?)
}

#[derive(Debug, Queryable, Clone)]
pub struct TopicHeader {
    pub id: i64,
    pub title: String,
    pub slug: String,
    pub post_count: i64,
    pub locked: bool,
    pub pinned: bool,
    pub category_id: i64,
    pub category_name: String,
    pub category_slug: String,
    /// Its first post waits for review: only its author and staff see it.
    pub held: bool,
    pub user_id: i64,
}

impl TopicHeader {
    /// A topic held for review exists only for its author and staff.
    pub fn visible_to(&self, viewer: Option<i64>, staff: bool) -> bool {
        !self.held || staff || viewer == Some(self.user_id)
    }
}

pub fn find_topic(conn: &mut DbConn, id: i64) -> Result<Option<TopicHeader>, DbError> {
    Ok(topics::table
        .inner_join(categories::table)
        .filter(topics::id.eq(id))
        .select((
            topics::id,
            topics::title,
            topics::slug,
            topics::post_count,
            topics::locked,
            topics::pinned,
            categories::id,
            categories::name,
            categories::slug,
            topics::held,
            topics::user_id,
        ))
        .first(conn)
        .optional()?)
}

#[derive(Debug, Queryable)]
pub struct PostView {
    pub id: i64,
    pub post_number: i64,
    pub user_id: i64,
    pub author: String,
    /// The author's picture version, for `/avatars/{id}?v=`.
    pub avatar_version: i64,
    pub body_html: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub like_count: i64,
    pub hidden: bool,
    pub deleted_at: Option<i64>,
    pub moderation_reason: Option<String>,
    /// Waits for a moderator's review: shown to its author and staff only.
    pub held: bool,
}

/// The posts numbered `first..first + POSTS_PER_PAGE` of a topic, as every reader sees
/// them: one indexed range scan, one query.
pub fn page_of_posts(conn: &mut DbConn, topic_id: i64, first: i64) -> Result<Vec<PostView>, DbError> {
    Ok(posts::table
        .inner_join(users::table)
        .filter(posts::topic_id.eq(topic_id))
        .filter(posts::post_number.ge(first))
        .filter(posts::post_number.lt(first + POSTS_PER_PAGE))
        .select((
            posts::id,
            posts::post_number,
            posts::user_id,
            users::username,
            users::avatar_version,
            posts::body_html,
            posts::created_at,
            posts::edited_at,
            posts::like_count,
            posts::hidden,
            posts::deleted_at,
            posts::moderation_reason,
            posts::held,
        ))
        .order(posts::post_number)
        .load(conn)?)
}

/// The posts on that page of a topic (an index range on (topic, number)).
#[diesel::dsl::auto_type]
fn on_page(topic_id: i64, first: i64) -> _ {
    let last: i64 = first + POSTS_PER_PAGE;
    posts::topic_id.eq(topic_id).and(posts::post_number.ge(first)).and(posts::post_number.lt(last))
}

/// What a member's topic page needs of their own: how far they had read, their watch
/// level, which of the page's posts they liked, and whether they blocked anyone at all
/// (the list itself is read only then).
pub struct TopicReader {
    pub position: Option<i64>,
    pub watch: Option<crate::forum::watching::WatchLevel>,
    pub blocks_anyone: bool,
    liked: Vec<i64>,
    /// The posts whose likes were asked about: `None` for the page's posts as they are.
    asked: Option<Vec<i64>>,
}

impl TopicReader {
    /// The posts they liked among `post_ids` (the page's), when the statement asked
    /// about these.
    pub fn liked_among(&self, post_ids: &[i64]) -> Option<&[i64]> {
        let asked = self.asked.as_ref().is_none_or(|asked| asked == post_ids);
        asked.then_some(&self.liked)
    }
}

/// The session behind a cookie token and its member's [`TopicReader`], in the session's
/// own statement: on PostgreSQL every statement is a round trip, and a member's topic
/// page used to make five. `shown`: the posts the page showed last (kept rows).
///
/// Their likes are asked about differently on each backend. PostgreSQL probes the likes
/// of the posts shown (`= ANY`), so the statement reads no posts (members' topic page
/// +7-16%, A/B); if the page's posts have changed since, [`liked_among`] asks again.
/// SQLite would build a table of the ids at every execution (2.5 µs more than the join,
/// measured), so there the page's posts are joined to the member's likes, which needs no ids.
pub fn topic_reader(
    conn: &mut DbConn,
    token: &str,
    topic_id: i64,
    first: i64,
    shown: Vec<i64>,
) -> Result<Option<(Found, TopicReader)>, DbError> {
    use crate::db::id_list::{id_list, in_ids, parse_ids};
    use crate::db::schema::{member_blocks as blocks, topic_reads, topic_watches};
    use crate::forum::watching::WatchLevel;
    let lookup = SessionLookup::for_token(token);
    let position = one_value(
        topic_reads::table
            .filter(topic_reads::user_id.eq(users::id))
            .filter(topic_reads::topic_id.eq(topic_id))
            .select(topic_reads::last_read_post_number),
    );
    let watch = one_value(
        topic_watches::table
            .filter(topic_watches::user_id.eq(users::id))
            .filter(topic_watches::topic_id.eq(topic_id))
            .select(topic_watches::level),
    );
    let blocks_anyone = diesel::dsl::exists(blocks::table.filter(blocks::user_id.eq(users::id)));
    type Row = (SessionRow, (Option<i64>, Option<WatchLevel>, Option<String>, bool));
    let (row, asked) = match conn {
        DbConn::Postgres(c) => {
            let liked = one_value(
                likes::table
                    .filter(likes::user_id.eq(users::id))
                    .filter(in_ids(likes::post_id, &shown))
                    .select(id_list(likes::post_id)),
            );
            let query = lookup.sessions().select((lookup.columns(), (position, watch, liked, blocks_anyone)));
            (query.get_result::<Row>(c).optional()?, Some(shown))
        }
        DbConn::Sqlite(c) => {
            let liked = one_value(
                posts::table
                    .inner_join(likes::table.on(likes::post_id.eq(posts::id)))
                    .filter(likes::user_id.eq(users::id))
                    .filter(on_page(topic_id, first))
                    .select(id_list(posts::id)),
            );
            let query = lookup.sessions().select((lookup.columns(), (position, watch, liked, blocks_anyone)));
            (query.get_result::<Row>(c).optional()?, None)
        }
    };
    let Some((session, (position, watch, liked, blocks_anyone))) = row else { return Ok(None) };
    let liked = parse_ids(liked.as_deref())?;
    Ok(Some((lookup.found(session)?, TopicReader { position, watch, blocks_anyone, liked, asked })))
}

/// Which of these posts the member liked.
pub fn liked_among(conn: &mut DbConn, user_id: i64, post_ids: &[i64]) -> Result<Vec<i64>, DbError> {
    use crate::db::id_list::in_ids;
    let query = likes::table.filter(likes::user_id.eq(user_id)).filter(in_ids(likes::post_id, post_ids));
    Ok(per_backend!(conn, |c| query.select(likes::post_id).load(c))?)
}

/// Posts anyone may read: not hidden, not deleted, not waiting for review.
#[diesel::dsl::auto_type]
pub fn readable_post() -> _ {
    posts::hidden.eq(false).and(posts::deleted_at.is_null()).and(posts::held.eq(false))
}

/// A post others may read, for quoting: its author's name and its Markdown.
pub fn quotable_post(conn: &mut DbConn, topic_id: i64, number: i64) -> Result<Option<(String, String)>, DbError> {
    Ok(posts::table
        .inner_join(users::table)
        .filter(posts::topic_id.eq(topic_id))
        .filter(posts::post_number.eq(number))
        .filter(readable_post())
        .select((users::username, posts::body_markdown))
        .first(conn)
        .optional()?)
}

pub struct NewPost<'a> {
    pub user_id: i64,
    pub markdown: &'a str,
    pub html: &'a str,
    pub ip: &'a str,
    /// Held for a moderator's review (a new member's first posts, when the forum asks).
    pub held: bool,
    /// Whom it mentions and quotes: recorded with it, and (unless held) notified.
    pub refers: &'a crate::forum::mentions::Resolved,
}

/// A post as stored (also what `agora seed` inserts in batches).
#[derive(Insertable)]
#[diesel(table_name = posts)]
pub struct PostRow<'a> {
    pub topic_id: i64,
    pub post_number: i64,
    pub user_id: i64,
    pub body_markdown: &'a str,
    pub body_html: &'a str,
    pub created_at: i64,
    pub posted_from_ip: &'a str,
    pub held: bool,
}

#[derive(Insertable)]
#[diesel(table_name = topics)]
struct TopicRow<'a> {
    category_id: i64,
    user_id: i64,
    title: &'a str,
    slug: &'a str,
    created_at: i64,
    last_post_at: i64,
    post_count: i64,
    held: bool,
}

/// Creates a topic and its first post together: both or neither.
pub fn create_topic(
    conn: &mut DbConn,
    category_id: i64,
    title: &str,
    slug: &str,
    post: NewPost<'_>,
) -> Result<i64, DbError> {
    let now = now();
    Ok(conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        let topic_id = diesel::insert_into(topics::table)
            .values(&TopicRow {
                category_id,
                user_id: post.user_id,
                title,
                slug,
                created_at: now,
                last_post_at: now,
                post_count: 1,
                held: post.held,
            })
            .returning(topics::id)
            .get_result::<i64>(conn)?;
        let post_id = diesel::insert_into(posts::table)
            .values(&PostRow {
                topic_id,
                post_number: 1,
                user_id: post.user_id,
                body_markdown: post.markdown,
                body_html: post.html,
                created_at: now,
                posted_from_ip: post.ip,
                held: post.held,
            })
            .returning(posts::id)
            .get_result::<i64>(conn)?;
        crate::forum::read_state::read_own_post(conn, post.user_id, topic_id, 1)?;
        post_refers(conn, &post, Placed { category_id, topic_id, post_id, written: Written::NewTopic })?;
        diesel::update(categories::table.find(category_id))
            .set((
                categories::topic_count.eq(categories::topic_count + 1),
                categories::post_count.eq(categories::post_count + 1),
            ))
            .execute(conn)?;
        Ok(topic_id)
    })?)
}

/// Where a new post went.
struct Placed {
    category_id: i64,
    topic_id: i64,
    post_id: i64,
    written: Written,
}

/// A new post's mentions and quotes: recorded with it, and notified in the same
/// transaction, unless it waits for review (nobody else can read it yet).
fn post_refers(conn: &mut DbConn, post: &NewPost<'_>, placed: Placed) -> Result<(), diesel::result::Error> {
    // An edit tells only whom it newly refers to: nobody hears of the same mention twice.
    let before = crate::forum::mentions::record(conn, placed.post_id, post.refers)?;
    let new = |ids: &[i64]| -> Vec<i64> { ids.iter().copied().filter(|id| !before.contains(id)).collect() };
    let (mentioned, quoted) = (new(&post.refers.mentioned), new(&post.refers.quoted));
    if !post.held {
        let event = crate::forum::notifications::PostEvent {
            actor: post.user_id,
            category_id: placed.category_id,
            topic_id: placed.topic_id,
            post_id: placed.post_id,
            written: placed.written,
            mentioned: &mentioned,
            quoted: &quoted,
        };
        crate::forum::notifications::post_written(conn, &event)?;
    }
    if matches!(placed.written, Written::Reply { .. }) {
        crate::forum::watching::watch_on_reply(conn, post.user_id, placed.topic_id)?;
    }
    Ok(())
}

pub enum ReplyOutcome {
    Posted(i64),
    NoSuchTopic,
    Locked,
}

/// Appends a reply to an open topic and returns its number.
pub fn create_reply(conn: &mut DbConn, topic_id: i64, post: NewPost<'_>) -> Result<ReplyOutcome, DbError> {
    let now = now();
    Ok(conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        // Taking the number by incrementing the counter first locks the topic row, so
        // concurrent replies queue up instead of claiming the same number.
        // A reply held for review does not bump the topic: it is not there for others yet.
        let open_topic = topics::table.find(topic_id).filter(topics::locked.eq(false));
        let claimed = if post.held {
            diesel::update(open_topic)
                .set(topics::post_count.eq(topics::post_count + 1))
                .returning((topics::post_count, topics::category_id, topics::user_id))
                .get_result::<(i64, i64, i64)>(conn)
                .optional()?
        } else {
            diesel::update(open_topic)
                .set((topics::post_count.eq(topics::post_count + 1), topics::last_post_at.eq(now)))
                .returning((topics::post_count, topics::category_id, topics::user_id))
                .get_result::<(i64, i64, i64)>(conn)
                .optional()?
        };
        let Some((post_number, category_id, starter)) = claimed else {
            let exists = diesel::select(diesel::dsl::exists(topics::table.find(topic_id))).get_result::<bool>(conn)?;
            return Ok(if exists { ReplyOutcome::Locked } else { ReplyOutcome::NoSuchTopic });
        };
        let post_id = diesel::insert_into(posts::table)
            .values(&PostRow {
                topic_id,
                post_number,
                user_id: post.user_id,
                body_markdown: post.markdown,
                body_html: post.html,
                created_at: now,
                posted_from_ip: post.ip,
                held: post.held,
            })
            .returning(posts::id)
            .get_result::<i64>(conn)?;
        crate::forum::read_state::read_own_post(conn, post.user_id, topic_id, post_number)?;
        post_refers(
            conn,
            &post,
            Placed { category_id, topic_id, post_id, written: Written::Reply { topic_starter: starter } },
        )?;
        diesel::update(categories::table.find(category_id))
            .set(categories::post_count.eq(categories::post_count + 1))
            .execute(conn)?;
        Ok(ReplyOutcome::Posted(post_number))
    })?)
}

/// Whether a member's next post waits for review: while fewer than `first_posts` of
/// their posts have been let through and still stand (deleted or hidden ones do not
/// count, so a spammer whose first post was removed stays held). 0 turns holding off.
/// Counts at most `first_posts` rows, whatever the member has written.
pub fn must_hold(conn: &mut DbConn, user_id: i64, first_posts: i64) -> Result<bool, DbError> {
    if first_posts <= 0 {
        return Ok(false);
    }
    let approved: Vec<i64> = posts::table
        .filter(posts::user_id.eq(user_id))
        .filter(readable_post())
        .select(posts::id)
        .limit(first_posts)
        .load(conn)?;
    Ok((approved.len() as i64) < first_posts)
}

#[derive(Debug, Queryable)]
pub struct EditablePost {
    pub id: i64,
    pub topic_id: i64,
    pub post_number: i64,
    pub user_id: i64,
    pub body_markdown: String,
    pub topic_title: String,
    pub topic_slug: String,
    /// Hidden or deleted by a moderator.
    pub moderated: bool,
    /// The topic takes no more replies, edits or likes from members.
    pub topic_locked: bool,
    /// Waits for review: not to be liked or flagged by others yet.
    pub held: bool,
}

pub fn find_post(conn: &mut DbConn, post_id: i64) -> Result<Option<EditablePost>, DbError> {
    Ok(posts::table
        .inner_join(topics::table)
        .filter(posts::id.eq(post_id))
        .select((
            posts::id,
            posts::topic_id,
            posts::post_number,
            posts::user_id,
            posts::body_markdown,
            topics::title,
            topics::slug,
            posts::hidden.or(posts::deleted_at.is_not_null()),
            topics::locked,
            posts::held,
        ))
        .first(conn)
        .optional()?)
}

#[derive(Insertable)]
#[diesel(table_name = post_edits)]
struct PostEditRow<'a> {
    post_id: i64,
    user_id: i64,
    previous_markdown: &'a str,
    edited_at: i64,
    edited_from_ip: &'a str,
}

/// Replaces a post's text, keeping what it said before, who changed it and from where.
pub fn edit_post(conn: &mut DbConn, post_id: i64, edit: NewPost<'_>) -> Result<(), DbError> {
    let now = now();
    Ok(conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        let (previous, number, topic_id, category_id, readable): (String, i64, i64, i64, bool) = posts::table
            .inner_join(topics::table)
            .filter(posts::id.eq(post_id))
            .select((
                posts::body_markdown,
                posts::post_number,
                topics::id,
                topics::category_id,
                readable_post().and(topics::held.eq(false)),
            ))
            .first(conn)?;
        diesel::insert_into(post_edits::table)
            .values(&PostEditRow {
                post_id,
                user_id: edit.user_id,
                previous_markdown: &previous,
                edited_at: now,
                edited_from_ip: edit.ip,
            })
            .execute(conn)?;
        diesel::update(posts::table.find(post_id))
            .set((
                posts::body_markdown.eq(edit.markdown),
                posts::body_html.eq(edit.html),
                posts::edited_at.eq(Some(now)),
            ))
            .execute(conn)?;
        // `edit.held`: its author is still under review, so the post (and a first post's
        // topic) waits for a moderator again.
        if edit.held {
            diesel::update(posts::table.find(post_id)).set(posts::held.eq(true)).execute(conn)?;
            if number == 1 {
                diesel::update(topics::table.find(topic_id)).set(topics::held.eq(true)).execute(conn)?;
            }
        }
        // An edit links what it now mentions; only members it newly mentions or quotes
        // hear of it, and only if others can read the post.
        let edit = NewPost { held: edit.held || !readable, ..edit };
        post_refers(conn, &edit, Placed { category_id, topic_id, post_id, written: Written::Edit })?;
        Ok(())
    })?)
}

/// Likes (or, with `like == false`, un-likes) a post. Liking twice counts once.
pub fn set_like(conn: &mut DbConn, post_id: i64, user_id: i64, like: bool) -> Result<(), DbError> {
    let now = now();
    Ok(conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        let (changed, delta) = if like {
            let like = (likes::post_id.eq(post_id), likes::user_id.eq(user_id), likes::created_at.eq(now));
            let inserted = per_backend!(conn, |c| diesel::insert_into(likes::table)
                .values(like)
                .on_conflict_do_nothing()
                .execute(c))?;
            (inserted, 1)
        } else {
            let deleted = diesel::delete(likes::table.find((post_id, user_id))).execute(conn)?;
            (deleted, -1)
        };
        if changed == 1 {
            diesel::update(posts::table.find(post_id))
                .set(posts::like_count.eq(posts::like_count + delta))
                .execute(conn)?;
            if like {
                crate::forum::notifications::liked(conn, user_id, post_id)?;
            }
        }
        Ok(())
    })?)
}
