//! Sign in with GitHub: start, callback, linking,
//! re-import, and the pictures served from our own origin.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::auth::forms::{CsrfForm, EmptyForm};
use crate::auth::github::client::{Avatar, GithubClient, GithubError, GithubProfile};
use crate::auth::github::store::{self, LinkError, Purpose};
use crate::auth::sessions;
use crate::auth::visitor::Visitor;
use crate::web::client_ip::ClientIp;
use crate::web::errors::AppError;
use crate::web::{safe_next, see_other};
use crate::AppState;

// Listed, with their purpose and lifetime, in `web::cookies` (the policy's table).
const STATE_COOKIE: &str = "agora_github_state";
pub(super) const SIGNUP_COOKIE: &str = "agora_github_signup";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/github", web::post().to(start_sign_in))
        .route("/auth/github/callback", web::get().to(callback))
        .route("/auth/github/finish", web::get().to(super::signup::finish_form))
        .route("/auth/github/finish", web::post().to(super::signup::finish))
        .route("/account/github/link", web::post().to(start_link))
        .route("/account/github/reimport", web::post().to(start_reimport))
        .route("/account/github/unlink", web::post().to(unlink))
        .route("/account/github/reauth", web::post().to(start_reauth));
}

pub(super) fn github(state: &AppState) -> Result<&GithubClient, AppError> {
    state.github.as_ref().ok_or_else(|| {
        AppError::NotAvailable(
            "Sign-in with GitHub is not configured on this forum. Use a username and password instead.".into(),
        )
    })
}

/// A short-lived cookie for one step of the flow.
pub(super) fn cookie(state: &AppState, name: &'static str, value: String, max_age: i64) -> Cookie<'static> {
    crate::web::cookie(name, value, state.config.secure_cookies(), Some(CookieDuration::seconds(max_age)))
}

/// Sends the browser to GitHub with a fresh state and PKCE challenge kept server-side;
/// the state also goes into a cookie, binding the flow to this browser.
async fn redirect_to_github(
    state: &AppState,
    purpose: Purpose,
    user_id: Option<i64>,
    next: String,
) -> Result<HttpResponse, AppError> {
    let client = github(state)?;
    let redirect = client.authorize().map_err(|e| AppError::Internal(e.into()))?;
    let (flow_state, verifier) = (redirect.state.clone(), redirect.pkce_verifier);
    state.db.run(move |c| store::save_flow(c, &flow_state, &verifier, purpose, user_id, &next)).await?;
    let mut response = HttpResponse::SeeOther().insert_header((header::LOCATION, redirect.url)).finish();
    response.add_cookie(&cookie(state, STATE_COOKIE, redirect.state, store::STATE_LIFETIME_SECONDS))?;
    Ok(response)
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// "Sign in with GitHub" is a form button: a POST with a CSRF token, limited per IP,
/// so only a real start of a sign-in writes the state row (a link or a crawler writes nothing).
async fn start_sign_in(
    state: web::Data<AppState>,
    visitor: Visitor,
    ip: crate::web::client_ip::ClientIp,
    CsrfForm(form): CsrfForm<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(form.next.as_deref());
    if visitor.user.is_some() {
        return Ok(see_other(&next));
    }
    github(&state)?;
    state.rate_limit(crate::web::rate_limit::Limit::GithubStartPerIp, ip.rate_key()).await?;
    redirect_to_github(&state, Purpose::SignIn, None, next).await
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    current_password: String,
}

/// Linking adds a way in: it asks for the current password (a stolen session must not
/// be able to add the thief's GitHub), only while no GitHub account is linked, and the
/// member is told by mail once it is done.
async fn start_link(
    state: web::Data<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> Result<HttpResponse, AppError> {
    let member = visitor.member()?.clone();
    let user_id = member.user_id;
    // Otherwise someone could register with another person's address, link their own
    // GitHub, and keep a way in after the address's owner takes the account back.
    let profile = state.db.run(move |c| crate::auth::accounts::profile(c, user_id)).await?.ok_or(AppError::NotFound)?;
    if !profile.email_verified {
        return Err(AppError::Conflict(
            "Confirm your e-mail address first (see your account page), then link GitHub.".into(),
        ));
    }
    if profile.github_id.is_some() {
        return Err(AppError::Conflict("A GitHub account is already linked. Unlink it first.".into()));
    }
    if let Some(message) =
        crate::auth::proof::proof_of_identity(&state, &member, form.current_password, "link GitHub").await?
    {
        return Err(AppError::Forbidden(message));
    }
    redirect_to_github(&state, Purpose::Link, Some(user_id), "/account".into()).await
}

async fn start_reimport(
    state: web::Data<AppState>,
    visitor: Visitor,
    _: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    redirect_to_github(&state, Purpose::Reimport, Some(user_id), "/account".into()).await
}

async fn start_reauth(
    state: web::Data<AppState>,
    visitor: Visitor,
    _: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    redirect_to_github(&state, Purpose::Reauth, Some(user_id), "/account/delete".into()).await
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn github_failure(error: GithubError) -> AppError {
    tracing::warn!(%error, "GitHub sign-in failed");
    match error {
        GithubError::Refused(_) => AppError::BadRequest(
            "GitHub did not accept this sign-in (the code may have expired or been used already). Please start again.".into(),
        ),
        GithubError::Unavailable(_) | GithubError::Malformed(_) => AppError::Upstream(
            "GitHub could not be reached or gave an answer we could not use. Nothing was stored; please try again in a few minutes.".into(),
        ),
    }
}

/// A picture is welcome but never required: without one the member gets the default.
async fn fetch_avatar(client: &GithubClient, profile: &GithubProfile) -> Option<Avatar> {
    let url = profile.avatar_url.as_deref()?;
    match client.avatar(url).await {
        Ok(avatar) => Some(avatar),
        Err(reason) => {
            tracing::warn!(%reason, "GitHub profile picture not used");
            None
        }
    }
}

async fn callback(
    state: web::Data<AppState>,
    visitor: Visitor,
    ip: ClientIp,
    req: HttpRequest,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, AppError> {
    let client = github(&state)?;
    let query = query.into_inner();
    let returned_state = query.state.unwrap_or_default();
    // Take the flow out first: whatever happens next, this state is spent.
    let lookup = returned_state.clone();
    let flow = state.db.run(move |c| store::take_flow(c, &lookup)).await?;
    let cookie_state = req.cookie(STATE_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    let same_browser =
        !returned_state.is_empty() && bool::from(cookie_state.as_bytes().ct_eq(returned_state.as_bytes()));
    let Some(flow) = flow.filter(|_| same_browser) else {
        return Err(AppError::BadRequest(
            "This sign-in link has expired, was already used, or was started in another browser. Please start again."
                .into(),
        ));
    };
    if let Some(error) = query.error {
        let message = if error == "access_denied" {
            "You chose not to let this forum see your GitHub profile, so nothing was stored. You can still register with a username and password."
        } else {
            "GitHub ended the sign-in with an error. Nothing was stored; please try again."
        };
        return Err(AppError::Forbidden(message.into()));
    }
    let code =
        query.code.ok_or_else(|| AppError::BadRequest("GitHub sent no sign-in code. Please start again.".into()))?;

    // The token lives only in this function: used for two calls, then dropped.
    let token = client.exchange_code(&code, &flow.pkce_verifier).await.map_err(github_failure)?;
    let profile = client.profile(&token).await.map_err(github_failure)?;
    drop(token);

    let Some(email) = profile.verified_email.clone() else {
        return Err(AppError::Forbidden(
            "Your GitHub account has no verified primary e-mail address. On GitHub, open Settings → Emails, verify your \
             primary address, then sign in here again."
                .into(),
        ));
    };

    let mut response = match flow.purpose {
        Purpose::SignIn => sign_in(&state, visitor, client, &req, ip, profile, email, flow.next_path).await?,
        Purpose::Link | Purpose::Reimport | Purpose::Reauth => {
            let member = visitor.member()?.clone();
            if flow.user_id != Some(member.user_id) {
                return Err(AppError::Forbidden("This GitHub round trip was started by another account.".into()));
            }
            account_round_trip(&state, client, member, flow.purpose, profile).await?;
            see_other(&flow.next_path)
        }
    };
    response.add_cookie(&crate::web::removal(STATE_COOKIE, state.config.secure_cookies()))?;
    Ok(response)
}

/// Finishes a round trip a signed-in member started from their account page.
async fn account_round_trip(
    state: &AppState,
    client: &GithubClient,
    member: crate::auth::sessions::SessionUser,
    purpose: Purpose,
    profile: GithubProfile,
) -> Result<(), AppError> {
    let user_id = member.user_id;
    if purpose == Purpose::Link {
        let (github_id, login) = (profile.id, profile.login.clone());
        let linked_login = login.clone();
        return match state.db.run(move |c| store::link(c, user_id, github_id, &login)).await {
            Ok(()) => {
                let profile = state.db.run(move |c| crate::auth::accounts::profile(c, user_id)).await?;
                if let Some(email) = profile.as_ref().and_then(|p| p.email.clone()) {
                    let mail = crate::privacy::mails::github_linked(
                        &state.config.public_url,
                        &email,
                        &member.username,
                        &linked_login,
                    );
                    state.mailer.send_or_log(mail).await;
                }
                Ok(())
            }
            Err(LinkError::LinkedElsewhere) => {
                Err(AppError::Conflict("That GitHub account is already linked to another member of this forum.".into()))
            }
            Err(LinkError::Db(e)) => Err(e.into()),
        };
    }
    let linked_id = state.db.run(move |c| store::github_id_of(c, user_id)).await?;
    if linked_id != Some(profile.id) {
        return Err(AppError::Conflict("You signed in to a different GitHub account than the one linked here.".into()));
    }
    if purpose == Purpose::Reauth {
        let session_id = member.session_id;
        state.db.run(move |c| sessions::mark_reauthenticated(c, session_id)).await?;
    } else {
        let avatar = fetch_avatar(client, &profile).await;
        state.db.run(move |c| store::reimport(c, user_id, &profile, avatar.as_ref())).await?;
        crate::privacy::erasure::settle_async(state, None).await;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn sign_in(
    state: &AppState,
    visitor: Visitor,
    client: &GithubClient,
    req: &HttpRequest,
    ip: ClientIp,
    profile: GithubProfile,
    email: String,
    next: String,
) -> Result<HttpResponse, AppError> {
    let github_id = profile.id;
    let existing = state.db.run(move |c| store::member_for_github(c, github_id)).await?;
    if let Some(user_id) = existing {
        // Returning member: nothing they edited here is overwritten. With two-factor
        // sign-in on, GitHub is only the first step.
        let login = profile.login.clone();
        state.db.run(move |c| store::update_github_login(c, user_id, &login)).await?;
        return crate::auth::two_factor_routes::sign_in(state, visitor, req, ip, user_id, false, next).await;
    }

    let lookup = email.clone();
    if state.db.run(move |c| crate::auth::accounts::email_taken(c, &lookup)).await? {
        // Never merge silently: whoever controls this GitHub account must prove they
        // also own the local account before the two are joined.
        return Err(AppError::Conflict(
            "An account with your GitHub e-mail address already exists here. Sign in with its password, then link \
             GitHub from your account page."
                .into(),
        ));
    }

    let avatar = fetch_avatar(client, &profile).await;
    let token = crate::web::tokens::random_token();
    let token_hash = crate::web::tokens::hash_token(&token);
    state.db.run(move |c| store::save_signup(c, &token_hash, &profile, &email, avatar.as_ref(), &next)).await?;
    let mut response = see_other("/auth/github/finish");
    response.add_cookie(&cookie(state, SIGNUP_COOKIE, token, store::SIGNUP_LIFETIME_SECONDS))?;
    Ok(response)
}

async fn unlink(
    state: web::Data<AppState>,
    visitor: Visitor,
    _: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    if !state.db.run(move |c| store::unlink(c, user_id)).await? {
        return Err(AppError::Conflict(
            "GitHub is your only way to sign in. Set a password first, then unlink GitHub.".into(),
        ));
    }
    crate::privacy::erasure::settle_async(&state, None).await;
    Ok(see_other("/account"))
}
