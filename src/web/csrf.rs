//! CSRF protection. Every form carries a token in a hidden field; a POST is accepted
//! only when it matches what the server expects for this browser:
//! - signed in: an HMAC of the session cookie with the forum's secret key, so the token
//!   is bound to the session, cannot be chosen by the client, and changes with every
//!   sign-in;
//! - signed out (sign-in and registration forms): a random token that must also be in
//!   an HttpOnly cookie (double submit), named `__Host-agora_csrf` over https so no
//!   other subdomain can set it. It is dropped whenever a session starts or ends.
//!
//! Nothing is kept in process memory, so any instance can check any form.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::config::Config;
use crate::web::cookies::session_cookie;
use crate::web::errors::AppError;
use crate::web::signing::Signer;
use crate::web::tokens::random_token;

pub const COOKIE: &str = "agora_csrf";
/// The same cookie over https: the `__Host-` prefix makes browsers refuse it unless it
/// is Secure, for the whole site, and set by this host itself.
pub const SECURE_COOKIE: &str = "__Host-agora_csrf";

/// The name of the signed-out token cookie for this forum.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE
    } else {
        COOKIE
    }
}
pub const FIELD: &str = "csrf_token";
/// The largest form body accepted; posts are limited well below this by characters.
pub const FORM_LIMIT: usize = 256 * 1024;

/// The two tokens a request could need; which one applies is known once the session
/// is looked up (`Visitor`): the session-bound one for a session that exists, the
/// signed-out one otherwise (also when a stale or planted session cookie is sent).
#[derive(Debug, Clone)]
struct Candidates {
    /// HMAC of the session cookie, when one was sent.
    session: Option<String>,
    signed_out: String,
    /// True when the browser sent no (valid) signed-out cookie and this one is brand new.
    fresh: bool,
}

/// Works out this request's tokens, and makes sure a signed-out visitor has a token
/// cookie before any form is shown.
pub async fn ensure_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let secure = req.app_data::<web::Data<Config>>().is_some_and(|c| c.secure_cookies());
    let signer = req.app_data::<web::Data<Signer>>().cloned();
    let name = cookie_name(secure);
    let session_name = session_cookie(secure);
    let session = req.cookie(session_name).map(|c| c.value().to_string()).filter(|v| !v.is_empty());
    let existing = req.cookie(name).map(|c| c.value().to_string()).filter(|v| is_well_formed(v));
    let candidates = Candidates {
        session: session.zip(signer.as_ref()).map(|(session, signer)| session_token(signer, &session)),
        fresh: existing.is_none(),
        signed_out: existing.unwrap_or_else(random_token),
    };
    let anonymous_cookie_sent = req.cookie(name).is_some();
    req.extensions_mut().insert(candidates.clone());
    let mut res = next.call(req).await?;
    let session_changed = res.response().cookies().any(|c| c.name() == session_name);
    // A response a shared cache may keep (the stylesheet) must not hand out a token.
    let cacheable = res
        .headers()
        .get(actix_web::http::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("public"));
    if session_changed {
        // A sign-in or sign-out: the signed-out token of before must not live on.
        if anonymous_cookie_sent {
            res.response_mut().add_cookie(&crate::web::removal(name, secure))?;
        }
    } else if candidates.fresh && !cacheable {
        res.response_mut().add_cookie(&crate::web::cookie(name, candidates.signed_out, secure, None))?;
    }
    Ok(res)
}

/// A signed-in member's token: bound to their session by the forum's secret key.
fn session_token(signer: &Signer, session_cookie: &str) -> String {
    signer.sign(&format!("csrf:{session_cookie}"))
}

/// 32 random bytes in URL-safe base64, as `random_token` makes them.
fn is_well_formed(value: &str) -> bool {
    value.len() == 43 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The token this request's forms must carry, given whether its session exists.
pub fn token_for(req: &HttpRequest, signed_in: bool) -> String {
    let Some(candidates) = req.extensions().get::<Candidates>().cloned() else { return String::new() };
    match (signed_in, candidates.session) {
        (true, Some(session)) => session,
        _ => candidates.signed_out,
    }
}

/// The token expected back in a POST: none for a signed-out browser that sent no token
/// cookie (a cross-site form), whatever the field says.
pub fn expected_for(req: &HttpRequest, signed_in: bool) -> Option<String> {
    let candidates = req.extensions().get::<Candidates>().cloned()?;
    match (signed_in, candidates.session) {
        (true, Some(session)) => Some(session),
        _ if candidates.fresh => None,
        _ => Some(candidates.signed_out),
    }
}

#[derive(Deserialize)]
struct TokenField {
    csrf_token: Option<String>,
}

/// Checks the token in a form body against the one this request expects; `signed_in`
/// says whether its session exists (`auth::forms::CsrfForm` looks that up).
pub fn check(req: &HttpRequest, signed_in: bool, body: &[u8]) -> Result<(), AppError> {
    let sent = serde_urlencoded::from_bytes::<TokenField>(body).ok().and_then(|f| f.csrf_token).unwrap_or_default();
    check_token(req, signed_in, &sent)
}

/// Checks a token already taken from the request (a multipart form's field).
pub fn check_token(req: &HttpRequest, signed_in: bool, sent: &str) -> Result<(), AppError> {
    let expected = expected_for(req, signed_in);
    if expected.is_some_and(|token| bool::from(token.as_bytes().ct_eq(sent.as_bytes()))) {
        return Ok(());
    }
    Err(AppError::Forbidden(
        "This form has expired or did not come from this site. Go back, reload the page and try again.".into(),
    ))
}
