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

/// This request's token, as the forms on its page must carry it.
#[derive(Debug, Clone)]
pub struct CsrfToken {
    pub value: String,
    /// True when the browser sent no (valid) cookie and this token is brand new.
    fresh: bool,
}

/// Works out this request's token, and makes sure a signed-out visitor has a token
/// cookie before any form is shown.
pub async fn ensure_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let secure = state.as_ref().is_some_and(|s| s.config.secure_cookies());
    let name = cookie_name(secure);
    let session = req.cookie(crate::auth::sessions::COOKIE).map(|c| c.value().to_string()).filter(|v| !v.is_empty());
    let token = match (session, &state) {
        (Some(session), Some(state)) => CsrfToken { value: session_token(&state.signer, &session), fresh: false },
        _ => match req.cookie(name).map(|c| c.value().to_string()).filter(|v| is_well_formed(v)) {
            Some(value) => CsrfToken { value, fresh: false },
            None => CsrfToken { value: crate::auth::sessions::random_token(), fresh: true },
        },
    };
    let anonymous_cookie_sent = req.cookie(name).is_some();
    req.extensions_mut().insert(token.clone());
    let mut res = next.call(req).await?;
    let session_changed = res.response().cookies().any(|c| c.name() == crate::auth::sessions::COOKIE);
    if session_changed {
        // A sign-in or sign-out: the signed-out token of before must not live on.
        if anonymous_cookie_sent {
            res.response_mut().add_cookie(&crate::web::removal(name, secure))?;
        }
    } else if token.fresh {
        res.response_mut().add_cookie(&crate::web::cookie(name, token.value, secure, None))?;
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

pub fn token_of(req: &HttpRequest) -> String {
    req.extensions().get::<CsrfToken>().map(|t| t.value.clone()).unwrap_or_default()
}

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
        let expected = req.extensions().get::<CsrfToken>().cloned();
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| {
                if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge
                } else {
                    AppError::BadRequest("The form could not be read.".into())
                }
            })?;
            let sent =
                serde_urlencoded::from_bytes::<TokenField>(&bytes).ok().and_then(|f| f.csrf_token).unwrap_or_default();
            let valid = match expected {
                Some(token) if !token.fresh => bool::from(token.value.as_bytes().ct_eq(sent.as_bytes())),
                _ => false,
            };
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
