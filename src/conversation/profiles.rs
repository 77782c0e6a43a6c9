//! Public profiles (`/u/{username}`) and members' pictures (`/avatars/{id}`).
//!
//! A profile shows what the forum already shows beside a member's posts: username,
//! picture, join date, and what they wrote. First and last names only when the member
//! chose to show them on "Your data"; e-mail addresses and IPs never.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::role::Role;
use crate::auth::visitor::Visitor;
use crate::conversation::profiles_store::{self as store, Activity, Member};
use crate::web::errors::AppError;
use crate::web::{filters, render};
use crate::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/u/by-id/{id}", web::get().to(profile_by_id))
        .route("/u/{username}", web::get().to(profile))
        .route("/avatars/{user_id}", web::get().to(avatar));
}

/// A member's profile address. Usernames are ASCII letters, digits, `_` and `-`.
pub fn profile_url(username: &str) -> String {
    format!("/u/{username}")
}

#[derive(Template)]
#[template(path = "conversation/profile.html")]
struct ProfilePage {
    visitor: Visitor,
    member: Member,
    activity: Activity,
    /// The member looking at their own profile.
    own: bool,
    /// The viewer (a member) blocked this member.
    blocked: bool,
}

impl ProfilePage {
    /// A signed-in member may block anyone but themselves and staff.
    fn can_block(&self) -> bool {
        self.visitor.user.is_some() && !self.own && !self.member.role.is_staff()
    }
}

impl ProfilePage {
    fn role_label(&self) -> Option<&'static str> {
        role_label(self.member.role)
    }
}

async fn profile(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let username = path.into_inner();
    let viewer = visitor.user.as_ref().map(|u| u.user_id);
    let staff = visitor.is_staff();
    let lookup = username.clone();
    let (member, activity, blocked) = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let member = store::member_by_name(c, &lookup)?.ok_or(AppError::NotFound)?;
            let everything = staff || viewer == Some(member.id);
            let activity = store::activity(c, member.id, everything)?;
            let blocked = match viewer {
                Some(viewer) => crate::forum::blocks::has_blocked(c, viewer, member.id)?,
                None => false,
            };
            Ok((member, activity, blocked))
        })
        .await?;
    if member.username != username {
        // One address per member: /u/Alice and /u/alice are the same page.
        return Ok(HttpResponse::MovedPermanently()
            .insert_header((header::LOCATION, profile_url(&member.username)))
            .finish());
    }
    let own = viewer == Some(member.id);
    render(&ProfilePage { visitor, member, activity, own, blocked })
}

/// Mention links name the member by id, so they keep working after a rename.
async fn profile_by_id(state: web::Data<AppState>, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let user_id = path.into_inner();
    let username = state.db.run(move |c| store::username_of(c, user_id)).await?.ok_or(AppError::NotFound)?;
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, profile_url(&username))).finish())
}

#[derive(Deserialize)]
struct AvatarQuery {
    v: Option<i64>,
}

/// `/avatars/{id}`: the stored picture, or a generated one with the member's initial.
/// Each version has an `ETag`, so a browser asking again gets a 304 without the bytes.
async fn avatar(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<i64>,
    query: web::Query<AvatarQuery>,
) -> Result<HttpResponse, AppError> {
    let user_id = path.into_inner();
    let (username, version, picture) =
        state.db.run(move |c| store::avatar_of(c, user_id)).await?.ok_or(AppError::NotFound)?;
    let etag = format!("\"{user_id}-{version}\"");
    let cache = crate::web::versioned_cache(query.v, version, crate::web::Keeper::BrowserOnly);
    let asked_again = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag));
    if asked_again {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish());
    }
    let (content_type, body) = match picture {
        Some((content_type, bytes)) => (content_type, bytes),
        None => ("image/svg+xml".to_string(), default_avatar(&username).into_bytes()),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(body))
}

/// A coloured square with the username's first letter; usernames are ASCII letters,
/// digits, `_` and `-`, so the letter needs no escaping.
pub fn default_avatar(username: &str) -> String {
    let initial = username.chars().find(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).unwrap_or('?');
    let hue = username.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32)) % 360;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><rect width="64" height="64" fill="hsl({hue},45%,40%)"/><text x="32" y="43" font-family="sans-serif" font-size="30" fill="#fff" text-anchor="middle">{initial}</text></svg>"##
    )
}

/// The role a profile names, for staff.
fn role_label(role: Role) -> Option<&'static str> {
    match role {
        Role::Admin => Some("Administrator"),
        Role::Moderator => Some("Moderator"),
        Role::Member | Role::System => None,
    }
}
