//! Blocking (ignoring) a member from their profile: POST `/u/{username}/block` and
//! `/u/{username}/unblock`. The store is `forum::blocks`; the account page lists whom
//! the member blocked.

use actix_web::{web, HttpResponse};

use crate::auth::forms::{CsrfForm, EmptyForm};
use crate::auth::visitor::Visitor;
use crate::conversation::profiles::profile_url;
use crate::conversation::profiles_store as profiles;
use crate::forum::blocks::{self, Blocked};
use crate::web::errors::AppError;
use crate::web::rate_limit::Limit;
use crate::web::see_other;
use crate::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/u/{username}/block", web::post().to(block)).route("/u/{username}/unblock", web::post().to(unblock));
}

async fn block(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<String>,
    _: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    set_blocked(state, visitor, path.into_inner(), true).await
}

async fn unblock(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<String>,
    _: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    set_blocked(state, visitor, path.into_inner(), false).await
}

async fn set_blocked(
    state: web::Data<AppState>,
    visitor: Visitor,
    username: String,
    block: bool,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    state.rate_limit(Limit::BlockPerMember, user_id).await?;
    let (member, unblocked) = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let member = profiles::member_by_name(c, &username)?.ok_or(AppError::NotFound)?;
            if !block {
                let unblocked = blocks::unblock(c, user_id, member.id)?;
                return Ok((member, unblocked));
            }
            if member.id == user_id {
                return Err(AppError::BadRequest("You cannot block yourself.".into()));
            }
            if member.role.is_staff() {
                return Err(AppError::Forbidden(
                    "Moderators and admins cannot be blocked: every member must be able to read them.".into(),
                ));
            }
            match blocks::block(c, user_id, member.id)? {
                Blocked::Done => Ok((member, false)),
                Blocked::TooMany => Err(AppError::BadRequest(format!(
                    "You have blocked {} members, the most there may be. Unblock some on your account page first.",
                    blocks::MAX_BLOCKED
                ))),
            }
        })
        .await?;
    if unblocked {
        crate::privacy::erasure::settle_async(&state, None).await;
    }
    Ok(see_other(&profile_url(&member.username)))
}
