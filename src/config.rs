//! Every setting Agora reads, from `AGORA_*` environment variables (listed in the README).

use std::path::PathBuf;

use ipnet::IpNet;

#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://path` or `postgres://…`; the scheme picks the backend.
    pub database_url: String,
    pub database_pool_size: u32,
    /// Address to listen on; port 0 picks a free port (the tests do).
    pub bind: String,
    /// The forum's address as members see it, without a trailing slash.
    pub public_url: String,
    /// Proxies whose `X-Forwarded-For` header is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Where daily request-log files go; stdout only when unset.
    pub log_dir: Option<PathBuf>,
    /// Text, or one JSON object per line (`AGORA_LOG_FORMAT`).
    pub log_format: crate::telemetry::LogFormat,
    /// Who may read `/metrics` (`AGORA_METRICS_ALLOW`; loopback by default).
    pub metrics_allow: Vec<IpNet>,
    /// Sign-in with GitHub, when an OAuth App's client id is configured.
    pub github: Option<GithubConfig>,
    pub mail: crate::mail::MailSettings,
    /// The sender of every mail, e.g. `Agora <forum@example.org>`.
    pub mail_from: String,
    pub backup_dir: PathBuf,
    /// Backups older than this are deleted; at most 14, as the privacy policy promises.
    pub backup_retention_days: u32,
    /// Request-log files older than this are deleted.
    pub log_retention_days: u32,
    /// Whether the server takes a backup, prunes backups and old logs every day.
    pub daily_maintenance: bool,
    /// Categories of third parties personal data is shared with, for the data export.
    pub third_parties: Vec<String>,
    /// Where people write about their data (`AGORA_CONTACT_EMAIL`); required when the
    /// forum is public (its address is not a loopback one).
    pub contact_email: Option<String>,
    /// An optional postal address for the policy (`AGORA_POSTAL_ADDRESS`).
    pub postal_address: Option<String>,
    /// Where the data is stored, in a sentence (`AGORA_DATA_LOCATION`).
    pub data_location: Option<String>,
    /// Answered privacy requests from people without an account are erased this long
    /// after the answer (`AGORA_PRIVACY_REQUEST_RETENTION_DAYS`).
    pub privacy_request_retention_days: u32,
    /// Notifications older than this are deleted by daily maintenance
    /// (`AGORA_NOTIFICATION_RETENTION_DAYS`).
    pub notification_retention_days: u32,
    /// How often this instance sends queued mail, in seconds; 0: it sends none, another
    /// instance (or `agora mail send`) does (`AGORA_MAIL_QUEUE_SECONDS`).
    pub mail_queue_seconds: u64,
    /// How often things may be done (`AGORA_RATE_LIMITS`).
    pub rate_limits: crate::web::rate_limit::RateLimits,
    /// How long a member counts as new: tighter limits, fewer links (`AGORA_NEW_MEMBER_HOURS`).
    pub new_member_seconds: i64,
    /// The most links a new member's post may hold (`AGORA_NEW_MEMBER_MAX_LINKS`).
    pub new_member_max_links: usize,
    /// A new member's first this-many posts wait for a moderator (`AGORA_HOLD_FIRST_POSTS`, 0 = off).
    pub hold_first_posts: i64,
    /// How long a stopping server lets requests in flight finish (`AGORA_SHUTDOWN_GRACE_SECONDS`).
    pub shutdown_grace_seconds: u64,
}

#[derive(Debug, Clone)]
pub struct GithubConfig {
    pub client_id: String,
    pub client_secret: String,
    /// Where `/login/oauth/authorize` and `/login/oauth/access_token` live.
    pub web_url: String,
    /// Where `/user` and `/user/emails` live.
    pub api_url: String,
    /// How long any one call to GitHub may take.
    pub timeout: std::time::Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Settings from any source of `AGORA_*` values (the environment, or a test's table).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let pool_size = match var("AGORA_DATABASE_POOL_SIZE") {
            None => 10,
            Some(v) => v.trim().parse().map_err(|_| ConfigError::Invalid {
                name: "AGORA_DATABASE_POOL_SIZE",
                reason: format!("{v:?} is not a whole number"),
            })?,
        };
        let trusted_proxies = match var("AGORA_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => {
                parse_proxies(&list).map_err(|reason| ConfigError::Invalid { name: "AGORA_TRUSTED_PROXIES", reason })?
            }
        };
        let metrics_allow = parse_proxies(&var("AGORA_METRICS_ALLOW").unwrap_or_else(|| "127.0.0.0/8,::1".into()))
            .map_err(|reason| ConfigError::Invalid { name: "AGORA_METRICS_ALLOW", reason })?;
        let log_format = match var("AGORA_LOG_FORMAT") {
            None => crate::telemetry::LogFormat::Text,
            Some(raw) => crate::telemetry::LogFormat::parse(&raw).ok_or_else(|| ConfigError::Invalid {
                name: "AGORA_LOG_FORMAT",
                reason: format!("{raw:?} is neither text nor json"),
            })?,
        };
        let public_url = var("AGORA_PUBLIC_URL").unwrap_or_else(|| "http://127.0.0.1:8080".into());
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                name: "AGORA_PUBLIC_URL",
                reason: "it must start with http:// or https://".into(),
            });
        }
        let rate_limits = match var("AGORA_RATE_LIMITS") {
            None => Default::default(),
            Some(raw) => crate::web::rate_limit::RateLimits::parse(&raw)
                .map_err(|reason| ConfigError::Invalid { name: "AGORA_RATE_LIMITS", reason })?,
        };
        let contact_email = var("AGORA_CONTACT_EMAIL").map(|v| v.trim().to_string());
        if contact_email.is_none() && !is_loopback_url(&public_url) {
            return Err(ConfigError::Invalid {
                name: "AGORA_CONTACT_EMAIL",
                reason:
                    "a public forum's privacy policy must give a contact address: set it (e.g. privacy@example.org)"
                        .into(),
            });
        }
        Ok(Config {
            contact_email,
            postal_address: var("AGORA_POSTAL_ADDRESS"),
            data_location: var("AGORA_DATA_LOCATION"),
            privacy_request_retention_days: days(&var, "AGORA_PRIVACY_REQUEST_RETENTION_DAYS", 90, None)?,
            notification_retention_days: days(&var, "AGORA_NOTIFICATION_RETENTION_DAYS", 90, None)?,
            mail_queue_seconds: number(&var, "AGORA_MAIL_QUEUE_SECONDS", 5)? as u64,
            rate_limits,
            new_member_seconds: number(&var, "AGORA_NEW_MEMBER_HOURS", 24)? * 3600,
            new_member_max_links: number(&var, "AGORA_NEW_MEMBER_MAX_LINKS", 2)? as usize,
            hold_first_posts: number(&var, "AGORA_HOLD_FIRST_POSTS", 0)?,
            shutdown_grace_seconds: number(&var, "AGORA_SHUTDOWN_GRACE_SECONDS", 30)? as u64,
            database_url: var("AGORA_DATABASE_URL").unwrap_or_else(|| "sqlite://agora.db".into()),
            database_pool_size: pool_size,
            bind: var("AGORA_BIND").unwrap_or_else(|| "127.0.0.1:8080".into()),
            public_url: public_url.trim_end_matches('/').to_string(),
            trusted_proxies,
            log_dir: var("AGORA_LOG_DIR").map(PathBuf::from),
            log_format,
            metrics_allow,
            github: github_from_env(&var)?,
            mail: match var("AGORA_SMTP_URL") {
                Some(url) => crate::mail::MailSettings::Smtp(url),
                None => crate::mail::MailSettings::Files(PathBuf::from(
                    var("AGORA_MAIL_DIR").unwrap_or_else(|| "mail".into()),
                )),
            },
            mail_from: var("AGORA_MAIL_FROM").unwrap_or_else(|| "Agora <agora@localhost>".into()),
            backup_dir: PathBuf::from(var("AGORA_BACKUP_DIR").unwrap_or_else(|| "backups".into())),
            backup_retention_days: days(&var, "AGORA_BACKUP_RETENTION_DAYS", 14, Some(14))?,
            log_retention_days: days(&var, "AGORA_LOG_RETENTION_DAYS", 14, Some(14))?,
            daily_maintenance: var("AGORA_DAILY_MAINTENANCE").is_none_or(|v| v != "off"),
            third_parties: var("AGORA_THIRD_PARTIES")
                .map(|v| v.split(';').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default(),
        })
    }

    /// Cookies carry the `Secure` flag whenever the forum is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Whether a URL's host is this machine (a forum nobody else can reach yet).
pub fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map(|(h, _)| h).unwrap_or(authority),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A whole number, zero or more.
fn number(var: &dyn Fn(&str) -> Option<String>, name: &'static str, default: i64) -> Result<i64, ConfigError> {
    let Some(raw) = var(name) else { return Ok(default) };
    raw.trim()
        .parse::<u32>()
        .map(i64::from)
        .map_err(|_| ConfigError::Invalid { name, reason: format!("{raw:?} is not a whole number") })
}

/// A number of days between 1 and `max` (when there is one).
fn days(
    var: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    default: u32,
    max: Option<u32>,
) -> Result<u32, ConfigError> {
    let Some(raw) = var(name) else { return Ok(default) };
    let days: u32 = raw
        .trim()
        .parse()
        .map_err(|_| ConfigError::Invalid { name, reason: format!("{raw:?} is not a whole number of days") })?;
    if days == 0 {
        return Err(ConfigError::Invalid { name, reason: "it must be at least 1".into() });
    }
    if let Some(max) = max {
        if days > max {
            return Err(ConfigError::Invalid {
                name,
                reason: format!("{days} is more than {max}: the privacy policy promises that removed data leaves backups within {max} days"),
            });
        }
    }
    Ok(days)
}

fn github_from_env(var: &dyn Fn(&str) -> Option<String>) -> Result<Option<GithubConfig>, ConfigError> {
    let Some(client_id) = var("AGORA_GITHUB_CLIENT_ID") else {
        return Ok(None);
    };
    let client_secret = var("AGORA_GITHUB_CLIENT_SECRET").ok_or(ConfigError::Invalid {
        name: "AGORA_GITHUB_CLIENT_SECRET",
        reason: "it must be set when AGORA_GITHUB_CLIENT_ID is".into(),
    })?;
    let timeout = match var("AGORA_GITHUB_TIMEOUT_SECONDS") {
        None => 10,
        Some(v) => v.trim().parse().map_err(|_| ConfigError::Invalid {
            name: "AGORA_GITHUB_TIMEOUT_SECONDS",
            reason: format!("{v:?} is not a whole number"),
        })?,
    };
    Ok(Some(GithubConfig {
        client_id,
        client_secret,
        web_url: var("AGORA_GITHUB_URL")
            .unwrap_or_else(|| "https://github.com".into())
            .trim_end_matches('/')
            .to_string(),
        api_url: var("AGORA_GITHUB_API_URL")
            .unwrap_or_else(|| "https://api.github.com".into())
            .trim_end_matches('/')
            .to_string(),
        timeout: std::time::Duration::from_secs(timeout),
    }))
}

/// `AGORA_TRUSTED_PROXIES` is a comma-separated list of addresses or CIDR ranges.
pub fn parse_proxies(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{item:?} is neither an IP address nor a CIDR range"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_forum_needs_a_contact_address() {
        for local in ["http://127.0.0.1:8080", "http://localhost:3000/", "http://[::1]:8080", "https://127.0.0.2"] {
            assert!(is_loopback_url(local), "{local}");
        }
        for public in ["https://forum.example.org", "http://10.0.0.5:8080", "https://localhost.example.org"] {
            assert!(!is_loopback_url(public), "{public}");
        }
        let public = |name: &str| match name {
            "AGORA_PUBLIC_URL" => Some("https://forum.example.org".to_string()),
            _ => None,
        };
        let refused = Config::from_lookup(public).unwrap_err().to_string();
        assert!(refused.contains("AGORA_CONTACT_EMAIL"), "{refused}");
        let with_contact = |name: &str| match name {
            "AGORA_PUBLIC_URL" => Some("https://forum.example.org".to_string()),
            "AGORA_CONTACT_EMAIL" => Some("privacy@example.org".to_string()),
            _ => None,
        };
        assert_eq!(Config::from_lookup(with_contact).unwrap().contact_email.as_deref(), Some("privacy@example.org"));
    }

    #[test]
    fn proxies_accept_addresses_and_ranges_and_reject_garbage() {
        let parsed = parse_proxies("10.0.0.1, 192.168.0.0/16,::1").unwrap();
        assert_eq!(parsed.len(), 3);
        assert!(parsed[1].contains(&"192.168.4.5".parse::<std::net::IpAddr>().unwrap()));
        assert!(parse_proxies("10.0.0.1,not-an-ip").is_err());
    }
}
