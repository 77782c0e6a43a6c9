//! Reading the forum: the home page, a category's topics, a topic's posts, permalinks.

use std::sync::Arc;

use actix_web::{web, HttpResponse};

use askama::Template;
use serde::Deserialize;

use crate::auth::sessions::SessionUser;
use crate::auth::visitor::{Arrival, Visitor};
use crate::db::DbConn;
use crate::forum::latest::{self, LatestTopic};
use crate::forum::page_cache::{kept_page, TopicRows};
use crate::forum::page_read::{read_page, PageRead};
use crate::forum::queries::{
    self, Category, PostView, TopicCursor, TopicHeader, TopicList, TopicListPage, TopicSummary,
};
use crate::forum::read_state::{self, Listed, OwnReads, ReadMarks};
use crate::forum::watching::category_reader;
use crate::web::errors::AppError;
use crate::web::{filters, see_other};
use crate::AppState;

use crate::forum::routes::{moved_permanently, post_url, topic_url};

#[derive(Template)]
#[template(path = "forum/index.html")]
struct IndexPage {
    visitor: Visitor,
    marks: ReadMarks,
    latest: Vec<LatestTopic>,
    more: bool,
    categories: Vec<Category>,
}

/// The home page: Latest across every category, and the categories beside it.
pub(super) async fn index(state: web::Data<AppState>, arrival: Arrival) -> Result<HttpResponse, AppError> {
    type Rows = (Vec<LatestTopic>, Option<TopicCursor>, Vec<Category>);
    let key = "home";
    let shown = shown_before::<Rows>(&state, &arrival, key, |(latest, _, _)| latest.iter().map(|t| t.id).collect());
    let lookup = move |c: &mut DbConn, token: &str| read_state::list_reader(c, token, shown.clone());
    let shared = state.clone();
    let read = read_page(&state, arrival, lookup, move |c, reader, version| {
        let rows = shared.page_cache.shared_rows(version, c, key.into(), |c| {
            let (latest, next) = latest::latest_topics(c, None)?;
            let categories = queries::list_categories(c)?;
            let bytes = LIST_ROW_BYTES * (latest.len() + categories.len());
            Ok(((latest, next, categories), bytes))
        })?;
        let (latest, next, categories): Rows = (*rows).clone();
        let (member, reads) = reader.unzip();
        let marks = marks_for(c, member, reads, latest.iter().map(LatestTopic::listed))?;
        Ok((latest, next, categories, marks))
    });
    let (visitor, slot, (latest, next, categories, marks)) = match read.await? {
        PageRead::Kept(page) => return Ok(page),
        PageRead::Fresh { visitor, slot, rows } => (visitor, slot, rows),
    };
    let own_address = visitor.path == "/";
    kept_page(&state, slot, own_address, &IndexPage { visitor, marks, latest, more: next.is_some(), categories })
}

/// About what a topic's row on a list holds in memory (title, slug, names, cursor).
const LIST_ROW_BYTES: usize = 400;

/// The topics a list page showed when its rows were last kept under `key`, for a member:
/// their positions in them are read in their session's statement, and read again on
/// their own only when the page's rows have changed since (`marks_for`).
fn shown_before<T: std::any::Any + Send + Sync>(
    state: &AppState,
    arrival: &Arrival,
    key: &str,
    topic_ids: impl Fn(&T) -> Vec<i64>,
) -> Vec<i64> {
    match arrival.session_token() {
        Some(_) => state.page_cache.kept_rows::<T>(key).map(|rows| topic_ids(&rows)).unwrap_or_default(),
        None => Vec::new(),
    }
}

/// A member's marks (unread counts, new topics) for a page of a list: from the `reads`
/// their session's statement brought, when those were of this page's topics, else read now.
pub(super) fn marks_for(
    c: &mut DbConn,
    member: Option<&SessionUser>,
    reads: Option<OwnReads>,
    topics: impl IntoIterator<Item = Listed>,
) -> Result<ReadMarks, AppError> {
    let Some(member) = member else { return Ok(ReadMarks::default()) };
    let topics: Vec<Listed> = topics.into_iter().collect();
    let ids: Vec<i64> = topics.iter().map(|t| t.id).collect();
    let reads = match reads {
        Some(reads) if reads.covers(&ids) => reads,
        _ => read_state::own_reads(c, member.user_id, ids)?,
    };
    Ok(ReadMarks::of(topics, &reads, member.joined_at))
}

#[derive(Template)]
#[template(path = "forum/latest.html")]
struct LatestPage {
    visitor: Visitor,
    marks: ReadMarks,
    topics: Vec<LatestTopic>,
    next_page: Option<String>,
    is_first_page: bool,
}

/// `/latest`: every page of Latest, by cursor.
pub(super) async fn latest_page(
    state: web::Data<AppState>,
    arrival: Arrival,
    query: web::Query<CategoryQuery>,
) -> Result<HttpResponse, AppError> {
    let after = parse_cursor(query.after.as_deref())?;
    type Rows = (Vec<LatestTopic>, Option<TopicCursor>);
    let key = format!("latest after {after:?}");
    let shown = shown_before::<Rows>(&state, &arrival, &key, |(topics, _)| topics.iter().map(|t| t.id).collect());
    let lookup = move |c: &mut DbConn, token: &str| read_state::list_reader(c, token, shown.clone());
    let shared = state.clone();
    let read = read_page(&state, arrival, lookup, move |c, reader, version| {
        let rows = shared.page_cache.shared_rows(version, c, key.clone(), |c| {
            let (topics, next) = latest::latest_topics(c, after)?;
            let bytes = LIST_ROW_BYTES * topics.len();
            Ok(((topics, next), bytes))
        })?;
        let (topics, next): Rows = (*rows).clone();
        let (member, reads) = reader.unzip();
        let marks = marks_for(c, member, reads, topics.iter().map(LatestTopic::listed))?;
        Ok((topics, next, marks))
    });
    let (visitor, slot, (topics, next, marks)) = match read.await? {
        PageRead::Kept(page) => return Ok(page),
        PageRead::Fresh { visitor, slot, rows } => (visitor, slot, rows),
    };
    if after.is_some() && topics.is_empty() {
        return Err(AppError::NotFound);
    }
    let next_page = next.map(|cursor| format!("/latest?after={}", cursor.encode()));
    let own_address = match after {
        None => visitor.path == "/latest",
        Some(cursor) => visitor.path == format!("/latest?after={}", cursor.encode()),
    };
    let page = LatestPage { visitor, marks, topics, next_page, is_first_page: after.is_none() };
    kept_page(&state, slot, own_address, &page)
}

#[derive(Template)]
#[template(path = "forum/category.html")]
struct CategoryPage {
    visitor: Visitor,
    marks: ReadMarks,
    category: Category,
    pinned: Vec<TopicSummary>,
    topics: Vec<TopicSummary>,
    /// The category's plain address (its first page).
    first_page: String,
    older_page: Option<String>,
    newer_page: Option<String>,
    /// This page's number, as the links that led here counted it.
    page: i64,
    pages: i64,
    /// The member's choice for this category (`None`: normal).
    watch: Option<crate::forum::watching::WatchLevel>,
}

impl CategoryPage {
    fn watch_level(&self) -> &'static str {
        self.watch.map_or("normal", |level| level.as_str())
    }
}

#[derive(Deserialize)]
pub struct CategoryQuery {
    after: Option<String>,
}

#[derive(Deserialize)]
pub struct CategoryPageQuery {
    after: Option<String>,
    before: Option<String>,
    page: Option<i64>,
}

/// A list's `after=` / `before=` cursor, when the address has one.
pub(super) fn parse_cursor(raw: Option<&str>) -> Result<Option<TopicCursor>, AppError> {
    match raw {
        None => Ok(None),
        Some(raw) => Ok(Some(
            TopicCursor::parse(raw).ok_or_else(|| AppError::BadRequest("That page link is malformed.".into()))?,
        )),
    }
}

pub(super) async fn category_without_slug(
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let category = state.db.run(move |c| queries::find_category(c, id)).await?.ok_or(AppError::NotFound)?;
    Ok(moved_permanently(&format!("/c/{}/{}", category.id, category.slug)))
}

pub(super) async fn category(
    state: web::Data<AppState>,
    arrival: Arrival,
    path: web::Path<(i64, String)>,
    query: web::Query<CategoryPageQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, slug) = path.into_inner();
    let list_page = match (parse_cursor(query.after.as_deref())?, parse_cursor(query.before.as_deref())?) {
        (None, None) => TopicListPage::First,
        (Some(after), None) => TopicListPage::After(after),
        (None, Some(before)) => TopicListPage::Before(before),
        (Some(_), Some(_)) => return Err(AppError::BadRequest("That page link is malformed.".into())),
    };
    type Rows = (Category, TopicList, Vec<TopicSummary>);
    let key = format!("category {id} {list_page:?}");
    let shown = shown_before::<Rows>(&state, &arrival, &key, |(_, list, pinned)| {
        pinned.iter().chain(&list.topics).map(|t| t.id).collect()
    });
    let lookup = move |c: &mut DbConn, token: &str| category_reader(c, token, id, shown.clone());
    let shared = state.clone();
    let read = read_page(&state, arrival, lookup, move |c, reader, version| {
        let rows = shared.page_cache.shared_rows(version, c, key.clone(), |c| {
            let category = queries::find_category(c, id)?.ok_or(AppError::NotFound)?;
            let list = queries::list_topics(c, id, list_page)?;
            let pinned = if list_page == TopicListPage::First { queries::pinned_topics(c, id)? } else { Vec::new() };
            let bytes = LIST_ROW_BYTES * (list.topics.len() + pinned.len());
            Ok(((category, list, pinned), bytes))
        })?;
        let (category, list, pinned): Rows = (*rows).clone();
        let (member, reader) = reader.unzip();
        let (watch, reads) = reader.map(|r| (r.watch, r.reads)).unzip();
        let listed = pinned.iter().chain(&list.topics).map(|t| t.listed(id));
        let marks = marks_for(c, member, reads, listed)?;
        Ok((category, pinned, list, marks, watch.flatten()))
    });
    let (visitor, slot, (category, pinned, list, marks, watch)) = match read.await? {
        PageRead::Kept(page) => return Ok(page),
        PageRead::Fresh { visitor, slot, rows } => (visitor, slot, rows),
    };
    let first_page = format!("/c/{}/{}", category.id, category.slug);
    if category.slug != slug {
        return Ok(moved_permanently(&first_page));
    }
    // A page past the end of the list is not a page.
    if list_page != TopicListPage::First && list.topics.is_empty() {
        return Err(AppError::NotFound);
    }
    // A newer page that reaches the top of the list is the first page (with its pinned topics).
    if matches!(list_page, TopicListPage::Before(_)) && list.newer.is_none() {
        return Ok(see_other(&first_page));
    }
    let pages = (category.topic_count + queries::TOPICS_PER_PAGE - 1) / queries::TOPICS_PER_PAGE;
    let page = match list_page {
        TopicListPage::First => 1,
        _ => query.page.unwrap_or(2).max(2),
    }
    .min(pages.max(1));
    let older_page = list.older.map(|cursor| format!("{first_page}?after={}&page={}", cursor.encode(), page + 1));
    let newer_page = list.newer.map(|cursor| match page {
        ..=2 => first_page.clone(),
        _ => format!("{first_page}?before={}&page={}", cursor.encode(), page - 1),
    });
    let (topics, pages) = (list.topics, pages.max(page));
    // Kept only under the addresses its own links use (not every made-up cursor).
    let own_address = visitor.path
        == match list_page {
            TopicListPage::First => first_page.clone(),
            TopicListPage::After(cursor) => format!("{first_page}?after={}&page={page}", cursor.encode()),
            TopicListPage::Before(cursor) => format!("{first_page}?before={}&page={page}", cursor.encode()),
        };
    let page = CategoryPage {
        visitor,
        marks,
        category,
        pinned,
        topics,
        first_page,
        older_page,
        newer_page,
        page,
        pages,
        watch,
    };
    kept_page(&state, slot, own_address, &page)
}

#[derive(Template)]
#[template(path = "forum/topic.html", whitespace = "minimize")]
struct TopicPage {
    visitor: Visitor,
    topic: TopicHeader,
    /// The topic and this page's posts, as every reader shares them.
    rows: Arc<TopicRows>,
    /// Which of the posts the member liked.
    liked: Vec<i64>,
    /// The first post on this page the member had not read before, marked on the page.
    first_unread: Option<i64>,
    page: i64,
    pages: i64,
    /// The member's choice for this topic (`None`: normal).
    watch: Option<crate::forum::watching::WatchLevel>,
    /// Members the viewer blocked: their posts are collapsed.
    blocked: Vec<i64>,
    /// Where staff may move the topic (empty for everyone else).
    categories: Vec<Category>,
}

impl TopicPage {
    /// The watch level's name, as the buttons send it.
    fn watch_level(&self) -> &'static str {
        self.watch.map_or("normal", |level| level.as_str())
    }

    fn liked(&self, post: &PostView) -> bool {
        self.liked.contains(&post.id)
    }

    fn is_blocked(&self, post: &PostView) -> bool {
        self.blocked.contains(&post.user_id)
    }

    /// A post waiting for review is readable by its author and staff only.
    fn may_read_held(&self, post: &PostView) -> bool {
        self.visitor.is_staff() || self.visitor.user_id() == Some(post.user_id)
    }
}

/// One numbered link of a topic's pager.
struct PageLink {
    number: i64,
    /// Pages are skipped between the previous link and this one.
    gap: bool,
}

impl TopicPage {
    /// First, last, and the pages around the current one: a short list however long the topic.
    fn nearby_pages(&self) -> Vec<i64> {
        let mut pages: Vec<i64> = (self.page - 2..=self.page + 2).filter(|p| *p >= 1 && *p <= self.pages).collect();
        pages.push(1);
        pages.push(self.pages);
        pages.sort_unstable();
        pages.dedup();
        pages
    }

    /// The numbered links, each with whether pages are skipped before it (shown as "…").
    fn page_links(&self) -> Vec<PageLink> {
        let mut previous = 0;
        self.nearby_pages()
            .into_iter()
            .map(|number| {
                let gap = number > previous + 1;
                previous = number;
                PageLink { number, gap }
            })
            .collect()
    }

    fn is_first_unread(&self, number: impl std::borrow::Borrow<i64>) -> bool {
        self.first_unread == Some(*number.borrow())
    }

    fn is_current(&self, page: impl std::borrow::Borrow<i64>) -> bool {
        *page.borrow() == self.page
    }

    fn page_url(&self, page: impl std::borrow::Borrow<i64>) -> String {
        let page = *page.borrow();
        if page == 1 {
            topic_url(self.topic.id, &self.topic.slug)
        } else {
            format!("{}?page={page}", topic_url(self.topic.id, &self.topic.slug))
        }
    }
}

#[derive(Deserialize)]
pub struct TopicQuery {
    page: Option<i64>,
}

fn page_count(post_count: i64) -> i64 {
    ((post_count + queries::POSTS_PER_PAGE - 1) / queries::POSTS_PER_PAGE).max(1)
}

/// The topic, if it exists for this visitor (a held topic only for its author and staff).
pub(super) async fn visible_topic(state: &AppState, visitor: &Visitor, id: i64) -> Result<TopicHeader, AppError> {
    let topic = state.db.run(move |c| queries::find_topic(c, id)).await?.ok_or(AppError::NotFound)?;
    if !topic.visible_to(visitor.user_id(), visitor.is_staff()) {
        return Err(AppError::NotFound);
    }
    Ok(topic)
}

pub(super) async fn topic_without_slug(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let topic = visible_topic(&state, &visitor, path.into_inner()).await?;
    Ok(moved_permanently(&topic_url(topic.id, &topic.slug)))
}

pub(super) async fn topic(
    state: web::Data<AppState>,
    arrival: Arrival,
    path: web::Path<(i64, String)>,
    query: web::Query<TopicQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, slug) = path.into_inner();
    let page = query.page.unwrap_or(1);
    // No topic has a billion pages; this also keeps the arithmetic below from overflowing.
    if !(1..=1_000_000_000).contains(&page) {
        return Err(AppError::NotFound);
    }
    let first = (page - 1) * queries::POSTS_PER_PAGE + 1;
    let shown = shown_before::<TopicRows>(&state, &arrival, &topic_rows_key(id, first), |rows| {
        rows.posts.iter().map(|p| p.id).collect()
    });
    let lookup = move |c: &mut DbConn, token: &str| queries::topic_reader(c, token, id, first, shown.clone());
    let shared = state.clone();
    let read = read_page(&state, arrival, lookup, move |c, viewer, version| {
        let rows = shared_rows(&shared, version, c, id, page)?;
        let may_see_held = viewer.as_ref().is_some_and(|(member, _)| member.has_staff_powers());
        if !rows.topic.visible_to(viewer.as_ref().map(|(member, _)| member.user_id), may_see_held) {
            return Err(AppError::NotFound);
        }
        let posts = &rows.posts;
        // A member's position moves to the last post on the page they opened (written
        // below, only when it moves: reading a page again writes nothing).
        let mut first_unread = None;
        let mut advance_to = None;
        let (mut liked, mut blocked, mut watch) = (Vec::new(), Vec::new(), None);
        if let Some((member, reader)) = viewer {
            let user_id = member.user_id;
            let on_page: Vec<i64> = posts.iter().map(|p| p.id).collect();
            liked = match reader.liked_among(&on_page) {
                Some(liked) => liked.to_vec(),
                None => queries::liked_among(c, user_id, &on_page)?,
            };
            if reader.blocks_anyone {
                blocked = crate::forum::blocks::blocked_by(c, user_id)?;
            }
            watch = reader.watch;
            if let Some(last) = posts.last().map(|p| p.post_number) {
                let before = reader.position;
                let from = before.map_or(1, |read| read + 1);
                first_unread = posts.iter().map(|p| p.post_number).find(|n| *n >= from && before.is_some());
                if before.is_none_or(|read| read < last) {
                    advance_to = Some((user_id, last));
                }
            }
        }
        // Staff move topics by choosing the category from a list.
        let categories = if may_see_held { queries::list_categories(c)? } else { Vec::new() };
        Ok((rows, liked, first_unread, watch, blocked, advance_to, categories))
    });
    let (visitor, slot, (rows, liked, first_unread, watch, blocked, advance_to, categories)) = match read.await? {
        PageRead::Kept(page) => return Ok(page),
        PageRead::Fresh { visitor, slot, rows } => (visitor, slot, rows),
    };
    let topic = rows.topic.clone();
    if let Some((user_id, last)) = advance_to {
        state.db.run(move |c| read_state::advance(c, user_id, id, last)).await?;
    }
    if topic.slug != slug {
        let target = match page {
            1 => topic_url(topic.id, &topic.slug),
            n => format!("{}?page={n}", topic_url(topic.id, &topic.slug)),
        };
        return Ok(moved_permanently(&target));
    }
    let pages = page_count(topic.post_count);
    let canonical = match page {
        1 => topic_url(topic.id, &topic.slug),
        n => format!("{}?page={n}", topic_url(topic.id, &topic.slug)),
    };
    let own_address = visitor.path == canonical;
    let page = TopicPage { visitor, topic, rows, liked, first_unread, page, pages, watch, blocked, categories };
    kept_page(&state, slot, own_address, &page)
}

/// Where a topic page's rows are kept: the topic and the first post on the page.
fn topic_rows_key(id: i64, first: i64) -> String {
    format!("topic {id} from {first}")
}

/// A topic page's rows as every reader shares them: kept in the page cache under the
/// content version read before (so rows read before a change are never used after it
/// commits), or read and kept. A page past the topic's end is not found (and not kept).
fn shared_rows(
    state: &AppState,
    version: i64,
    c: &mut crate::db::DbConn,
    id: i64,
    page: i64,
) -> Result<Arc<TopicRows>, AppError> {
    let first = (page - 1) * queries::POSTS_PER_PAGE + 1;
    let rows = state.page_cache.shared_rows(version, c, topic_rows_key(id, first), |c| {
        let topic = queries::find_topic(c, id)?.ok_or(AppError::NotFound)?;
        if page > page_count(topic.post_count) {
            return Err(AppError::NotFound);
        }
        let rows = TopicRows { topic, posts: queries::page_of_posts(c, id, first)? };
        let bytes = rows.bytes();
        Ok((rows, bytes))
    })?;
    // (Kept rows passed the page check when they were read, and cannot change under
    // their version.)
    Ok(rows)
}

/// `/t/{id}/{slug}/unread`: the first post the member has not read (the topic's start
/// for a topic they never opened, and for visitors; the last post when all is read).
pub(super) async fn first_unread(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, _) = path.into_inner();
    let topic = visible_topic(&state, &visitor, id).await?;
    let reader = visitor.user_id();
    let read = match reader {
        Some(user_id) => state.db.run(move |c| read_state::position(c, user_id, id)).await?,
        None => None,
    };
    let target = read.map_or(1, |read| (read + 1).min(topic.post_count.max(1)));
    Ok(see_other(&post_url(topic.id, &topic.slug, target)))
}

pub(super) async fn post_permalink(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(i64, String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (id, _, number) = path.into_inner();
    let topic = visible_topic(&state, &visitor, id).await?;
    if number < 1 || number > topic.post_count {
        return Err(AppError::NotFound);
    }
    Ok(see_other(&post_url(topic.id, &topic.slug, number)))
}
