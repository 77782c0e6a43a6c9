//! The pages of two-factor sign-in: turning it on (a QR code drawn here, the secret in
//! text, a code to prove the app has it, then the recovery codes, shown once), turning
//! it off (with the current password, or a fresh GitHub confirmation), and the second
//! step of signing in, after the password or GitHub.
//!
//! Between the two steps nothing is stored and no cookie is set: the second step's form
//! carries who passed the first, until when, and where they were going, signed with the
//! forum's key. Without a valid code it is worth nothing.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::forms::CsrfForm;
use crate::auth::routes::{session_cookie, user_agent};
use crate::auth::sessions;
use crate::auth::two_factor::{self, Passed};
use crate::auth::visitor::Visitor;
use crate::web::client_ip::ClientIp;
use crate::web::errors::AppError;
use crate::web::rate_limit::Limit;
use crate::web::{filters, render, render_too_many, render_with, safe_next, see_other};
use crate::AppState;

/// How long the second step may follow the first.
const SECOND_STEP_SECONDS: i64 = 600;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/account/two-factor", web::get().to(settings_page))
        .route("/account/two-factor/enable", web::post().to(enable))
        .route("/account/two-factor/disable", web::post().to(disable))
        .route("/login/second-step", web::post().to(second_step));
}

/// A secret being set up, carried by the form until the member proves their app has it.
struct Setup {
    secret: String,
    /// The secret in groups of four, easier to type into an app.
    grouped: String,
    uri: String,
    qr_svg: String,
    signature: String,
}

#[derive(Template)]
#[template(path = "auth/two_factor.html")]
struct SettingsPage {
    visitor: Visitor,
    on: bool,
    codes_left: i64,
    setup: Option<Setup>,
    /// Sent here because the forum requires it of staff.
    required: bool,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "auth/recovery_codes.html")]
struct RecoveryCodesPage {
    visitor: Visitor,
    codes: Vec<String>,
}

fn setup_message(user_id: i64, secret: &str) -> String {
    format!("two-factor-setup:{user_id}:{secret}")
}

fn new_setup(state: &AppState, visitor: &Visitor, user_id: i64, username: &str, secret: String) -> Setup {
    let uri = two_factor::otpauth_uri(&visitor.site.name, username, &secret);
    Setup {
        qr_svg: two_factor::qr_svg(&uri).unwrap_or_default(),
        grouped: secret
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" "),
        signature: state.signer.sign(&setup_message(user_id, &secret)),
        uri,
        secret,
    }
}

#[derive(Deserialize)]
pub struct SettingsQuery {
    staff: Option<String>,
}

async fn settings_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<SettingsQuery>,
) -> Result<HttpResponse, AppError> {
    let member = visitor.member()?.clone();
    let user_id = member.user_id;
    let (on, codes_left) = state
        .db
        .run(move |c| Ok::<_, AppError>((two_factor::is_on(c, user_id)?, two_factor::codes_left(c, user_id)?)))
        .await?;
    let setup = (!on).then(|| new_setup(&state, &visitor, user_id, &member.username, two_factor::new_secret()));
    render(&SettingsPage { visitor, on, codes_left, setup, required: query.staff.is_some(), errors: Vec::new() })
}

#[derive(Deserialize)]
pub struct EnableForm {
    #[serde(default)]
    secret: String,
    #[serde(default)]
    signature: String,
    #[serde(default)]
    code: String,
}

async fn enable(
    state: web::Data<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<EnableForm>,
) -> Result<HttpResponse, AppError> {
    let member = visitor.member()?.clone();
    let user_id = member.user_id;
    if !state.signer.verify(&setup_message(user_id, &form.secret), &form.signature) {
        return Err(AppError::BadRequest("This set-up form is not valid any more. Please start again.".into()));
    }
    let guessed = state.rate_limit(Limit::SecondStepPerAccount, user_id).await;
    let step = two_factor::step_of(&form.secret, &form.code, crate::db::now().max(0) as u64);
    let refusal = match (guessed, step) {
        (Err(AppError::TooMany(wait)), _) => Some(Err(wait)),
        (Err(other), _) => return Err(other),
        (Ok(()), Some(_)) => None,
        (Ok(()), None) => Some(Ok("That code is not right. Type the six digits your app shows now.".to_string())),
    };
    if let Some(refusal) = refusal {
        let setup = new_setup(&state, &visitor, user_id, &member.username, form.secret);
        let page = |message: String| SettingsPage {
            visitor,
            on: false,
            codes_left: 0,
            setup: Some(setup),
            required: false,
            errors: vec![message],
        };
        return match refusal {
            Ok(message) => render_with(StatusCode::UNPROCESSABLE_ENTITY, &page(message)),
            Err(wait) => render_too_many(wait, &page(crate::web::errors::too_many_message(&wait))),
        };
    }
    let secret = form.secret;
    let now = crate::db::now();
    let (codes, email) = state
        .db
        .run(move |c| {
            let codes = two_factor::turn_on(c, user_id, &secret, step.unwrap_or_default(), now)?;
            let email = crate::auth::accounts::profile(c, user_id)?.and_then(|p| p.email);
            Ok::<_, AppError>((codes, email))
        })
        .await?;
    mail_the_change(&state, email, &member.username, true).await;
    render(&RecoveryCodesPage { visitor, codes })
}

async fn mail_the_change(state: &AppState, email: Option<String>, username: &str, on: bool) {
    if let Some(email) = email {
        let mail = crate::privacy::mails::two_factor_changed(&state.config.public_url, &email, username, on);
        state.mailer.send_or_log(mail).await;
    }
}

#[derive(Deserialize)]
pub struct DisableForm {
    #[serde(default)]
    current_password: String,
}

async fn disable(
    state: web::Data<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<DisableForm>,
) -> Result<HttpResponse, AppError> {
    let member = visitor.member()?.clone();
    let user_id = member.user_id;
    let proof =
        crate::auth::proof::proof_of_identity(&state, &member, form.current_password, "turn two-factor sign-in off")
            .await;
    let refusal = match proof {
        Ok(None) => None,
        Ok(Some(message)) => Some(Ok(message)),
        Err(AppError::TooMany(wait)) => Some(Err(wait)),
        Err(other) => return Err(other),
    };
    if let Some(refusal) = refusal {
        let codes_left = state.db.run(move |c| two_factor::codes_left(c, user_id)).await?;
        let page = |message: String| SettingsPage {
            visitor,
            on: true,
            codes_left,
            setup: None,
            required: false,
            errors: vec![message],
        };
        return match refusal {
            Ok(message) => render_with(StatusCode::UNPROCESSABLE_ENTITY, &page(message)),
            Err(wait) => render_too_many(wait, &page(crate::web::errors::too_many_message(&wait))),
        };
    }
    let email = state
        .db
        .run(move |c| {
            two_factor::turn_off(c, user_id, "turned off by member")?;
            Ok::<_, AppError>(crate::auth::accounts::profile(c, user_id)?.and_then(|p| p.email))
        })
        .await?;
    mail_the_change(&state, email, &member.username, false).await;
    Ok(see_other("/account/two-factor"))
}

/// Who passed the first step of signing in, signed: what the second step's form carries.
pub struct Pending {
    user_id: i64,
    expires: i64,
    remember: bool,
    next: String,
    signature: String,
}

impl Pending {
    fn message(user_id: i64, expires: i64, remember: bool, next: &str) -> String {
        format!("second-step:{user_id}:{expires}:{remember}:{next}")
    }

    fn new(state: &AppState, user_id: i64, remember: bool, next: String) -> Self {
        let expires = crate::db::now() + SECOND_STEP_SECONDS;
        let signature = state.signer.sign(&Self::message(user_id, expires, remember, &next));
        Pending { user_id, expires, remember, next, signature }
    }

    fn is_valid(&self, state: &AppState) -> bool {
        let message = Self::message(self.user_id, self.expires, self.remember, &self.next);
        self.expires >= crate::db::now() && state.signer.verify(&message, &self.signature)
    }
}

#[derive(Template)]
#[template(path = "auth/second_step.html")]
struct SecondStepPage {
    visitor: Visitor,
    pending: Pending,
    error: Option<String>,
}

/// After a first step passed (a password, or GitHub): a session, or for members with
/// two-factor sign-in on, the second step's page.
pub async fn sign_in(
    state: &AppState,
    visitor: Visitor,
    req: &HttpRequest,
    ip: ClientIp,
    user_id: i64,
    remember: bool,
    next: String,
) -> Result<HttpResponse, AppError> {
    if state.db.run(move |c| two_factor::is_on(c, user_id)).await? {
        let pending = Pending::new(state, user_id, remember, next);
        return render(&SecondStepPage { visitor, pending, error: None });
    }
    start_session(state, req, ip, user_id, remember, &next).await
}

async fn start_session(
    state: &AppState,
    req: &HttpRequest,
    ip: ClientIp,
    user_id: i64,
    remember: bool,
    next: &str,
) -> Result<HttpResponse, AppError> {
    let (remote_ip, agent) = (ip.to_string(), user_agent(req));
    let token = state
        .db
        .run(move |c| sessions::create(c, user_id, remember, &remote_ip, &agent))
        .await
        .map_err(AppError::Database)?;
    let mut response = see_other(next);
    response.add_cookie(&session_cookie(state, token, remember))?;
    Ok(response)
}

#[derive(Deserialize)]
pub struct SecondStepForm {
    user_id: i64,
    expires: i64,
    #[serde(default)]
    remember: bool,
    #[serde(default)]
    next: String,
    #[serde(default)]
    signature: String,
    #[serde(default)]
    code: String,
}

async fn second_step(
    state: web::Data<AppState>,
    visitor: Visitor,
    ip: ClientIp,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<SecondStepForm>,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(Some(&form.next));
    let pending = Pending {
        user_id: form.user_id,
        expires: form.expires,
        remember: form.remember,
        next,
        signature: form.signature,
    };
    if !pending.is_valid(&state) {
        return Err(AppError::Forbidden(
            "This sign-in took too long or the form was changed. Please sign in again.".into(),
        ));
    }
    let user_id = pending.user_id;
    // Guesses are limited per account, from anywhere: six digits allow no more.
    if let Err(refusal) = state.rate_limit(Limit::SecondStepPerAccount, user_id).await {
        let AppError::TooMany(wait) = refusal else { return Err(refusal) };
        let message = crate::web::errors::too_many_message(&wait);
        return render_too_many(wait, &SecondStepPage { visitor, pending, error: Some(message) });
    }
    let code = form.code;
    let passed = state.db.run(move |c| two_factor::check(c, user_id, &code, crate::db::now())).await?;
    match passed {
        Some(Passed::AppCode | Passed::RecoveryCode) => {
            start_session(&state, &req, ip, user_id, pending.remember, &pending.next).await
        }
        None => {
            let error = Some(
                "That code is not right, or was used already. Try the next one your app shows, or a recovery code."
                    .into(),
            );
            render_with(StatusCode::UNAUTHORIZED, &SecondStepPage { visitor, pending, error })
        }
    }
}
