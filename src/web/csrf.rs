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

use crate::web::LocalBoxFuture;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::web::errors::AppError;
use crate::web::visitor::Visitor;
use crate::AppState;

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
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let secure = state.as_ref().is_some_and(|s| s.config.secure_cookies());
    let name = cookie_name(secure);
    let session_name = crate::auth::sessions::cookie_name(secure);
    let session = req.cookie(session_name).map(|c| c.value().to_string()).filter(|v| !v.is_empty());
    let existing = req.cookie(name).map(|c| c.value().to_string()).filter(|v| is_well_formed(v));
    let candidates = Candidates {
        session: session.zip(state.as_ref()).map(|(session, state)| session_token(&state.signer, &session)),
        fresh: existing.is_none(),
        signed_out: existing.unwrap_or_else(crate::auth::sessions::random_token),
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
fn session_token(signer: &crate::web::signing::Signer, session_cookie: &str) -> String {
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
fn expected_for(req: &HttpRequest, signed_in: bool) -> Option<String> {
    let candidates = req.extensions().get::<Candidates>().cloned()?;
    match (signed_in, candidates.session) {
        (true, Some(session)) => Some(session),
        _ if candidates.fresh => None,
        _ => Some(candidates.signed_out),
    }
}

/// A form with nothing in it but its token (buttons: sign out, like, mark read…).
#[derive(Deserialize)]
pub struct EmptyForm {}

/// A form body whose CSRF token has been checked: handlers that change anything take this.
pub struct CsrfForm<T>(pub T);

#[derive(Deserialize)]
struct TokenField {
    csrf_token: Option<String>,
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let visitor = Visitor::from_request(&req, &mut Payload::None);
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let signed_in = visitor.await?.user.is_some();
            let expected = expected_for(&req, signed_in);
            let bytes = body.await.map_err(|e| {
                if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge
                } else {
                    AppError::BadRequest("The form could not be read.".into())
                }
            })?;
            let sent =
                serde_urlencoded::from_bytes::<TokenField>(&bytes).ok().and_then(|f| f.csrf_token).unwrap_or_default();
            let valid = expected.is_some_and(|token| bool::from(token.as_bytes().ct_eq(sent.as_bytes())));
            if !valid {
                return Err(AppError::Forbidden(
                    "This form has expired or did not come from this site. Go back, reload the page and try again."
                        .into(),
                ));
            }
            let form = serde_urlencoded::from_bytes::<T>(&bytes)
                .map_err(|e| AppError::BadRequest(format!("The form was incomplete: {e}.")))?;
            Ok(CsrfForm(form))
        })
    }
}
