//! The outgoing-mail queue (`mail_queue`): what to send, when, and what became of it.
//! A row names what to send (one notification, or a member's daily digest), never the
//! text, which is written when it is sent. Rows are added in the transaction of what
//! causes them and sent off the request path by the server's background loop
//! (`conversation::mailing`), on any instance: a conditional UPDATE claims a row for a
//! lease, so exactly one instance sends it; a sent row is never claimed again.

use diesel::prelude::*;

use crate::db::schema::mail_queue as queue;
use crate::db::{now, DbConn, DbError};

crate::text_enum! {
    pub enum JobKind {
        Notification => "notification",
        Digest => "digest",
    }
}

crate::text_enum! {
    pub enum JobStatus {
        Pending => "pending",
        Sent => "sent",
        /// Nothing left to say when its time came (read already, address unconfirmed, …).
        Skipped => "skipped",
        /// Given up after [`MAX_ATTEMPTS`].
        Failed => "failed",
    }
}

/// How long a claimed row is the claimer's: long enough for one SMTP conversation.
/// A claimer that died holding it frees it when the lease ends.
pub const LEASE_SECONDS: i64 = 120;
/// Sending is tried this many times, further apart each time ([`retry_in`]).
pub const MAX_ATTEMPTS: i64 = 6;
/// How many rows one pass claims.
const BATCH: i64 = 20;

/// Seconds before the next try after `attempts` failures: 1, 4, 16, 64 minutes, then 4 hours.
pub fn retry_in(attempts: i64) -> i64 {
    60 * 4_i64.pow(attempts.clamp(1, 5) as u32 - 1)
}

/// One notification to mail to its member, not before `send_after`.
pub struct NotificationJob {
    pub user_id: i64,
    pub notification_id: i64,
    pub send_after: i64,
}

/// Queues one mail per notification, in one statement.
pub fn enqueue_notifications(conn: &mut DbConn, jobs: &[NotificationJob]) -> Result<usize, diesel::result::Error> {
    if jobs.is_empty() {
        return Ok(0);
    }
    let now = now();
    let rows: Vec<_> = jobs
        .iter()
        .map(|job| {
            (
                queue::user_id.eq(job.user_id),
                queue::kind.eq(JobKind::Notification),
                queue::notification_id.eq(Some(job.notification_id)),
                queue::created_at.eq(now),
                queue::send_after.eq(job.send_after),
            )
        })
        .collect();
    crate::per_backend!(conn, |c| diesel::insert_into(queue::table).values(&rows).execute(c))
}

/// Queues a digest for each member who has none waiting, due at `send_after`; a member
/// whose digest already waits keeps that one (it will tell this too).
pub fn enqueue_digests(conn: &mut DbConn, user_ids: &[i64], send_after: i64) -> Result<usize, diesel::result::Error> {
    if user_ids.is_empty() {
        return Ok(0);
    }
    let now = now();
    let rows: Vec<_> = user_ids
        .iter()
        .map(|&user_id| {
            (
                queue::user_id.eq(user_id),
                queue::kind.eq(JobKind::Digest),
                queue::pending_digest.eq(Some(user_id)),
                queue::created_at.eq(now),
                queue::send_after.eq(send_after),
            )
        })
        .collect();
    crate::per_backend!(conn, |c| diesel::insert_into(queue::table)
        .values(&rows)
        .on_conflict(queue::pending_digest)
        .do_nothing()
        .execute(c))
}

/// A row this instance claimed and must now send (or settle).
#[derive(Debug, Clone, Queryable)]
pub struct Job {
    pub id: i64,
    pub user_id: i64,
    pub kind: JobKind,
    pub notification_id: Option<i64>,
    pub attempts: i64,
}

/// Claims up to a batch of due rows. Each is taken by an UPDATE that succeeds only if
/// no other instance holds it, so two instances reading the same rows split them.
pub fn claim_due(conn: &mut DbConn) -> Result<Vec<Job>, DbError> {
    let now = now();
    let due = || {
        queue::table
            .filter(queue::status.eq(JobStatus::Pending))
            .filter(queue::send_after.le(now))
            .filter(queue::claimed_until.is_null().or(queue::claimed_until.lt(now)))
    };
    let candidates: Vec<Job> = due()
        .order(queue::send_after)
        .limit(BATCH)
        .select((queue::id, queue::user_id, queue::kind, queue::notification_id, queue::attempts))
        .load(conn)?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for job in candidates {
        let taken = diesel::update(due().filter(queue::id.eq(job.id)))
            .set(queue::claimed_until.eq(now + LEASE_SECONDS))
            .execute(conn)?;
        if taken == 1 {
            claimed.push(job);
        }
    }
    Ok(claimed)
}

/// The row is done: sent, or nothing to send.
pub fn finish(conn: &mut DbConn, id: i64, status: JobStatus, outcome: &str) -> Result<(), DbError> {
    diesel::update(queue::table.find(id))
        .set((
            queue::status.eq(status),
            queue::outcome.eq(outcome),
            queue::finished_at.eq(Some(now())),
            queue::claimed_until.eq(None::<i64>),
            queue::pending_digest.eq(None::<i64>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Not yet (the member is on the forum): try again at `until`, no attempt counted.
pub fn postpone(conn: &mut DbConn, id: i64, until: i64) -> Result<(), DbError> {
    diesel::update(queue::table.find(id))
        .set((queue::send_after.eq(until), queue::claimed_until.eq(None::<i64>)))
        .execute(conn)?;
    Ok(())
}

/// Sending failed: try again later, or give up after [`MAX_ATTEMPTS`].
pub fn failed(conn: &mut DbConn, job: &Job, error: &str) -> Result<JobStatus, DbError> {
    let attempts = job.attempts + 1;
    let error: String = error.chars().take(300).collect();
    if attempts >= MAX_ATTEMPTS {
        diesel::update(queue::table.find(job.id)).set(queue::attempts.eq(attempts)).execute(conn)?;
        finish(conn, job.id, JobStatus::Failed, &error)?;
        return Ok(JobStatus::Failed);
    }
    diesel::update(queue::table.find(job.id))
        .set((
            queue::attempts.eq(attempts),
            queue::send_after.eq(now() + retry_in(attempts)),
            queue::claimed_until.eq(None::<i64>),
            queue::outcome.eq(error),
        ))
        .execute(conn)?;
    Ok(JobStatus::Pending)
}

#[derive(Debug, Queryable)]
pub struct Pending {
    pub id: i64,
    pub user_id: i64,
    pub kind: JobKind,
    pub created_at: i64,
    pub send_after: i64,
    pub attempts: i64,
    pub claimed_until: Option<i64>,
    pub last_error: String,
}

/// What waits to be sent, soonest first (`agora mail queue`).
pub fn pending(conn: &mut DbConn, limit: i64) -> Result<(Vec<Pending>, i64), DbError> {
    let waiting = queue::table.filter(queue::status.eq(JobStatus::Pending));
    let count = waiting.count().get_result(conn)?;
    let rows = waiting
        .order((queue::send_after, queue::id))
        .limit(limit)
        .select((
            queue::id,
            queue::user_id,
            queue::kind,
            queue::created_at,
            queue::send_after,
            queue::attempts,
            queue::claimed_until,
            queue::outcome,
        ))
        .load(conn)?;
    Ok((rows, count))
}

/// Counts of rows by status, for the operator.
pub fn counts(conn: &mut DbConn) -> Result<Vec<(JobStatus, i64)>, DbError> {
    Ok(queue::table.group_by(queue::status).select((queue::status, diesel::dsl::count_star())).load(conn)?)
}

/// Daily maintenance: finished rows older than `before` go (they only say what was sent).
pub fn prune(conn: &mut DbConn, before: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(queue::table.filter(queue::finished_at.lt(before))).execute(conn)?)
}

/// Deletion: nothing more is sent to the member.
pub fn forget(conn: &mut DbConn, user_id: i64) -> Result<(), diesel::result::Error> {
    diesel::delete(queue::table.filter(queue::user_id.eq(user_id))).execute(conn)?;
    Ok(())
}

#[derive(Debug, Queryable)]
pub struct Mailed {
    pub kind: JobKind,
    pub status: JobStatus,
    pub created_at: i64,
    pub send_after: i64,
    pub attempts: i64,
    pub outcome: String,
    pub finished_at: Option<i64>,
}

/// The export: what was and will be mailed to the member, oldest first.
pub fn of_member(conn: &mut DbConn, user_id: i64) -> Result<Vec<Mailed>, DbError> {
    Ok(queue::table
        .filter(queue::user_id.eq(user_id))
        .order(queue::id)
        .select((
            queue::kind,
            queue::status,
            queue::created_at,
            queue::send_after,
            queue::attempts,
            queue::outcome,
            queue::finished_at,
        ))
        .load(conn)?)
}
