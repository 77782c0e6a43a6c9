//! What every page shares: error pages, CSRF tokens, client IPs, headers, logging.

pub mod client_ip;
pub mod cookies;
pub mod cpu_slots;
pub mod csrf;
pub mod errors;
pub mod memory;
pub mod metrics;
pub mod rate_limit;
pub mod request_log;
pub mod signing;
pub mod site;
pub mod tokens;

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use errors::AppError;

pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Who may keep a versioned picture: the forum's own logo is public; a member's
/// picture is personal data, kept by the browser that asked but never by a shared
/// cache (a proxy or CDN), where a picture replaced or deleted would outlive the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keeper {
    AnyCache,
    BrowserOnly,
}

/// `Cache-Control` for a picture whose address carries its version (`?v=`): kept a year
/// when asked for the current version (that address never changes), asked for again
/// after a few minutes otherwise.
pub fn versioned_cache(asked: Option<i64>, current: i64, keeper: Keeper) -> &'static str {
    match (asked == Some(current), keeper) {
        (true, Keeper::AnyCache) => "public, max-age=31536000, immutable",
        (false, Keeper::AnyCache) => "public, max-age=300",
        (true, Keeper::BrowserOnly) => "private, max-age=31536000, immutable",
        (false, Keeper::BrowserOnly) => "private, max-age=300",
    }
}

/// Renders a page with the given status.
pub fn render_with(status: actix_web::http::StatusCode, page: &impl Template) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(page_html(page)?))
}

/// A page's HTML, in a buffer sized for a whole page: askama's own guess is the size of
/// the template's text alone, and a page of posts grew from it by copying itself over
/// and over (memmove was the top entry in a signed-in topic page's profile).
pub fn page_html(page: &impl Template) -> Result<String, AppError> {
    const PAGE_BYTES: usize = 64 * 1024;
    let mut html = String::with_capacity(PAGE_BYTES);
    page.render_into(&mut html).map_err(|e| anyhow::anyhow!("template failed: {e}"))?;
    Ok(html)
}

/// A form refused by a rate limit: the page (with its input and a message) as 429,
/// and when to try again.
pub fn render_too_many(wait: rate_limit::TooMany, page: &impl Template) -> Result<HttpResponse, AppError> {
    let mut response = render_with(actix_web::http::StatusCode::TOO_MANY_REQUESTS, page)?;
    response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(wait.retry_after_seconds));
    Ok(response)
}

/// A refusal the person can act on (a mistake, a rule, a rate limit) becomes the form
/// again, with the message and their input; anything else stays an error page.
pub fn form_again<P: Template>(error: AppError, page: impl FnOnce(String) -> P) -> Result<HttpResponse, AppError> {
    use actix_web::http::StatusCode;
    let (status, message) = match &error {
        AppError::BadRequest(message) => (StatusCode::UNPROCESSABLE_ENTITY, message.clone()),
        AppError::Forbidden(message) => (StatusCode::FORBIDDEN, message.clone()),
        AppError::TooMany(wait) => return render_too_many(*wait, &page(errors::too_many_message(wait))),
        _ => return Err(error),
    };
    render_with(status, &page(message))
}

pub fn render(page: &impl Template) -> Result<HttpResponse, AppError> {
    render_with(actix_web::http::StatusCode::OK, page)
}

/// The answer to a successful form POST: go look at the result (POST/redirect/GET).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

pub fn url_encode(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}

/// Every cookie Agora sets: site-wide, HttpOnly, SameSite=Lax, and Secure when the forum
/// is served over https. Without `max_age` the browser forgets it when it closes.
pub fn cookie(name: &'static str, value: String, secure: bool, max_age: Option<CookieDuration>) -> Cookie<'static> {
    let mut cookie =
        Cookie::build(name, value).path("/").http_only(true).secure(secure).same_site(SameSite::Lax).finish();
    if let Some(max_age) = max_age {
        cookie.set_max_age(max_age);
    }
    cookie
}

/// The cookie that tells the browser to forget `name` (with the attributes it was
/// set with: browsers ignore a `__Host-` cookie without `Secure`).
pub fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    let mut gone = Cookie::build(name, "").path("/").http_only(true).secure(secure).same_site(SameSite::Lax).finish();
    gone.make_removal();
    gone
}

/// Only same-site paths are followed after sign-in, never another origin.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        // Browsers drop tabs and newlines from Location and treat `\` as `/`, so any of
        // those could turn a path into `//other.site`.
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.chars().any(|c| c == '\\' || c.is_whitespace() || c.is_control()) =>
        {
            p.to_string()
        }
        _ => "/".to_string(),
    }
}

/// Pages load nothing from any other origin: the policy promises it, the browser enforces it.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "same-origin"))
}

/// What every response owes the browser beyond its content:
/// - `HEAD` is answered like `GET` without the body (monitors and link checkers use it;
///   the HTTP layer drops the body because the request said HEAD);
/// - `Cache-Control: no-store` unless the route chose otherwise (the stylesheet and
///   avatars do): pages carry personal data, forms and tokens, and nothing here is worth
///   the risk of a shared cache keeping one member's page for another;
/// - `Strict-Transport-Security` when the forum is served over https.
pub async fn response_policy(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    let https = req.app_data::<actix_web::web::Data<crate::config::Config>>().is_some_and(|c| c.secure_cookies());
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    }
    if https {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, header::HeaderValue::from_static("max-age=31536000"));
    }
    Ok(res)
}

/// Filters the page templates use; each area's routes bring this module into scope.
pub mod filters {
    /// Askama hands filters values behind any number of references; this sees through them.
    pub trait UnixSeconds {
        fn seconds(&self) -> i64;
    }
    impl UnixSeconds for i64 {
        fn seconds(&self) -> i64 {
            *self
        }
    }
    impl<T: UnixSeconds + ?Sized> UnixSeconds for &T {
        fn seconds(&self) -> i64 {
            (**self).seconds()
        }
    }

    /// Unix seconds as members read them: "2026-11-25 14:03 UTC".
    pub fn when(unix: impl UnixSeconds, _: &dyn askama::Values) -> askama::Result<String> {
        let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
        Ok(time::OffsetDateTime::from_unix_timestamp(unix.seconds())
            .ok()
            .and_then(|t| t.format(format).ok())
            .unwrap_or_default())
    }

    /// Unix seconds as a reader thinks of them: "just now", "5 minutes ago", "3 hours
    /// ago", "yesterday", then the date ("2026-11-25"). The exact time goes in the
    /// `<time>` element's `datetime` and `title` beside it.
    pub fn ago(unix: impl UnixSeconds, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(relative(unix.seconds(), crate::db::now()))
    }

    pub fn relative(then: i64, now: i64) -> String {
        let seconds = now.saturating_sub(then).max(0);
        let plural = |n: i64, unit: &str| if n == 1 { format!("1 {unit} ago") } else { format!("{n} {unit}s ago") };
        match seconds {
            0..60 => "just now".to_string(),
            60..3_600 => plural(seconds / 60, "minute"),
            3_600..86_400 => plural(seconds / 3_600, "hour"),
            86_400..172_800 => "yesterday".to_string(),
            _ => {
                let format = time::macros::format_description!("[year]-[month]-[day]");
                time::OffsetDateTime::from_unix_timestamp(then)
                    .ok()
                    .and_then(|t| t.format(format).ok())
                    .unwrap_or_default()
            }
        }
    }

    /// Unix seconds for a `<time datetime>` attribute.
    pub fn iso(unix: impl UnixSeconds, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(time::OffsetDateTime::from_unix_timestamp(unix.seconds())
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_default())
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn relative_times_read_like_a_person_would_say_them() {
            let now = 1_780_000_000;
            assert_eq!(super::relative(now - 5, now), "just now");
            assert_eq!(super::relative(now + 30, now), "just now");
            assert_eq!(super::relative(now - 60, now), "1 minute ago");
            assert_eq!(super::relative(now - 59 * 60, now), "59 minutes ago");
            assert_eq!(super::relative(now - 3 * 3600 - 5, now), "3 hours ago");
            assert_eq!(super::relative(now - 30 * 3600, now), "yesterday");
            assert_eq!(super::relative(1_700_000_000, now), "2023-11-14");
        }
    }
}

const STYLESHEET: &str = include_str!("../../static/agora.css");

/// The one stylesheet, compiled into the binary so a deployment is a single file.
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}

/// Requests no route matched.
pub async fn not_found(_req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_targets_stay_on_this_site() {
        assert_eq!(safe_next(Some("/t/1/x?page=2")), "/t/1/x?page=2");
        for hostile in
            ["//evil.example", "/\t/evil.example", "/\\evil.example", "https://evil.example", "/\n/evil", "/ /x"]
        {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
