//! Consent to the newsletter: the current choice on the member, and the history of
//! choices (when, and where each was made) beside it. Registration, the account page and
//! the unsubscribe link all record it here.

use diesel::prelude::*;

use crate::db::schema::{newsletter_events, users};
use crate::db::{now, DbConn, DbError};
use crate::record_erasure;

/// Records a newsletter choice; `false` when it was already the member's choice.
pub fn set_newsletter(conn: &mut DbConn, user_id: i64, subscribed: bool, source: &str) -> Result<bool, DbError> {
    let now = now();
    let changed = conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        let current: bool = users::table.find(user_id).select(users::newsletter).first(conn)?;
        if current == subscribed {
            return Ok(false);
        }
        diesel::update(users::table.find(user_id)).set(users::newsletter.eq(subscribed)).execute(conn)?;
        if !subscribed {
            // A restored backup must not subscribe them again.
            record_erasure!(conn, user_id, "newsletter", "changed by member", now)?;
        }
        diesel::insert_into(newsletter_events::table)
            .values((
                newsletter_events::user_id.eq(user_id),
                newsletter_events::subscribed.eq(subscribed),
                newsletter_events::source.eq(source),
                newsletter_events::created_at.eq(now),
            ))
            .execute(conn)?;
        Ok(true)
    })?;
    Ok(changed)
}

#[derive(Debug, Queryable)]
pub struct NewsletterEvent {
    pub subscribed: bool,
    pub source: String,
    pub created_at: i64,
}

pub fn newsletter_events(conn: &mut DbConn, user_id: i64) -> Result<Vec<NewsletterEvent>, DbError> {
    Ok(newsletter_events::table
        .filter(newsletter_events::user_id.eq(user_id))
        .order(newsletter_events::id)
        .select((newsletter_events::subscribed, newsletter_events::source, newsletter_events::created_at))
        .load(conn)?)
}
