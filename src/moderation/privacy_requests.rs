//! The staff side of privacy requests: the queue with its 30-day deadlines, and answers
//! mailed to the requester. (Members file them from `account::privacy_request`.)

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use crate::auth::forms::CsrfForm;
use crate::auth::visitor::Visitor;
use crate::db::schema::privacy_requests;
use crate::db::{now, DbConn, DbError};
use crate::moderation::audit::{AuditAction, AuditTarget};
use crate::moderation::ModError;
use crate::privacy::mails;
use crate::privacy::requests::{PrivacyRequest, RequestStatus, REQUEST_DEADLINE_SECONDS};
use crate::record_audit;
use crate::web::errors::AppError;
use crate::web::{filters, render, see_other};
use crate::AppState;

#[derive(Template)]
#[template(path = "admin/privacy_requests.html")]
struct RequestsPage {
    visitor: Visitor,
    open: Vec<PrivacyRequest>,
    closed: Vec<PrivacyRequest>,
    older: Option<i64>,
}

impl RequestsPage {
    fn due(&self, request: &PrivacyRequest) -> i64 {
        request.created_at + REQUEST_DEADLINE_SECONDS
    }

    fn days_left(&self, request: &PrivacyRequest) -> i64 {
        (self.due(request) - now()).div_euclid(86400)
    }
}

#[derive(Deserialize)]
pub struct BeforeQuery {
    before: Option<i64>,
}

pub(super) async fn queue_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<BeforeQuery>,
) -> Result<HttpResponse, AppError> {
    visitor.staff()?;
    let before = query.before;
    let queue = state.db.run(move |c| privacy_requests(c, before)).await?;
    render(&RequestsPage { visitor, open: queue.open, closed: queue.closed, older: queue.older })
}

#[derive(Deserialize)]
pub struct RequestUpdateForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    refusal_reason: String,
}

pub(super) async fn update_request(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<RequestUpdateForm>,
) -> Result<HttpResponse, AppError> {
    let staff = visitor.staff()?.user_id;
    let id = path.into_inner();
    let status = RequestStatus::parse(&form.status)
        .ok_or_else(|| AppError::BadRequest("A request is open, answered or refused.".into()))?;
    let refusal = Some(form.refusal_reason.trim().to_string()).filter(|r| !r.is_empty());
    let request = state
        .db
        .run(move |c| update_privacy_request(c, staff, id, status, form.note.trim(), refusal.as_deref()))
        .await?;
    let mail = mails::privacy_request_updated(
        &request.email,
        request.id,
        &request.kind,
        request.status.as_str(),
        request.refusal_reason.as_deref(),
    );
    state.mailer.send_or_log(mail).await;
    Ok(see_other("/admin/privacy-requests"))
}

const REQUEST_COLUMNS: (
    privacy_requests::id,
    privacy_requests::email,
    privacy_requests::kind,
    privacy_requests::message,
    privacy_requests::status,
    privacy_requests::staff_note,
    privacy_requests::refusal_reason,
    privacy_requests::created_at,
    privacy_requests::updated_at,
) = (
    privacy_requests::id,
    privacy_requests::email,
    privacy_requests::kind,
    privacy_requests::message,
    privacy_requests::status,
    privacy_requests::staff_note,
    privacy_requests::refusal_reason,
    privacy_requests::created_at,
    privacy_requests::updated_at,
);

/// How many answered or refused requests a page of the queue shows.
pub const CLOSED_REQUESTS_PER_PAGE: i64 = 50;

/// The privacy-request queue as its page shows it.
pub struct RequestQueue {
    /// Every open request, oldest (nearest its deadline) first.
    pub open: Vec<PrivacyRequest>,
    /// A page of answered and refused ones, newest first.
    pub closed: Vec<PrivacyRequest>,
    /// Where the next page of those starts.
    pub older: Option<i64>,
}

pub fn privacy_requests(conn: &mut DbConn, before: Option<i64>) -> Result<RequestQueue, DbError> {
    let before = before.unwrap_or(i64::MAX);
    let open = privacy_requests::table
        .filter(privacy_requests::status.eq(RequestStatus::Open))
        .order((privacy_requests::created_at, privacy_requests::id))
        .select(REQUEST_COLUMNS)
        .load(conn)?;
    let closed = privacy_requests::table
        .filter(privacy_requests::status.ne(RequestStatus::Open))
        .filter(privacy_requests::id.lt(before))
        .order(privacy_requests::id.desc())
        .limit(CLOSED_REQUESTS_PER_PAGE + 1)
        .select(REQUEST_COLUMNS)
        .load(conn)?;
    let (open, mut closed): (Vec<PrivacyRequest>, Vec<PrivacyRequest>) = (open, closed);
    let older = if closed.len() as i64 > CLOSED_REQUESTS_PER_PAGE {
        closed.truncate(CLOSED_REQUESTS_PER_PAGE as usize);
        closed.last().map(|r| r.id)
    } else {
        None
    };
    Ok(RequestQueue { open, closed, older })
}

pub fn open_request_deadlines(conn: &mut DbConn) -> Result<Vec<i64>, DbError> {
    Ok(privacy_requests::table
        .filter(privacy_requests::status.eq(RequestStatus::Open))
        .order(privacy_requests::created_at)
        .select(privacy_requests::created_at)
        .load::<i64>(conn)?
        .into_iter()
        .map(|at| at + REQUEST_DEADLINE_SECONDS)
        .collect())
}

/// Updates a request's status and notes; returns it for the mail to the requester.
pub fn update_privacy_request(
    conn: &mut DbConn,
    actor: i64,
    id: i64,
    status: RequestStatus,
    note: &str,
    refusal_reason: Option<&str>,
) -> Result<PrivacyRequest, ModError> {
    if status == RequestStatus::Refused && refusal_reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(ModError::Refused("A refusal needs a reason the requester will read.".into()));
    }
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let changed = diesel::update(privacy_requests::table.find(id))
            .set((
                privacy_requests::status.eq(status),
                privacy_requests::staff_note.eq(note),
                privacy_requests::refusal_reason.eq(refusal_reason.filter(|_| status == RequestStatus::Refused)),
                privacy_requests::updated_at.eq(now),
            ))
            .execute(conn)?;
        if changed == 0 {
            return Err(ModError::NotFound);
        }
        record_audit!(conn, actor, AuditAction::privacy_request(status), AuditTarget::PrivacyRequest, id, note, now)?;
        let request: PrivacyRequest = privacy_requests::table.find(id).select(REQUEST_COLUMNS).first(conn)?;
        // A member's request is answered under Notifications too (the mail goes anyway).
        let member: Option<i64> = privacy_requests::table.find(id).select(privacy_requests::user_id).first(conn)?;
        if let (Some(member), true) = (member, status != RequestStatus::Open) {
            let message = format!("Your privacy request #{id} ({}) is now {}", request.kind, status.as_str());
            crate::forum::notifications::notice(
                conn,
                member,
                crate::forum::notifications::Kind::Privacy,
                &message,
                None,
            )?;
        }
        Ok(request)
    })
}
