//! What is new for me: `/unread` (topics with posts past where the member read),
//! `/new` (topics they never opened, started since their horizon) and "mark all as read"
//! for a category or for everything. Members only; the stores are in `read_state`.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::forms::CsrfForm;
use crate::auth::visitor::Visitor;
use crate::forum::latest::LatestTopic;
use crate::forum::queries;
use crate::forum::read_state::{self, ReadMarks};
use crate::forum::reading::marks_for;
use crate::web::errors::AppError;
use crate::web::rate_limit::Limit;
use crate::web::{filters, render, see_other};
use crate::AppState;

/// Which of the two lists a page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unread,
    New,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Unread => "/unread",
            Kind::New => "/new",
        }
    }
}

#[derive(Template)]
#[template(path = "forum/reading_list.html")]
struct ReadingListPage {
    visitor: Visitor,
    kind: Kind,
    marks: ReadMarks,
    topics: Vec<LatestTopic>,
    next_page: Option<String>,
    is_first_page: bool,
}

impl ReadingListPage {
    fn is_unread(&self) -> bool {
        self.kind == Kind::Unread
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    after: Option<String>,
}

pub(super) async fn unread(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    list(state, visitor, query.into_inner(), Kind::Unread).await
}

pub(super) async fn new_topics(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    list(state, visitor, query.into_inner(), Kind::New).await
}

/// One page of either list, and the marks of its topics: two queries (three for `/new`,
/// which reads the member's join date first).
async fn list(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: ListQuery,
    kind: Kind,
) -> Result<HttpResponse, AppError> {
    let member = visitor.member()?.clone();
    let after = crate::forum::reading::parse_cursor(query.after.as_deref())?;
    let (topics, next, marks) = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let (topics, next) = match kind {
                Kind::Unread => read_state::unread_topics(c, member.user_id, after)?,
                Kind::New => read_state::new_topics(c, member.user_id, after)?,
            };
            let marks = marks_for(c, Some(&member), None, topics.iter().map(LatestTopic::listed))?;
            Ok((topics, next, marks))
        })
        .await?;
    if after.is_some() && topics.is_empty() {
        return Err(AppError::NotFound);
    }
    let next_page = next.map(|cursor| format!("{}?after={}", kind.path(), cursor.encode()));
    render(&ReadingListPage { visitor, kind, marks, topics, next_page, is_first_page: after.is_none() })
}

#[derive(Deserialize)]
pub struct MarkReadForm {
    /// One category, or every category when absent.
    category_id: Option<i64>,
    /// The list the button was on, to go back to.
    back: Option<String>,
}

/// POST `/read/mark`: "mark all as read", for one category or for everything.
pub(super) async fn mark_read(
    state: web::Data<AppState>,
    visitor: Visitor,
    form: CsrfForm<MarkReadForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    state.rate_limit(Limit::MarkReadPerMember, user_id).await?;
    let MarkReadForm { category_id, back } = form.0;
    let category = match category_id {
        Some(id) => Some(state.db.run(move |c| queries::find_category(c, id)).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    state.db.run(move |c| read_state::mark_read(c, user_id, category_id)).await?;
    let back = match (&category, back.as_deref()) {
        (Some(category), _) => format!("/c/{}/{}", category.id, category.slug),
        // Only the lists that offer the button: never an address from the form.
        (None, Some(path @ ("/latest" | "/unread" | "/new"))) => path.to_string(),
        (None, _) => "/".to_string(),
    };
    Ok(see_other(&back))
}
