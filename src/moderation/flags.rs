//! Flags: a member flags a post, staff work through the queue (dismiss, hide, delete,
//! suspend), and every flagger hears the outcome.

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use crate::auth::forms::CsrfForm;
use crate::auth::visitor::Visitor;
use crate::db::schema::{flags, posts, topics, users};
use crate::db::{now, DbConn, DbError};
use crate::forum::domain::FlagReason;
use crate::forum::notifications::{self, Kind};
use crate::forum::queries::{self as forum};
use crate::moderation::audit::{AuditAction, AuditTarget};
use crate::moderation::{parse_date, required_reason, DecisionForm, ModError};
use crate::web::errors::AppError;
use crate::web::rate_limit::Limit;
use crate::web::{filters, form_again, render, see_other};
use crate::AppState;
use crate::{per_backend, record_audit};

#[derive(Deserialize)]
pub struct FlagForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    details: String,
}

#[derive(Template)]
#[template(path = "forum/flag.html")]
struct FlagPage {
    visitor: Visitor,
    post: forum::EditablePost,
    reason: String,
    details: String,
    errors: Vec<String>,
}

impl FlagPage {
    fn is_reason(&self, reason: &FlagReason) -> bool {
        self.reason == reason.to_string()
    }
}

/// The post to flag: there, readable by others, and not the member's own.
async fn flaggable(state: &AppState, user_id: i64, post_id: i64) -> Result<forum::EditablePost, AppError> {
    let post = state.db.run(move |c| forum::find_post(c, post_id)).await?.ok_or(AppError::NotFound)?;
    if post.user_id == user_id {
        return Err(AppError::BadRequest("That is your own post: edit it instead.".into()));
    }
    // A post waiting for review is not there for others to flag.
    if post.held {
        return Err(AppError::NotFound);
    }
    Ok(post)
}

/// `GET /p/{id}/flag`: why the member flags the post (a page of its own, not a form on
/// every post of every member's topic page).
pub(super) async fn flag_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.active_member()?.user_id;
    let post = flaggable(&state, user_id, path.into_inner()).await?;
    render(&FlagPage { visitor, post, reason: String::new(), details: String::new(), errors: Vec::new() })
}

pub(super) async fn flag(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<FlagForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.active_member()?.user_id;
    let post_id = path.into_inner();
    let post = flaggable(&state, user_id, post_id).await?;
    let filed = async {
        let reason = FlagReason::parse(&form.reason)
            .ok_or_else(|| AppError::BadRequest("Choose why you are flagging this post.".into()))?;
        if reason == FlagReason::Other && form.details.trim().is_empty() {
            return Err(AppError::BadRequest("Say what is wrong with the post.".into()));
        }
        state.rate_limit(Limit::FlagPerMember, user_id).await?;
        let details: String = form.details.trim().chars().take(1000).collect();
        if !state.db.run(move |c| flag_post(c, post_id, user_id, reason, &details)).await? {
            return Err(AppError::Conflict(
                "You have already flagged this post; the moderators will look at it.".into(),
            ));
        }
        Ok(())
    }
    .await;
    match filed {
        Ok(()) => Ok(see_other(&format!("/t/{}/{}/{}", post.topic_id, post.topic_slug, post.post_number))),
        Err(refusal) => form_again(refusal, |message| FlagPage {
            visitor,
            post,
            reason: form.reason,
            details: form.details,
            errors: vec![message],
        }),
    }
}

#[derive(Template)]
#[template(path = "admin/flags.html")]
struct FlagsPage {
    visitor: Visitor,
    queue: Vec<FlaggedPost>,
    /// What the last decision did, in words ("Flags on “Title” #3 dismissed.").
    done: Option<String>,
}

/// Where a decision sends staff back to: the queue, with what was decided on which post.
#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
    post: Option<i64>,
}

pub(super) async fn queue_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    visitor.staff()?;
    let DoneQuery { done, post } = query.into_inner();
    let decided = done.as_deref().and_then(FlagOutcome::from_action).zip(post);
    let (queue, decided_on) = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let decided_on = match decided {
                Some((_, post_id)) => forum::find_post(c, post_id)?,
                None => None,
            };
            Ok((flag_queue(c)?, decided_on))
        })
        .await?;
    // The confirmation is made of fixed words and the post's title as stored, never of
    // text from the address.
    let done = decided.zip(decided_on).map(|((outcome, _), post)| {
        format!("Flags on “{}” #{} {}.", post.topic_title, post.post_number, outcome.confirmation())
    });
    render(&FlagsPage { visitor, queue, done })
}

pub(super) async fn resolve(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Result<HttpResponse, AppError> {
    let staff = visitor.staff()?.clone();
    let post_id = path.into_inner();
    let reason = required_reason(&form.reason)?;
    let outcome = FlagOutcome::from_action(&form.action)
        .ok_or_else(|| AppError::BadRequest("Choose what to do: dismiss, hide, delete or suspend.".into()))?;
    let suspend_until = if outcome == FlagOutcome::AuthorSuspended { Some(parse_date(&form.until)?) } else { None };
    state
        .db
        .run(move |c| {
            c.write_transaction(|c| -> Result<(), ModError> {
                match outcome {
                    FlagOutcome::Dismissed => {}
                    FlagOutcome::PostHidden => {
                        super::content::act_on_post(
                            c,
                            staff.user_id,
                            staff.role,
                            post_id,
                            super::content::PostAction::Hide,
                            &reason,
                        )?;
                    }
                    FlagOutcome::PostDeleted => {
                        super::content::act_on_post(
                            c,
                            staff.user_id,
                            staff.role,
                            post_id,
                            super::content::PostAction::Delete,
                            &reason,
                        )?;
                    }
                    FlagOutcome::AuthorSuspended => {
                        let author = forum::find_post(c, post_id)?.ok_or(ModError::NotFound)?.user_id;
                        let until = suspend_until.unwrap_or_default();
                        super::members::set_standing(
                            c,
                            staff.user_id,
                            staff.role,
                            author,
                            super::members::Standing::SuspendUntil(until),
                            &reason,
                        )?;
                    }
                }
                resolve_flags(c, staff.user_id, post_id, outcome, &reason)?;
                Ok(())
            })
        })
        .await?;
    Ok(see_other(&format!("/admin/flags?done={}&post={post_id}", outcome.action())))
}

/// Files a flag; `false` when this member already flagged this post.
pub fn flag_post(
    conn: &mut DbConn,
    post_id: i64,
    user_id: i64,
    reason: crate::forum::domain::FlagReason,
    details: &str,
) -> Result<bool, ModError> {
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let exists = diesel::select(diesel::dsl::exists(posts::table.find(post_id))).get_result::<bool>(conn)?;
        if !exists {
            return Err(ModError::NotFound);
        }
        let flag = (
            flags::post_id.eq(post_id),
            flags::user_id.eq(user_id),
            flags::reason.eq(reason),
            flags::details.eq(details),
            flags::created_at.eq(now),
        );
        let inserted =
            per_backend!(conn, |c| diesel::insert_into(flags::table).values(flag).on_conflict_do_nothing().execute(c))?;
        Ok(inserted == 1)
    })
}

/// A flagged post waiting for a decision, with every open flag on it.
#[derive(Debug)]
pub struct FlaggedPost {
    pub post_id: i64,
    pub topic_id: i64,
    pub topic_slug: String,
    pub topic_title: String,
    pub post_number: i64,
    pub author_id: i64,
    pub author: String,
    pub body_html: String,
    pub hidden: bool,
    pub first_flagged_at: i64,
    pub flags: Vec<(String, String, String, i64)>,
}

type FlagRow = (i64, String, String, i64, String, i64, i64, String, String, i64, String, String, bool);

/// The open flags, grouped by post, oldest first.
pub fn flag_queue(conn: &mut DbConn) -> Result<Vec<FlaggedPost>, DbError> {
    let flagger = diesel::alias!(users as flagger);
    let rows: Vec<FlagRow> = flags::table
        .inner_join(posts::table.inner_join(topics::table).inner_join(users::table))
        .inner_join(flagger.on(flagger.field(users::id).eq(flags::user_id)))
        .filter(flags::resolved_at.is_null())
        .order((flags::created_at, flags::id))
        .select((
            flags::post_id,
            flags::reason,
            flags::details,
            flags::created_at,
            flagger.field(users::username),
            posts::topic_id,
            posts::post_number,
            topics::slug,
            topics::title,
            posts::user_id,
            users::username,
            posts::body_html,
            posts::hidden,
        ))
        .load(conn)?;
    let mut queue: Vec<FlaggedPost> = Vec::new();
    for (post_id, reason, details, at, flagged_by, topic_id, number, slug, title, author_id, author, html, hidden) in
        rows
    {
        let flag = (reason, details, flagged_by, at);
        match queue.iter_mut().find(|p| p.post_id == post_id) {
            Some(post) => post.flags.push(flag),
            None => queue.push(FlaggedPost {
                post_id,
                topic_id,
                topic_slug: slug,
                topic_title: title,
                post_number: number,
                author_id,
                author,
                body_html: html,
                hidden,
                first_flagged_at: at,
                flags: vec![flag],
            }),
        }
    }
    Ok(queue)
}

pub fn open_flag_count(conn: &mut DbConn) -> Result<i64, DbError> {
    Ok(flags::table.filter(flags::resolved_at.is_null()).count().get_result(conn)?)
}

crate::text_enum! {
    /// How staff settled a post's flags: stored on each flag and told to each flagger.
    pub enum FlagOutcome {
        Dismissed => "dismissed, no action taken",
        PostHidden => "the post was hidden",
        PostDeleted => "the post was deleted",
        AuthorSuspended => "the author was suspended",
    }
}

impl FlagOutcome {
    /// The outcome of the decision form's button (`action`): dismiss, hide, delete or
    /// suspend.
    pub fn from_action(action: &str) -> Option<Self> {
        FlagOutcome::ALL.iter().copied().find(|outcome| outcome.action() == action)
    }

    pub fn action(self) -> &'static str {
        match self {
            FlagOutcome::Dismissed => "dismiss",
            FlagOutcome::PostHidden => "hide",
            FlagOutcome::PostDeleted => "delete",
            FlagOutcome::AuthorSuspended => "suspend",
        }
    }

    /// How the queue confirms the decision, after "Flags on “Title” #3".
    fn confirmation(self) -> &'static str {
        match self {
            FlagOutcome::Dismissed => "dismissed",
            FlagOutcome::PostHidden => "resolved: the post is hidden",
            FlagOutcome::PostDeleted => "resolved: the post is deleted",
            FlagOutcome::AuthorSuspended => "resolved: the author is suspended",
        }
    }

    fn audit_action(self) -> AuditAction {
        match self {
            FlagOutcome::Dismissed => AuditAction::DismissFlags,
            FlagOutcome::PostHidden => AuditAction::ResolveFlagsByHiding,
            FlagOutcome::PostDeleted => AuditAction::ResolveFlagsByDeleting,
            FlagOutcome::AuthorSuspended => AuditAction::ResolveFlagsBySuspending,
        }
    }
}

/// Closes every open flag on a post with `outcome`, and tells each flagging member.
pub fn resolve_flags(
    conn: &mut DbConn,
    actor: i64,
    post_id: i64,
    outcome: FlagOutcome,
    reason: &str,
) -> Result<usize, ModError> {
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let flaggers: Vec<i64> = flags::table
            .filter(flags::post_id.eq(post_id))
            .filter(flags::resolved_at.is_null())
            .select(flags::user_id)
            .load(conn)?;
        if flaggers.is_empty() {
            return Err(ModError::NotFound);
        }
        diesel::update(flags::table.filter(flags::post_id.eq(post_id)).filter(flags::resolved_at.is_null()))
            .set((flags::resolved_at.eq(Some(now)), flags::outcome.eq(Some(outcome))))
            .execute(conn)?;
        for &flagger in &flaggers {
            let message = format!("Thank you for your flag. Outcome: {outcome}.");
            notifications::notice(conn, flagger, Kind::Moderation, &message, Some(post_id))?;
        }
        record_audit!(conn, actor, outcome.audit_action(), AuditTarget::Post, post_id, reason, now)?;
        Ok(flaggers.len())
    })
}
