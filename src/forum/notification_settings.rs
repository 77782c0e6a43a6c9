//! A member's choices about being told (no HTTP here): whether starting or replying to
//! a topic watches it, and, per kind of notification, whether it is also e-mailed.
//! Without a row a member has the defaults; a row appears at their first change. The
//! defaults mail nothing but moderators' decisions about the member's own posts unless
//! they opted in when joining (`users.notification_mail`): no informational e-mail
//! without opting in first.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::schema::notification_settings as settings;
use crate::db::{DbConn, DbError};
use crate::forum::notifications::Kind;

crate::text_enum! {
    /// Whether a kind of notification is also e-mailed, and when.
    pub enum MailChoice {
        Off => "off",
        /// Each as it happens, once the member has not visited for an hour (a member on
        /// the forum sees the count in the header instead).
        Away => "away",
        Each => "each",
        /// Once a day, together.
        Digest => "digest",
    }
}

impl MailChoice {
    /// As the account page's list offers it (short enough for a phone).
    pub fn label(self) -> &'static str {
        match self {
            MailChoice::Off => "Not by e-mail",
            MailChoice::Away => "Each, once I'm away an hour",
            MailChoice::Each => "Each, right away",
            MailChoice::Digest => "In a daily digest",
        }
    }

    /// As a mail says it ("… about replies (each one, …)").
    pub fn in_words(self) -> &'static str {
        match self {
            MailChoice::Off => "none",
            MailChoice::Away => "each one, once you have been away for an hour",
            MailChoice::Each => "each one as it happens",
            MailChoice::Digest => "in a daily digest",
        }
    }
}

/// The kinds a member chooses mail for, in the order the account page lists them.
/// Answered privacy requests are not among them: that mail is transactional.
pub const MAILED_KINDS: &[Kind] = &[Kind::Reply, Kind::Topic, Kind::Mention, Kind::Quote, Kind::Like, Kind::Moderation];

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = settings)]
pub struct Settings {
    #[diesel(skip_insertion)]
    pub user_id: i64,
    /// Starting or replying to a topic watches it.
    pub watch_own: bool,
    pub mail_reply: MailChoice,
    pub mail_topic: MailChoice,
    pub mail_mention: MailChoice,
    pub mail_quote: MailChoice,
    pub mail_like: MailChoice,
    pub mail_moderation: MailChoice,
    /// The newest notification a digest has told; the next digest starts after it.
    pub digest_through: i64,
}

impl Settings {
    /// What a member who never changed anything has; `opted_in`: they ticked
    /// notification e-mail when joining.
    pub fn defaults(user_id: i64, opted_in: bool) -> Settings {
        let told = if opted_in { MailChoice::Away } else { MailChoice::Off };
        Settings {
            user_id,
            watch_own: true,
            mail_reply: told,
            mail_topic: told,
            mail_mention: told,
            mail_quote: told,
            mail_like: MailChoice::Off,
            mail_moderation: MailChoice::Each,
            digest_through: 0,
        }
    }

    pub fn mail_for(&self, kind: Kind) -> MailChoice {
        match kind {
            Kind::Reply => self.mail_reply,
            Kind::Topic => self.mail_topic,
            Kind::Mention => self.mail_mention,
            Kind::Quote => self.mail_quote,
            Kind::Like => self.mail_like,
            Kind::Moderation => self.mail_moderation,
            Kind::Privacy => MailChoice::Off,
        }
    }

    pub fn set_mail(&mut self, kind: Kind, choice: MailChoice) {
        let slot = match kind {
            Kind::Reply => &mut self.mail_reply,
            Kind::Topic => &mut self.mail_topic,
            Kind::Mention => &mut self.mail_mention,
            Kind::Quote => &mut self.mail_quote,
            Kind::Like => &mut self.mail_like,
            Kind::Moderation => &mut self.mail_moderation,
            Kind::Privacy => return,
        };
        *slot = choice;
    }

    /// The kinds this member gets in a daily digest.
    pub fn digest_kinds(&self) -> Vec<Kind> {
        MAILED_KINDS.iter().copied().filter(|&kind| self.mail_for(kind) == MailChoice::Digest).collect()
    }
}

pub fn of_member(conn: &mut DbConn, user_id: i64) -> Result<Settings, diesel::result::Error> {
    Ok(of_members(conn, &[user_id])?.remove(&user_id).unwrap_or_else(|| Settings::defaults(user_id, false)))
}

/// The settings of several members at once (a post's recipients), defaults filled in.
pub fn of_members(conn: &mut DbConn, user_ids: &[i64]) -> Result<HashMap<i64, Settings>, diesel::result::Error> {
    let mut found: HashMap<i64, Settings> = settings::table
        .filter(settings::user_id.eq_any(user_ids))
        .select(Settings::as_select())
        .load(conn)?
        .into_iter()
        .map(|s| (s.user_id, s))
        .collect();
    let unsaved: Vec<i64> = user_ids.iter().copied().filter(|id| !found.contains_key(id)).collect();
    if !unsaved.is_empty() {
        let opted_in: Vec<(i64, bool)> = crate::db::schema::users::table
            .filter(crate::db::schema::users::id.eq_any(&unsaved))
            .select((crate::db::schema::users::id, crate::db::schema::users::notification_mail))
            .load(conn)?;
        for (id, opted_in) in opted_in {
            found.insert(id, Settings::defaults(id, opted_in));
        }
    }
    for &id in user_ids {
        found.entry(id).or_insert_with(|| Settings::defaults(id, false));
    }
    Ok(found)
}

/// Stores the member's choices (the digest's progress stays as it was). A kind of mail
/// turned off is recorded in the deletion ledger, so a restored backup does not mail it
/// again.
/// True when a kind was turned off (the caller brings the ledger's copy in line).
pub fn save(conn: &mut DbConn, choices: &Settings) -> Result<bool, DbError> {
    let now = crate::db::now();
    Ok(conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        let before = of_member(conn, choices.user_id)?;
        let mut turned_off = false;
        for &kind in MAILED_KINDS {
            if before.mail_for(kind) != MailChoice::Off && choices.mail_for(kind) == MailChoice::Off {
                crate::record_erasure!(conn, choices.user_id, ledger_name(kind), "changed by member", now)?;
                turned_off = true;
            }
        }
        replace(conn, choices, before.digest_through)?;
        Ok(turned_off)
    })?)
}

fn replace(conn: &mut DbConn, choices: &Settings, digest_through: i64) -> Result<(), diesel::result::Error> {
    let mut row = choices.clone();
    row.digest_through = digest_through;
    diesel::delete(settings::table.find(choices.user_id)).execute(conn)?;
    diesel::insert_into(settings::table).values((settings::user_id.eq(choices.user_id), &row)).execute(conn)?;
    Ok(())
}

/// The ledger's name for "stopped mail of `kind`".
pub fn ledger_name(kind: Kind) -> String {
    format!("{MAIL_OFF}{}", kind.as_str())
}

/// The prefix of those names.
pub const MAIL_OFF: &str = "mail_off:";

/// A restore replays a "mail off" entry: that kind is off again, whatever the backup had.
pub fn replay_mail_off(conn: &mut DbConn, user_id: i64, kind: Kind) -> Result<(), diesel::result::Error> {
    let mut current = of_member(conn, user_id)?;
    current.set_mail(kind, MailChoice::Off);
    let digest_through = current.digest_through;
    replace(conn, &current, digest_through)
}

/// A digest told everything up to `notification_id`.
pub fn digest_sent_through(conn: &mut DbConn, user_id: i64, notification_id: i64) -> Result<(), DbError> {
    diesel::update(settings::table.find(user_id).filter(settings::digest_through.lt(notification_id)))
        .set(settings::digest_through.eq(notification_id))
        .execute(conn)?;
    Ok(())
}

/// Deletion.
pub fn forget(conn: &mut DbConn, user_id: i64) -> Result<(), diesel::result::Error> {
    diesel::delete(settings::table.find(user_id)).execute(conn)?;
    Ok(())
}
