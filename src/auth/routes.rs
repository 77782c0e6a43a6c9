//! Register, sign in, sign out.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::accounts::{self, NewAccount, RegisterError};
use crate::auth::domain::{Email, NewPassword, Username};
use crate::auth::forms::{CsrfForm, EmptyForm};
use crate::auth::visitor::Visitor;
use crate::auth::{password, sessions};
use crate::privacy::{mails, tokens};
use crate::web::client_ip::ClientIp;
use crate::web::errors::{too_many_message, AppError};
use crate::web::rate_limit::Limit;
use crate::web::{filters, render, render_too_many, render_with, safe_next, see_other};
use crate::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/register", web::get().to(register_form))
        .route("/register", web::post().to(register))
        .route("/login", web::get().to(login_form))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout));
}

#[derive(Template)]
#[template(path = "auth/register.html")]
struct RegisterPage {
    visitor: Visitor,
    form: RegisterForm,
    errors: Vec<String>,
    github_enabled: bool,
    next_path: String,
}

impl RegisterPage {
    fn new(state: &AppState, visitor: Visitor, form: RegisterForm, errors: Vec<String>) -> Self {
        let next_path = safe_next(form.next.as_deref());
        RegisterPage { visitor, form, errors, github_enabled: state.github.is_some(), next_path }
    }
}

#[derive(Deserialize, Default)]
pub struct RegisterForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    age_confirmed: Option<String>,
    accept_policy: Option<String>,
    newsletter: Option<String>,
    notification_mail: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    done: Option<String>,
}

async fn register_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    if visitor.user.is_some() {
        return Ok(see_other("/"));
    }
    let form = RegisterForm { next: query.into_inner().next, ..Default::default() };
    render(&RegisterPage::new(&state, visitor, form, Vec::new()))
}

async fn register(
    state: web::Data<AppState>,
    visitor: Visitor,
    ip: ClientIp,
    req: HttpRequest,
    CsrfForm(mut form): CsrfForm<RegisterForm>,
) -> Result<HttpResponse, AppError> {
    let mut errors = Vec::new();
    let username = Username::parse(&form.username).map_err(|e| errors.push(e)).ok();
    let email = Email::parse(&form.email).map_err(|e| errors.push(e)).ok();
    let password =
        NewPassword::parse(&form.password, form.username.trim(), form.email.trim()).map_err(|e| errors.push(e)).ok();
    if form.age_confirmed.is_none() {
        errors.push("You must be at least 13 years old to have an account.".into());
    }
    if form.accept_policy.is_none() {
        errors.push("Please read and accept the privacy policy.".into());
    }
    let (Some(username), Some(email), Some(password), true) = (username, email, password, errors.is_empty()) else {
        form.password.clear();
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &RegisterPage::new(&state, visitor, form, errors));
    };
    // Counted before the database is asked whether the name or address is taken, so
    // that question cannot be put at scale.
    if let Err(refusal) = state.rate_limit(Limit::RegisterPerIp, ip.rate_key()).await {
        let AppError::TooMany(wait) = refusal else { return Err(refusal) };
        form.password.clear();
        return render_too_many(wait, &RegisterPage::new(&state, visitor, form, vec![too_many_message(&wait)]));
    }

    let password_hash = password::hash_off_executor(password.expose().to_string()).await?;
    let user_agent = user_agent(&req);
    let remote_ip = ip.to_string();
    let newsletter = form.newsletter.is_some();
    let notification_mail = form.notification_mail.is_some();
    let address = email.as_str().to_string();
    let name = username.as_str().to_string();
    let created = state
        .db
        .run(move |conn| {
            conn.write_transaction(|conn| -> Result<_, RegisterError> {
                let user_id = accounts::register(
                    conn,
                    NewAccount {
                        username: &username,
                        email: email.as_str(),
                        email_verified: false,
                        password_hash: Some(&password_hash),
                        first_name: None,
                        last_name: None,
                        github: None,
                        picture: None,
                        newsletter: newsletter.then_some("registration"),
                        notification_mail,
                    },
                )?;
                let confirmation = tokens::issue(conn, user_id, tokens::Purpose::ConfirmEmail, None)?;
                let session = sessions::create(conn, user_id, false, &remote_ip, &user_agent)?;
                Ok((session, confirmation))
            })
        })
        .await;
    let (token, mailed) = match created {
        Ok((token, confirmation)) => {
            let mail = mails::confirm_address(&state.config.public_url, &address, &name, &confirmation);
            let mailed = state.mailer.send(mail).await;
            if let Err(error) = &mailed {
                tracing::error!(error = %format!("{error:#}"), "confirmation mail not sent");
            }
            (token, mailed.is_ok())
        }
        Err(RegisterError::Db(e)) => return Err(e.into()),
        Err(taken) => {
            let message = match taken {
                RegisterError::UsernameTaken => "That username is already taken; choose another.",
                _ => "An account with this e-mail address already exists. Sign in instead.",
            };
            form.password.clear();
            return render_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &RegisterPage::new(&state, visitor, form, vec![message.into()]),
            );
        }
    };
    // The account exists either way; if the mail could not be handed over, the member
    // is told so on their account page, where they can send it again.
    let next = if mailed { safe_next(form.next.as_deref()) } else { "/account?done=confirmation-failed".into() };
    let mut response = see_other(&next);
    response.add_cookie(&session_cookie(&state, token, false))?;
    Ok(response)
}

/// Counting a failure that uses up the budget is not itself a refusal.
pub(crate) fn ignore_too_many(error: AppError) -> Result<(), AppError> {
    match error {
        AppError::TooMany(_) => Ok(()),
        other => Err(other),
    }
}

pub(crate) fn user_agent(req: &HttpRequest) -> String {
    req.headers().get(actix_web::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

pub(crate) fn session_cookie(state: &AppState, token: String, persistent: bool) -> Cookie<'static> {
    let max_age = persistent.then(|| CookieDuration::days(sessions::PERSISTENT_DAYS));
    let secure = state.config.secure_cookies();
    crate::web::cookie(crate::web::cookies::session_cookie(secure), token, secure, max_age)
}

/// A redirect that also makes the browser forget its session cookie.
pub(crate) fn signed_out(state: &AppState, location: &str) -> HttpResponse {
    let mut response = see_other(location);
    // Adding a well-formed cookie cannot fail.
    let secure = state.config.secure_cookies();
    let _ = response.add_cookie(&crate::web::removal(crate::web::cookies::session_cookie(secure), secure));
    response
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    visitor: Visitor,
    login: String,
    remember: bool,
    next_path: String,
    error: Option<String>,
    github_enabled: bool,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    remember: Option<String>,
    next: Option<String>,
}

async fn login_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(query.next.as_deref());
    if visitor.user.is_some() {
        return Ok(see_other(&next));
    }
    render(&LoginPage {
        visitor,
        login: String::new(),
        remember: false,
        next_path: next,
        error: None,
        github_enabled: state.github.is_some(),
        notice: (query.done.as_deref() == Some("password-reset"))
            .then_some("Your new password is saved and you are signed out everywhere. Sign in with it."),
    })
}

/// How long a sign-in waits once its name has seen `login_slowdown_per_account` failures.
const LOGIN_SLOWDOWN: std::time::Duration = std::time::Duration::from_secs(2);

async fn login(
    state: web::Data<AppState>,
    visitor: Visitor,
    ip: ClientIp,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(form.next.as_deref());
    let remember = form.remember.is_some();
    let refused = |error: String| LoginPage {
        visitor: visitor.clone(),
        login: form.login.clone(),
        remember,
        next_path: next.clone(),
        error: Some(error),
        github_enabled: state.github.is_some(),
        notice: None,
    };
    // Attempts are limited from each address (all of them, before any hashing), and
    // wrong passwords for each name or address typed, from each source: someone
    // guessing from elsewhere never locks the member out. Past a larger number of
    // failures from everywhere, every attempt for that name is slowed down rather than
    // refused. Counters go by what was typed, never by the account it names, so no
    // answer tells whether an address and a username belong to the same member.
    if let Err(refusal) = state.rate_limit(Limit::LoginPerIp, ip.rate_key()).await {
        let AppError::TooMany(wait) = refusal else { return Err(refusal) };
        return render_too_many(wait, &refused(too_many_message(&wait)));
    }
    let typed = form.login.trim().to_lowercase();
    let from_here = format!("{}|{typed}", ip.rate_key());
    if let Err(refusal) = state.rate_limit_reached(Limit::LoginPerAccount, &from_here).await {
        let AppError::TooMany(wait) = refusal else { return Err(refusal) };
        return render_too_many(wait, &refused(too_many_message(&wait)));
    }
    if let Err(refusal) = state.rate_limit_reached(Limit::LoginSlowdownPerAccount, &typed).await {
        let AppError::TooMany(_) = refusal else { return Err(refusal) };
        tokio::time::sleep(LOGIN_SLOWDOWN).await;
    }
    let login = form.login.clone();
    let account = state.db.run(move |conn| accounts::find_login(conn, &login)).await?;
    let stored_hash = account.as_ref().and_then(|(_, h)| h.clone());
    let valid = password::verify_off_executor(form.password.clone(), stored_hash).await?;
    let Some((user_id, _)) = account.filter(|_| valid) else {
        state.rate_limit(Limit::LoginPerAccount, &from_here).await.or_else(ignore_too_many)?;
        state.rate_limit(Limit::LoginSlowdownPerAccount, &typed).await.or_else(ignore_too_many)?;
        // The same words whether the name or the password was wrong.
        return render_with(StatusCode::UNAUTHORIZED, &refused("Wrong username, e-mail or password.".into()));
    };
    crate::auth::two_factor_routes::sign_in(&state, visitor, &req, ip, user_id, remember, next).await
}

async fn logout(
    state: web::Data<AppState>,
    visitor: Visitor,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    if let Some(user) = visitor.user {
        state.db.run(move |conn| sessions::delete(conn, user.session_id)).await.map_err(AppError::Database)?;
    }
    Ok(signed_out(&state, "/"))
}
