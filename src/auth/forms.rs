//! Form bodies that change something: their CSRF token is checked (`web::csrf`) against
//! the session the request really has, which is why this lives with sign-in.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::auth::visitor::Visitor;
use crate::web::errors::AppError;
use crate::web::LocalBoxFuture;

/// A form with nothing in it but its token (buttons: sign out, like, mark read…).
#[derive(Deserialize)]
pub struct EmptyForm {}

/// A form body whose CSRF token has been checked: handlers that change anything take this.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let visitor = Visitor::from_request(&req, &mut Payload::None);
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let signed_in = visitor.await?.user.is_some();
            let bytes = body.await.map_err(|e| {
                if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge
                } else {
                    AppError::BadRequest("The form could not be read.".into())
                }
            })?;
            crate::web::csrf::check(&req, signed_in, &bytes)?;
            let form = serde_urlencoded::from_bytes::<T>(&bytes)
                .map_err(|e| AppError::BadRequest(format!("The form was incomplete: {e}.")))?;
            Ok(CsrfForm(form))
        })
    }
}
