//! Members as staff see them: search, the member page, standing (suspend, ban, lift),
//! roles, staff erasure and the IP lookup.

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

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    ip: String,
}

#[derive(Template)]
#[template(path = "admin/members.html")]
struct MembersPage {
    visitor: Visitor,
    query: String,
    results: Vec<MemberRow>,
}

pub(super) async fn search_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    visitor.staff()?;
    let q = query.into_inner().q.trim().to_string();
    let lookup = q.clone();
    let results = if q.is_empty() { Vec::new() } else { state.db.run(move |c| search_members(c, &lookup)).await? };
    render(&MembersPage { visitor, query: q, results })
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

pub(super) async fn ip_lookup(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<SearchQuery>,
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
