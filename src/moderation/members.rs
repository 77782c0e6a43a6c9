//! Members as staff see them: the list (newest first, by role and standing) and search,
//! the member page, standing (suspend, ban, lift), roles, staff erasure and the IP lookup.

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use crate::account::deletion;
use crate::auth::forms::CsrfForm;
use crate::auth::role::Role;
use crate::auth::visitor::Visitor;
use crate::db::schema::{posts, topics, users};
use crate::db::{now, DbConn, DbError};
use crate::moderation::audit::{AuditAction, AuditTarget};
use crate::moderation::{parse_date, required_reason, target_role, DecisionForm, ModError};
use crate::record_audit;
use crate::web::errors::AppError;
use crate::web::{filters, render, see_other};
use crate::AppState;

/// What the members page was asked for: a search, filters, and where the page starts.
#[derive(Deserialize)]
pub struct MembersQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    standing: String,
    before: Option<i64>,
}

/// Where a member stands, as the members page filters by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandingFilter {
    /// Neither banned nor suspended now.
    Active,
    /// Suspended until a date still to come (and not banned).
    Suspended,
    Banned,
}

impl StandingFilter {
    pub const ALL: [StandingFilter; 3] = [StandingFilter::Active, StandingFilter::Suspended, StandingFilter::Banned];

    pub fn as_str(self) -> &'static str {
        match self {
            StandingFilter::Active => "active",
            StandingFilter::Suspended => "suspended",
            StandingFilter::Banned => "banned",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// Which members the page lists: a role, a standing, both or neither.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemberFilter {
    pub role: Option<Role>,
    pub standing: Option<StandingFilter>,
}

impl MemberFilter {
    /// The filters from the page's form: an empty field is "any".
    fn parse(role: &str, standing: &str) -> Result<Self, AppError> {
        let role = match role.trim() {
            "" => None,
            raw => Some(
                Role::parse_assignable(raw)
                    .ok_or_else(|| AppError::BadRequest("A role is member, moderator or admin.".into()))?,
            ),
        };
        let standing = match standing.trim() {
            "" => None,
            raw => Some(
                StandingFilter::parse(raw)
                    .ok_or_else(|| AppError::BadRequest("A standing is active, suspended or banned.".into()))?,
            ),
        };
        Ok(MemberFilter { role, standing })
    }
}

/// One choice of a filter's select: its value, its words, and whether it is chosen.
pub struct FilterOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "admin/members.html")]
struct MembersPage {
    visitor: Visitor,
    query: String,
    filter: MemberFilter,
    members: Vec<MemberRow>,
    /// The next page's address, when there are older members.
    older: Option<String>,
    /// Whether this is a later page (so the page links back to the newest).
    paged: bool,
}

impl MembersPage {
    fn role_options(&self) -> Vec<FilterOption> {
        let any = FilterOption { value: "", label: "Any role", selected: self.filter.role.is_none() };
        let roles = Role::ASSIGNABLE.into_iter().map(|role| FilterOption {
            value: role.as_str(),
            label: role.as_str(),
            selected: self.filter.role == Some(role),
        });
        std::iter::once(any).chain(roles).collect()
    }

    fn standing_options(&self) -> Vec<FilterOption> {
        let any = FilterOption { value: "", label: "Any standing", selected: self.filter.standing.is_none() };
        let standings = StandingFilter::ALL.into_iter().map(|standing| FilterOption {
            value: standing.as_str(),
            label: standing.as_str(),
            selected: self.filter.standing == Some(standing),
        });
        std::iter::once(any).chain(standings).collect()
    }

    /// The member's standing in words: "active", "banned" or "suspended until …".
    fn standing_of(&self, member: &MemberRow) -> String {
        match member.suspended_until {
            _ if member.banned => "banned".into(),
            Some(until) if until > now() => {
                format!("suspended until {}", filters::when(until, askama::NO_VALUES).unwrap_or_default())
            }
            _ => "active".into(),
        }
    }

    /// The newest page with the same filters.
    fn first_page(&self) -> String {
        members_address(&self.filter, None)
    }
}

/// The members page's address for these filters, from member `before` on.
fn members_address(filter: &MemberFilter, before: Option<i64>) -> String {
    let role = filter.role.map_or("", Role::as_str);
    let standing = filter.standing.map_or("", StandingFilter::as_str);
    let mut address = format!("/admin/members?role={role}&standing={standing}");
    if let Some(before) = before {
        address.push_str(&format!("&before={before}"));
    }
    address
}

/// Lists members newest first, a page at a time, or the ones a search finds; both
/// narrowed by role and standing.
pub(super) async fn search_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<MembersQuery>,
) -> Result<HttpResponse, AppError> {
    visitor.staff()?;
    let MembersQuery { q, role, standing, before } = query.into_inner();
    let filter = MemberFilter::parse(&role, &standing)?;
    let q = q.trim().to_string();
    let lookup = q.clone();
    let (members, older) = if q.is_empty() {
        state.db.run(move |c| list_members(c, filter, before)).await?
    } else {
        (state.db.run(move |c| search_members(c, &lookup, filter)).await?, None)
    };
    let older = older.map(|id| members_address(&filter, Some(id)));
    let paged = q.is_empty() && before.is_some();
    render(&MembersPage { visitor, query: q, filter, members, older, paged })
}

#[derive(Template)]
#[template(path = "admin/member.html")]
struct MemberPage {
    visitor: Visitor,
    member: MemberRow,
    activity: MemberActivity,
    restriction: Option<String>,
    /// What the last action on this member did.
    done: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// The confirmation after an action on the member page (`?done=`), in fixed words.
fn member_notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "suspended" => "The member is suspended.",
        "banned" => "The member is banned.",
        "lifted" => "The suspension or ban is lifted.",
        "role" => "Their role is changed.",
        "posts-deleted" => "Every post of theirs is deleted; each can still be restored from its topic.",
        _ => return None,
    })
}

pub(super) async fn member_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    visitor.staff()?;
    let id = path.into_inner();
    let (member, activity) = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let member = member(c, id)?.ok_or(AppError::NotFound)?;
            Ok((member, member_activity(c, id)?))
        })
        .await?;
    let restriction = crate::auth::sessions::restriction(
        member.banned,
        member.suspended_until,
        member.suspension_reason.as_deref(),
        now(),
    );
    let done = member_notice(query.done.as_deref());
    render(&MemberPage { visitor, member, activity, restriction, done })
}

pub(super) async fn member_standing(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Result<HttpResponse, AppError> {
    let staff = visitor.staff()?.clone();
    let id = path.into_inner();
    let reason = required_reason(&form.reason)?;
    let (standing, done) = match form.action.as_str() {
        "suspend" => (Standing::SuspendUntil(parse_date(&form.until)?), "suspended"),
        "ban" => (Standing::Ban, "banned"),
        "lift" => (Standing::Lift, "lifted"),
        _ => return Err(AppError::BadRequest("Choose suspend, ban or lift.".into())),
    };
    state.db.run(move |c| set_standing(c, staff.user_id, staff.role, id, standing, &reason)).await?;
    Ok(see_other(&format!("/admin/members/{id}?done={done}")))
}

pub(super) async fn erase_member(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Result<HttpResponse, AppError> {
    let staff = visitor.staff()?.clone();
    let id = path.into_inner();
    // The ledger and the audit log record a fixed category, never the staff's free
    // text, which could describe the person.
    let reason = deletion::ErasureReason::parse_staff_choice(&form.category)
        .ok_or_else(|| AppError::BadRequest("Choose why the account is erased.".into()))?;
    let member = state.db.run(move |c| member(c, id)).await?.ok_or(AppError::NotFound)?;
    if !staff.role.outranks(member.role) {
        return Err(AppError::Conflict(
            "Moderators act on members only; erasing a moderator takes an administrator.".into(),
        ));
    }
    // Erasing staff cannot be undone: the administrator proves who they are again.
    if member.role != Role::Member {
        let proof =
            crate::auth::proof::proof_of_identity(&state, &staff, form.current_password.clone(), "erase").await?;
        if let Some(message) = proof {
            return Err(AppError::Forbidden(message));
        }
    }
    // The erasure and its audit row: one transaction, both or neither.
    let deleted = state
        .db
        .run(move |c| {
            c.write_transaction(|c| -> Result<_, AppError> {
                let deleted = deletion::delete_account(c, id, reason)?;
                if deleted.is_some() {
                    audit_erasure(c, staff.user_id, id, reason.as_str())?;
                }
                Ok(deleted)
            })
        })
        .await?;
    if let Some(deleted) = deleted {
        deletion::after_deletion(&state, deleted).await;
    }
    Ok(see_other("/admin/members"))
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub(super) async fn member_role(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let admin = visitor.admin()?.user_id;
    let id = path.into_inner();
    let role = Role::parse_assignable(&form.role)
        .ok_or_else(|| AppError::BadRequest("A role is member, moderator or admin.".into()))?;
    state.db.run(move |c| set_role(c, admin, id, role)).await?;
    Ok(see_other(&format!("/admin/members/{id}?done=role")))
}

#[derive(Template)]
#[template(path = "admin/ip.html")]
struct IpPage {
    visitor: Visitor,
    ip: String,
    posts: Vec<IpPost>,
}

#[derive(Deserialize)]
pub struct IpQuery {
    #[serde(default)]
    ip: String,
}

pub(super) async fn ip_lookup(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<IpQuery>,
) -> Result<HttpResponse, AppError> {
    visitor.staff()?;
    let ip = query.into_inner().ip.trim().to_string();
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(AppError::BadRequest(format!("{ip:?} is not an IP address.")));
    }
    let lookup = ip.clone();
    let posts = if ip.is_empty() { Vec::new() } else { state.db.run(move |c| posts_from_ip(c, &lookup)).await? };
    render(&IpPage { visitor, ip, posts })
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

/// How many members a page of the list shows.
pub const MEMBERS_PER_PAGE: i64 = 50;

/// Members (never the system account) narrowed by `filter`, as a boxed query to add to.
/// Standing is written as the partial indexes on banned and suspended members are
/// (`banned`, `suspended_until IS NOT NULL`), so both backends can use them.
fn filtered_members<'a>(filter: MemberFilter, now: i64) -> users::BoxedQuery<'a, crate::db::MultiBackend> {
    let mut query = users::table.filter(users::role.ne(Role::System)).into_boxed();
    if let Some(role) = filter.role {
        query = query.filter(users::role.eq(role));
    }
    match filter.standing {
        None => query,
        Some(StandingFilter::Banned) => query.filter(users::banned),
        Some(StandingFilter::Suspended) => query
            .filter(users::suspended_until.is_not_null())
            .filter(users::suspended_until.gt(now))
            .filter(diesel::dsl::not(users::banned)),
        Some(StandingFilter::Active) => query
            .filter(diesel::dsl::not(users::banned))
            .filter(users::suspended_until.is_null().or(users::suspended_until.le(now))),
    }
}

/// A page of members, newest first, before member `before` when given, and the id the
/// next page starts before (when there is one). Reads the primary key backwards, or
/// `users_by_role` with a role, or a standing's partial index: never more than a page
/// and one row.
pub fn list_members(
    conn: &mut DbConn,
    filter: MemberFilter,
    before: Option<i64>,
) -> Result<(Vec<MemberRow>, Option<i64>), DbError> {
    let mut members: Vec<MemberRow> = filtered_members(filter, now())
        .filter(users::id.lt(before.unwrap_or(i64::MAX)))
        .order(users::id.desc())
        .limit(MEMBERS_PER_PAGE + 1)
        .select(MEMBER_COLUMNS)
        .load(conn)?;
    let older = if members.len() as i64 > MEMBERS_PER_PAGE {
        members.truncate(MEMBERS_PER_PAGE as usize);
        members.last().map(|m| m.id)
    } else {
        None
    };
    Ok((members, older))
}

/// Members whose username or e-mail contains `query`, or who posted from that IP, among
/// those `filter` lets through.
pub fn search_members(conn: &mut DbConn, query: &str, filter: MemberFilter) -> Result<Vec<MemberRow>, DbError> {
    let escaped = query.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let pattern = format!("%{escaped}%");
    let exact_ip = query.trim().to_string();
    Ok({
        let by_ip = posts::table.filter(posts::posted_from_ip.eq(exact_ip)).select(posts::user_id);
        filtered_members(filter, now())
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
                AuditAction::SuspendMember
            }
            Standing::Ban => {
                diesel::update(target)
                    .set((users::banned.eq(true), users::suspension_reason.eq(Some(reason))))
                    .execute(conn)?;
                AuditAction::BanMember
            }
            Standing::Lift => {
                diesel::update(target)
                    .set((
                        users::banned.eq(false),
                        users::suspended_until.eq(None::<i64>),
                        users::suspension_reason.eq(None::<String>),
                    ))
                    .execute(conn)?;
                AuditAction::LiftStanding
            }
        };
        record_audit!(conn, actor, name, AuditTarget::Member, member_id, reason, now)?;
        Ok(())
    })
}

/// Turns a member's two-factor sign-in off for them (they lost their app and their
/// recovery codes, and proved who they are some other way): `agora admin two-factor-off`.
/// The audit log keeps who did it and why; the member's own sign-in then needs only the
/// password again (and a reset link by e-mail reaches them if they lost that too).
pub fn turn_off_two_factor(conn: &mut DbConn, actor: i64, member_id: i64, reason: &str) -> Result<(), ModError> {
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        crate::auth::two_factor::turn_off(conn, member_id, "turned off by an administrator")?;
        record_audit!(conn, actor, AuditAction::TurnOffTwoFactor, AuditTarget::Member, member_id, reason, now)?;
        Ok(())
    })
}

/// Gives a member with no way left to sign in (a restore replayed their later password,
/// address and GitHub changes, which the backup did not hold) a way back: `address`
/// becomes their e-mail address (unconfirmed) and a password-reset link for it is
/// issued; returns their username and the link's token, to be mailed to `address`.
/// `agora admin recover-access`, once the administrator is sure who they are; audited.
pub fn recover_access(
    conn: &mut DbConn,
    actor: i64,
    member_id: i64,
    address: &str,
    reason: &str,
) -> Result<(String, String), ModError> {
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let taken: bool = diesel::select(diesel::dsl::exists(
            users::table.filter(users::email.eq(address)).filter(users::id.ne(member_id)),
        ))
        .get_result(conn)?;
        if taken {
            return Err(ModError::Refused("That address belongs to another member.".into()));
        }
        let username: String = diesel::update(users::table.find(member_id))
            .set((users::email.eq(address), users::email_verified.eq(false)))
            .returning(users::username)
            .get_result(conn)?;
        let token =
            crate::privacy::tokens::issue(conn, member_id, crate::privacy::tokens::Purpose::ResetPassword, None)?;
        record_audit!(conn, actor, AuditAction::RecoverAccess, AuditTarget::Member, member_id, reason, now)?;
        Ok((username, token))
    })
}

pub fn set_role(conn: &mut DbConn, actor: i64, member_id: i64, role: Role) -> Result<(), ModError> {
    let Some(action) = AuditAction::set_role(role) else {
        return Err(ModError::Refused("A role is member, moderator or admin.".into()));
    };
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let changed = diesel::update(users::table.find(member_id).filter(users::role.ne(Role::System)))
            .set(users::role.eq(role))
            .execute(conn)?;
        if changed == 0 {
            return Err(ModError::NotFound);
        }
        record_audit!(conn, actor, action, AuditTarget::Member, member_id, "", now)?;
        Ok(())
    })
}

/// Records a staff erasure in the audit log (the erasure itself is account::deletion).
pub fn audit_erasure(conn: &mut DbConn, actor: i64, member_id: i64, reason: &str) -> Result<(), DbError> {
    let now = now();
    record_audit!(conn, actor, AuditAction::EraseAccount, AuditTarget::Member, member_id, reason, now)?;
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
