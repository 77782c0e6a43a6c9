//! Notification mail: the background loop that sends what `mail::queue` holds, the
//! words of each mail, and the one-click unsubscribe per kind. A mail is written when
//! it is sent, from what is true then: a notification read meanwhile, a post hidden, an
//! address not confirmed, a suspended member or a changed choice sends nothing.
//! These are mails the member asked for about their own conversations, not promotion:
//! each says why it came and carries an RFC 8058 one-click unsubscribe for its kind.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use crate::auth::visitor::Visitor;
use crate::config::Config;
use crate::db::schema::{posts, sessions, topics, users};
use crate::db::{now, Database, DbConn, DbError};
use crate::forum::notification_settings::{self, MailChoice};
use crate::forum::notifications::{self, Kind, Listed};
use crate::mail::queue::{self, Job, JobKind, JobStatus};
use crate::mail::{Mail, Mailer};
use crate::privacy::mails::text;
use crate::web::errors::AppError;
use crate::web::signing::Signer;
use crate::web::{filters, render};
use crate::AppState;

/// "When I have been away": a member seen on the forum this recently is told by the
/// header's count; the mail waits until they have been away this long.
pub const AWAY_SECONDS: i64 = 3600;
/// The most notifications one digest lists.
const DIGEST_LISTS: i64 = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/notifications/unsubscribe", web::get().to(unsubscribe_page))
        .route("/notifications/unsubscribe", web::post().to(unsubscribe));
}

/// Sends queued mail. Every instance may run one; the queue's claims keep each mail to
/// one sender.
pub struct Outbox {
    db: Database,
    mailer: Mailer,
    signer: Signer,
    public_url: String,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub skipped: usize,
    pub postponed: usize,
    pub failed: usize,
}

/// What to do with one claimed row.
enum Prepared {
    Send { mail: Mail, digest_through: Option<i64> },
    Skip(&'static str),
    Postpone(i64),
}

impl Outbox {
    pub fn new(db: Database, config: &Config) -> anyhow::Result<Outbox> {
        let mailer = Mailer::new(&config.mail, &config.mail_from)?;
        let signer = Signer::new(crate::db::settings::signing_key(&mut *db.get()?)?);
        Ok(Outbox { db, mailer, signer, public_url: config.public_url.clone() })
    }

    /// Sends every mail that is due, batch by batch, until none is left.
    pub async fn deliver_due(&self) -> Result<Delivery, DbError> {
        let mut delivery = Delivery::default();
        loop {
            let jobs = self.db.run(queue::claim_due).await?;
            if jobs.is_empty() {
                return Ok(delivery);
            }
            for job in jobs {
                self.deliver(job, &mut delivery).await?;
            }
        }
    }

    #[tracing::instrument(name = "deliver queued mail", skip_all, fields(job = job.id, kind = %job.kind))]
    async fn deliver(&self, job: Job, delivery: &mut Delivery) -> Result<(), DbError> {
        let (signer, public_url, prepared_job) = (self.signer.clone(), self.public_url.clone(), job.clone());
        let prepared = self.db.run(move |c| prepare(c, &prepared_job, &signer, &public_url)).await?;
        let id = job.id;
        match prepared {
            Prepared::Skip(reason) => {
                delivery.skipped += 1;
                self.db.run(move |c| queue::finish(c, id, JobStatus::Skipped, reason)).await
            }
            Prepared::Postpone(until) => {
                delivery.postponed += 1;
                self.db.run(move |c| queue::postpone(c, id, until)).await
            }
            Prepared::Send { mail, digest_through } => match self.mailer.send(mail).await {
                Ok(()) => {
                    delivery.sent += 1;
                    let user_id = job.user_id;
                    self.db
                        .run(move |c| {
                            c.write_transaction::<_, DbError, _>(|c| {
                                if let Some(through) = digest_through {
                                    notification_settings::digest_sent_through(c, user_id, through)?;
                                }
                                queue::finish(c, id, JobStatus::Sent, "")
                            })
                        })
                        .await
                }
                Err(error) => {
                    let error = format!("{error:#}");
                    let status = self.db.run(move |c| queue::failed(c, &job, &error)).await?;
                    if status == JobStatus::Failed {
                        tracing::error!(job = id, "queued mail given up after {} attempts", queue::MAX_ATTEMPTS);
                    } else {
                        tracing::warn!(job = id, "queued mail not sent; it will be tried again");
                    }
                    delivery.failed += 1;
                    Ok(())
                }
            },
        }
    }

    /// The server's loop: a pass every `every`. A pass that fails is logged and the next
    /// one tries again.
    pub fn spawn(self, every: Duration) {
        actix_web::rt::spawn(async move {
            let mut ticks = actix_web::rt::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(error) = self.deliver_due().await {
                    tracing::error!(error = %format!("{error:#}"), "sending queued mail failed");
                }
            }
        });
    }
}

/// Who a mail goes to, as sending needs them.
#[derive(Queryable)]
struct Recipient {
    username: String,
    email: Option<String>,
    email_verified: bool,
    banned: bool,
    suspended_until: Option<i64>,
}

/// The post a notification is about, if others may still read it.
#[derive(Queryable)]
struct MailedPost {
    markdown: String,
    topic_id: i64,
    slug: String,
    number: i64,
}

fn prepare(conn: &mut DbConn, job: &Job, signer: &Signer, public_url: &str) -> Result<Prepared, DbError> {
    let recipient: Option<Recipient> = users::table
        .find(job.user_id)
        .select((users::username, users::email, users::email_verified, users::banned, users::suspended_until))
        .first(conn)
        .optional()?;
    let Some(recipient) = recipient else { return Ok(Prepared::Skip("no such member")) };
    let Some(address) = recipient.email.clone().filter(|_| recipient.email_verified) else {
        return Ok(Prepared::Skip("address not confirmed"));
    };
    if recipient.banned || recipient.suspended_until.is_some_and(|until| until > now()) {
        return Ok(Prepared::Skip("member suspended or banned"));
    }
    let settings = notification_settings::of_member(conn, job.user_id)?;
    let to = MailTo { public_url, signer, user_id: job.user_id, username: &recipient.username, address: &address };
    match job.kind {
        JobKind::Notification => {
            let Some(id) = job.notification_id else { return Ok(Prepared::Skip("no notification")) };
            let Some(listed) = notifications::find(conn, job.user_id, id)? else {
                return Ok(Prepared::Skip("notification gone"));
            };
            if listed.read_at.is_some() {
                return Ok(Prepared::Skip("read on the forum"));
            }
            let choice = settings.mail_for(listed.kind);
            match choice {
                MailChoice::Off | MailChoice::Digest => return Ok(Prepared::Skip("member chose otherwise")),
                MailChoice::Away => {
                    let seen: Option<i64> = sessions::table
                        .filter(sessions::user_id.eq(job.user_id))
                        .select(diesel::dsl::max(sessions::last_seen_at))
                        .first(conn)?;
                    if let Some(seen) = seen.filter(|&seen| seen > now() - AWAY_SECONDS) {
                        return Ok(Prepared::Postpone(seen + AWAY_SECONDS));
                    }
                }
                MailChoice::Each => {}
            }
            // A moderator's decision links the post even when it took it away.
            let public_only = !matches!(listed.kind, Kind::Moderation | Kind::Privacy);
            let post = match listed.post_id {
                Some(post_id) => match mailed_post(conn, post_id, public_only)? {
                    Some(post) => Some(post),
                    None => return Ok(Prepared::Skip("post no longer public")),
                },
                None => None,
            };
            Ok(Prepared::Send { mail: one_mail(&to, &listed, post.as_ref(), choice), digest_through: None })
        }
        JobKind::Digest => {
            let kinds = settings.digest_kinds();
            if kinds.is_empty() {
                return Ok(Prepared::Skip("digest turned off"));
            }
            let listed = notifications::unread_after(conn, job.user_id, settings.digest_through, &kinds, DIGEST_LISTS)?;
            let Some(last) = listed.last().map(|l| l.id) else { return Ok(Prepared::Skip("nothing unread")) };
            let mut lines = Vec::with_capacity(listed.len());
            for entry in &listed {
                let link = match entry.post_id {
                    Some(post_id) => match mailed_post(conn, post_id, entry.kind != Kind::Moderation)? {
                        Some(post) => post_link(public_url, &post),
                        None => continue,
                    },
                    None => format!("{public_url}/notifications"),
                };
                lines.push(DigestLine { headline: headline(entry), link });
            }
            if lines.is_empty() {
                return Ok(Prepared::Skip("nothing public left"));
            }
            Ok(Prepared::Send { mail: digest_mail(&to, &listed, &lines, &kinds), digest_through: Some(last) })
        }
    }
}

/// The post a mail is about; with `public_only`, only if others may read it.
fn mailed_post(conn: &mut DbConn, post_id: i64, public_only: bool) -> Result<Option<MailedPost>, DbError> {
    let mut query = posts::table
        .inner_join(topics::table)
        .filter(posts::id.eq(post_id))
        .select((posts::body_markdown, topics::id, topics::slug, posts::post_number))
        .into_boxed();
    if public_only {
        query = query.filter(crate::forum::queries::readable_post()).filter(topics::held.eq(false));
    }
    Ok(query.first(conn).optional()?)
}

fn post_link(public_url: &str, post: &MailedPost) -> String {
    format!("{public_url}{}", crate::forum::routes::post_url(post.topic_id, &post.slug, post.number))
}

/// The mail's recipient and what signs their links.
struct MailTo<'a> {
    public_url: &'a str,
    signer: &'a Signer,
    user_id: i64,
    username: &'a str,
    address: &'a str,
}

/// "alice replied in “Topic”", or a moderator's words.
fn headline(listed: &Listed) -> String {
    match (&listed.actor, listed.kind) {
        (_, Kind::Moderation | Kind::Privacy) => format!("From the moderators: {}", listed.what()),
        (Some(actor), _) => format!("{actor} {}", listed.what()),
        (None, _) => listed.what(),
    }
}

/// What a kind is called in "you asked to be e-mailed about …".
fn kind_words(kind: Kind) -> &'static str {
    match kind {
        Kind::Reply => "replies in topics you started or watch",
        Kind::Topic => "new topics in categories you watch",
        Kind::Mention => "mentions of you",
        Kind::Quote => "quotes of your posts",
        Kind::Like => "likes of your posts",
        Kind::Moderation => "moderators' decisions about your posts and flags",
        Kind::Privacy => "your privacy requests",
    }
}

#[derive(Template)]
#[template(path = "mail/notification.txt", escape = "none")]
struct NotificationMail<'a> {
    public_url: &'a str,
    username: &'a str,
    headline: &'a str,
    excerpt: &'a str,
    link: &'a str,
    why: &'a str,
    choice: &'a str,
    unsubscribe_url: &'a str,
}

fn one_mail(to: &MailTo<'_>, listed: &Listed, post: Option<&MailedPost>, choice: MailChoice) -> Mail {
    let headline = headline(listed);
    // A moderator's notice quotes nothing: the post may be what was taken away.
    let excerpt = match listed.kind {
        Kind::Moderation | Kind::Privacy => String::new(),
        _ => post.map(|p| crate::text::markdown::excerpt(&p.markdown, 400)).unwrap_or_default(),
    };
    let link = post.map_or_else(|| format!("{}/notifications", to.public_url), |p| post_link(to.public_url, p));
    let unsubscribe_url = unsubscribe_url(to.public_url, to.signer, to.user_id, Some(listed.kind));
    let body = text(&NotificationMail {
        public_url: to.public_url,
        username: to.username,
        headline: &headline,
        excerpt: &excerpt,
        link: &link,
        why: kind_words(listed.kind),
        choice: choice.in_words(),
        unsubscribe_url: &unsubscribe_url,
    });
    Mail {
        to: to.address.to_string(),
        subject: headline.chars().take(150).collect(),
        body,
        unsubscribe_url: Some(unsubscribe_url),
        names: listed.actor.iter().cloned().collect(),
        member_ids: std::iter::once(to.user_id).chain(listed.actor_id).collect(),
    }
}

struct DigestLine {
    headline: String,
    link: String,
}

#[derive(Template)]
#[template(path = "mail/digest.txt", escape = "none")]
struct DigestMail<'a> {
    public_url: &'a str,
    username: &'a str,
    lines: &'a [DigestLine],
    why: &'a str,
    unsubscribe_url: &'a str,
}

fn digest_mail(to: &MailTo<'_>, listed: &[Listed], lines: &[DigestLine], kinds: &[Kind]) -> Mail {
    let why = kinds.iter().map(|&k| kind_words(k)).collect::<Vec<_>>().join(", ");
    let unsubscribe_url = unsubscribe_url(to.public_url, to.signer, to.user_id, None);
    let body = text(&DigestMail {
        public_url: to.public_url,
        username: to.username,
        lines,
        why: &why,
        unsubscribe_url: &unsubscribe_url,
    });
    let mut names: Vec<String> = listed.iter().filter_map(|l| l.actor.clone()).collect();
    names.sort();
    names.dedup();
    let mut member_ids: Vec<i64> = listed.iter().filter_map(|l| l.actor_id).collect();
    member_ids.sort_unstable();
    member_ids.dedup();
    member_ids.insert(0, to.user_id);
    let count = lines.len();
    Mail {
        to: to.address.to_string(),
        subject: format!(
            "Your daily digest: {count} new {}",
            if count == 1 { "notification" } else { "notifications" }
        ),
        body,
        unsubscribe_url: Some(unsubscribe_url),
        names,
        member_ids,
    }
}

/// What an unsubscribe link stops: one kind, or (from a digest) the digest.
fn what_stops(kind: Option<Kind>) -> &'static str {
    kind.map_or("digest", Kind::as_str)
}

fn signed_message(user_id: i64, kind: Option<Kind>) -> String {
    format!("notification-unsubscribe:{user_id}:{}", what_stops(kind))
}

/// A link that turns one kind's mail off (or the digest, with `None`) without signing in.
pub fn unsubscribe_url(public_url: &str, signer: &Signer, user_id: i64, kind: Option<Kind>) -> String {
    format!(
        "{public_url}/notifications/unsubscribe?member={user_id}&kind={}&signature={}",
        what_stops(kind),
        signer.sign(&signed_message(user_id, kind))
    )
}

#[derive(Deserialize)]
pub struct UnsubscribeQuery {
    member: Option<i64>,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    signature: String,
}

/// The member and the kind (`None`: the digest) a valid link names.
fn checked(signer: &Signer, query: &UnsubscribeQuery) -> Result<(i64, Option<Kind>), AppError> {
    let invalid = || {
        AppError::BadRequest(
            "This unsubscribe link is not valid. Choose what you are e-mailed about on your account page.".into(),
        )
    };
    let kind = match query.kind.as_str() {
        "digest" => None,
        raw => Some(Kind::parse(raw).ok_or_else(invalid)?),
    };
    match query.member {
        Some(id) if signer.verify(&signed_message(id, kind), &query.signature) => Ok((id, kind)),
        _ => Err(invalid()),
    }
}

#[derive(Template)]
#[template(path = "conversation/unsubscribe.html")]
struct UnsubscribePage {
    visitor: Visitor,
    what: &'static str,
    action: String,
    done: bool,
}

async fn unsubscribe_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<UnsubscribeQuery>,
) -> Result<HttpResponse, AppError> {
    let (user_id, kind) = checked(&state.signer, &query)?;
    let action =
        format!("/notifications/unsubscribe?member={user_id}&kind={}&signature={}", what_stops(kind), query.signature);
    render(&UnsubscribePage { visitor, what: kind.map_or("your daily digest", kind_words), action, done: false })
}

/// The link's signature authorises this POST, so it needs no CSRF token: mail
/// programs send `List-Unsubscribe=One-Click` here without any cookie (RFC 8058).
async fn unsubscribe(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<UnsubscribeQuery>,
) -> Result<HttpResponse, AppError> {
    let (user_id, kind) = checked(&state.signer, &query)?;
    let turned_off = state
        .db
        .run(move |c| -> Result<_, DbError> {
            let mut settings = notification_settings::of_member(c, user_id)?;
            match kind {
                Some(kind) => settings.set_mail(kind, MailChoice::Off),
                None => {
                    for kind in settings.digest_kinds() {
                        settings.set_mail(kind, MailChoice::Off);
                    }
                }
            }
            // A deleted member's link finds no account: nothing to change.
            if users::table.find(user_id).count().get_result::<i64>(c)? == 1 {
                return notification_settings::save(c, &settings);
            }
            Ok(false)
        })
        .await?;
    if turned_off {
        crate::privacy::erasure::settle_async(&state, None).await;
    }
    render(&UnsubscribePage {
        visitor,
        what: kind.map_or("your daily digest", kind_words),
        action: String::new(),
        done: true,
    })
}

/// Starts the sending loop when this instance sends mail (`AGORA_MAIL_QUEUE_SECONDS`).
pub fn spawn_if_enabled(db: &Database, config: &Config) -> anyhow::Result<()> {
    if config.mail_queue_seconds > 0 {
        Outbox::new(db.clone(), config)?.spawn(Duration::from_secs(config.mail_queue_seconds));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsubscribe_links_are_signed_per_member_and_kind() {
        let signer = Signer::new(b"key".to_vec());
        let url = unsubscribe_url("http://f", &signer, 7, Some(Kind::Reply));
        let query = |url: &str| -> UnsubscribeQuery {
            let query = url.split_once('?').unwrap().1;
            serde_urlencoded::from_str(query).unwrap()
        };
        assert_eq!(checked(&signer, &query(&url)).ok(), Some((7, Some(Kind::Reply))));
        let other_kind = url.replace("kind=reply", "kind=mention");
        assert!(checked(&signer, &query(&other_kind)).is_err());
        let other_member = url.replace("member=7", "member=8");
        assert!(checked(&signer, &query(&other_member)).is_err());
        let digest = unsubscribe_url("http://f", &signer, 7, None);
        assert_eq!(checked(&signer, &query(&digest)).ok(), Some((7, None)));
    }
}
