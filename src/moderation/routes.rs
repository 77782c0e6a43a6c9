//! The staff pages under `/admin`, and the member-facing side of moderation:
//! flagging a post, in-app notices, and the public privacy-request form.
//! Every handler checks the role on the server, whatever the page showed.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::account::deletion;
use crate::auth::domain::Email;
use crate::auth::role::Role;
use crate::db::now;
use crate::forum::domain::{slugify, FlagReason, Title};
use crate::forum::queries::{self as forum, Category};
use crate::moderation::audit::{self, AuditEntry};
use crate::moderation::store::{
    self, EditRecord, FlaggedPost, MemberActivity, MemberRow, ModError, PostAction, PrivacyRequest, RequestStatus,
    Standing, TopicAction, REQUEST_DEADLINE_SECONDS, REQUEST_KINDS,
};
use crate::privacy::mails;
use crate::web::csrf::{CsrfForm, EmptyForm};
use crate::web::errors::AppError;
use crate::web::rate_limit::Limit;
use crate::web::visitor::Visitor;
use crate::web::{filters, form_again, render, render_with, see_other};
use crate::AppState;

/// Who may use an admin route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Moderators and admins.
    Staff,
    /// Admins only.
    Admin,
}

/// Every route under `/admin`, with who may use it. The authorization test walks
/// this list; keep it in step with `routes` below.
pub const ADMIN_ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/admin", Access::Staff),
    ("GET", "/admin/flags", Access::Staff),
    ("POST", "/admin/flags/{post}/resolve", Access::Staff),
    ("POST", "/admin/posts/{post}/{action}", Access::Staff),
    ("GET", "/admin/posts/{post}/history", Access::Staff),
    ("POST", "/admin/topics/{topic}/{action}", Access::Staff),
    ("GET", "/admin/members", Access::Staff),
    ("GET", "/admin/members/{member}", Access::Staff),
    ("POST", "/admin/members/{member}/standing", Access::Staff),
    ("POST", "/admin/members/{member}/erase", Access::Staff),
    ("POST", "/admin/members/{member}/role", Access::Admin),
    ("GET", "/admin/ip", Access::Staff),
    ("GET", "/admin/privacy-requests", Access::Staff),
    ("POST", "/admin/privacy-requests/{request}", Access::Staff),
    ("GET", "/admin/categories", Access::Admin),
    ("POST", "/admin/categories", Access::Admin),
    ("POST", "/admin/categories/{category}", Access::Admin),
    ("POST", "/admin/categories/{category}/delete", Access::Admin),
    ("GET", "/admin/audit", Access::Admin),
    ("GET", "/admin/review", Access::Staff),
    ("POST", "/admin/review/{post}/{action}", Access::Staff),
    ("POST", "/admin/members/{member}/delete-posts", Access::Staff),
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/p/{id}/flag", web::post().to(flag))
        .route("/notices", web::get().to(notices))
        .route("/notices/read", web::post().to(mark_notices_read))
        .route("/privacy/request", web::get().to(request_form))
        .route("/privacy/request", web::post().to(file_request))
        .route("/admin", web::get().to(dashboard))
        .route("/admin/flags", web::get().to(flag_queue))
        .route("/admin/flags/{post}/resolve", web::post().to(resolve_flags))
        .route("/admin/posts/{post}/history", web::get().to(post_history))
        .route("/admin/posts/{post}/{action}", web::post().to(post_action))
        .route("/admin/topics/{topic}/{action}", web::post().to(topic_action))
        .route("/admin/members", web::get().to(members))
        .route("/admin/members/{member}", web::get().to(member_page))
        .route("/admin/members/{member}/standing", web::post().to(member_standing))
        .route("/admin/members/{member}/erase", web::post().to(erase_member))
        .route("/admin/members/{member}/role", web::post().to(member_role))
        .route("/admin/ip", web::get().to(ip_lookup))
        .route("/admin/privacy-requests", web::get().to(privacy_requests))
        .route("/admin/privacy-requests/{request}", web::post().to(update_request))
        .route("/admin/categories", web::get().to(categories))
        .route("/admin/categories", web::post().to(create_category))
        .route("/admin/categories/{category}", web::post().to(update_category))
        .route("/admin/categories/{category}/delete", web::post().to(delete_category))
        .route("/admin/audit", web::get().to(audit_log));
}

fn moderation_error(error: ModError) -> AppError {
    error.into()
}

/// Staff actions say why; an empty reason is refused before anything changes.
pub(crate) fn required_reason(reason: &str) -> Result<String, AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::BadRequest(
            "Give a reason: it goes to the audit log (and to the member where it concerns them).".into(),
        ));
    }
    Ok(reason.chars().take(500).collect())
}

// ---- Members' side -------------------------------------------------------------

#[derive(Deserialize)]
pub struct FlagForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    details: String,
}

async fn flag(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<FlagForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.active_member()?.user_id;
    let post_id = path.into_inner();
    let reason = FlagReason::parse(&form.reason)
        .ok_or_else(|| AppError::BadRequest("Choose why you are flagging this post.".into()))?;
    if reason == FlagReason::Other && form.details.trim().is_empty() {
        return Err(AppError::BadRequest("Say what is wrong with the post.".into()));
    }
    state.rate_limit(Limit::FlagPerMember, user_id).await?;
    // A post waiting for review is not there for others to flag.
    let target = state.db.run(move |c| forum::find_post(c, post_id)).await?.ok_or(AppError::NotFound)?;
    if target.held {
        return Err(AppError::NotFound);
    }
    let details: String = form.details.trim().chars().take(1000).collect();
    let filed = state
        .db
        .run(move |c| store::flag_post(c, post_id, user_id, reason, &details))
        .await
        .map_err(moderation_error)?;
    if !filed {
        return Err(AppError::Conflict("You have already flagged this post; the moderators will look at it.".into()));
    }
    let post = state.db.run(move |c| forum::find_post(c, post_id)).await?.ok_or(AppError::NotFound)?;
    Ok(see_other(&format!("/t/{}/{}/{}", post.topic_id, post.topic_slug, post.post_number)))
}

#[derive(Template)]
#[template(path = "admin/notices.html")]
struct NoticesPage {
    visitor: Visitor,
    notices: Vec<(String, i64, bool)>,
    has_unread: bool,
}

async fn notices(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    let notices = state.db.run(move |c| crate::moderation::audit::notices_of(c, user_id)).await?;
    let has_unread = notices.iter().any(|(_, _, unread)| *unread);
    render(&NoticesPage { visitor, notices, has_unread })
}

/// "Mark all read": a POST, so no prefetch, crawler or image tag can do it.
async fn mark_notices_read(
    state: web::Data<AppState>,
    visitor: Visitor,
    _: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    state.db.run(move |c| crate::moderation::audit::mark_notices_read(c, user_id)).await?;
    Ok(see_other("/notices"))
}

#[derive(Template)]
#[template(path = "admin/privacy_request_form.html")]
struct RequestPage {
    visitor: Visitor,
    kinds: &'static [(&'static str, &'static str)],
    email: String,
    kind: String,
    message: String,
    errors: Vec<String>,
    filed: Option<i64>,
}

impl RequestPage {
    fn is_kind(&self, key: &str) -> bool {
        self.kind == key
    }
}

async fn request_form(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let email = match visitor.user_id() {
        Some(id) => state
            .db
            .run(move |c| crate::account::store::profile(c, id))
            .await?
            .and_then(|p| p.email)
            .unwrap_or_default(),
        None => String::new(),
    };
    render(&RequestPage {
        visitor,
        kinds: REQUEST_KINDS,
        email,
        kind: String::new(),
        message: String::new(),
        errors: Vec::new(),
        filed: None,
    })
}

#[derive(Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    message: String,
}

async fn file_request(
    state: web::Data<AppState>,
    visitor: Visitor,
    ip: crate::web::client_ip::ClientIp,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> Result<HttpResponse, AppError> {
    let mut errors = Vec::new();
    let email = Email::parse(&form.email).map_err(|e| errors.push(e)).ok();
    if !REQUEST_KINDS.iter().any(|(key, _)| *key == form.kind) {
        errors.push("Choose what you are asking for.".into());
    }
    if form.message.chars().count() > 5000 {
        errors.push("Keep the message under 5,000 characters.".into());
    }
    let (Some(email), true) = (email, errors.is_empty()) else {
        let page = RequestPage {
            visitor,
            kinds: REQUEST_KINDS,
            email: form.email,
            kind: form.kind,
            message: form.message,
            errors,
            filed: None,
        };
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    // Each request mails the address it names: limited per address and per sender.
    for (limit, key) in
        [(Limit::PrivacyRequestPerIp, ip.rate_key()), (Limit::PrivacyRequestPerAddress, email.as_str().into())]
    {
        if let Err(refusal) = state.rate_limit(limit, key).await {
            let (address, kind, message) = (form.email, form.kind, form.message);
            return form_again(refusal, |error| RequestPage {
                visitor,
                kinds: REQUEST_KINDS,
                email: address,
                kind,
                message,
                errors: vec![error],
                filed: None,
            });
        }
    }
    let signed_in = visitor.user_id();
    let (address, kind, message) = (email.as_str().to_string(), form.kind.clone(), form.message.trim().to_string());
    let id = state
        .db
        .run(move |c| -> Result<_, AppError> {
            // The request belongs to whoever filed it signed in, or else to the account
            // whose *confirmed* address it names; a merely typed address claims nothing.
            let owner = match signed_in {
                Some(id) => Some(id),
                None => crate::account::store::member_with_confirmed_email(c, &address)?,
            };
            Ok(store::file_privacy_request(c, &address, owner, &kind, &message)?)
        })
        .await?;
    let when = filters::when(now() + REQUEST_DEADLINE_SECONDS, askama::NO_VALUES).unwrap_or_default();
    state.mailer.send_or_log(mails::privacy_request_received(email.as_str(), id, &form.kind, &when)).await;
    render(&RequestPage {
        visitor,
        kinds: REQUEST_KINDS,
        email: String::new(),
        kind: String::new(),
        message: String::new(),
        errors: Vec::new(),
        filed: Some(id),
    })
}

// ---- Dashboard -----------------------------------------------------------------

/// One bar of a server-rendered SVG chart.
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub height: i64,
    pub label: String,
}

pub struct Chart {
    pub title: &'static str,
    pub total: i64,
    pub max: i64,
    pub bars: Vec<Bar>,
}

const CHART_HEIGHT: i64 = 80;

fn chart(title: &'static str, counts: &[i64]) -> Chart {
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let today = now() / 86400;
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let height = n * CHART_HEIGHT / max;
            let day = (today - counts.len() as i64 + 1 + i as i64) * 86400;
            let date = filters::when(day, askama::NO_VALUES).unwrap_or_default();
            Bar {
                x: i as i64 * 10,
                y: CHART_HEIGHT - height,
                height,
                label: format!("{}: {n}", &date[..10.min(date.len())]),
            }
        })
        .collect();
    Chart { title, total: counts.iter().sum(), max, bars }
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    visitor: Visitor,
    open_flags: i64,
    request_deadlines: Vec<i64>,
    charts: Vec<Chart>,
}

impl DashboardPage {
    fn days_left(&self, deadline: &i64) -> i64 {
        (deadline - now()).div_euclid(86400)
    }
}

async fn dashboard(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    visitor.staff()?;
    let (open_flags, request_deadlines, [signups, posts, active]) = state
        .db
        .run(|c| -> Result<_, AppError> {
            Ok((store::open_flag_count(c)?, store::open_request_deadlines(c)?, store::daily_counts(c, 30)?))
        })
        .await?;
    let charts = vec![
        chart("Sign-ups, last 30 days", &signups),
        chart("Posts, last 30 days", &posts),
        chart("Members who posted, per day", &active),
    ];
    render(&DashboardPage { visitor, open_flags, request_deadlines, charts })
}

// ---- Flags ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/flags.html")]
struct FlagsPage {
    visitor: Visitor,
    queue: Vec<FlaggedPost>,
}

async fn flag_queue(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    visitor.staff()?;
    let queue = state.db.run(store::flag_queue).await?;
    render(&FlagsPage { visitor, queue })
}

#[derive(Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    until: String,
    /// Asked when erasing a member of staff.
    #[serde(default)]
    current_password: String,
    /// Why an account is erased: `under-13` or `staff-other`.
    #[serde(default)]
    category: String,
}

/// A date `YYYY-MM-DD` as the Unix time it begins (UTC).
fn parse_date(raw: &str) -> Result<i64, AppError> {
    time::Date::parse(raw.trim(), time::macros::format_description!("[year]-[month]-[day]"))
        .map(|d| d.midnight().assume_utc().unix_timestamp())
        .map_err(|_| AppError::BadRequest("Give the date as YYYY-MM-DD.".into()))
}

async fn resolve_flags(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<ResolveForm>,
) -> Result<HttpResponse, AppError> {
    let staff = visitor.staff()?.clone();
    let post_id = path.into_inner();
    let reason = required_reason(&form.reason)?;
    let action = form.action.clone();
    let suspend_until = if action == "suspend" { Some(parse_date(&form.until)?) } else { None };
    state
        .db
        .run(move |c| {
            c.write_transaction(|c| -> Result<(), ModError> {
                let outcome = match action.as_str() {
                    "dismiss" => "dismissed, no action taken",
                    "hide" => {
                        store::act_on_post(c, staff.user_id, staff.role, post_id, PostAction::Hide, &reason)?;
                        "the post was hidden"
                    }
                    "delete" => {
                        store::act_on_post(c, staff.user_id, staff.role, post_id, PostAction::Delete, &reason)?;
                        "the post was deleted"
                    }
                    "suspend" => {
                        let author = forum::find_post(c, post_id)?.ok_or(ModError::NotFound)?.user_id;
                        let until = suspend_until.unwrap_or_default();
                        store::set_standing(
                            c,
                            staff.user_id,
                            staff.role,
                            author,
                            Standing::SuspendUntil(until),
                            &reason,
                        )?;
                        "the author was suspended"
                    }
                    _ => return Err(ModError::Refused("Choose what to do: dismiss, hide, delete or suspend.".into())),
                };
                store::resolve_flags(c, staff.user_id, post_id, outcome, &reason)?;
                Ok(())
            })
        })
        .await
        .map_err(moderation_error)?;
    Ok(see_other("/admin/flags"))
}

// ---- Posts and topics ----------------------------------------------------------

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    title: String,
    category_id: Option<i64>,
}

async fn post_action(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(i64, String)>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    let staff = visitor.staff()?.clone();
    let (post_id, action) = path.into_inner();
    let action = match action.as_str() {
        "hide" => PostAction::Hide,
        "unhide" => PostAction::Unhide,
        "delete" => PostAction::Delete,
        "restore" => PostAction::Restore,
        _ => return Err(AppError::NotFound),
    };
    let reason = required_reason(&form.reason)?;
    state
        .db
        .run(move |c| store::act_on_post(c, staff.user_id, staff.role, post_id, action, &reason))
        .await
        .map_err(moderation_error)?;
    let post = state.db.run(move |c| forum::find_post(c, post_id)).await?.ok_or(AppError::NotFound)?;
    Ok(see_other(&format!("/t/{}/{}/{}", post.topic_id, post.topic_slug, post.post_number)))
}

async fn topic_action(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(i64, String)>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    let staff = visitor.staff()?.clone();
    let (topic_id, action) = path.into_inner();
    let action = match action.as_str() {
        "lock" => TopicAction::Lock(true),
        "unlock" => TopicAction::Lock(false),
        "pin" => TopicAction::Pin(true),
        "unpin" => TopicAction::Pin(false),
        "move" => TopicAction::Move(form.category_id.ok_or_else(|| AppError::BadRequest("Choose a category.".into()))?),
        "rename" => {
            let title = Title::parse(&form.title).map_err(AppError::BadRequest)?;
            let slug = slugify(title.as_str());
            TopicAction::Rename(title.as_str().to_string(), slug)
        }
        _ => return Err(AppError::NotFound),
    };
    let reason = required_reason(&form.reason)?;
    state
        .db
        .run(move |c| store::act_on_topic(c, staff.user_id, staff.role, topic_id, action, &reason))
        .await
        .map_err(moderation_error)?;
    Ok(see_other(&format!("/t/{topic_id}")))
}

#[derive(Template)]
#[template(path = "admin/history.html")]
struct HistoryPage {
    visitor: Visitor,
    post_id: i64,
    current: String,
    edits: Vec<EditRecord>,
}

async fn post_history(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    visitor.staff()?;
    let post_id = path.into_inner();
    let (post, edits) = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let post = forum::find_post(c, post_id)?.ok_or(AppError::NotFound)?;
            Ok((post, store::edit_history(c, post_id)?))
        })
        .await?;
    render(&HistoryPage { visitor, post_id, current: post.body_markdown, edits })
}

// ---- Members -------------------------------------------------------------------

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

async fn members(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    visitor.staff()?;
    let q = query.into_inner().q.trim().to_string();
    let lookup = q.clone();
    let results =
        if q.is_empty() { Vec::new() } else { state.db.run(move |c| store::search_members(c, &lookup)).await? };
    render(&MembersPage { visitor, query: q, results })
}

#[derive(Template)]
#[template(path = "admin/member.html")]
struct MemberPage {
    visitor: Visitor,
    member: MemberRow,
    activity: MemberActivity,
    restriction: Option<String>,
}

async fn member_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    visitor.staff()?;
    let id = path.into_inner();
    let (member, activity) = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let member = store::member(c, id)?.ok_or(AppError::NotFound)?;
            Ok((member, store::member_activity(c, id)?))
        })
        .await?;
    let restriction = crate::auth::sessions::restriction(
        member.banned,
        member.suspended_until,
        member.suspension_reason.as_deref(),
        now(),
    );
    render(&MemberPage { visitor, member, activity, restriction })
}

async fn member_standing(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<ResolveForm>,
) -> Result<HttpResponse, AppError> {
    let staff = visitor.staff()?.clone();
    let id = path.into_inner();
    let reason = required_reason(&form.reason)?;
    let standing = match form.action.as_str() {
        "suspend" => Standing::SuspendUntil(parse_date(&form.until)?),
        "ban" => Standing::Ban,
        "lift" => Standing::Lift,
        _ => return Err(AppError::BadRequest("Choose suspend, ban or lift.".into())),
    };
    state
        .db
        .run(move |c| store::set_standing(c, staff.user_id, staff.role, id, standing, &reason))
        .await
        .map_err(moderation_error)?;
    Ok(see_other(&format!("/admin/members/{id}")))
}

async fn erase_member(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<ResolveForm>,
) -> Result<HttpResponse, AppError> {
    let staff = visitor.staff()?.clone();
    let id = path.into_inner();
    // The ledger and the audit log record a fixed category, never the staff's free
    // text, which could describe the person.
    let reason = deletion::ErasureReason::parse_staff_choice(&form.category)
        .ok_or_else(|| AppError::BadRequest("Choose why the account is erased.".into()))?;
    let member = state.db.run(move |c| store::member(c, id)).await?.ok_or(AppError::NotFound)?;
    if !staff.role.outranks(member.role) {
        return Err(AppError::Conflict(
            "Moderators act on members only; erasing a moderator takes an administrator.".into(),
        ));
    }
    // Erasing staff cannot be undone: the administrator proves who they are again.
    if member.role != Role::Member {
        let proof =
            crate::account::routes::proof_of_identity(&state, &staff, form.current_password.clone(), "erase").await?;
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
                    store::audit_erasure(c, staff.user_id, id, reason.as_str())?;
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

async fn member_role(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let admin = visitor.admin()?.user_id;
    let id = path.into_inner();
    let role = Role::parse_assignable(&form.role)
        .ok_or_else(|| AppError::BadRequest("A role is member, moderator or admin.".into()))?;
    state.db.run(move |c| store::set_role(c, admin, id, role)).await.map_err(moderation_error)?;
    Ok(see_other(&format!("/admin/members/{id}")))
}

#[derive(Template)]
#[template(path = "admin/ip.html")]
struct IpPage {
    visitor: Visitor,
    ip: String,
    posts: Vec<store::IpPost>,
}

async fn ip_lookup(
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
    let posts =
        if ip.is_empty() { Vec::new() } else { state.db.run(move |c| store::posts_from_ip(c, &lookup)).await? };
    render(&IpPage { visitor, ip, posts })
}

// ---- Privacy requests ----------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/privacy_requests.html")]
struct RequestsPage {
    visitor: Visitor,
    open: Vec<PrivacyRequest>,
    closed: Vec<PrivacyRequest>,
    older: Option<i64>,
}

impl RequestsPage {
    fn due(&self, request: &PrivacyRequest) -> i64 {
        request.created_at + REQUEST_DEADLINE_SECONDS
    }

    fn days_left(&self, request: &PrivacyRequest) -> i64 {
        (self.due(request) - now()).div_euclid(86400)
    }
}

#[derive(Deserialize)]
pub struct BeforeQuery {
    before: Option<i64>,
}

async fn privacy_requests(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<BeforeQuery>,
) -> Result<HttpResponse, AppError> {
    visitor.staff()?;
    let before = query.before;
    let queue = state.db.run(move |c| store::privacy_requests(c, before)).await?;
    render(&RequestsPage { visitor, open: queue.open, closed: queue.closed, older: queue.older })
}

#[derive(Deserialize)]
pub struct RequestUpdateForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    refusal_reason: String,
}

async fn update_request(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<RequestUpdateForm>,
) -> Result<HttpResponse, AppError> {
    let staff = visitor.staff()?.user_id;
    let id = path.into_inner();
    let status = RequestStatus::parse(&form.status)
        .ok_or_else(|| AppError::BadRequest("A request is open, answered or refused.".into()))?;
    let refusal = Some(form.refusal_reason.trim().to_string()).filter(|r| !r.is_empty());
    let request = state
        .db
        .run(move |c| store::update_privacy_request(c, staff, id, status, form.note.trim(), refusal.as_deref()))
        .await
        .map_err(moderation_error)?;
    let mail = mails::privacy_request_updated(
        &request.email,
        request.id,
        &request.kind,
        request.status.as_str(),
        request.refusal_reason.as_deref(),
    );
    state.mailer.send_or_log(mail).await;
    Ok(see_other("/admin/privacy-requests"))
}

// ---- Categories (admins) -------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/categories.html")]
struct CategoriesPage {
    visitor: Visitor,
    categories: Vec<Category>,
}

async fn categories(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    let categories = state.db.run(forum::list_categories).await?;
    render(&CategoriesPage { visitor, categories })
}

#[derive(Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    position: i32,
}

fn category_fields(form: &CategoryForm) -> Result<(String, String, String), AppError> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(AppError::BadRequest("A category name is 1 to 60 characters.".into()));
    }
    Ok((name.to_string(), slugify(name), form.description.trim().chars().take(500).collect()))
}

async fn create_category(
    state: web::Data<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<CategoryForm>,
) -> Result<HttpResponse, AppError> {
    save_category(&state, &visitor, None, &form).await
}

async fn update_category(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<CategoryForm>,
) -> Result<HttpResponse, AppError> {
    save_category(&state, &visitor, Some(path.into_inner()), &form).await
}

async fn save_category(
    state: &AppState,
    visitor: &Visitor,
    existing: Option<i64>,
    form: &CategoryForm,
) -> Result<HttpResponse, AppError> {
    let admin = visitor.admin()?.user_id;
    let (name, slug, description) = category_fields(form)?;
    let position = form.position;
    state
        .db
        .run(move |c| {
            let new = store::NewCategory { slug: &slug, name: &name, description: &description, position };
            store::save_category(c, admin, existing, new)
        })
        .await
        .map_err(moderation_error)?;
    Ok(see_other("/admin/categories"))
}

async fn delete_category(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    _: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let admin = visitor.admin()?.user_id;
    let id = path.into_inner();
    state.db.run(move |c| store::delete_category(c, admin, id)).await.map_err(moderation_error)?;
    Ok(see_other("/admin/categories"))
}

// ---- Audit log (admins) --------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    visitor: Visitor,
    entries: Vec<AuditEntry>,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    before: Option<i64>,
}

async fn audit_log(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    let before = query.before;
    let entries = state.db.run(move |c| audit::entries(c, before)).await?;
    render(&AuditPage { visitor, entries })
}
