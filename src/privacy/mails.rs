//! Every mail the forum sends, one function each; the words live in `templates/mail/`.
//! Transactional mails are always sent, whatever the member's newsletter choice: they
//! are about their account. The newsletter alone carries an unsubscribe link.

use askama::Template;

use crate::mail::Mail;

/// A mail's text. The templates take only strings and numbers, so rendering cannot
/// fail in practice; if it ever did, the failure is logged and the mail is sent empty
/// rather than the request failing.
pub fn text(template: &impl Template) -> String {
    template.render().unwrap_or_else(|error| {
        tracing::error!(%error, "mail template failed");
        String::new()
    })
}

fn transactional(to: &str, subject: impl Into<String>, body: String) -> Mail {
    Mail {
        to: to.into(),
        subject: subject.into(),
        body,
        unsubscribe_url: None,
        names: Vec::new(),
        member_ids: Vec::new(),
    }
}

#[derive(Template)]
#[template(path = "mail/confirm_address.txt", escape = "none")]
struct ConfirmAddress<'a> {
    public_url: &'a str,
    username: &'a str,
    token: &'a str,
}

pub fn confirm_address(public_url: &str, to: &str, username: &str, token: &str) -> Mail {
    transactional(to, "Confirm your e-mail address", text(&ConfirmAddress { public_url, username, token }))
}

#[derive(Template)]
#[template(path = "mail/confirm_new_address.txt", escape = "none")]
struct ConfirmNewAddress<'a> {
    public_url: &'a str,
    username: &'a str,
    token: &'a str,
}

pub fn confirm_new_address(public_url: &str, to: &str, username: &str, token: &str) -> Mail {
    transactional(to, "Confirm your new e-mail address", text(&ConfirmNewAddress { public_url, username, token }))
}

#[derive(Template)]
#[template(path = "mail/address_change_requested.txt", escape = "none")]
struct AddressChangeRequested<'a> {
    public_url: &'a str,
    username: &'a str,
}

pub fn address_change_requested(public_url: &str, to: &str, username: &str) -> Mail {
    transactional(to, "Your e-mail address is being changed", text(&AddressChangeRequested { public_url, username }))
}

#[derive(Template)]
#[template(path = "mail/address_already_in_use.txt", escape = "none")]
struct AddressAlreadyInUse<'a> {
    public_url: &'a str,
}

/// Sent instead of saying on the page that an address is taken (which would let anyone
/// test addresses): the owner learns of the attempt, the asker sees the usual answer.
pub fn address_already_in_use(public_url: &str, to: &str) -> Mail {
    transactional(to, "Someone tried to use your e-mail address", text(&AddressAlreadyInUse { public_url }))
}

#[derive(Template)]
#[template(path = "mail/github_linked.txt", escape = "none")]
struct GithubLinked<'a> {
    public_url: &'a str,
    username: &'a str,
    github_login: &'a str,
}

/// A new way into the account: the member hears of it, in case it was not them.
pub fn github_linked(public_url: &str, to: &str, username: &str, github_login: &str) -> Mail {
    let body = text(&GithubLinked { public_url, username, github_login });
    transactional(to, "A GitHub account was linked to your account", body)
}

#[derive(Template)]
#[template(path = "mail/two_factor_changed.txt", escape = "none")]
struct TwoFactorChanged<'a> {
    public_url: &'a str,
    username: &'a str,
    on: bool,
}

/// Two-factor sign-in turned on or off: the member hears of it, in case it was not them.
pub fn two_factor_changed(public_url: &str, to: &str, username: &str, on: bool) -> Mail {
    let subject = match on {
        true => "Two-factor sign-in is on",
        false => "Two-factor sign-in was turned off",
    };
    transactional(to, subject, text(&TwoFactorChanged { public_url, username, on }))
}

#[derive(Template)]
#[template(path = "mail/password_reset.txt", escape = "none")]
struct PasswordReset<'a> {
    public_url: &'a str,
    username: &'a str,
    token: &'a str,
}

pub fn password_reset(public_url: &str, to: &str, username: &str, token: &str) -> Mail {
    transactional(to, "Reset your password", text(&PasswordReset { public_url, username, token }))
}

#[derive(Template)]
#[template(path = "mail/account_deleted.txt", escape = "none")]
struct AccountDeleted<'a> {
    username: &'a str,
}

pub fn account_deleted(to: &str, username: &str) -> Mail {
    transactional(to, "Your account has been deleted", text(&AccountDeleted { username }))
}

#[derive(Template)]
#[template(path = "mail/privacy_request_received.txt", escape = "none")]
struct PrivacyRequestReceived<'a> {
    kind: &'a str,
    due: &'a str,
}

pub fn privacy_request_received(to: &str, id: i64, kind: &str, due: &str) -> Mail {
    transactional(to, format!("We received your privacy request #{id}"), text(&PrivacyRequestReceived { kind, due }))
}

#[derive(Template)]
#[template(path = "mail/privacy_request_updated.txt", escape = "none")]
struct PrivacyRequestUpdated<'a> {
    id: i64,
    kind: &'a str,
    status: &'a str,
    refusal_reason: Option<&'a str>,
}

pub fn privacy_request_updated(to: &str, id: i64, kind: &str, status: &str, refusal_reason: Option<&str>) -> Mail {
    let body = text(&PrivacyRequestUpdated { id, kind, status, refusal_reason });
    transactional(to, format!("Your privacy request #{id}"), body)
}

#[derive(Template)]
#[template(path = "mail/policy_change.txt", escape = "none")]
struct PolicyChange<'a> {
    public_url: &'a str,
    version: &'a str,
    date: &'a str,
}

/// Sent to every member: a service message, whatever their newsletter choice.
pub fn policy_change(public_url: &str, to: &str, version: &str, date: &str) -> Mail {
    transactional(to, "Our privacy policy is changing", text(&PolicyChange { public_url, version, date }))
}

#[derive(Template)]
#[template(path = "mail/newsletter.txt", escape = "none")]
struct Newsletter<'a> {
    text: &'a str,
    public_url: &'a str,
    unsubscribe_url: &'a str,
}

/// The operator's text, with why it was sent and the one-click unsubscribe link (also
/// in the RFC 8058 headers).
pub fn newsletter(public_url: &str, to: &str, subject: &str, body: &str, unsubscribe_url: String) -> Mail {
    Mail {
        to: to.into(),
        subject: subject.into(),
        body: text(&Newsletter { text: body, public_url, unsubscribe_url: &unsubscribe_url }),
        unsubscribe_url: Some(unsubscribe_url),
        names: Vec::new(),
        member_ids: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://forum.example.org";

    /// Every mail renders, with its link, its greeting and nothing left unfilled.
    #[test]
    fn every_mail_renders_its_words_and_links() {
        let mails = [
            (confirm_address(URL, "a@example.org", "ann", "TOKEN1"), "/account/confirm-email?token=TOKEN1"),
            (confirm_new_address(URL, "a@example.org", "ann", "TOKEN2"), "/account/change-email?token=TOKEN2"),
            (address_change_requested(URL, "a@example.org", "ann"), "https://forum.example.org/account"),
            (address_already_in_use(URL, "a@example.org"), "/password/forgot"),
            (github_linked(URL, "a@example.org", "ann", "ann-gh"), "ann-gh can now sign in"),
            (password_reset(URL, "a@example.org", "ann", "TOKEN3"), "/password/reset?token=TOKEN3"),
            (account_deleted("a@example.org", "ann"), "attributed to \"Anonymous\""),
            (privacy_request_received("a@example.org", 7, "access", "2026-12-25 12:00 UTC"), "answer by 2026-12-25"),
            (
                privacy_request_updated("a@example.org", 7, "access", "refused", Some("no such data")),
                "Reason: no such data",
            ),
            (policy_change(URL, "a@example.org", "2026-12-01", "2026-12-01 00:00 UTC"), "/privacy/2026-12-01"),
            (
                newsletter(URL, "a@example.org", "News", "Hello <all>", format!("{URL}/newsletter/unsubscribe?x=1")),
                "Hello <all>",
            ),
        ];
        for (mail, expected) in &mails {
            assert!(mail.body.contains(expected), "{:?} lacks {expected:?}:\n{}", mail.subject, mail.body);
            assert!(!mail.body.contains("{{") && !mail.body.contains("{%"), "{}", mail.body);
            assert!(!mail.subject.is_empty());
        }
        assert!(!privacy_request_updated("a@example.org", 7, "access", "answered", None).body.contains("Reason"));
        assert!(mails.iter().filter(|(m, _)| m.unsubscribe_url.is_some()).count() == 1, "only the newsletter");
        assert!(mails[0].0.body.starts_with("Hello ann,"), "greetings name the member (mail files are found by it)");
    }
}
