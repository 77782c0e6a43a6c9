//! Outgoing mail through lettre: `.eml` files in `AGORA_MAIL_DIR` by default (nothing
//! to set up), SMTP when `AGORA_SMTP_URL` is set.

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

/// One plain-text message to one person.
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// For newsletters: the one-click unsubscribe address (RFC 8058 headers).
    pub unsubscribe_url: Option<String>,
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
