//! "Your data" (`/account`): everything Agora holds about the signed-in member, and
//! the forms that change it.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::account::deletion;
use crate::account::notification_choices::{self, ChoiceRow};
use crate::account::store::{self, ProfileError, RecordedIp, SessionRow};
use crate::auth::accounts::Profile;
use crate::auth::domain::{Email, NewPassword, Username};
use crate::auth::forms::{CsrfForm, EmptyForm};
use crate::auth::password;
use crate::auth::visitor::Visitor;
use crate::privacy::consent::NewsletterEvent;
use crate::privacy::mails;
use crate::privacy::tokens::{self, Purpose};
use crate::web::client_ip::ClientIp;
use crate::web::errors::{too_many_message, AppError};
use crate::web::rate_limit::{Limit, TooMany};
use crate::web::{filters, render_with, see_other};
use crate::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/account", web::get().to(account))
        .route("/account/profile", web::post().to(update_profile))
        .route("/account/profile/visibility", web::post().to(profile_visibility))
        .route("/account/picture/remove", web::post().to(remove_picture))
        .route("/account/password", web::post().to(change_password))
        .route("/account/email", web::post().to(change_email))
        .route("/account/email/resend", web::post().to(resend_confirmation))
        .route("/account/newsletter", web::post().to(newsletter))
        .route("/account/sessions/end-all", web::post().to(end_all_sessions))
        .route("/account/sessions/{id}/end", web::post().to(end_session))
        .route("/account/deleted", web::get().to(deletion::deleted_page));
}

#[derive(Template)]
#[template(path = "account/profile.html")]
struct AccountPage {
    visitor: Visitor,
    profile: Profile,
    sessions: Vec<SessionRow>,
    current_session: i64,
    ips: Vec<RecordedIp>,
    newsletter_events: Vec<NewsletterEvent>,
    /// Per kind of notification: is it e-mailed?
    mail_choices: Vec<ChoiceRow>,
    watch_own: bool,
    /// Members this member blocked, by name, with when.
    blocked: Vec<(String, i64)>,
    /// Read positions, watches, likes, mentions, flags and requests.
    also: store::AlsoKept,
    github_enabled: bool,
    notice: Option<&'static str>,
    errors: Vec<String>,
    /// What the member typed, kept when a form is refused.
    form_username: String,
    form_first_name: String,
    form_last_name: String,
    form_email: String,
}

/// What a refused form leaves on the page.
#[derive(Default)]
struct Refill {
    errors: Vec<String>,
    username: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
}

async fn page(
    state: &AppState,
    visitor: Visitor,
    notice: Option<&'static str>,
    refill: Refill,
) -> Result<HttpResponse, AppError> {
    let member = visitor.member()?.clone();
    let (profile, sessions, ips, newsletter_events, notification_settings, blocked, also) = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let profile = crate::auth::accounts::profile(c, member.user_id)?.ok_or(AppError::NotFound)?;
            Ok((
                profile,
                store::sessions_of(c, member.user_id)?,
                store::recorded_ips(c, member.user_id)?,
                crate::privacy::consent::newsletter_events(c, member.user_id)?,
                crate::forum::notification_settings::of_member(c, member.user_id)?,
                crate::forum::blocks::listed(c, member.user_id)?,
                store::also_kept(c, member.user_id)?,
            ))
        })
        .await?;
    let status = if refill.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = AccountPage {
        form_username: refill.username.unwrap_or_else(|| profile.username.clone()),
        form_first_name: refill.first_name.unwrap_or_else(|| profile.first_name.clone().unwrap_or_default()),
        form_last_name: refill.last_name.unwrap_or_else(|| profile.last_name.clone().unwrap_or_default()),
        form_email: refill.email.unwrap_or_default(),
        current_session: member.session_id,
        visitor,
        profile,
        sessions,
        ips,
        newsletter_events,
        mail_choices: notification_choices::rows(&notification_settings),
        watch_own: notification_settings.watch_own,
        blocked,
        also,
        github_enabled: state.github.is_some(),
        notice,
        errors: refill.errors,
    };
    render_with(status, &page)
}

/// The account page again, refused by a rate limit: 429 with when to try again.
async fn page_too_many(
    state: &AppState,
    visitor: Visitor,
    wait: TooMany,
    mut refill: Refill,
) -> Result<HttpResponse, AppError> {
    refill.errors.push(too_many_message(&wait));
    let mut response = page(state, visitor, None, refill).await?;
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(wait.retry_after_seconds));
    Ok(response)
}

/// A transactional mail the mailer would not take: the member must know it is not coming.
pub(crate) fn mail_not_sent(error: anyhow::Error, to: &str) -> AppError {
    tracing::error!(error = %format!("{error:#}"), "transactional mail not sent");
    AppError::Upstream(format!(
        "We could not send the e-mail to {to}. Check the address, or try again in a few minutes."
    ))
}

fn refused(errors: Vec<String>) -> Refill {
    Refill { errors, ..Default::default() }
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// Messages after a change, chosen by a fixed key so a link cannot inject text.
fn notice_for(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "profile" => "Your profile is saved.",
        "picture-removed" => "Your picture is removed.",
        "password" => "Your password is changed.",
        "email-sent" => "We sent a confirmation link to the new address. The change takes effect when you open it.",
        "email-confirmed" => "Your e-mail address is confirmed.",
        "email-changed" => "Your new e-mail address is in use.",
        "confirmation-sent" => "We sent you a new confirmation link.",
        "confirmation-failed" => {
            "Your account is made, but we could not send the confirmation mail. Check your address below, \
             then send the link again."
        }
        "newsletter" => "Your newsletter choice is saved.",
        "visibility" => "Your profile's visibility is saved.",
        "notifications" => "Your notification choices are saved.",
        "session-ended" => "That session is signed out.",
        _ => return None,
    })
}

async fn account(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    page(&state, visitor, notice_for(query.done.as_deref()), Refill::default()).await
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
}

/// A name as typed: trimmed, at most 100 characters, and empty means "remove it".
fn optional_name(raw: &str, label: &str, errors: &mut Vec<String>) -> Option<String> {
    let name = crate::text::name_line(raw, label).map_err(|e| errors.push(e)).ok()?;
    if name.chars().count() > 100 {
        errors.push(format!("{label} is at most 100 characters."));
    }
    (!name.is_empty()).then_some(name)
}

async fn update_profile(
    state: web::Data<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    let mut errors = Vec::new();
    let username = Username::parse(&form.username).map_err(|e| errors.push(e)).ok();
    let first_name = optional_name(&form.first_name, "A first name", &mut errors);
    let last_name = optional_name(&form.last_name, "A last name", &mut errors);
    let refill = |errors| Refill {
        errors,
        username: Some(form.username.clone()),
        first_name: Some(form.first_name.clone()),
        last_name: Some(form.last_name.clone()),
        email: None,
    };
    let (Some(username), true) = (username, errors.is_empty()) else {
        return page(&state, visitor, None, refill(errors)).await;
    };
    let saved = state
        .db
        .run(move |c| store::update_profile(c, user_id, &username, first_name.as_deref(), last_name.as_deref()))
        .await;
    match saved {
        Ok(()) => {
            crate::privacy::erasure::settle_async(&state, None).await;
            Ok(see_other("/account?done=profile"))
        }
        Err(ProfileError::UsernameTaken) => {
            page(&state, visitor, None, refill(vec!["That username is already taken; choose another.".into()])).await
        }
        Err(ProfileError::Db(e)) => Err(e.into()),
    }
}

async fn remove_picture(
    state: web::Data<AppState>,
    visitor: Visitor,
    _: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    state.db.run(move |c| store::remove_picture(c, user_id)).await?;
    crate::privacy::erasure::settle_async(&state, None).await;
    Ok(see_other("/account?done=picture-removed"))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

async fn change_password(
    state: web::Data<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let member = visitor.member()?.clone();
    let user_id = member.user_id;
    let profile = state.db.run(move |c| crate::auth::accounts::profile(c, user_id)).await?.ok_or(AppError::NotFound)?;
    let mut errors = Vec::new();
    match crate::auth::proof::proof_of_identity(&state, &member, form.current_password, "set a password").await {
        Ok(None) => {}
        Ok(Some(message)) => errors.push(message),
        Err(AppError::TooMany(wait)) => return page_too_many(&state, visitor, wait, Refill::default()).await,
        Err(other) => return Err(other),
    }
    let new_password =
        NewPassword::parse(&form.new_password, &profile.username, profile.email.as_deref().unwrap_or(""))
            .map_err(|e| errors.push(e))
            .ok();
    let (Some(new_password), true) = (new_password, errors.is_empty()) else {
        return page(&state, visitor, None, refused(errors)).await;
    };
    let hash = password::hash_off_executor(new_password.expose().to_string()).await?;
    let keep = member.session_id;
    state
        .db
        .run(move |c| {
            c.write_transaction(|c| -> Result<_, AppError> {
                // Pending reset links stop working too.
                store::set_password_hash(c, user_id, &hash)?;
                // Whoever else was signed in (perhaps with the old password) is signed out.
                store::end_other_sessions(c, user_id, keep)?;
                Ok(())
            })
        })
        .await?;
    crate::privacy::erasure::settle_async(&state, None).await;
    Ok(see_other("/account?done=password"))
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    current_password: String,
}

/// Asks for a new address. Whether the address belongs to another member is never said
/// on the page (anyone could test addresses that way): its owner gets a mail about the
/// attempt, and the member sees the same "we sent a link" either way.
async fn change_email(
    state: web::Data<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Result<HttpResponse, AppError> {
    let member = visitor.member()?.clone();
    let user_id = member.user_id;
    let refill = |errors: Vec<String>| Refill { errors, email: Some(form.email.clone()), ..Default::default() };
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(message) => return page(&state, visitor, None, refill(vec![message])).await,
    };
    match state.rate_limit(Limit::EmailChangePerMember, user_id).await {
        Ok(()) => {}
        Err(AppError::TooMany(wait)) => return page_too_many(&state, visitor, wait, refill(Vec::new())).await,
        Err(other) => return Err(other),
    }
    match crate::auth::proof::proof_of_identity(&state, &member, form.current_password.clone(), "change your address")
        .await
    {
        Ok(None) => {}
        Ok(Some(message)) => return page(&state, visitor, None, refill(vec![message])).await,
        Err(AppError::TooMany(wait)) => return page_too_many(&state, visitor, wait, refill(Vec::new())).await,
        Err(other) => return Err(other),
    }
    let address = email.as_str().to_string();
    let outcome = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let profile = crate::auth::accounts::profile(c, user_id)?.ok_or(AppError::NotFound)?;
            if profile.email.as_deref() == Some(address.as_str()) {
                return Ok(Err("That is already your address."));
            }
            let token = match crate::auth::accounts::email_taken(c, &address)? {
                true => None,
                false => Some(tokens::issue(c, user_id, Purpose::ChangeEmail, Some(&address))?),
            };
            Ok(Ok((profile, token)))
        })
        .await?;
    let (profile, token) = match outcome {
        Ok(found) => found,
        Err(message) => return page(&state, visitor, None, refill(vec![message.into()])).await,
    };
    let public_url = &state.config.public_url;
    let to_new_address = match &token {
        Some(token) => mails::confirm_new_address(public_url, email.as_str(), &profile.username, token),
        None => mails::address_already_in_use(public_url, email.as_str()),
    };
    state.mailer.send(to_new_address).await.map_err(|e| mail_not_sent(e, email.as_str()))?;
    if let Some(old) = &profile.email {
        state.mailer.send_or_log(mails::address_change_requested(public_url, old, &profile.username)).await;
    }
    Ok(see_other("/account?done=email-sent"))
}

async fn resend_confirmation(
    state: web::Data<AppState>,
    visitor: Visitor,
    ip: ClientIp,
    _: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    let profile = state.db.run(move |c| crate::auth::accounts::profile(c, user_id)).await?.ok_or(AppError::NotFound)?;
    let Some(email) = profile.email.clone().filter(|_| !profile.email_verified) else {
        return Ok(see_other("/account"));
    };
    for (limit, key) in [(Limit::MailPerIp, ip.rate_key()), (Limit::MailPerAddress, email.clone())] {
        match state.rate_limit(limit, key).await {
            Ok(()) => {}
            Err(AppError::TooMany(wait)) => return page_too_many(&state, visitor, wait, Refill::default()).await,
            Err(other) => return Err(other),
        }
    }
    let token = state.db.run(move |c| tokens::issue(c, user_id, Purpose::ConfirmEmail, None)).await?;
    let mail = mails::confirm_address(&state.config.public_url, &email, &profile.username, &token);
    state.mailer.send(mail).await.map_err(|e| mail_not_sent(e, &email))?;
    Ok(see_other("/account?done=confirmation-sent"))
}

#[derive(Deserialize)]
pub struct NewsletterForm {
    newsletter: Option<String>,
}

async fn newsletter(
    state: web::Data<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<NewsletterForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    let subscribed = form.newsletter.is_some();
    state.db.run(move |c| crate::privacy::consent::set_newsletter(c, user_id, subscribed, "account page")).await?;
    if !subscribed {
        crate::privacy::erasure::settle_async(&state, None).await;
    }
    Ok(see_other("/account?done=newsletter"))
}

#[derive(Deserialize)]
pub struct VisibilityForm {
    show_name: Option<String>,
}

/// Whether the public profile shows the member's first and last name (off until they
/// turn it on: the policy says names are stored, not published).
async fn profile_visibility(
    state: web::Data<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<VisibilityForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    state.rate_limit(crate::web::rate_limit::Limit::ChoicePerMember, user_id).await?;
    let show = form.show_name.is_some();
    if state.db.run(move |c| store::set_show_name(c, user_id, show)).await? {
        crate::privacy::erasure::settle_async(&state, None).await;
    }
    Ok(see_other("/account?done=visibility"))
}

async fn end_session(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    _: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let member = visitor.member()?.clone();
    let session_id = path.into_inner();
    let ended = state.db.run(move |c| store::end_session(c, member.user_id, session_id)).await?;
    if !ended {
        return Err(AppError::NotFound);
    }
    if session_id == member.session_id {
        return Ok(crate::auth::routes::signed_out(&state, "/"));
    }
    Ok(see_other("/account?done=session-ended"))
}

async fn end_all_sessions(
    state: web::Data<AppState>,
    visitor: Visitor,
    _: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    state.db.run(move |c| store::end_all_sessions(c, user_id)).await?;
    Ok(crate::auth::routes::signed_out(&state, "/login"))
}

impl AccountPage {
    fn browser(&self, session: &SessionRow) -> String {
        let agent = session.user_agent.trim();
        if agent.is_empty() {
            "unknown browser".into()
        } else {
            agent.chars().take(80).collect()
        }
    }
}
