//! Writing in the forum: new topics, replies, edits and likes, and what every post goes
//! through before it is stored.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::forms::CsrfForm;
use crate::auth::sessions::SessionUser;
use crate::auth::visitor::Visitor;
use crate::forum::domain::{slugify, PostBody, Title};
use crate::forum::mentions::Resolved;
use crate::forum::queries::{self, Category, NewPost, ReplyOutcome, TopicHeader};
use crate::forum::rendering;
use crate::forum::watching::{self, WatchLevel};
use crate::text::markdown;
use crate::web::client_ip::ClientIp;
use crate::web::errors::AppError;
use crate::web::rate_limit::Limit;
use crate::web::{filters, form_again, render, render_with, see_other};
use crate::AppState;

use crate::forum::reading::visible_topic;
use crate::forum::routes::{post_url, topic_url};

#[derive(Template)]
#[template(path = "forum/new_topic.html")]
struct NewTopicPage {
    /// The post as it will look, when the member pressed Preview.
    preview: Option<String>,
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
    /// Present when the member pressed Preview instead of posting.
    preview: Option<String>,
}

/// A category for announcements takes new topics from staff only (403 for others).
fn refuse_unless_may_start(category: &queries::Category, visitor: &Visitor) -> Result<(), AppError> {
    match category.may_start_topics(visitor.is_staff()) {
        true => Ok(()),
        false => Err(AppError::Forbidden(format!(
            "Only the forum's moderators start topics in {}. You can reply to the topics there.",
            category.name
        ))),
    }
}

pub(super) async fn new_topic_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    visitor.member()?;
    let id = path.into_inner();
    let category = state.db.run(move |c| queries::find_category(c, id)).await?.ok_or(AppError::NotFound)?;
    refuse_unless_may_start(&category, &visitor)?;
    render(&NewTopicPage {
        visitor,
        category,
        title: String::new(),
        body: String::new(),
        errors: Vec::new(),
        preview: None,
    })
}

pub(super) async fn create_topic(
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
    refuse_unless_may_start(&category, &visitor)?;
    let mut errors = Vec::new();
    let title = Title::parse(&form.title).map_err(|e| errors.push(e)).ok();
    let body = PostBody::parse(&form.body).map_err(|e| errors.push(e)).ok();
    let (Some(title), Some(body)) = (title, body) else {
        let page = NewTopicPage { visitor, category, title: form.title, body: form.body, errors, preview: None };
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    if form.preview.is_some() {
        let (title, body_text) = (form.title, form.body);
        return match preview(&state, &member, body.as_str()).await {
            Ok(html) => render(&NewTopicPage {
                visitor,
                category,
                title,
                body: body_text,
                errors: Vec::new(),
                preview: Some(html),
            }),
            Err(refusal) => form_again(refusal, |message| NewTopicPage {
                visitor,
                category,
                title,
                body: body_text,
                errors: vec![message],
                preview: None,
            }),
        };
    }
    let (html, resolved) = match checked_html(&state, &member, &body, Writing::Topic).await {
        Ok(checked) => checked,
        Err(refusal) => {
            let (title, body) = (form.title, form.body);
            return form_again(refusal, |message| NewTopicPage {
                visitor,
                category,
                title,
                body,
                errors: vec![message],
                preview: None,
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
            let post = NewPost { user_id, markdown: body.as_str(), html: &html, ip: &ip, held, refers: &resolved };
            queries::create_topic(c, category_id, title.as_str(), &topic_slug, post)
        })
        .await?;
    Ok(see_other(&topic_url(topic_id, &slug)))
}

#[derive(Template)]
#[template(path = "forum/reply.html")]
struct ReplyPage {
    /// The post as it will look, when the member pressed Preview.
    preview: Option<String>,
    visitor: Visitor,
    topic: TopicHeader,
    body: String,
    errors: Vec<String>,
}

#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    body: String,
    /// Present when the member pressed Preview instead of posting.
    preview: Option<String>,
}

#[derive(Deserialize)]
pub struct ReplyQuery {
    /// The number of a post to quote.
    quote: Option<i64>,
}

/// A locked topic takes replies (and their previews) from staff only.
fn refuse_unless_open(topic: &TopicHeader, staff: bool) -> Result<(), AppError> {
    match topic.locked && !staff {
        true => Err(AppError::Forbidden("This topic is locked: it takes no more replies.".into())),
        false => Ok(()),
    }
}

/// The reply form, empty, or starting with a quote of one post (the Quote action):
/// `[quote="alice, post:3, topic:12"]` … `[/quote]`, which renders as "alice wrote:"
/// linking that post, and tells alice.
pub(super) async fn reply_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    query: web::Query<ReplyQuery>,
) -> Result<HttpResponse, AppError> {
    visitor.member()?;
    let topic = visible_topic(&state, &visitor, path.into_inner()).await?;
    refuse_unless_open(&topic, visitor.is_staff())?;
    let body = match query.quote {
        Some(number) => {
            let topic_id = topic.id;
            let quoted = state.db.run(move |c| queries::quotable_post(c, topic_id, number)).await?;
            let (author, markdown) = quoted.ok_or(AppError::NotFound)?;
            format!("[quote=\"{author}, post:{number}, topic:{topic_id}\"]\n{}\n[/quote]\n\n", markdown.trim_end())
        }
        None => String::new(),
    };
    render(&ReplyPage { visitor, topic, body, errors: Vec::new(), preview: None })
}

pub(super) async fn reply(
    state: web::Data<AppState>,
    visitor: Visitor,
    ip: ClientIp,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<ReplyForm>,
) -> Result<HttpResponse, AppError> {
    let member = visitor.active_member()?.clone();
    let (user_id, staff, hold_first_posts) = (member.user_id, member.is_staff(), state.config.hold_first_posts);
    let topic_id = path.into_inner();
    let shown = visible_topic(&state, &visitor, topic_id).await?;
    refuse_unless_open(&shown, staff)?;
    if form.preview.is_some() {
        let outcome = preview(&state, &member, &form.body).await;
        let body = form.body;
        return match outcome {
            Ok(html) => render(&ReplyPage { visitor, topic: shown, body, errors: Vec::new(), preview: Some(html) }),
            Err(refusal) => form_again(refusal, |message| ReplyPage {
                visitor,
                topic: shown,
                body,
                errors: vec![message],
                preview: None,
            }),
        };
    }
    let checked = match PostBody::parse(&form.body) {
        Ok(body) => checked_html(&state, &member, &body, Writing::Reply).await.map(|html| (body, html)),
        Err(message) => Err(AppError::BadRequest(message)),
    };
    let (body, (html, resolved)) = match checked {
        Ok(checked) => checked,
        Err(refusal) => {
            let topic = state.db.run(move |c| queries::find_topic(c, topic_id)).await?.ok_or(AppError::NotFound)?;
            let body = form.body;
            return form_again(refusal, |message| ReplyPage {
                visitor,
                topic,
                body,
                errors: vec![message],
                preview: None,
            });
        }
    };
    let ip = ip.to_string();
    let (number, topic) = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let held = !staff && queries::must_hold(c, user_id, hold_first_posts)?;
            let post = NewPost { user_id, markdown: body.as_str(), html: &html, ip: &ip, held, refers: &resolved };
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

#[derive(Deserialize)]
pub struct WatchForm {
    #[serde(default)]
    level: String,
}

/// Watching (every reply), tracking (counted, only mentions and quotes told), normal
/// (replies in one's own topics, mentions, quotes) or muted (nothing from this topic),
/// from the buttons on the topic page.
pub(super) async fn watch(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<WatchForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    let topic = visible_topic(&state, &visitor, path.into_inner()).await?;
    let level = match form.level.as_str() {
        "normal" => None,
        other => Some(
            WatchLevel::parse(other)
                .ok_or_else(|| AppError::BadRequest("Choose watching, tracking, normal or muted.".into()))?,
        ),
    };
    state.rate_limit(Limit::WatchPerMember, user_id).await?;
    let topic_id = topic.id;
    state.db.run(move |c| watching::set(c, user_id, topic_id, level)).await?;
    Ok(see_other(&format!("{}#watching", topic_url(topic.id, &topic.slug))))
}

/// Watching (every new topic and reply) or muting a category, from its page. A topic's
/// own level wins over its category's.
pub(super) async fn watch_category(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<WatchForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    let id = path.into_inner();
    let level = match form.level.as_str() {
        "normal" => None,
        "watching" => Some(WatchLevel::Watching),
        "muted" => Some(WatchLevel::Muted),
        _ => return Err(AppError::BadRequest("Choose watching, normal or muted.".into())),
    };
    state.rate_limit(Limit::WatchPerMember, user_id).await?;
    let category = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let category = queries::find_category(c, id)?.ok_or(AppError::NotFound)?;
            watching::set_category(c, user_id, id, level)?;
            Ok(category)
        })
        .await?;
    Ok(see_other(&format!("/c/{}/{}#watching", category.id, category.slug)))
}

#[derive(Template)]
#[template(path = "forum/edit.html")]
struct EditPage {
    /// The post as it will look, when the member pressed Preview.
    preview: Option<String>,
    visitor: Visitor,
    post: queries::EditablePost,
    body: String,
    errors: Vec<String>,
}

/// The post, if it exists and belongs to the member asking.
pub(super) async fn own_post(
    state: &AppState,
    visitor: &Visitor,
    post_id: i64,
) -> Result<queries::EditablePost, AppError> {
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

pub(super) async fn edit_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let post = own_post(&state, &visitor, path.into_inner()).await?;
    let body = post.body_markdown.clone();
    render(&EditPage { visitor, post, body, errors: Vec::new(), preview: None })
}

pub(super) async fn edit(
    state: web::Data<AppState>,
    visitor: Visitor,
    ip: ClientIp,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<ReplyForm>,
) -> Result<HttpResponse, AppError> {
    let post = own_post(&state, &visitor, path.into_inner()).await?;
    let member = visitor.active_member()?.clone();
    if form.preview.is_some() {
        let outcome = preview(&state, &member, &form.body).await;
        let body = form.body;
        return match outcome {
            Ok(html) => render(&EditPage { visitor, post, body, errors: Vec::new(), preview: Some(html) }),
            Err(refusal) => {
                form_again(refusal, |message| EditPage { visitor, post, body, errors: vec![message], preview: None })
            }
        };
    }
    let checked = match PostBody::parse(&form.body) {
        Ok(body) => checked_html(&state, &member, &body, Writing::Edit).await.map(|html| (body, html)),
        Err(message) => Err(AppError::BadRequest(message)),
    };
    let (body, (html, resolved)) = match checked {
        Ok(checked) => checked,
        Err(refusal) => {
            let body = form.body;
            return form_again(refusal, |message| EditPage {
                visitor,
                post,
                body,
                errors: vec![message],
                preview: None,
            });
        }
    };
    let ip = ip.to_string();
    let (post_id, user_id) = (post.id, post.user_id);
    let (staff, hold_first_posts) = (member.is_staff(), state.config.hold_first_posts);
    state
        .db
        .run(move |c| {
            // A member still under review edits into the queue: an approved first post
            // edited into spam waits for a moderator again.
            let held = !staff && queries::must_hold(c, user_id, hold_first_posts)?;
            let edit = NewPost { user_id, markdown: body.as_str(), html: &html, ip: &ip, held, refers: &resolved };
            queries::edit_post(c, post_id, edit)
        })
        .await?;
    Ok(see_other(&post_url(post.topic_id, &post.topic_slug, post.post_number)))
}

pub(super) async fn like(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    _: CsrfForm<crate::auth::forms::EmptyForm>,
) -> Result<HttpResponse, AppError> {
    set_like(state, visitor, path.into_inner(), true).await
}

pub(super) async fn unlike(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    _: CsrfForm<crate::auth::forms::EmptyForm>,
) -> Result<HttpResponse, AppError> {
    set_like(state, visitor, path.into_inner(), false).await
}

pub(super) async fn set_like(
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

/// The post as it will look once posted: the same checks of its text, the same
/// renderer, mentions and quotes resolved the same way, stored nowhere and telling
/// nobody. Rendering costs work, so previews are for members who may post (a confirmed
/// address) and have their own limit (`preview_per_member`).
async fn preview(state: &AppState, member: &SessionUser, text: &str) -> Result<String, AppError> {
    refuse_unless_confirmed(member)?;
    let body = PostBody::parse(text).map_err(AppError::BadRequest)?;
    state.rate_limit(Limit::PreviewPerMember, member.user_id).await?;
    let (html, _) = rendering::render(state, body.as_str().to_string(), member.user_id).await?;
    Ok(html)
}

fn refuse_unless_confirmed(member: &SessionUser) -> Result<(), AppError> {
    match member.email_confirmed {
        true => Ok(()),
        false => Err(AppError::Forbidden(
            "Confirm your e-mail address before you post: open the link we sent you \
             (your account page sends a new one)."
                .into(),
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writing {
    Topic,
    Reply,
    Edit,
}

/// What every post goes through before it is stored: a confirmed address, the rate
/// limits (tighter in a member's first day), a bounded render off the async workers,
/// and for new members a cap on links. Returns the post's HTML and whom it mentions
/// and quotes.
async fn checked_html(
    state: &AppState,
    member: &SessionUser,
    body: &PostBody,
    writing: Writing,
) -> Result<(String, Resolved), AppError> {
    refuse_unless_confirmed(member)?;
    let new_member = crate::db::now() - member.joined_at < state.config.new_member_seconds;
    state.rate_limit(Limit::PostPerMember, member.user_id).await?;
    if new_member {
        state.rate_limit(Limit::PostPerNewMember, member.user_id).await?;
        if writing == Writing::Topic {
            state.rate_limit(Limit::TopicPerNewMember, member.user_id).await?;
        }
    }
    // Mentions and quotes are resolved now and kept with the post: the HTML links them
    // by id and post, so later renames break nothing.
    let (html, resolved) = rendering::render(state, body.as_str().to_string(), member.user_id).await?;
    let links = markdown::count_links(&html);
    let max_links = state.config.new_member_max_links;
    if new_member && links > max_links {
        return Err(AppError::BadRequest(format!(
            "In their first day, members may put at most {max_links} links in a post; this one has {links}."
        )));
    }
    Ok((html, resolved))
}
