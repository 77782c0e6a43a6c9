//! The words of every transactional mail. These are always sent, whatever the
//! member's newsletter choice: they are about their account.

use crate::mail::Mail;

pub fn confirm_address(public_url: &str, to: &str, username: &str, token: &str) -> Mail {
    Mail {
        to: to.into(),
        subject: "Confirm your e-mail address".into(),
        body: format!(
            "Hello {username},\n\nplease confirm that this is your e-mail address by opening this link:\n\n\
             {public_url}/account/confirm-email?token={token}\n\nThe link works for 7 days. If you did not \
             create an account, ignore this message.\n"
        ),
        unsubscribe_url: None,
    }
}

pub fn confirm_new_address(public_url: &str, to: &str, username: &str, token: &str) -> Mail {
    Mail {
        to: to.into(),
        subject: "Confirm your new e-mail address".into(),
        body: format!(
            "Hello {username},\n\nyou asked to use this address for your account. It takes effect once you \
             open this link:\n\n{public_url}/account/change-email?token={token}\n\nThe link works for 24 hours. \
             If you did not ask for this, ignore this message.\n"
        ),
        unsubscribe_url: None,
    }
}

pub fn address_change_requested(public_url: &str, to: &str, username: &str) -> Mail {
    Mail {
        to: to.into(),
        subject: "Your e-mail address is being changed".into(),
        body: format!(
            "Hello {username},\n\nsomeone signed in to your account asked to change its e-mail address. \
             The change takes effect only when the new address is confirmed. If this was not you, sign in \
             and change your password at once:\n\n{public_url}/account\n"
        ),
        unsubscribe_url: None,
    }
}

/// Sent instead of saying on the page that an address is taken (which would let anyone
/// test addresses): the owner learns of the attempt, the asker sees the usual answer.
pub fn address_already_in_use(public_url: &str, to: &str) -> Mail {
    Mail {
        to: to.into(),
        subject: "Someone tried to use your e-mail address".into(),
        body: format!(
            "Hello,\n\nsomeone signed in to another account on {public_url} asked to move it to this e-mail \
             address, which already belongs to your account. Nothing was changed. If this was you, sign in \
             with this address instead (or reset your password at {public_url}/password/forgot).\n"
        ),
        unsubscribe_url: None,
    }
}

/// A new way into the account: the member hears of it, in case it was not them.
pub fn github_linked(public_url: &str, to: &str, username: &str, github_login: &str) -> Mail {
    Mail {
        to: to.into(),
        subject: "A GitHub account was linked to your account".into(),
        body: format!(
            "Hello {username},\n\nthe GitHub account {github_login} can now sign in to your account. If this \
             was not you, sign in, unlink it and change your password at once:\n\n{public_url}/account\n"
        ),
        unsubscribe_url: None,
    }
}

pub fn password_reset(public_url: &str, to: &str, username: &str, token: &str) -> Mail {
    Mail {
        to: to.into(),
        subject: "Reset your password".into(),
        body: format!(
            "Hello {username},\n\nsomeone asked to reset the password of your account. To choose a new one, \
             open this link within one hour:\n\n{public_url}/password/reset?token={token}\n\nThe link works \
             once. If you did not ask for this, ignore this message; your password stays as it is.\n"
        ),
        unsubscribe_url: None,
    }
}

pub fn account_deleted(to: &str, username: &str) -> Mail {
    Mail {
        to: to.into(),
        subject: "Your account has been deleted".into(),
        body: format!(
            "Hello {username},\n\nyour account has been deleted. Your e-mail address, names, username, \
             picture, password, sign-in links and the IP addresses recorded with your posts are erased; \
             your public posts remain, attributed to \"Anonymous\". Copies in backups disappear within 14 \
             days, and a deleted account cannot be restored.\n\nThis is the last message you will receive \
             from us.\n"
        ),
        unsubscribe_url: None,
    }
}
