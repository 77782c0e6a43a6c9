//! Moderation in the database: flags, post and topic actions, member standing,
//! categories, IP lookup, privacy requests (no HTTP here). Every staff action writes
//! its audit row in the same transaction.

use diesel::prelude::*;

use crate::auth::role::Role;
use crate::db::schema::{categories, flags, notices, posts, privacy_requests, topics, users};
use crate::db::{now, DbConn, DbError};
use crate::{per_backend, record_audit};

/// The role of the member a staff action targets (never the shared system account),
/// read inside the caller's transaction (`$c` is a concrete connection).
macro_rules! target_role {
    ($c:expr, $member_id:expr) => {
        users::table
            .find($member_id)
            .filter(users::role.ne(Role::System))
            .select(users::role)
            .first::<Role>($c)
            .optional()
            .map_err(ModError::from)
            .and_then(|role| role.ok_or(ModError::NotFound))
    };
}
pub(crate) use target_role;

#[derive(Debug, thiserror::Error)]
pub enum ModError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<ModError> for crate::web::errors::AppError {
    fn from(error: ModError) -> Self {
        use crate::web::errors::AppError;
        match error {
            ModError::NotFound => AppError::NotFound,
            ModError::Refused(message) => AppError::Conflict(message),
            ModError::Db(e) => e.into(),
        }
    }
}

impl From<diesel::result::Error> for ModError {
    fn from(e: diesel::result::Error) -> Self {
        ModError::Db(e.into())
    }
}

/// Files a flag; `false` when this member already flagged this post.
pub fn flag_post(
    conn: &mut DbConn,
    post_id: i64,
    user_id: i64,
    reason: crate::forum::domain::FlagReason,
    details: &str,
) -> Result<bool, ModError> {
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let exists = diesel::select(diesel::dsl::exists(posts::table.find(post_id))).get_result::<bool>(conn)?;
        if !exists {
            return Err(ModError::NotFound);
        }
        let flag = (
            flags::post_id.eq(post_id),
            flags::user_id.eq(user_id),
            flags::reason.eq(reason),
            flags::details.eq(details),
            flags::created_at.eq(now),
        );
        let inserted =
            per_backend!(conn, |c| diesel::insert_into(flags::table).values(flag).on_conflict_do_nothing().execute(c))?;
        Ok(inserted == 1)
    })
}

/// A flagged post waiting for a decision, with every open flag on it.
#[derive(Debug)]
pub struct FlaggedPost {
    pub post_id: i64,
    pub topic_id: i64,
    pub topic_slug: String,
    pub post_number: i64,
    pub author_id: i64,
    pub author: String,
    pub body_html: String,
    pub hidden: bool,
    pub first_flagged_at: i64,
    pub flags: Vec<(String, String, String, i64)>,
}

type FlagRow = (i64, String, String, i64, String, i64, i64, String, i64, String, String, bool);

/// The open flags, grouped by post, oldest first.
pub fn flag_queue(conn: &mut DbConn) -> Result<Vec<FlaggedPost>, DbError> {
    let flagger = diesel::alias!(users as flagger);
    let rows: Vec<FlagRow> = flags::table
        .inner_join(posts::table.inner_join(topics::table).inner_join(users::table))
        .inner_join(flagger.on(flagger.field(users::id).eq(flags::user_id)))
        .filter(flags::resolved_at.is_null())
        .order((flags::created_at, flags::id))
        .select((
            flags::post_id,
            flags::reason,
            flags::details,
            flags::created_at,
            flagger.field(users::username),
            posts::topic_id,
            posts::post_number,
            topics::slug,
            posts::user_id,
            users::username,
            posts::body_html,
            posts::hidden,
        ))
        .load(conn)?;
    let mut queue: Vec<FlaggedPost> = Vec::new();
    for (post_id, reason, details, at, flagged_by, topic_id, number, slug, author_id, author, html, hidden) in rows {
        let flag = (reason, details, flagged_by, at);
        match queue.iter_mut().find(|p| p.post_id == post_id) {
            Some(post) => post.flags.push(flag),
            None => queue.push(FlaggedPost {
                post_id,
                topic_id,
                topic_slug: slug,
                post_number: number,
                author_id,
                author,
                body_html: html,
                hidden,
                first_flagged_at: at,
                flags: vec![flag],
            }),
        }
    }
    Ok(queue)
}

pub fn open_flag_count(conn: &mut DbConn) -> Result<i64, DbError> {
    Ok(flags::table.filter(flags::resolved_at.is_null()).count().get_result(conn)?)
}

/// Closes every open flag on a post with `outcome`, and tells each flagging member.
pub fn resolve_flags(
    conn: &mut DbConn,
    actor: i64,
    post_id: i64,
    outcome: &str,
    reason: &str,
) -> Result<usize, ModError> {
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let flaggers: Vec<i64> = flags::table
            .filter(flags::post_id.eq(post_id))
            .filter(flags::resolved_at.is_null())
            .select(flags::user_id)
            .load(conn)?;
        if flaggers.is_empty() {
            return Err(ModError::NotFound);
        }
        diesel::update(flags::table.filter(flags::post_id.eq(post_id)).filter(flags::resolved_at.is_null()))
            .set((flags::resolved_at.eq(Some(now)), flags::outcome.eq(Some(outcome))))
            .execute(conn)?;
        for flagger in &flaggers {
            diesel::insert_into(notices::table)
                .values((
                    notices::user_id.eq(flagger),
                    notices::message.eq(format!("Thank you for your flag on post {post_id}. Outcome: {outcome}.")),
                    notices::created_at.eq(now),
                ))
                .execute(conn)?;
        }
        record_audit!(conn, actor, format!("resolve flags: {outcome}"), "post", post_id, reason, now)?;
        Ok(flaggers.len())
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostAction {
    Hide,
    Unhide,
    Delete,
    Restore,
}

impl PostAction {
    pub fn name(self) -> &'static str {
        match self {
            PostAction::Hide => "hide post",
            PostAction::Unhide => "unhide post",
            PostAction::Delete => "delete post",
            PostAction::Restore => "restore post",
        }
    }
}

/// Hides, deletes or restores a post. Moderators act on members' posts; an admin's
/// or another moderator's post needs someone who outranks its author.
pub fn act_on_post(
    conn: &mut DbConn,
    actor: i64,
    actor_role: Role,
    post_id: i64,
    action: PostAction,
    reason: &str,
) -> Result<(), ModError> {
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let (author, author_role): (i64, Role) = posts::table
            .inner_join(users::table)
            .filter(posts::id.eq(post_id))
            .select((users::id, users::role))
            .first(conn)
            .optional()?
            .ok_or(ModError::NotFound)?;
        may_act_on_content(actor, actor_role, author, author_role, "post")?;
        let target = posts::table.find(post_id);
        let changed = match action {
            PostAction::Hide => diesel::update(target)
                .set((posts::hidden.eq(true), posts::moderation_reason.eq(Some(reason))))
                .execute(conn)?,
            PostAction::Unhide => diesel::update(target)
                .set((posts::hidden.eq(false), posts::moderation_reason.eq(None::<String>)))
                .execute(conn)?,
            PostAction::Delete => diesel::update(target)
                .set((posts::deleted_at.eq(Some(now)), posts::moderation_reason.eq(Some(reason))))
                .execute(conn)?,
            PostAction::Restore => diesel::update(target)
                .set((posts::deleted_at.eq(None::<i64>), posts::moderation_reason.eq(None::<String>)))
                .execute(conn)?,
        };
        if changed == 0 {
            return Err(ModError::NotFound);
        }
        record_audit!(conn, actor, action.name(), "post", post_id, reason, now)?;
        Ok(())
    })
}

/// Staff act on their own content and on content by those they outrank.
fn may_act_on_content(
    actor: i64,
    actor_role: Role,
    author: i64,
    author_role: Role,
    what: &str,
) -> Result<(), ModError> {
    if author == actor || actor_role.outranks(author_role) {
        return Ok(());
    }
    Err(ModError::Refused(format!(
        "This {what} is by a member of staff: only someone who outranks them can act on it."
    )))
}

#[derive(Debug, Clone)]
pub enum TopicAction {
    Lock(bool),
    Pin(bool),
    Move(i64),
    Rename(String, String),
}

/// Locks, pins, moves or renames a topic; a staff member's topic needs someone who
/// outranks its author, as their posts do.
pub fn act_on_topic(
    conn: &mut DbConn,
    actor: i64,
    actor_role: Role,
    topic_id: i64,
    action: TopicAction,
    reason: &str,
) -> Result<(), ModError> {
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let (author, author_role): (i64, Role) = topics::table
            .inner_join(users::table)
            .filter(topics::id.eq(topic_id))
            .select((users::id, users::role))
            .first(conn)
            .optional()?
            .ok_or(ModError::NotFound)?;
        may_act_on_content(actor, actor_role, author, author_role, "topic")?;
        let (from_category, post_count): (i64, i64) = topics::table
            .find(topic_id)
            .select((topics::category_id, topics::post_count))
            .first(conn)
            .optional()?
            .ok_or(ModError::NotFound)?;
        let target = topics::table.find(topic_id);
        let name = match &action {
            TopicAction::Lock(on) => {
                diesel::update(target).set(topics::locked.eq(on)).execute(conn)?;
                if *on {
                    "lock topic"
                } else {
                    "unlock topic"
                }
            }
            TopicAction::Pin(on) => {
                diesel::update(target).set(topics::pinned.eq(on)).execute(conn)?;
                if *on {
                    "pin topic"
                } else {
                    "unpin topic"
                }
            }
            TopicAction::Move(to) => {
                let exists =
                    diesel::select(diesel::dsl::exists(categories::table.find(to))).get_result::<bool>(conn)?;
                if !exists {
                    return Err(ModError::Refused("There is no such category.".into()));
                }
                diesel::update(target).set(topics::category_id.eq(to)).execute(conn)?;
                diesel::update(categories::table.find(from_category))
                    .set((
                        categories::topic_count.eq(categories::topic_count - 1),
                        categories::post_count.eq(categories::post_count - post_count),
                    ))
                    .execute(conn)?;
                diesel::update(categories::table.find(to))
                    .set((
                        categories::topic_count.eq(categories::topic_count + 1),
                        categories::post_count.eq(categories::post_count + post_count),
                    ))
                    .execute(conn)?;
                "move topic"
            }
            TopicAction::Rename(title, slug) => {
                diesel::update(target).set((topics::title.eq(title), topics::slug.eq(slug))).execute(conn)?;
                "rename topic"
            }
        };
        record_audit!(conn, actor, name, "topic", topic_id, reason, now)?;
        Ok(())
    })
}

/// One earlier version of a post: what it said, who changed it, when, from where.
#[derive(Debug, Queryable)]
pub struct EditRecord {
    pub previous_markdown: String,
    pub editor: String,
    pub edited_at: i64,
    pub edited_from_ip: String,
}

pub fn edit_history(conn: &mut DbConn, post_id: i64) -> Result<Vec<EditRecord>, DbError> {
    use crate::db::schema::post_edits;
    Ok(post_edits::table
        .inner_join(users::table.on(users::id.eq(post_edits::user_id)))
        .filter(post_edits::post_id.eq(post_id))
        .order(post_edits::id)
        .select((post_edits::previous_markdown, users::username, post_edits::edited_at, post_edits::edited_from_ip))
        .load(conn)?)
}

#[derive(Debug, Queryable)]
pub struct MemberRow {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub role: Role,
    pub created_at: i64,
    pub banned: bool,
    pub suspended_until: Option<i64>,
    pub suspension_reason: Option<String>,
}

type MemberColumns = (
    users::id,
    users::username,
    users::email,
    users::role,
    users::created_at,
    users::banned,
    users::suspended_until,
    users::suspension_reason,
);
const MEMBER_COLUMNS: MemberColumns = (
    users::id,
    users::username,
    users::email,
    users::role,
    users::created_at,
    users::banned,
    users::suspended_until,
    users::suspension_reason,
);

/// Members whose username or e-mail contains `query`, or who posted from that IP.
pub fn search_members(conn: &mut DbConn, query: &str) -> Result<Vec<MemberRow>, DbError> {
    let escaped = query.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let pattern = format!("%{escaped}%");
    let exact_ip = query.trim().to_string();
    Ok({
        let by_ip = posts::table.filter(posts::posted_from_ip.eq(&exact_ip)).select(posts::user_id);
        users::table
            .filter(users::role.ne(Role::System))
            .filter(
                users::username_key
                    .like(&pattern)
                    .escape('\\')
                    .or(users::email.like(&pattern).escape('\\'))
                    .or(users::id.eq_any(by_ip)),
            )
            .order(users::username_key)
            .limit(100)
            .select(MEMBER_COLUMNS)
            .load(conn)
    }?)
}

pub fn member(conn: &mut DbConn, id: i64) -> Result<Option<MemberRow>, DbError> {
    Ok(users::table.find(id).filter(users::role.ne(Role::System)).select(MEMBER_COLUMNS).first(conn).optional()?)
}

/// A member's recent posts, their post count, and the IPs their posts came from.
pub struct MemberActivity {
    pub post_count: i64,
    pub recent: Vec<(i64, i64, String, String, i64)>,
    pub ips: Vec<(String, i64)>,
}

pub fn member_activity(conn: &mut DbConn, id: i64) -> Result<MemberActivity, DbError> {
    use diesel::dsl::count_star;
    Ok({
        let post_count = posts::table.filter(posts::user_id.eq(id)).count().get_result(conn)?;
        let recent = posts::table
            .inner_join(topics::table)
            .filter(posts::user_id.eq(id))
            .order(posts::id.desc())
            .limit(10)
            .select((posts::topic_id, posts::post_number, topics::slug, topics::title, posts::created_at))
            .load(conn)?;
        let ips = posts::table
            .filter(posts::user_id.eq(id))
            .group_by(posts::posted_from_ip)
            .select((posts::posted_from_ip, count_star()))
            .load(conn)?;
        Ok::<_, diesel::result::Error>(MemberActivity { post_count, recent, ips })
    }?)
}

#[derive(Debug, Clone)]
pub enum Standing {
    SuspendUntil(i64),
    Ban,
    Lift,
}

/// Changes a member's standing. Moderators cannot act on administrators.
pub fn set_standing(
    conn: &mut DbConn,
    actor: i64,
    actor_role: Role,
    member_id: i64,
    standing: Standing,
    reason: &str,
) -> Result<(), ModError> {
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let role = target_role!(conn, member_id)?;
        if !actor_role.outranks(role) {
            return Err(ModError::Refused(
                "Moderators act on members only, and administrators on moderators and members.".into(),
            ));
        }
        let target = users::table.find(member_id);
        let name = match standing {
            Standing::SuspendUntil(until) => {
                if until <= now {
                    return Err(ModError::Refused("A suspension must end in the future.".into()));
                }
                diesel::update(target)
                    .set((users::suspended_until.eq(Some(until)), users::suspension_reason.eq(Some(reason))))
                    .execute(conn)?;
                "suspend member"
            }
            Standing::Ban => {
                diesel::update(target)
                    .set((users::banned.eq(true), users::suspension_reason.eq(Some(reason))))
                    .execute(conn)?;
                "ban member"
            }
            Standing::Lift => {
                diesel::update(target)
                    .set((
                        users::banned.eq(false),
                        users::suspended_until.eq(None::<i64>),
                        users::suspension_reason.eq(None::<String>),
                    ))
                    .execute(conn)?;
                "lift suspension or ban"
            }
        };
        record_audit!(conn, actor, name, "member", member_id, reason, now)?;
        Ok(())
    })
}

pub fn set_role(conn: &mut DbConn, actor: i64, member_id: i64, role: Role) -> Result<(), ModError> {
    if role == Role::System {
        return Err(ModError::Refused("A role is member, moderator or admin.".into()));
    }
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let changed = diesel::update(users::table.find(member_id).filter(users::role.ne(Role::System)))
            .set(users::role.eq(role))
            .execute(conn)?;
        if changed == 0 {
            return Err(ModError::NotFound);
        }
        record_audit!(conn, actor, format!("set role: {role}"), "member", member_id, "", now)?;
        Ok(())
    })
}

/// Records a staff erasure in the audit log (the erasure itself is account::deletion).
pub fn audit_erasure(conn: &mut DbConn, actor: i64, member_id: i64, reason: &str) -> Result<(), DbError> {
    let now = now();
    record_audit!(conn, actor, "erase account", "member", member_id, reason, now)?;
    Ok(())
}

/// A post found by IP lookup, with its author.
#[derive(Debug, Queryable)]
pub struct IpPost {
    pub user_id: i64,
    pub username: String,
    pub topic_id: i64,
    pub post_number: i64,
    pub topic_slug: String,
    pub topic_title: String,
    pub created_at: i64,
}

/// Accounts that posted from `ip`, and those posts.
pub fn posts_from_ip(conn: &mut DbConn, ip: &str) -> Result<Vec<IpPost>, DbError> {
    Ok(posts::table
        .inner_join(users::table)
        .inner_join(topics::table)
        .filter(posts::posted_from_ip.eq(ip))
        .order(posts::id.desc())
        .limit(200)
        .select((
            users::id,
            users::username,
            posts::topic_id,
            posts::post_number,
            topics::slug,
            topics::title,
            posts::created_at,
        ))
        .load(conn)?)
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = categories)]
pub struct NewCategory<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub position: i32,
}

pub fn create_category(conn: &mut DbConn, actor: i64, new: NewCategory<'_>) -> Result<i64, ModError> {
    save_category(conn, actor, None, new)
}

/// Creates a category, or changes the one with id `existing`; names stay unique.
pub fn save_category(
    conn: &mut DbConn,
    actor: i64,
    existing: Option<i64>,
    new: NewCategory<'_>,
) -> Result<i64, ModError> {
    let now = now();
    let result = conn.write_transaction::<_, ModError, _>(|conn| {
        let (id, action) = match existing {
            None => {
                let id =
                    diesel::insert_into(categories::table).values(&new).returning(categories::id).get_result(conn)?;
                (id, "create category")
            }
            Some(id) => {
                if diesel::update(categories::table.find(id)).set(&new).execute(conn)? == 0 {
                    return Err(ModError::NotFound);
                }
                (id, "update category")
            }
        };
        record_audit!(conn, actor, action, "category", id, new.name, now)?;
        Ok(id)
    });
    match result {
        Err(ModError::Db(e)) if e.is_unique_violation() => {
            Err(ModError::Refused("A category with that name exists.".into()))
        }
        other => other,
    }
}

/// Deletes a category that has no topics.
pub fn delete_category(conn: &mut DbConn, actor: i64, id: i64) -> Result<(), ModError> {
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let has_topics = diesel::select(diesel::dsl::exists(topics::table.filter(topics::category_id.eq(id))))
            .get_result::<bool>(conn)?;
        if has_topics {
            return Err(ModError::Refused("Only an empty category can be deleted; move its topics first.".into()));
        }
        if diesel::delete(categories::table.find(id)).execute(conn)? == 0 {
            return Err(ModError::NotFound);
        }
        record_audit!(conn, actor, "delete category", "category", id, "", now)?;
        Ok(())
    })
}

#[derive(Debug, Queryable)]
pub struct PrivacyRequest {
    pub id: i64,
    pub email: String,
    pub kind: String,
    pub message: String,
    pub status: RequestStatus,
    pub staff_note: String,
    pub refusal_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

crate::text_enum! {
    /// Where a privacy request stands.
    pub enum RequestStatus {
        Open => "open",
        Answered => "answered",
        Refused => "refused",
    }
}

pub const REQUEST_KINDS: &[(&str, &str)] = &[
    ("access", "A copy of my personal information"),
    ("correction", "Correction of my personal information"),
    ("deletion", "Deletion of my personal information"),
    ("third-parties", "The categories of third parties my information was shared with"),
];

/// Requests must be answered within this long.
pub const REQUEST_DEADLINE_SECONDS: i64 = 30 * 86400;

pub fn file_privacy_request(
    conn: &mut DbConn,
    email: &str,
    user_id: Option<i64>,
    kind: &str,
    message: &str,
) -> Result<i64, DbError> {
    let now = now();
    Ok(diesel::insert_into(privacy_requests::table)
        .values((
            privacy_requests::email.eq(email),
            privacy_requests::user_id.eq(user_id),
            privacy_requests::kind.eq(kind),
            privacy_requests::message.eq(message),
            privacy_requests::status.eq(RequestStatus::Open),
            privacy_requests::staff_note.eq(""),
            privacy_requests::created_at.eq(now),
            privacy_requests::updated_at.eq(now),
        ))
        .returning(privacy_requests::id)
        .get_result(conn)?)
}

const REQUEST_COLUMNS: (
    privacy_requests::id,
    privacy_requests::email,
    privacy_requests::kind,
    privacy_requests::message,
    privacy_requests::status,
    privacy_requests::staff_note,
    privacy_requests::refusal_reason,
    privacy_requests::created_at,
    privacy_requests::updated_at,
) = (
    privacy_requests::id,
    privacy_requests::email,
    privacy_requests::kind,
    privacy_requests::message,
    privacy_requests::status,
    privacy_requests::staff_note,
    privacy_requests::refusal_reason,
    privacy_requests::created_at,
    privacy_requests::updated_at,
);

/// How many answered or refused requests a page of the queue shows.
pub const CLOSED_REQUESTS_PER_PAGE: i64 = 50;

/// The privacy-request queue as its page shows it.
pub struct RequestQueue {
    /// Every open request, oldest (nearest its deadline) first.
    pub open: Vec<PrivacyRequest>,
    /// A page of answered and refused ones, newest first.
    pub closed: Vec<PrivacyRequest>,
    /// Where the next page of those starts.
    pub older: Option<i64>,
}

pub fn privacy_requests(conn: &mut DbConn, before: Option<i64>) -> Result<RequestQueue, DbError> {
    let before = before.unwrap_or(i64::MAX);
    let open = privacy_requests::table
        .filter(privacy_requests::status.eq(RequestStatus::Open))
        .order((privacy_requests::created_at, privacy_requests::id))
        .select(REQUEST_COLUMNS)
        .load(conn)?;
    let closed = privacy_requests::table
        .filter(privacy_requests::status.ne(RequestStatus::Open))
        .filter(privacy_requests::id.lt(before))
        .order(privacy_requests::id.desc())
        .limit(CLOSED_REQUESTS_PER_PAGE + 1)
        .select(REQUEST_COLUMNS)
        .load(conn)?;
    let (open, mut closed): (Vec<PrivacyRequest>, Vec<PrivacyRequest>) = (open, closed);
    let older = if closed.len() as i64 > CLOSED_REQUESTS_PER_PAGE {
        closed.truncate(CLOSED_REQUESTS_PER_PAGE as usize);
        closed.last().map(|r| r.id)
    } else {
        None
    };
    Ok(RequestQueue { open, closed, older })
}

pub fn open_request_deadlines(conn: &mut DbConn) -> Result<Vec<i64>, DbError> {
    Ok(privacy_requests::table
        .filter(privacy_requests::status.eq(RequestStatus::Open))
        .order(privacy_requests::created_at)
        .select(privacy_requests::created_at)
        .load::<i64>(conn)?
        .into_iter()
        .map(|at| at + REQUEST_DEADLINE_SECONDS)
        .collect())
}

/// Updates a request's status and notes; returns it for the mail to the requester.
pub fn update_privacy_request(
    conn: &mut DbConn,
    actor: i64,
    id: i64,
    status: RequestStatus,
    note: &str,
    refusal_reason: Option<&str>,
) -> Result<PrivacyRequest, ModError> {
    if status == RequestStatus::Refused && refusal_reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(ModError::Refused("A refusal needs a reason the requester will read.".into()));
    }
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let changed = diesel::update(privacy_requests::table.find(id))
            .set((
                privacy_requests::status.eq(status),
                privacy_requests::staff_note.eq(note),
                privacy_requests::refusal_reason.eq(refusal_reason.filter(|_| status == RequestStatus::Refused)),
                privacy_requests::updated_at.eq(now),
            ))
            .execute(conn)?;
        if changed == 0 {
            return Err(ModError::NotFound);
        }
        record_audit!(conn, actor, format!("privacy request: {status}"), "privacy request", id, note, now)?;
        Ok(privacy_requests::table.find(id).select(REQUEST_COLUMNS).first(conn)?)
    })
}

/// Daily counts over the last `days` days: (day index from the oldest, count).
pub fn daily_counts(conn: &mut DbConn, days: i64) -> Result<[Vec<i64>; 3], DbError> {
    use diesel::sql_types::BigInt;
    #[derive(QueryableByName)]
    struct Day {
        #[diesel(sql_type = BigInt)]
        day: i64,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let today = now() / 86400;
    let since = (today - days + 1) * 86400;
    let queries = [
        format!("SELECT created_at / 86400 AS day, COUNT(*) AS n FROM users WHERE role <> 'system' AND created_at >= {since} GROUP BY created_at / 86400"),
        format!("SELECT created_at / 86400 AS day, COUNT(*) AS n FROM posts WHERE created_at >= {since} GROUP BY created_at / 86400"),
        format!("SELECT created_at / 86400 AS day, COUNT(DISTINCT user_id) AS n FROM posts WHERE created_at >= {since} GROUP BY created_at / 86400"),
    ];
    let mut series: [Vec<i64>; 3] = Default::default();
    for (i, sql) in queries.iter().enumerate() {
        let rows: Vec<Day> = diesel::sql_query(sql).load(conn)?;
        let mut counts = vec![0; days as usize];
        for row in rows {
            let index = row.day - (today - days + 1);
            if (0..days).contains(&index) {
                counts[index as usize] = row.n;
            }
        }
        series[i] = counts;
    }
    Ok(series)
}
