//! Rate limits: how often one IP address, e-mail address or member may do a thing.
//!
//! Counters live in the database (`rate_limits`), one row per limit and key with a fixed
//! window, so a limit holds across every instance behind a load balancer. The key is
//! stored only as an HMAC with the forum's secret: the table never holds an IP or an
//! address in clear, and rows are purged a day after their window started.

use std::collections::HashMap;

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};

use crate::db::{now, DbConn, DbError};
use crate::web::signing::Signer;

/// Everything that is limited. The name is how `AGORA_RATE_LIMITS` refers to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Sign-in attempts from one IP address.
    LoginPerIp,
    /// Wrong passwords for one username or e-mail address (as typed) from one IP address.
    LoginPerAccount,
    /// Wrong passwords for one username or e-mail address (as typed) from anywhere; past
    /// it, sign-ins for that name are slowed down, not refused.
    LoginSlowdownPerAccount,
    /// New accounts from one IP address.
    RegisterPerIp,
    /// Password-reset and confirmation mails to one address.
    MailPerAddress,
    /// Password-reset and confirmation mails asked for from one IP address.
    MailPerIp,
    /// Privacy requests about one address.
    PrivacyRequestPerAddress,
    /// Privacy requests from one IP address.
    PrivacyRequestPerIp,
    /// Topics and replies by one member.
    PostPerMember,
    /// Topics and replies by a member in their first day.
    PostPerNewMember,
    /// Topics started by a member in their first day.
    TopicPerNewMember,
    /// Likes and unlikes by one member.
    LikePerMember,
    /// Flags filed by one member.
    FlagPerMember,
    /// Sign-in-with-GitHub starts from one IP address.
    GithubStartPerIp,
    /// E-mail address changes asked for by one member.
    EmailChangePerMember,
    /// Searches from one IP address (each one reads an index; a flood must not starve pages).
    SearchPerIp,
    /// "Mark all as read" by one member (each one rewrites their positions in a category).
    MarkReadPerMember,
    /// Watch/normal/mute choices by one member.
    WatchPerMember,
    /// Blocks and unblocks by one member.
    BlockPerMember,
    /// Previews of a post by one member.
    PreviewPerMember,
    /// Codes tried at the second step of signing in (or to turn it on), per account.
    SecondStepPerAccount,
    /// Saves of the forum's settings by one admin.
    SiteSettingsPerAdmin,
    /// Saves of one member's notification-mail choices and profile visibility (each
    /// one that turns something off writes the deletion ledger and its copy).
    ChoicePerMember,
}

impl Limit {
    pub const ALL: [Limit; 23] = [
        Limit::LoginPerIp,
        Limit::LoginPerAccount,
        Limit::LoginSlowdownPerAccount,
        Limit::RegisterPerIp,
        Limit::MailPerAddress,
        Limit::MailPerIp,
        Limit::PrivacyRequestPerAddress,
        Limit::PrivacyRequestPerIp,
        Limit::PostPerMember,
        Limit::PostPerNewMember,
        Limit::TopicPerNewMember,
        Limit::LikePerMember,
        Limit::FlagPerMember,
        Limit::GithubStartPerIp,
        Limit::EmailChangePerMember,
        Limit::SearchPerIp,
        Limit::MarkReadPerMember,
        Limit::WatchPerMember,
        Limit::BlockPerMember,
        Limit::PreviewPerMember,
        Limit::SecondStepPerAccount,
        Limit::SiteSettingsPerAdmin,
        Limit::ChoicePerMember,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Limit::LoginPerIp => "login_per_ip",
            Limit::LoginPerAccount => "login_per_account",
            Limit::LoginSlowdownPerAccount => "login_slowdown_per_account",
            Limit::RegisterPerIp => "register_per_ip",
            Limit::MailPerAddress => "mail_per_address",
            Limit::MailPerIp => "mail_per_ip",
            Limit::PrivacyRequestPerAddress => "privacy_request_per_address",
            Limit::PrivacyRequestPerIp => "privacy_request_per_ip",
            Limit::PostPerMember => "post_per_member",
            Limit::PostPerNewMember => "post_per_new_member",
            Limit::TopicPerNewMember => "topic_per_new_member",
            Limit::LikePerMember => "like_per_member",
            Limit::FlagPerMember => "flag_per_member",
            Limit::GithubStartPerIp => "github_start_per_ip",
            Limit::EmailChangePerMember => "email_change_per_member",
            Limit::SearchPerIp => "search_per_ip",
            Limit::MarkReadPerMember => "mark_read_per_member",
            Limit::WatchPerMember => "watch_per_member",
            Limit::BlockPerMember => "block_per_member",
            Limit::PreviewPerMember => "preview_per_member",
            Limit::SecondStepPerAccount => "second_step_per_account",
            Limit::SiteSettingsPerAdmin => "site_settings_per_admin",
            Limit::ChoicePerMember => "choice_per_member",
        }
    }

    /// The default: at most `hits` in `seconds`.
    fn default_rate(self) -> Rate {
        let (hits, seconds) = match self {
            Limit::LoginPerIp => (30, 600),
            Limit::LoginPerAccount => (10, 600),
            Limit::LoginSlowdownPerAccount => (50, 600),
            Limit::RegisterPerIp => (5, 3600),
            Limit::MailPerAddress => (3, 3600),
            Limit::MailPerIp => (10, 3600),
            Limit::PrivacyRequestPerAddress => (3, 86400),
            Limit::PrivacyRequestPerIp => (10, 86400),
            Limit::PostPerMember => (30, 600),
            Limit::PostPerNewMember => (10, 600),
            Limit::TopicPerNewMember => (3, 3600),
            Limit::LikePerMember => (60, 600),
            Limit::FlagPerMember => (20, 3600),
            Limit::GithubStartPerIp => (30, 600),
            Limit::EmailChangePerMember => (5, 3600),
            Limit::SearchPerIp => (60, 60),
            Limit::MarkReadPerMember => (30, 600),
            Limit::WatchPerMember => (60, 600),
            Limit::BlockPerMember => (30, 600),
            Limit::PreviewPerMember => (60, 600),
            Limit::SecondStepPerAccount => (5, 600),
            Limit::SiteSettingsPerAdmin => (30, 600),
            Limit::ChoicePerMember => (30, 600),
        };
        Rate { hits, seconds }
    }
}

/// At most `hits` in any window of `seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub hits: i64,
    pub seconds: i64,
}

/// The longest window any limit may have: rows older than this are purged.
pub const MAX_WINDOW_SECONDS: i64 = 86400;

/// The limits in force (`AGORA_RATE_LIMITS`): the defaults, some changed, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    rates: HashMap<Limit, Rate>,
    enabled: bool,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits { rates: Limit::ALL.iter().map(|l| (*l, l.default_rate())).collect(), enabled: true }
    }
}

impl RateLimits {
    /// `off`, or comma-separated `name=HITS/SECONDS` overrides of the defaults,
    /// e.g. `login_per_ip=60/600,post_per_member=20/300`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut limits = RateLimits::default();
        if raw.trim() == "off" {
            limits.enabled = false;
            return Ok(limits);
        }
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, rate) = item.split_once('=').ok_or_else(|| format!("{item:?} is not name=HITS/SECONDS"))?;
            let limit = Limit::ALL
                .into_iter()
                .find(|l| l.name() == name.trim())
                .ok_or_else(|| format!("{name:?} is not a limit; the limits are listed in the README"))?;
            let (hits, seconds) = rate.split_once('/').ok_or_else(|| format!("{rate:?} is not HITS/SECONDS"))?;
            let hits: i64 = hits.trim().parse().map_err(|_| format!("{hits:?} is not a whole number"))?;
            let seconds: i64 = seconds.trim().parse().map_err(|_| format!("{seconds:?} is not a whole number"))?;
            if hits < 1 || !(1..=MAX_WINDOW_SECONDS).contains(&seconds) {
                return Err(format!("{item:?}: at least 1 hit, and 1 to {MAX_WINDOW_SECONDS} seconds"));
            }
            limits.rates.insert(limit, Rate { hits, seconds });
        }
        Ok(limits)
    }

    /// Every limit multiplied by `factor` (the test suite's many members share one IP).
    pub fn scaled(mut self, factor: i64) -> Self {
        for rate in self.rates.values_mut() {
            rate.hits = rate.hits.saturating_mul(factor);
        }
        self
    }

    pub fn rate(&self, limit: Limit) -> Option<Rate> {
        self.enabled.then(|| self.rates.get(&limit).copied().unwrap_or_else(|| limit.default_rate()))
    }
}

/// A refusal: how long until the limit lets the next one through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooMany {
    pub retry_after_seconds: i64,
}

impl TooMany {
    /// "in 4 minutes", for the page that explains the refusal.
    pub fn wait_in_words(&self) -> String {
        let s = self.retry_after_seconds.max(1);
        match s {
            1..=59 => format!("in {s} second{}", if s == 1 { "" } else { "s" }),
            60..=3599 => {
                let m = (s + 59) / 60;
                format!("in {m} minute{}", if m == 1 { "" } else { "s" })
            }
            _ => {
                let h = (s + 3599) / 3600;
                format!("in {h} hour{}", if h == 1 { "" } else { "s" })
            }
        }
    }
}

#[derive(QueryableByName)]
struct Counter {
    #[diesel(sql_type = BigInt)]
    hits: i64,
    #[diesel(sql_type = BigInt)]
    window_start: i64,
}

/// Counts one more `limit` event for `key` and says whether it is within the limit.
/// One statement, atomic on both backends: a new window starts when the old one ends.
pub fn hit(
    conn: &mut DbConn,
    signer: &Signer,
    limits: &RateLimits,
    limit: Limit,
    key: &str,
) -> Result<Result<(), TooMany>, DbError> {
    let Some(rate) = limits.rate(limit) else { return Ok(Ok(())) };
    let bucket = bucket(signer, limit, key);
    let now = now();
    let sql = "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
               ON CONFLICT (bucket) DO UPDATE SET \
                 hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END, \
                 window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END \
               RETURNING hits, window_start";
    let counter: Counter = diesel::sql_query(sql)
        .bind::<Text, _>(&bucket)
        .bind::<BigInt, _>(now)
        .bind::<BigInt, _>(now - rate.seconds)
        .get_result(conn)?;
    if counter.hits <= rate.hits {
        Ok(Ok(()))
    } else {
        Ok(Err(TooMany { retry_after_seconds: (counter.window_start + rate.seconds - now).max(1) }))
    }
}

/// Whether `limit` for `key` is already used up, without counting anything: for limits
/// that count only failures (a wrong password), checked before the attempt.
pub fn peek(
    conn: &mut DbConn,
    signer: &Signer,
    limits: &RateLimits,
    limit: Limit,
    key: &str,
) -> Result<Result<(), TooMany>, DbError> {
    use crate::db::schema::rate_limits;
    use diesel::prelude::*;
    let Some(rate) = limits.rate(limit) else { return Ok(Ok(())) };
    let bucket = bucket(signer, limit, key);
    let now = now();
    let counter: Option<(i64, i64)> = rate_limits::table
        .find(&bucket)
        .select((rate_limits::hits, rate_limits::window_start))
        .first(conn)
        .optional()?;
    Ok(match counter {
        Some((hits, window_start)) if window_start > now - rate.seconds && hits >= rate.hits => {
            Err(TooMany { retry_after_seconds: (window_start + rate.seconds - now).max(1) })
        }
        _ => Ok(()),
    })
}

/// The row a (limit, key) pair counts in: a keyed hash, so no address is stored.
fn bucket(signer: &Signer, limit: Limit, key: &str) -> String {
    signer.sign(&format!("rate-limit:{}:{}", limit.name(), key.to_lowercase()))
}

/// Deletes counters whose window ended long ago (daily maintenance).
pub fn purge(conn: &mut DbConn) -> Result<usize, DbError> {
    use crate::db::schema::rate_limits;
    use diesel::prelude::*;
    let cutoff = now() - MAX_WINDOW_SECONDS;
    Ok(diesel::delete(rate_limits::table.filter(rate_limits::window_start.lt(cutoff))).execute(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_override_defaults_or_switch_everything_off() {
        let limits = RateLimits::parse("login_per_ip=60/300, post_per_member=5/60").unwrap();
        assert_eq!(limits.rate(Limit::LoginPerIp), Some(Rate { hits: 60, seconds: 300 }));
        assert_eq!(limits.rate(Limit::PostPerMember), Some(Rate { hits: 5, seconds: 60 }));
        assert_eq!(limits.rate(Limit::LikePerMember), Some(Limit::LikePerMember.default_rate()));
        assert_eq!(RateLimits::parse("off").unwrap().rate(Limit::LoginPerIp), None);
        for bad in ["login=1/2", "login_per_ip=0/60", "login_per_ip=5/0", "login_per_ip=5", "login_per_ip=x/60"] {
            assert!(RateLimits::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn waits_read_as_people_say_them() {
        assert_eq!(TooMany { retry_after_seconds: 1 }.wait_in_words(), "in 1 second");
        assert_eq!(TooMany { retry_after_seconds: 61 }.wait_in_words(), "in 2 minutes");
        assert_eq!(TooMany { retry_after_seconds: 3600 }.wait_in_words(), "in 1 hour");
    }
}
