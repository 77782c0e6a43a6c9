//! Error pages keep the forum's header. `web::errors` draws a bare page for every
//! failure (it knows nothing of sessions); this middleware draws it again inside the
//! site's layout once the visitor is known.

use actix_web::http::header;
use actix_web::HttpResponse;
use askama::Template;

use crate::auth::visitor::Visitor;
use crate::web::errors::ErrorParts;
use crate::web::filters;

#[derive(Template)]
#[template(path = "errors/page.html")]
struct FullErrorPage {
    visitor: Visitor,
    status: u16,
    title: String,
    message: String,
}

/// Error pages keep the forum's header (who is signed in, search, the account links) and
/// its banners, like every other page: the handler's error is drawn again inside the
/// site's layout once the visitor is known. The status and headers (`Retry-After`) stay.
pub async fn with_site_header(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    use actix_web::FromRequest;
    let res = next.call(req).await?;
    let Some(parts) = res.response().extensions().get::<ErrorParts>().cloned() else {
        return Ok(res.map_into_boxed_body());
    };
    let (req, response) = res.into_parts();
    let visitor = match Visitor::from_request(&req, &mut actix_web::dev::Payload::None).await {
        Ok(visitor) => visitor,
        Err(_) => return Ok(actix_web::dev::ServiceResponse::new(req, response).map_into_boxed_body()),
    };
    let status = response.status();
    let page = FullErrorPage { visitor, status: status.as_u16(), title: parts.title, message: parts.message };
    let Ok(html) = page.render() else {
        return Ok(actix_web::dev::ServiceResponse::new(req, response).map_into_boxed_body());
    };
    let mut full = HttpResponse::build(status).content_type("text/html; charset=utf-8").body(html);
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            full.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(actix_web::dev::ServiceResponse::new(req, full))
}
