//! The member's notices: what moderators decided about their flags and their content.
//! (Notifications, when they come, take these over.)

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::prelude::*;

use crate::auth::forms::{CsrfForm, EmptyForm};
use crate::auth::visitor::Visitor;
use crate::db::schema::notices;
use crate::db::{DbConn, DbError};
use crate::web::errors::AppError;
use crate::web::{filters, render, see_other};
use crate::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/notices", web::get().to(notices)).route("/notices/read", web::post().to(mark_notices_read));
}

#[derive(Template)]
#[template(path = "account/notices.html")]
struct NoticesPage {
    visitor: Visitor,
    notices: Vec<(String, i64, bool)>,
    has_unread: bool,
}

async fn notices(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    let notices = state.db.run(move |c| notices_of(c, user_id)).await?;
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
    state.db.run(move |c| mark_read(c, user_id)).await?;
    Ok(see_other("/notices"))
}

/// A member's notices, newest first, with whether each is unread. Reading changes
/// nothing: they are marked read by a POST (`mark_read`).
pub fn notices_of(conn: &mut DbConn, user_id: i64) -> Result<Vec<(String, i64, bool)>, DbError> {
    let list: Vec<(String, i64, Option<i64>)> = notices::table
        .filter(notices::user_id.eq(user_id))
        .order(notices::id.desc())
        .limit(100)
        .select((notices::message, notices::created_at, notices::read_at))
        .load(conn)?;
    Ok(list.into_iter().map(|(m, at, read)| (m, at, read.is_none())).collect())
}

pub fn mark_read(conn: &mut DbConn, user_id: i64) -> Result<usize, DbError> {
    let now = crate::db::now();
    Ok(diesel::update(notices::table.filter(notices::user_id.eq(user_id)).filter(notices::read_at.is_null()))
        .set(notices::read_at.eq(Some(now)))
        .execute(conn)?)
}
