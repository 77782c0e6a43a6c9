//! Outgoing mail through lettre: `.eml` files in `AGORA_MAIL_DIR` by default (nothing
//! to set up), SMTP when `AGORA_SMTP_URL` is set. What waits to be sent is in `queue`.

pub mod queue;

use std::path::PathBuf;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Where mail goes.
#[derive(Debug, Clone)]
pub enum MailSettings {
    Files(PathBuf),
    Smtp(String),
}

pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

enum Transport {
    Files(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// Mail files (the default transport) hold addresses, names and links: they are kept no
/// longer than backups (daily maintenance calls this), and a deleted member's go at once.
pub fn prune_files(dir: &std::path::Path, older_than: std::time::Duration) -> std::io::Result<usize> {
    let cutoff = std::time::SystemTime::now() - older_than;
    remove_files(dir, |path, _| std::fs::metadata(path).and_then(|m| m.modified()).is_ok_and(|at| at < cutoff))
}

/// The header naming the members a mail is about besides its recipient (who replied,
/// who liked), so deleting one of them finds the mail files that name them.
const NAMES_HEADER: &str = "X-Agora-Names";
/// The header with the account ids of the recipient and of the members it names: found
/// by id, a mail that greets or names a member by a name they have since changed goes
/// with their account all the same.
const MEMBERS_HEADER: &str = "X-Agora-Members";

/// Removes every mail file to `address`, greeting `username` by name, or naming the
/// member (by that name, or by `member_id` whatever name it used).
pub fn forget_files(
    dir: &std::path::Path,
    address: Option<&str>,
    username: Option<&str>,
    member_id: Option<i64>,
) -> std::io::Result<usize> {
    let greeting = username.map(|name| format!("Hello {name},"));
    let address = address.map(str::to_lowercase);
    let id = member_id.map(|id| id.to_string());
    remove_files(dir, |_, text| {
        address.as_deref().is_some_and(|a| text.to_lowercase().contains(a))
            || greeting.as_deref().is_some_and(|g| text.contains(g))
            || username
                .is_some_and(|name| header_values(text, NAMES_HEADER).iter().any(|n| n.eq_ignore_ascii_case(name)))
            || id.as_deref().is_some_and(|id| header_values(text, MEMBERS_HEADER).iter().any(|n| n == id))
    })
}

/// The comma-separated values of a mail file's `header` (unfolded, if it was long).
fn header_values(text: &str, header: &str) -> Vec<String> {
    let headers = text.split("\r\n\r\n").next().unwrap_or(text).replace("\r\n ", " ").replace("\r\n\t", " ");
    headers
        .lines()
        .filter_map(|line| line.strip_prefix(header).and_then(|rest| rest.strip_prefix(':')))
        .flat_map(|values| values.split(','))
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
        .collect()
}

fn remove_files(dir: &std::path::Path, doomed: impl Fn(&std::path::Path, &str) -> bool) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "eml") {
            continue;
        }
        // Quoted-printable may fold a long address; compare without soft line breaks.
        let text = std::fs::read_to_string(&path).unwrap_or_default().replace("=\r\n", "").replace("=\n", "");
        if doomed(&path, &text) {
            std::fs::remove_file(&path)?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// One plain-text message to one person.
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// For newsletters and notifications: the one-click unsubscribe address (RFC 8058 headers).
    pub unsubscribe_url: Option<String>,
    /// Members the mail names besides its recipient (see [`NAMES_HEADER`]).
    pub names: Vec<String>,
    /// Their account ids (see [`MEMBERS_HEADER`]).
    pub member_ids: Vec<i64>,
}

impl Mailer {
    pub fn new(settings: &MailSettings, from: &str) -> anyhow::Result<Self> {
        let from: Mailbox = from.parse().map_err(|e| anyhow::anyhow!("AGORA_MAIL_FROM is not valid: {e}"))?;
        let transport = match settings {
            MailSettings::Files(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| anyhow::anyhow!("cannot create the mail folder {}: {e}", dir.display()))?;
                Transport::Files(AsyncFileTransport::new(dir))
            }
            MailSettings::Smtp(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("AGORA_SMTP_URL is not valid: {e}"))?
                    .build(),
            ),
        };
        Ok(Mailer { from, transport })
    }

    #[tracing::instrument(name = "send mail", skip_all, fields(subject = %mail.subject))]
    pub async fn send(&self, mail: Mail) -> anyhow::Result<()> {
        let to: Mailbox = mail.to.parse().map_err(|e| anyhow::anyhow!("bad recipient: {e}"))?;
        let mut builder = Message::builder().from(self.from.clone()).to(to).subject(mail.subject);
        if let Some(url) = &mail.unsubscribe_url {
            builder = builder
                .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe"), format!("<{url}>")))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".into(),
                ));
        }
        if !mail.names.is_empty() {
            builder = builder
                .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str(NAMES_HEADER), mail.names.join(", ")));
        }
        if !mail.member_ids.is_empty() {
            let ids = mail.member_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
            builder = builder.raw_header(HeaderValue::new(HeaderName::new_from_ascii_str(MEMBERS_HEADER), ids));
        }
        // lettre picks the encoding (7-bit, or quoted-printable for long lines and links).
        let body = Body::new(mail.body);
        let message = builder.header(ContentType::TEXT_PLAIN).body(body)?;
        match &self.transport {
            Transport::Files(files) => {
                files.send(message).await?;
            }
            Transport::Smtp(smtp) => {
                smtp.send(message).await?;
            }
        }
        Ok(())
    }

    /// Transactional mail must not fail the action that caused it; a failure is logged.
    pub async fn send_or_log(&self, mail: Mail) {
        let subject = mail.subject.clone();
        if let Err(error) = self.send(mail).await {
            tracing::error!(%subject, error = %format!("{error:#}"), "mail not sent");
        }
    }
}
