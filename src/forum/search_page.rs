//! `/search`: the search form, its filters, and a page of matching posts.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::visitor::Visitor;
use crate::forum::page_cache::{cache_slot, cached, kept_page, CacheSlot};
use crate::forum::queries::{self, Category};
use crate::forum::routes::post_url;
use crate::forum::search::{self, Hit, Order, Piece, Search, Terms, MAX_QUERY_CHARS};
use crate::web::client_ip::ClientIp;
use crate::web::errors::AppError;
use crate::web::rate_limit::Limit;
use crate::web::{filters, render_with};
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct SearchForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    titles: Option<String>,
    #[serde(default)]
    order: String,
    #[serde(default)]
    removed: Option<String>,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "forum/search.html")]
struct SearchPage {
    visitor: Visitor,
    form: SearchForm,
    categories: Vec<Category>,
    hits: Vec<Hit>,
    searched: bool,
    errors: Vec<String>,
    notes: Vec<String>,
    previous_page: Option<String>,
    next_page: Option<String>,
}

impl SearchPage {
    fn is_category(&self, id: &i64) -> bool {
        self.form.category == id.to_string()
    }

    fn newest(&self) -> bool {
        self.form.order == "newest"
    }

    fn link(&self, hit: &Hit) -> String {
        post_url(hit.topic_id, &hit.topic_slug, hit.post_number)
    }

    fn pieces<'a>(&self, hit: &'a Hit) -> Vec<Piece<'a>> {
        hit.excerpt_pieces()
    }
}

/// A date `YYYY-MM-DD` as the Unix time its day begins (UTC); empty is no date.
fn day(raw: &str, what: &str, errors: &mut Vec<String>) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match time::Date::parse(raw, time::macros::format_description!("[year]-[month]-[day]")) {
        Ok(date) => Some(date.midnight().assume_utc().unix_timestamp()),
        Err(_) => {
            errors.push(format!("Give the {what} date as YYYY-MM-DD."));
            None
        }
    }
}

/// The same search on another page.
fn page_link(form: &SearchForm, page: i64) -> String {
    let mut pairs = vec![("q", form.q.clone())];
    for (name, value) in [("category", &form.category), ("from", &form.from), ("to", &form.to), ("order", &form.order)]
    {
        if !value.is_empty() {
            pairs.push((name, value.clone()));
        }
    }
    if form.titles.is_some() {
        pairs.push(("titles", "on".into()));
    }
    if form.removed.is_some() {
        pairs.push(("removed", "on".into()));
    }
    pairs.push(("page", page.to_string()));
    format!("/search?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
}

pub async fn search_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    ip: ClientIp,
    form: web::Query<SearchForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let terms = Terms::parse(&form.q);
    // A visitor's search is a page like any other: the same words again, while nothing
    // changed, are answered from the page cache before anything is read (kept from the
    // second time they are asked for, and only once searched: most searches are never
    // repeated, and a page of errors is not kept).
    let slot = match terms.is_empty() {
        true => None,
        false => cache_slot(&state, &visitor).await?.map(CacheSlot::when_asked_again),
    };
    if let Some(kept) = cached(&state, &slot) {
        return Ok(kept);
    }
    let categories = state.db.read(queries::list_categories).await?;
    let mut errors = Vec::new();
    let category_id = match form.category.trim() {
        "" => None,
        raw => match raw.parse::<i64>() {
            Ok(id) if categories.iter().any(|c| c.id == id) => Some(id),
            _ => {
                errors.push("There is no such category.".into());
                None
            }
        },
    };
    let since = day(&form.from, "“from”", &mut errors);
    // "To" includes the whole day it names.
    let until = day(&form.to, "“to”", &mut errors).map(|start| start + 86400);
    let mut page = SearchPage {
        visitor,
        form,
        categories,
        hits: Vec::new(),
        searched: false,
        errors,
        notes: Vec::new(),
        previous_page: None,
        next_page: None,
    };
    if !page.errors.is_empty() {
        return render_with(StatusCode::BAD_REQUEST, &page);
    }
    if terms.is_empty() {
        if !page.form.q.trim().is_empty() {
            page.notes
                .push("Type a word to look for: names after @ pick an author, and \"quotes\" find exact words.".into());
        }
        return render_with(StatusCode::OK, &page);
    }
    if terms.cut {
        page.notes.push(format!("Only the first {MAX_QUERY_CHARS} characters and 12 words of a search count."));
    }
    state.rate_limit(Limit::SearchPerIp, ip.rate_key()).await?;
    let number = page.form.page.unwrap_or(1).clamp(1, search::MAX_PAGE);
    let request = Search {
        terms,
        category_id,
        since,
        until,
        titles_only: page.form.titles.is_some(),
        order: if page.newest() { Order::Newest } else { Order::BestMatch },
        page: number,
        include_removed: page.form.removed.is_some() && page.visitor.is_staff(),
    };
    // Searching is CPU work: at most as many at once as there are cores, the rest wait
    // their turn here (holding no thread and no memory) instead of all at once.
    let _turn = state.search_slots.acquire().await.map_err(|_| AppError::Busy("Search is closing.".into()))?;
    // The same words asked for by many at once (when the minute turns, or after a change)
    // are searched by the first few; those who waited for their turn find them kept.
    if let Some(kept) = cached(&state, &slot) {
        return Ok(kept);
    }
    let results = state
        .db
        .run(move |c| {
            let results = search::search(c, &request);
            crate::web::memory::give_back_thread_cache();
            results
        })
        .await?;
    page.searched = true;
    page.hits = results.hits;
    page.previous_page = (number > 1).then(|| page_link(&page.form, number - 1));
    page.next_page = results.more.then(|| page_link(&page.form, number + 1));
    kept_page(&state, slot, true, &page)
}
