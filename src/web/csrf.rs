//! CSRF protection by double submit: a random token lives in an HttpOnly cookie and
//! in a hidden field of every form; a POST is accepted only when both agree.
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

/// Makes sure every visitor has a token cookie before any form is shown.
pub async fn ensure_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let existing = req
        .cookie(COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() == 43 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let token = match existing {
        Some(value) => CsrfToken { value, fresh: false },
        None => CsrfToken { value: crate::auth::sessions::random_token(), fresh: true },
    };
    let secure = req.app_data::<web::Data<AppState>>().map(|s| s.config.secure_cookies()).unwrap_or(false);
    req.extensions_mut().insert(token.clone());
    let mut res = next.call(req).await?;
    if token.fresh {
        res.response_mut().add_cookie(&crate::web::cookie(COOKIE, token.value, secure, None))?;
    }
    Ok(res)
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
