//! Links that arrive by e-mail: confirming an address, changing it, resetting a
//! password. Each link is single-use; opening it shows a page whose button does the
//! change (so mail scanners that fetch links change nothing).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::account::store;
use crate::auth::domain::{Email, NewPassword};
use crate::auth::forms::CsrfForm;
use crate::auth::password;
use crate::auth::visitor::Visitor;
use crate::privacy::mails;
use crate::privacy::tokens::{self, Purpose};
use crate::web::client_ip::ClientIp;
use crate::web::errors::AppError;
use crate::web::rate_limit::Limit;
use crate::web::{filters, form_again, render, render_with, see_other};
use crate::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/account/confirm-email", web::get().to(confirm_form))
        .route("/account/confirm-email", web::post().to(confirm))
        .route("/account/change-email", web::get().to(change_form))
        .route("/account/change-email", web::post().to(change))
        .route("/password/forgot", web::get().to(forgot_form))
        .route("/password/forgot", web::post().to(forgot))
        .route("/password/reset", web::get().to(reset_form))
        .route("/password/reset", web::post().to(reset));
}

fn used_or_expired() -> AppError {
    AppError::BadRequest("This link has expired or was already used. Ask for a new one from your account page.".into())
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Template)]
#[template(path = "account/confirm_link.html")]
struct ConfirmLinkPage {
    visitor: Visitor,
    heading: &'static str,
    explanation: String,
    action: &'static str,
    button: &'static str,
    token: String,
}

async fn confirm_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().token;
    let lookup = token.clone();
    state.db.run(move |c| tokens::peek(c, &lookup, Purpose::ConfirmEmail)).await?.ok_or_else(used_or_expired)?;
    render(&ConfirmLinkPage {
        visitor,
        heading: "Confirm your e-mail address",
        explanation: "Press the button to confirm that this address is yours.".into(),
        action: "/account/confirm-email",
        button: "Confirm my address",
        token,
    })
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    token: String,
}

async fn confirm(state: web::Data<AppState>, CsrfForm(form): CsrfForm<TokenForm>) -> Result<HttpResponse, AppError> {
    state
        .db
        .run(move |c| {
            c.write_transaction(|c| -> Result<_, AppError> {
                let (user_id, _) = tokens::take(c, &form.token, Purpose::ConfirmEmail)?.ok_or_else(used_or_expired)?;
                store::confirm_email(c, user_id)?;
                crate::privacy::requests::claim(c, user_id)?;
                Ok(())
            })
        })
        .await?;
    Ok(see_other("/account?done=email-confirmed"))
}

async fn change_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().token;
    let lookup = token.clone();
    let (_, new_email) =
        state.db.run(move |c| tokens::peek(c, &lookup, Purpose::ChangeEmail)).await?.ok_or_else(used_or_expired)?;
    render(&ConfirmLinkPage {
        visitor,
        heading: "Confirm your new e-mail address",
        explanation: format!("Press the button to use {} for your account.", new_email.unwrap_or_default()),
        action: "/account/change-email",
        button: "Use this address",
        token,
    })
}

async fn change(state: web::Data<AppState>, CsrfForm(form): CsrfForm<TokenForm>) -> Result<HttpResponse, AppError> {
    let changed = state
        .db
        .run(move |c| {
            c.write_transaction(|c| -> Result<_, AppError> {
                let (user_id, new_email) =
                    tokens::take(c, &form.token, Purpose::ChangeEmail)?.ok_or_else(used_or_expired)?;
                let new_email = new_email.ok_or_else(used_or_expired)?;
                let old_email = crate::auth::accounts::profile(c, user_id)?.and_then(|p| p.email);
                let changed = store::change_email(c, user_id, &new_email)?;
                if changed {
                    // A reset link sent to the old address must not outlive it.
                    tokens::revoke(c, user_id, &[Purpose::ResetPassword])?;
                    crate::privacy::requests::claim(c, user_id)?;
                }
                Ok(changed.then_some(old_email))
            })
        })
        .await?;
    // The old address is a removed value: the ledger copy must know, and mail files to
    // it go (they would otherwise outlive it in the mail folder).
    let old_address = changed.clone().flatten();
    crate::privacy::erasure::settle_async(&state, old_address.map(|old| (Some(old), None, None))).await;
    if changed.is_none() {
        return Err(AppError::Conflict(
            "Another member started using this address in the meantime, so your address was not changed.".into(),
        ));
    }
    Ok(see_other("/account?done=email-changed"))
}

#[derive(Template)]
#[template(path = "account/forgot.html")]
struct ForgotPage {
    visitor: Visitor,
    email: String,
    sent: bool,
    errors: Vec<String>,
}

async fn forgot_form(visitor: Visitor) -> Result<HttpResponse, AppError> {
    render(&ForgotPage { visitor, email: String::new(), sent: false, errors: Vec::new() })
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

async fn forgot(
    state: web::Data<AppState>,
    visitor: Visitor,
    ip: ClientIp,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> Result<HttpResponse, AppError> {
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(message) => {
            let page = ForgotPage { visitor, email: form.email, sent: false, errors: vec![message] };
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    // Each request mails the address: limited per address and per sender, whether or
    // not the address has an account (the answer must not differ).
    for (limit, key) in [(Limit::MailPerIp, ip.rate_key()), (Limit::MailPerAddress, email.as_str().to_string())] {
        if let Err(refusal) = state.rate_limit(limit, key).await {
            let typed = form.email;
            return form_again(refusal, |error| ForgotPage { visitor, email: typed, sent: false, errors: vec![error] });
        }
    }
    let address = email.as_str().to_string();
    let found = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let Some((user_id, username)) = store::member_by_email(c, &address)? else { return Ok(None) };
            let token = tokens::issue(c, user_id, Purpose::ResetPassword, None)?;
            Ok(Some((username, token)))
        })
        .await?;
    if let Some((username, token)) = found {
        // A failure is logged, not shown: showing it would tell anyone which addresses
        // have an account (the page is the same either way). The address itself was
        // checked with the mailer's parser above.
        let mail = mails::password_reset(&state.config.public_url, email.as_str(), &username, &token);
        state.mailer.send_or_log(mail).await;
    }
    // The same answer whether or not the address has an account.
    render(&ForgotPage { visitor, email: form.email, sent: true, errors: Vec::new() })
}

#[derive(Template)]
#[template(path = "account/reset.html")]
struct ResetPage {
    visitor: Visitor,
    token: String,
    errors: Vec<String>,
}

async fn reset_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().token;
    let lookup = token.clone();
    state.db.run(move |c| tokens::peek(c, &lookup, Purpose::ResetPassword)).await?.ok_or_else(used_or_expired)?;
    render(&ResetPage { visitor, token, errors: Vec::new() })
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

async fn reset(
    state: web::Data<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> Result<HttpResponse, AppError> {
    let lookup = form.token.clone();
    let (user_id, _) =
        state.db.run(move |c| tokens::peek(c, &lookup, Purpose::ResetPassword)).await?.ok_or_else(used_or_expired)?;
    let profile =
        state.db.run(move |c| crate::auth::accounts::profile(c, user_id)).await?.ok_or_else(used_or_expired)?;
    let new_password =
        match NewPassword::parse(&form.password, &profile.username, profile.email.as_deref().unwrap_or_default()) {
            Ok(p) => p,
            Err(message) => {
                let page = ResetPage { visitor, token: form.token, errors: vec![message] };
                return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
            }
        };
    let hash = password::hash_off_executor(new_password.expose().to_string()).await?;
    let token = form.token;
    state
        .db
        .run(move |c| {
            c.write_transaction(|c| -> Result<_, AppError> {
                // Using the token up is what authorises the change: a second use finds nothing.
                let (owner, _) = tokens::take(c, &token, Purpose::ResetPassword)?.ok_or_else(used_or_expired)?;
                store::set_password_hash(c, owner, &hash)?;
                // The link proved control of the address; anything attached to the account
                // before that proof (a GitHub link made by whoever registered) goes.
                store::take_back_unverified_account(c, owner)?;
                // Whoever knew the old password is signed out everywhere.
                store::end_all_sessions(c, owner)?;
                Ok(())
            })
        })
        .await?;
    crate::privacy::erasure::settle_async(&state, None).await;
    Ok(see_other("/login?done=password-reset"))
}
