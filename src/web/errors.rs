//! Failures become proper HTML pages: a message for the person, the cause in the log.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A feature this forum has not switched on.
    #[error("not available: {0}")]
    NotAvailable(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// A service we depend on (GitHub) failed or did not answer in time.
    #[error("upstream failure: {0}")]
    Upstream(String),
    #[error("request body too large")]
    PayloadTooLarge,
    /// A rate limit refused the request.
    #[error("too many requests")]
    TooMany(crate::web::rate_limit::TooMany),
    /// The server is shedding load (e.g. every password-hashing slot is busy).
    #[error("busy: {0}")]
    Busy(String),
    /// The page needs a signed-in member; carries where to return after signing in.
    #[error("sign-in required")]
    SignInRequired { next: String },
    /// The page needs something done first, at this address (e.g. two-factor set-up).
    #[error("see other: {0}")]
    SeeOther(String),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl AppError {
    fn title_and_message(&self) -> (&'static str, String) {
        match self {
            AppError::NotFound => ("Page not found", "There is nothing at this address. It may have been moved, or the link is mistyped.".into()),
            AppError::BadRequest(msg) => ("Bad request", msg.clone()),
            AppError::Forbidden(msg) => ("Not allowed", msg.clone()),
            AppError::NotAvailable(msg) => ("Not available", msg.clone()),
            AppError::Conflict(msg) => ("Cannot do that", msg.clone()),
            AppError::Upstream(msg) => ("Please try again later", msg.clone()),
            AppError::PayloadTooLarge => ("Too large", "What you sent is larger than the forum accepts. Shorten it and try again.".into()),
            AppError::SignInRequired { .. } => ("Sign-in required", "Please sign in to continue.".into()),
            AppError::SeeOther(_) => ("See other", "This page needs something done first.".into()),
            AppError::TooMany(wait) => ("Slow down", too_many_message(wait)),
            AppError::Busy(msg) => ("Busy", msg.clone()),
            AppError::Database(e) if e.is_unavailable() => (
                "Back in a moment",
                "The forum cannot reach its database right now. Nothing you sent was saved; please try again in a minute.".into(),
            ),
            AppError::Database(_) | AppError::Internal(_) => (
                "Something went wrong",
                "The forum could not complete this request. Nothing you sent was half-saved; please try again in a moment.".into(),
            ),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotAvailable(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Upstream(_) => StatusCode::BAD_GATEWAY,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::SignInRequired { .. } | AppError::SeeOther(_) => StatusCode::SEE_OTHER,
            AppError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Database(e) if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Database(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::SignInRequired { next } = self {
            let target = format!("/login?next={}", crate::web::url_encode(next));
            return HttpResponse::SeeOther().insert_header((header::LOCATION, target)).finish();
        }
        if let AppError::SeeOther(target) = self {
            return HttpResponse::SeeOther().insert_header((header::LOCATION, target.as_str())).finish();
        }
        let status = self.status_code();
        if status.is_server_error() && !matches!(status, StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE) {
            // The cause chain goes to the log; the page says nothing about internals.
            tracing::error!(error = %ErrorChain(self), "request failed");
        } else if status == StatusCode::SERVICE_UNAVAILABLE && matches!(self, AppError::Database(_)) {
            tracing::warn!(error = %ErrorChain(self), "database unavailable");
        }
        let (title, message) = self.title_and_message();
        let mut response = render_error_page(status, title, &message);
        let retry_after = match self {
            AppError::TooMany(wait) => Some(wait.retry_after_seconds),
            AppError::Busy(_) => Some(BUSY_RETRY_AFTER_SECONDS),
            AppError::Database(_) if status == StatusCode::SERVICE_UNAVAILABLE => Some(30),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}

/// How long a shed request is told to wait.
pub const BUSY_RETRY_AFTER_SECONDS: i64 = 5;

/// What a member reads when a rate limit stops them.
pub fn too_many_message(wait: &crate::web::rate_limit::TooMany) -> String {
    format!("You have done this too often for now. Please try again {}.", wait.wait_in_words())
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::Database(DbError::Query(e))
    }
}

impl From<actix_web::error::HttpError> for AppError {
    fn from(e: actix_web::error::HttpError) -> Self {
        AppError::Internal(anyhow::anyhow!("building the response failed: {e}"))
    }
}

/// The error page on its own, for errors raised outside handlers (extractors, 404s).
/// `auth::error_pages` then gives it the forum's header; this bare page is what is left
/// when it cannot (the database is down, say).
pub fn render_error_page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    let page = ErrorPage { status: status.as_u16(), title, message };
    let mut response = match page.render() {
        Ok(html) => HttpResponse::build(status).content_type("text/html; charset=utf-8").body(html),
        Err(_) => HttpResponse::build(status).content_type("text/plain; charset=utf-8").body(message.to_string()),
    };
    response.extensions_mut().insert(ErrorParts { title: title.to_string(), message: message.to_string() });
    response
}

/// What an error page says, kept on the response so the page can be drawn again inside
/// the site's layout (`auth::error_pages`).
#[derive(Clone)]
pub struct ErrorParts {
    pub title: String,
    pub message: String,
}

/// Shows an error with its whole source chain, for the log.
struct ErrorChain<'a>(&'a AppError);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = std::error::Error::source(self.0);
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
