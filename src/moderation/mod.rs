//! Running the place, under `/admin`: one file per sub-area, each with its handlers and
//! its store functions. Every handler checks the role on the server, whatever the page
//! showed, and every staff action writes its audit row in the same transaction.

pub mod audit;
pub mod categories;
pub mod content;
pub mod dashboard;
pub mod flags;
pub mod members;
pub mod privacy_requests;
pub mod review;
pub mod settings;

use actix_web::web;
use serde::Deserialize;

use crate::db::DbError;
use crate::web::errors::AppError;

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
    ("GET", "/admin/settings", Access::Admin),
    ("POST", "/admin/settings", Access::Admin),
    ("GET", "/admin/review", Access::Staff),
    ("POST", "/admin/review/{post}/{action}", Access::Staff),
    ("POST", "/admin/members/{member}/delete-posts", Access::Staff),
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/p/{id}/flag", web::get().to(flags::flag_page))
        .route("/p/{id}/flag", web::post().to(flags::flag))
        .route("/admin", web::get().to(dashboard::dashboard))
        .route("/admin/flags", web::get().to(flags::queue_page))
        .route("/admin/flags/{post}/resolve", web::post().to(flags::resolve))
        .route("/admin/posts/{post}/history", web::get().to(content::post_history))
        .route("/admin/posts/{post}/{action}", web::post().to(content::post_action))
        .route("/admin/topics/{topic}/{action}", web::post().to(content::topic_action))
        .route("/admin/members", web::get().to(members::search_page))
        .route("/admin/members/{member}", web::get().to(members::member_page))
        .route("/admin/members/{member}/standing", web::post().to(members::member_standing))
        .route("/admin/members/{member}/erase", web::post().to(members::erase_member))
        .route("/admin/members/{member}/role", web::post().to(members::member_role))
        .route("/admin/ip", web::get().to(members::ip_lookup))
        .route("/admin/privacy-requests", web::get().to(privacy_requests::queue_page))
        .route("/admin/privacy-requests/{request}", web::post().to(privacy_requests::update_request))
        .route("/admin/categories", web::get().to(categories::list_page))
        .route("/admin/categories", web::post().to(categories::create))
        .route("/admin/categories/{category}", web::post().to(categories::update))
        .route("/admin/categories/{category}/delete", web::post().to(categories::delete))
        .route("/admin/audit", web::get().to(audit::log_page));
}

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

#[derive(Deserialize)]
/// What staff send when they decide: an action, why, and (for some actions) a date, a
/// password or an erasure category.
pub struct DecisionForm {
    #[serde(default)]
    pub(super) action: String,
    #[serde(default)]
    pub(super) reason: String,
    #[serde(default)]
    pub(super) until: String,
    /// Asked when erasing a member of staff.
    #[serde(default)]
    pub(super) current_password: String,
    /// Why an account is erased: `under-13` or `staff-other`.
    #[serde(default)]
    pub(super) category: String,
}

/// A date `YYYY-MM-DD` as the Unix time it begins (UTC).
pub(super) fn parse_date(raw: &str) -> Result<i64, AppError> {
    time::Date::parse(raw.trim(), time::macros::format_description!("[year]-[month]-[day]"))
        .map(|d| d.midnight().assume_utc().unix_timestamp())
        .map_err(|_| AppError::BadRequest("Give the date as YYYY-MM-DD.".into()))
}
