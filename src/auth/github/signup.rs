//! Finishing a sign-up with GitHub: GitHub has answered for a new member, who now picks
//! a username and ticks the age and policy boxes before the account is made.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::domain::Username;
use crate::auth::forms::CsrfForm;
use crate::auth::github::store::{self, SignupError};
use crate::auth::routes::{session_cookie, user_agent};
use crate::auth::sessions;
use crate::auth::visitor::Visitor;
use crate::web::client_ip::ClientIp;
use crate::web::errors::AppError;
use crate::web::{filters, render_with, see_other};
use crate::AppState;

use super::routes::SIGNUP_COOKIE;

#[derive(Template)]
#[template(path = "auth/github_finish.html")]
struct FinishPage {
    visitor: Visitor,
    login: String,
    email: String,
    first_name: String,
    last_name: String,
    has_picture: bool,
    username: String,
    age_confirmed: bool,
    accept_policy: bool,
    newsletter: bool,
    notification_mail: bool,
    errors: Vec<String>,
}

pub(super) fn signup_token(req: &HttpRequest) -> Result<String, AppError> {
    req.cookie(SIGNUP_COOKIE).map(|c| crate::web::tokens::hash_token(c.value())).ok_or_else(expired_signup)
}

pub(super) fn expired_signup() -> AppError {
    AppError::BadRequest("This sign-up has expired. Please sign in with GitHub again.".into())
}

/// The consent page, with what GitHub told us and the username field filled in.
pub(super) async fn finish_page(
    state: &AppState,
    visitor: Visitor,
    token_hash: String,
    form: Option<FinishForm>,
    errors: Vec<String>,
) -> Result<HttpResponse, AppError> {
    let (signup, free_username) = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let signup = store::find_signup(c, &token_hash)?.ok_or_else(expired_signup)?;
            let username = store::free_username(c, &signup.github_login)?;
            Ok((signup, username))
        })
        .await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = FinishPage {
        visitor,
        login: signup.github_login,
        email: signup.email,
        first_name: signup.first_name.unwrap_or_default(),
        last_name: signup.last_name.unwrap_or_default(),
        has_picture: signup.avatar.is_some(),
        username: form.as_ref().map(|f| f.username.clone()).unwrap_or(free_username),
        age_confirmed: form.as_ref().is_some_and(|f| f.age_confirmed.is_some()),
        accept_policy: form.as_ref().is_some_and(|f| f.accept_policy.is_some()),
        newsletter: form.as_ref().is_some_and(|f| f.newsletter.is_some()),
        notification_mail: form.as_ref().is_some_and(|f| f.notification_mail.is_some()),
        errors,
    };
    render_with(status, &page)
}

pub(super) async fn finish_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let token_hash = signup_token(&req)?;
    finish_page(&state, visitor, token_hash, None, Vec::new()).await
}

#[derive(Deserialize)]
pub struct FinishForm {
    #[serde(default)]
    username: String,
    age_confirmed: Option<String>,
    accept_policy: Option<String>,
    newsletter: Option<String>,
    notification_mail: Option<String>,
}

pub(super) async fn finish(
    state: web::Data<AppState>,
    visitor: Visitor,
    ip: ClientIp,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<FinishForm>,
) -> Result<HttpResponse, AppError> {
    let token_hash = signup_token(&req)?;
    let mut errors = Vec::new();
    let username = Username::parse(&form.username).map_err(|e| errors.push(e)).ok();
    if form.age_confirmed.is_none() {
        errors.push("You must be at least 13 years old to have an account.".into());
    }
    if form.accept_policy.is_none() {
        errors.push("Please read and accept the privacy policy.".into());
    }
    let (Some(username), true) = (username, errors.is_empty()) else {
        return finish_page(&state, visitor, token_hash, Some(form), errors).await;
    };
    let lookup = token_hash.clone();
    let (remote_ip, agent) = (ip.to_string(), user_agent(&req));
    let newsletter = form.newsletter.is_some();
    let notification_mail = form.notification_mail.is_some();
    let created = state
        .db
        .run(move |c| {
            c.write_transaction(|c| -> Result<_, SignupError> {
                let (user_id, next) = store::complete_signup(c, &lookup, &username, newsletter, notification_mail)?;
                // GitHub verified the address: requests filed under it are now theirs.
                crate::privacy::requests::claim(c, user_id)?;
                let token = sessions::create(c, user_id, false, &remote_ip, &agent)?;
                Ok((token, next))
            })
        })
        .await;
    match created {
        Ok((token, next)) => {
            let mut response = see_other(&next);
            response.add_cookie(&session_cookie(&state, token, false))?;
            response.add_cookie(&crate::web::removal(SIGNUP_COOKIE, state.config.secure_cookies()))?;
            Ok(response)
        }
        Err(SignupError::UsernameTaken) => {
            let errors = vec!["That username is already taken; choose another.".to_string()];
            finish_page(&state, visitor, token_hash, Some(form), errors).await
        }
        Err(SignupError::Expired) => Err(expired_signup()),
        Err(SignupError::AlreadyRegistered) => {
            Err(AppError::Conflict("This GitHub account already has an account here: sign in with GitHub.".into()))
        }
        Err(SignupError::EmailTaken) => Err(AppError::Conflict(
            "An account with your GitHub e-mail address already exists here. Sign in with its password, then link \
             GitHub from your account page."
                .into(),
        )),
        Err(SignupError::Db(e)) => Err(e.into()),
    }
}
