//! What search engines read: `/robots.txt` and the sitemaps. `/sitemap.xml` is an index
//! of `/sitemap/categories.xml` (home and categories) and one `/sitemap/topics-N.xml` per
//! 10,000 topic ids, so a forum of any size answers each in one bounded, index-backed
//! read (a primary-key range) and no file passes the protocol's 50,000 addresses.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;

use crate::db::schema::{categories, topics};
use crate::web::errors::AppError;
use crate::AppState;

/// Topic ids per topics sitemap.
pub const TOPICS_PER_SITEMAP: i64 = 10_000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/robots.txt", web::get().to(robots))
        .route("/sitemap.xml", web::get().to(index))
        .route("/sitemap/categories.xml", web::get().to(categories_map))
        .route("/sitemap/topics-{n:\\d+}.xml", web::get().to(topics_map));
}

fn base(state: &AppState) -> &str {
    state.config.public_url.trim_end_matches('/')
}

/// Pages for people are open to crawlers; forms, accounts, staff pages and searches are not.
async fn robots(state: web::Data<AppState>) -> HttpResponse {
    let body = format!(
        "User-agent: *\nDisallow: /admin\nDisallow: /account\nDisallow: /login\nDisallow: /register\n\
         Disallow: /logout\nDisallow: /search\nDisallow: /notifications\nDisallow: /auth/\nDisallow: /p/\n\
         Disallow: /*/reply\nDisallow: /*/new\n\nSitemap: {}/sitemap.xml\n",
        base(&state)
    );
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(body)
}

fn xml(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/xml; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=600"))
        .body(body)
}

/// Escapes text for an XML element (slugs are already plain, but addresses come from the setting).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn lastmod(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

async fn index(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let newest: Option<i64> =
        state.db.read(|c| topics::table.select(diesel::dsl::max(topics::id)).first(c).map_err(AppError::from)).await?;
    let files = newest.unwrap_or(0).div_euclid(TOPICS_PER_SITEMAP) + 1;
    let base = escape(base(&state));
    let mut body = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    body.push_str(&format!("<sitemap><loc>{base}/sitemap/categories.xml</loc></sitemap>\n"));
    for n in 0..files {
        body.push_str(&format!("<sitemap><loc>{base}/sitemap/topics-{n}.xml</loc></sitemap>\n"));
    }
    body.push_str("</sitemapindex>\n");
    Ok(xml(body))
}

async fn categories_map(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let rows: Vec<(i64, String)> = state
        .db
        .read(|c| {
            categories::table
                .select((categories::id, categories::slug))
                .order(categories::id)
                .load(c)
                .map_err(AppError::from)
        })
        .await?;
    let base = escape(base(&state));
    let mut body = urlset_start();
    body.push_str(&format!("<url><loc>{base}/</loc></url>\n<url><loc>{base}/latest</loc></url>\n"));
    for (id, slug) in rows {
        body.push_str(&format!("<url><loc>{base}/c/{id}/{}</loc></url>\n", escape(&slug)));
    }
    body.push_str("</urlset>\n");
    Ok(xml(body))
}

fn urlset_start() -> String {
    String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    )
}

/// Topics with ids in the n-th block of [`TOPICS_PER_SITEMAP`]; held topics are left out
/// (they are not public until a moderator approves them).
async fn topics_map(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let n: i64 = path.into_inner().parse().map_err(|_| AppError::NotFound)?;
    if !(0..=1_000_000).contains(&n) {
        return Err(AppError::NotFound);
    }
    let (from, to) = (n * TOPICS_PER_SITEMAP, (n + 1) * TOPICS_PER_SITEMAP);
    let rows: Vec<(i64, String, i64)> = state
        .db
        .read(move |c| {
            topics::table
                .filter(topics::id.ge(from).and(topics::id.lt(to)))
                .filter(topics::held.eq(false))
                .select((topics::id, topics::slug, topics::last_post_at))
                .order(topics::id)
                .load(c)
                .map_err(AppError::from)
        })
        .await?;
    let base = escape(base(&state));
    let mut body = urlset_start();
    for (id, slug, last) in rows {
        body.push_str(&format!(
            "<url><loc>{base}/t/{id}/{}</loc><lastmod>{}</lastmod></url>\n",
            escape(&slug),
            lastmod(last)
        ));
    }
    body.push_str("</urlset>\n");
    Ok(xml(body))
}
