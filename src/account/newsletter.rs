//! The newsletter: only for members who opted in, always with a working unsubscribe
//! link (signed, so it works without signing in) and RFC 8058 one-click headers.

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use crate::auth::visitor::Visitor;
use crate::db::schema::users;
use crate::db::{DbConn, DbError};
use crate::mail::Mailer;
use crate::web::errors::AppError;
use crate::web::signing::Signer;
use crate::web::{filters, render, see_other};
use crate::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/newsletter/unsubscribe", web::get().to(unsubscribe_page))
        .route("/newsletter/unsubscribe", web::post().to(unsubscribe));
}

fn signed_message(user_id: i64) -> String {
    format!("newsletter-unsubscribe:{user_id}")
}

pub fn unsubscribe_url(public_url: &str, signer: &Signer, user_id: i64) -> String {
    format!("{public_url}/newsletter/unsubscribe?member={user_id}&signature={}", signer.sign(&signed_message(user_id)))
}

#[derive(Deserialize)]
pub struct UnsubscribeQuery {
    member: Option<i64>,
    #[serde(default)]
    signature: String,
}

fn checked(signer: &Signer, query: &UnsubscribeQuery) -> Result<i64, AppError> {
    match query.member {
        Some(id) if signer.verify(&signed_message(id), &query.signature) => Ok(id),
        _ => Err(AppError::BadRequest(
            "This unsubscribe link is not valid. Change your choice on your account page.".into(),
        )),
    }
}

#[derive(Template)]
#[template(path = "account/unsubscribe.html")]
struct UnsubscribePage {
    visitor: Visitor,
    action: String,
    done: bool,
}

async fn unsubscribe_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<UnsubscribeQuery>,
) -> Result<HttpResponse, AppError> {
    checked(&state.signer, &query)?;
    let action =
        format!("/newsletter/unsubscribe?member={}&signature={}", query.member.unwrap_or_default(), query.signature);
    render(&UnsubscribePage { visitor, action, done: false })
}

/// The link's signature authorises this POST, so it needs no CSRF token: mail
/// programs send `List-Unsubscribe=One-Click` here without any cookie (RFC 8058).
async fn unsubscribe(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<UnsubscribeQuery>,
) -> Result<HttpResponse, AppError> {
    let user_id = checked(&state.signer, &query)?;
    let found = state
        .db
        .run(move |c| -> Result<_, AppError> {
            if crate::auth::accounts::profile(c, user_id)?.is_none() {
                return Ok(false);
            }
            crate::privacy::consent::set_newsletter(c, user_id, false, "unsubscribe link")?;
            Ok(true)
        })
        .await?;
    if !found {
        // A deleted account receives nothing anyway.
        return Ok(see_other("/"));
    }
    crate::privacy::erasure::settle_async(&state, None).await;
    render(&UnsubscribePage { visitor, action: String::new(), done: true })
}

/// Members who opted in and have a confirmed address.
pub fn subscribers(conn: &mut DbConn) -> Result<Vec<(i64, String)>, DbError> {
    Ok(users::table
        .filter(users::newsletter.eq(true))
        .filter(users::email_verified.eq(true))
        .filter(users::email.is_not_null())
        .select((users::id, users::email.assume_not_null()))
        .order(users::id)
        .load(conn)?)
}

/// Sends one newsletter to every subscriber; returns how many were sent.
pub async fn send(
    mailer: &Mailer,
    signer: &Signer,
    public_url: &str,
    recipients: Vec<(i64, String)>,
    subject: &str,
    markdown: &str,
) -> usize {
    let mut sent = 0;
    for (user_id, email) in recipients {
        let unsubscribe = unsubscribe_url(public_url, signer, user_id);
        let mail = crate::privacy::mails::newsletter(public_url, &email, subject, markdown, unsubscribe);
        match mailer.send(mail).await {
            Ok(()) => sent += 1,
            Err(error) => tracing::error!(user_id, error = %format!("{error:#}"), "newsletter not sent"),
        }
    }
    sent
}
