//! `/notifications`: what happened that concerns the member, newest first. Opening one
//! marks it read and leads to its post; "mark all read" is a POST. The store is
//! `forum::notifications`, written by the writes that cause them.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::auth::forms::{CsrfForm, EmptyForm};
use crate::auth::visitor::Visitor;
use crate::forum::notifications::{self as store, Listed};
use crate::web::errors::AppError;
use crate::web::{filters, render, see_other};
use crate::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/notifications", web::get().to(list))
        .route("/notifications/read", web::post().to(mark_all_read))
        .route("/notifications/{id}", web::get().to(open))
        // The earlier name of the page.
        .route("/notices", web::get().to(|| async { moved("/notifications") }));
}

fn moved(location: &str) -> HttpResponse {
    HttpResponse::MovedPermanently().insert_header((header::LOCATION, location)).finish()
}

/// A notification as the list shows it.
pub struct Entry {
    pub listed: Listed,
}

impl Entry {
    pub fn unread(&self) -> bool {
        self.listed.read_at.is_none()
    }

    /// What happened, after the actor's name.
    pub fn what(&self) -> String {
        self.listed.what()
    }

    /// Whether opening it leads anywhere.
    pub fn has_target(&self) -> bool {
        self.listed.post_id.is_some()
    }
}

#[derive(Template)]
#[template(path = "conversation/notifications.html")]
struct NotificationsPage {
    visitor: Visitor,
    entries: Vec<Entry>,
    has_unread: bool,
}

async fn list(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    let listed = state.db.run(move |c| store::newest(c, user_id)).await?;
    let entries: Vec<Entry> = listed.into_iter().map(|listed| Entry { listed }).collect();
    let has_unread = entries.iter().any(Entry::unread);
    render(&NotificationsPage { visitor, entries, has_unread })
}

/// Opening a notification is reading it: marked read, then on to its post. (Only the
/// member's own notification changes, the way opening a topic moves their read position.)
async fn open(state: web::Data<AppState>, visitor: Visitor, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    let id = path.into_inner();
    let target = state.db.run(move |c| store::open(c, user_id, id)).await?.ok_or(AppError::NotFound)?;
    Ok(match target {
        Some((topic_id, slug, number)) => see_other(&crate::forum::routes::post_url(topic_id, &slug, number)),
        None => see_other("/notifications"),
    })
}

/// "Mark all read": a POST, so no prefetch, crawler or image tag can do it.
async fn mark_all_read(
    state: web::Data<AppState>,
    visitor: Visitor,
    _: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    state.db.run(move |c| store::mark_all_read(c, user_id)).await?;
    Ok(see_other("/notifications"))
}
