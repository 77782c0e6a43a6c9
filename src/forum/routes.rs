//! The forum's pages: the route table and the links every page builds. Reading
//! (categories, topics, permalinks) is `reading`; writing (topics, replies, edits,
//! likes) is `writing`; `/unread`, `/new` and "mark all as read" are `read_lists`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::forum::queries;
use crate::forum::{read_lists, reading, search_page, writing};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(reading::index))
        .route("/latest", web::get().to(reading::latest_page))
        .route("/unread", web::get().to(read_lists::unread))
        .route("/new", web::get().to(read_lists::new_topics))
        .route("/read/mark", web::post().to(read_lists::mark_read))
        .route("/search", web::get().to(search_page::search_page))
        .route("/c/{id}", web::get().to(reading::category_without_slug))
        .route("/c/{id}/new", web::get().to(writing::new_topic_form))
        .route("/c/{id}/new", web::post().to(writing::create_topic))
        .route("/c/{id}/watch", web::post().to(writing::watch_category))
        .route("/c/{id}/{slug}", web::get().to(reading::category))
        .route("/t/{id}", web::get().to(reading::topic_without_slug))
        .route("/t/{id}/reply", web::get().to(writing::reply_form))
        .route("/t/{id}/reply", web::post().to(writing::reply))
        .route("/t/{id}/watch", web::post().to(writing::watch))
        .route("/t/{id}/{slug}", web::get().to(reading::topic))
        .route("/t/{id}/{slug}/unread", web::get().to(reading::first_unread))
        .route("/t/{id}/{slug}/{number}", web::get().to(reading::post_permalink))
        .route("/p/{id}/edit", web::get().to(writing::edit_form))
        .route("/p/{id}/edit", web::post().to(writing::edit))
        .route("/p/{id}/like", web::post().to(writing::like))
        .route("/p/{id}/unlike", web::post().to(writing::unlike));
}

pub(super) fn moved_permanently(location: &str) -> HttpResponse {
    HttpResponse::MovedPermanently().insert_header((header::LOCATION, location)).finish()
}

pub(super) fn topic_url(id: i64, slug: &str) -> String {
    format!("/t/{id}/{slug}")
}

/// The page of a topic that shows post `number`, anchored at it.
pub(crate) fn post_url(topic_id: i64, slug: &str, number: i64) -> String {
    let page = (number - 1) / queries::POSTS_PER_PAGE + 1;
    if page == 1 {
        format!("/t/{topic_id}/{slug}#post-{number}")
    } else {
        format!("/t/{topic_id}/{slug}?page={page}#post-{number}")
    }
}
