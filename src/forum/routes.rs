//! Reading and writing the forum: categories, topics, replies, edits, likes.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::forms::CsrfForm;
use crate::auth::sessions::SessionUser;
use crate::auth::visitor::Visitor;
use crate::forum::domain::{slugify, FlagReason, PostBody, Title};
use crate::forum::queries::{self, Category, NewPost, PostView, ReplyOutcome, TopicCursor, TopicHeader, TopicSummary};
use crate::text::markdown;
use crate::web::client_ip::ClientIp;
use crate::web::errors::AppError;
use crate::web::rate_limit::Limit;
use crate::web::{filters, form_again, render, render_with, see_other};
use crate::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/c/{id}", web::get().to(category_without_slug))
        .route("/c/{id}/new", web::get().to(new_topic_form))
        .route("/c/{id}/new", web::post().to(create_topic))
        .route("/c/{id}/{slug}", web::get().to(category))
        .route("/t/{id}", web::get().to(topic_without_slug))
        .route("/t/{id}/reply", web::get().to(reply_form))
        .route("/t/{id}/reply", web::post().to(reply))
        .route("/t/{id}/{slug}", web::get().to(topic))
        .route("/t/{id}/{slug}/{number}", web::get().to(post_permalink))
        .route("/p/{id}/edit", web::get().to(edit_form))
        .route("/p/{id}/edit", web::post().to(edit))
        .route("/p/{id}/like", web::post().to(like))
        .route("/p/{id}/unlike", web::post().to(unlike));
}

fn moved_permanently(location: &str) -> HttpResponse {
    HttpResponse::MovedPermanently().insert_header((header::LOCATION, location)).finish()
}

fn topic_url(id: i64, slug: &str) -> String {
    format!("/t/{id}/{slug}")
}

/// The page of a topic that shows post `number`, anchored at it.
fn post_url(topic_id: i64, slug: &str, number: i64) -> String {
    let page = (number - 1) / queries::POSTS_PER_PAGE + 1;
    if page == 1 {
        format!("/t/{topic_id}/{slug}#post-{number}")
    } else {
        format!("/t/{topic_id}/{slug}?page={page}#post-{number}")
    }
}

#[derive(Template)]
#[template(path = "forum/index.html")]
struct IndexPage {
    visitor: Visitor,
    categories: Vec<Category>,
}

async fn index(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let categories = state.db.run(queries::list_categories).await?;
    render(&IndexPage { visitor, categories })
}

#[derive(Template)]
#[template(path = "forum/category.html")]
struct CategoryPage {
    visitor: Visitor,
    category: Category,
    pinned: Vec<TopicSummary>,
    topics: Vec<TopicSummary>,
    next_page: Option<String>,
    is_first_page: bool,
}

#[derive(Deserialize)]
pub struct CategoryQuery {
    after: Option<String>,
}

async fn category_without_slug(state: web::Data<AppState>, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let category = state.db.run(move |c| queries::find_category(c, id)).await?.ok_or(AppError::NotFound)?;
    Ok(moved_permanently(&format!("/c/{}/{}", category.id, category.slug)))
}

async fn category(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(i64, String)>,
    query: web::Query<CategoryQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, slug) = path.into_inner();
    let after = match query.after.as_deref() {
        None => None,
        Some(raw) => {
            Some(TopicCursor::parse(raw).ok_or_else(|| AppError::BadRequest("That page link is malformed.".into()))?)
        }
    };
    let (category, pinned, topics, next) = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let category = queries::find_category(c, id)?.ok_or(AppError::NotFound)?;
            let (topics, next) = queries::list_topics(c, id, after)?;
            let pinned = if after.is_none() { queries::pinned_topics(c, id)? } else { Vec::new() };
            Ok((category, pinned, topics, next))
        })
        .await?;
    if category.slug != slug {
        return Ok(moved_permanently(&format!("/c/{}/{}", category.id, category.slug)));
    }
    // A page past the end of the list is not a page.
    if after.is_some() && topics.is_empty() {
        return Err(AppError::NotFound);
    }
    let next_page = next.map(|cursor| format!("/c/{}/{}?after={}", category.id, category.slug, cursor.encode()));
    render(&CategoryPage { visitor, category, pinned, topics, next_page, is_first_page: after.is_none() })
}

#[derive(Template)]
#[template(path = "forum/topic.html")]
struct TopicPage {
    visitor: Visitor,
    topic: TopicHeader,
    posts: Vec<PostView>,
    page: i64,
    pages: i64,
}

impl TopicPage {
    /// A post waiting for review is readable by its author and staff only.
    fn may_read_held(&self, post: &PostView) -> bool {
        self.visitor.is_staff() || self.visitor.user_id() == Some(post.user_id)
    }
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
async fn visible_topic(state: &AppState, visitor: &Visitor, id: i64) -> Result<TopicHeader, AppError> {
    let topic = state.db.run(move |c| queries::find_topic(c, id)).await?.ok_or(AppError::NotFound)?;
    if !topic.visible_to(visitor.user_id(), visitor.is_staff()) {
        return Err(AppError::NotFound);
    }
    Ok(topic)
}

async fn topic_without_slug(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let topic = visible_topic(&state, &visitor, path.into_inner()).await?;
    Ok(moved_permanently(&topic_url(topic.id, &topic.slug)))
}

async fn topic(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(i64, String)>,
    query: web::Query<TopicQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, slug) = path.into_inner();
    let page = query.page.unwrap_or(1);
    // No topic has a billion pages; this also keeps the arithmetic below from overflowing.
    if !(1..=1_000_000_000).contains(&page) {
        return Err(AppError::NotFound);
    }
    let viewer = visitor.user_id();
    let may_see_held = visitor.is_staff();
    let first = (page - 1) * queries::POSTS_PER_PAGE + 1;
    let (topic, posts) = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let topic = queries::find_topic(c, id)?.ok_or(AppError::NotFound)?;
            if !topic.visible_to(viewer, may_see_held) {
                return Err(AppError::NotFound);
            }
            if page > page_count(topic.post_count) {
                return Err(AppError::NotFound);
            }
            let posts = queries::page_of_posts(c, id, first, viewer)?;
            Ok((topic, posts))
        })
        .await?;
    if topic.slug != slug {
        let target = match page {
            1 => topic_url(topic.id, &topic.slug),
            n => format!("{}?page={n}", topic_url(topic.id, &topic.slug)),
        };
        return Ok(moved_permanently(&target));
    }
    let pages = page_count(topic.post_count);
    render(&TopicPage { visitor, topic, posts, page, pages })
}

async fn post_permalink(
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

#[derive(Template)]
#[template(path = "forum/new_topic.html")]
struct NewTopicPage {
    visitor: Visitor,
    category: Category,
    title: String,
    body: String,
    errors: Vec<String>,
}

#[derive(Deserialize)]
pub struct TopicForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

async fn new_topic_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    visitor.member()?;
    let id = path.into_inner();
    let category = state.db.run(move |c| queries::find_category(c, id)).await?.ok_or(AppError::NotFound)?;
    render(&NewTopicPage { visitor, category, title: String::new(), body: String::new(), errors: Vec::new() })
}

async fn create_topic(
    state: web::Data<AppState>,
    visitor: Visitor,
    ip: ClientIp,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<TopicForm>,
) -> Result<HttpResponse, AppError> {
    let member = visitor.active_member()?.clone();
    let (user_id, staff, hold_first_posts) = (member.user_id, member.is_staff(), state.config.hold_first_posts);
    let category_id = path.into_inner();
    let category = state.db.run(move |c| queries::find_category(c, category_id)).await?.ok_or(AppError::NotFound)?;
    let mut errors = Vec::new();
    let title = Title::parse(&form.title).map_err(|e| errors.push(e)).ok();
    let body = PostBody::parse(&form.body).map_err(|e| errors.push(e)).ok();
    let (Some(title), Some(body)) = (title, body) else {
        let page = NewTopicPage { visitor, category, title: form.title, body: form.body, errors };
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let html = match checked_html(&state, &member, &body, Writing::Topic).await {
        Ok(html) => html,
        Err(refusal) => {
            let (title, body) = (form.title, form.body);
            return form_again(refusal, |message| NewTopicPage {
                visitor,
                category,
                title,
                body,
                errors: vec![message],
            });
        }
    };
    let slug = slugify(title.as_str());
    let ip = ip.to_string();
    let topic_slug = slug.clone();
    let topic_id = state
        .db
        .run(move |c| {
            let held = !staff && queries::must_hold(c, user_id, hold_first_posts)?;
            let post = NewPost { user_id, markdown: body.as_str(), html: &html, ip: &ip, held };
            queries::create_topic(c, category_id, title.as_str(), &topic_slug, post)
        })
        .await?;
    Ok(see_other(&topic_url(topic_id, &slug)))
}

#[derive(Template)]
#[template(path = "forum/reply.html")]
struct ReplyPage {
    visitor: Visitor,
    topic: TopicHeader,
    body: String,
    errors: Vec<String>,
}

#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    body: String,
}

async fn reply_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    visitor.member()?;
    let topic = visible_topic(&state, &visitor, path.into_inner()).await?;
    render(&ReplyPage { visitor, topic, body: String::new(), errors: Vec::new() })
}

async fn reply(
    state: web::Data<AppState>,
    visitor: Visitor,
    ip: ClientIp,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<ReplyForm>,
) -> Result<HttpResponse, AppError> {
    let member = visitor.active_member()?.clone();
    let (user_id, staff, hold_first_posts) = (member.user_id, member.is_staff(), state.config.hold_first_posts);
    let topic_id = path.into_inner();
    visible_topic(&state, &visitor, topic_id).await?;
    let checked = match PostBody::parse(&form.body) {
        Ok(body) => checked_html(&state, &member, &body, Writing::Reply).await.map(|html| (body, html)),
        Err(message) => Err(AppError::BadRequest(message)),
    };
    let (body, html) = match checked {
        Ok(checked) => checked,
        Err(refusal) => {
            let topic = state.db.run(move |c| queries::find_topic(c, topic_id)).await?.ok_or(AppError::NotFound)?;
            let body = form.body;
            return form_again(refusal, |message| ReplyPage { visitor, topic, body, errors: vec![message] });
        }
    };
    let ip = ip.to_string();
    let (number, topic) = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let held = !staff && queries::must_hold(c, user_id, hold_first_posts)?;
            let post = NewPost { user_id, markdown: body.as_str(), html: &html, ip: &ip, held };
            let number = match queries::create_reply(c, topic_id, post)? {
                ReplyOutcome::Posted(number) => number,
                ReplyOutcome::NoSuchTopic => return Err(AppError::NotFound),
                ReplyOutcome::Locked => {
                    return Err(AppError::Forbidden("This topic is locked: it takes no more replies.".into()))
                }
            };
            let topic = queries::find_topic(c, topic_id)?.ok_or(AppError::NotFound)?;
            Ok((number, topic))
        })
        .await?;
    Ok(see_other(&post_url(topic.id, &topic.slug, number)))
}

#[derive(Template)]
#[template(path = "forum/edit.html")]
struct EditPage {
    visitor: Visitor,
    post: queries::EditablePost,
    body: String,
    errors: Vec<String>,
}

/// The post, if it exists and belongs to the member asking.
async fn own_post(state: &AppState, visitor: &Visitor, post_id: i64) -> Result<queries::EditablePost, AppError> {
    let member = visitor.active_member()?;
    let post = state.db.run(move |c| queries::find_post(c, post_id)).await?.ok_or(AppError::NotFound)?;
    if post.user_id != member.user_id {
        return Err(AppError::Forbidden("You can only edit your own posts.".into()));
    }
    if post.moderated {
        return Err(AppError::Forbidden("A moderator hid or deleted this post; it can no longer be edited.".into()));
    }
    if post.topic_locked && !member.is_staff() {
        return Err(AppError::Forbidden("This topic is locked: its posts can no longer be edited.".into()));
    }
    Ok(post)
}

async fn edit_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let post = own_post(&state, &visitor, path.into_inner()).await?;
    let body = post.body_markdown.clone();
    render(&EditPage { visitor, post, body, errors: Vec::new() })
}

async fn edit(
    state: web::Data<AppState>,
    visitor: Visitor,
    ip: ClientIp,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<ReplyForm>,
) -> Result<HttpResponse, AppError> {
    let post = own_post(&state, &visitor, path.into_inner()).await?;
    let member = visitor.active_member()?.clone();
    let checked = match PostBody::parse(&form.body) {
        Ok(body) => checked_html(&state, &member, &body, Writing::Edit).await.map(|html| (body, html)),
        Err(message) => Err(AppError::BadRequest(message)),
    };
    let (body, html) = match checked {
        Ok(checked) => checked,
        Err(refusal) => {
            let body = form.body;
            return form_again(refusal, |message| EditPage { visitor, post, body, errors: vec![message] });
        }
    };
    let ip = ip.to_string();
    let (post_id, user_id) = (post.id, post.user_id);
    state
        .db
        .run(move |c| {
            let edit = NewPost { user_id, markdown: body.as_str(), html: &html, ip: &ip, held: false };
            queries::edit_post(c, post_id, edit)
        })
        .await?;
    Ok(see_other(&post_url(post.topic_id, &post.topic_slug, post.post_number)))
}

async fn like(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    _: CsrfForm<crate::auth::forms::EmptyForm>,
) -> Result<HttpResponse, AppError> {
    set_like(state, visitor, path.into_inner(), true).await
}

async fn unlike(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    _: CsrfForm<crate::auth::forms::EmptyForm>,
) -> Result<HttpResponse, AppError> {
    set_like(state, visitor, path.into_inner(), false).await
}

async fn set_like(
    state: web::Data<AppState>,
    visitor: Visitor,
    post_id: i64,
    like: bool,
) -> Result<HttpResponse, AppError> {
    let member = visitor.active_member()?;
    let (user_id, staff) = (member.user_id, member.is_staff());
    state.rate_limit(Limit::LikePerMember, user_id).await?;
    let post = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let post = queries::find_post(c, post_id)?.ok_or(AppError::NotFound)?;
            if post.topic_locked && !staff {
                return Err(AppError::Forbidden("This topic is locked: its posts can no longer be liked.".into()));
            }
            if post.held && !staff {
                return Err(AppError::NotFound);
            }
            if post.user_id == user_id {
                return Err(AppError::BadRequest("You cannot like your own post.".into()));
            }
            if post.moderated && like {
                return Err(AppError::Forbidden("A moderator hid or deleted this post.".into()));
            }
            queries::set_like(c, post_id, user_id, like)?;
            Ok(post)
        })
        .await?;
    Ok(see_other(&post_url(post.topic_id, &post.topic_slug, post.post_number)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writing {
    Topic,
    Reply,
    Edit,
}

/// What every post goes through before it is stored: a confirmed address, the rate
/// limits (tighter in a member's first day), a bounded render off the async workers,
/// and for new members a cap on links. Returns the post's HTML.
async fn checked_html(
    state: &AppState,
    member: &SessionUser,
    body: &PostBody,
    writing: Writing,
) -> Result<String, AppError> {
    if !member.email_confirmed {
        return Err(AppError::Forbidden(
            "Confirm your e-mail address before you post: open the link we sent you \
             (your account page sends a new one)."
                .into(),
        ));
    }
    let new_member = crate::db::now() - member.joined_at < state.config.new_member_seconds;
    state.rate_limit(Limit::PostPerMember, member.user_id).await?;
    if new_member {
        state.rate_limit(Limit::PostPerNewMember, member.user_id).await?;
        if writing == Writing::Topic {
            state.rate_limit(Limit::TopicPerNewMember, member.user_id).await?;
        }
    }
    let markdown = body.as_str().to_string();
    let html = web::block(move || markdown::render(&markdown))
        .await
        .map_err(|e| anyhow::anyhow!("rendering worker failed: {e}"))?
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let links = markdown::count_links(&html);
    let max_links = state.config.new_member_max_links;
    if new_member && links > max_links {
        return Err(AppError::BadRequest(format!(
            "In their first day, members may put at most {max_links} links in a post; this one has {links}."
        )));
    }
    Ok(html)
}
