//! What follows every erasure, for the places data lands outside the rows the erasing
//! transaction changed: the deletion-ledger copy beside the backups, the SQLite
//! write-ahead log, and (when a whole account goes) the mail folder.

use crate::config::Config;
use crate::db::Database;
use crate::mail::MailSettings;
use crate::privacy::ledger;

/// Identifiers to find mail files by: a deleted account's address and name, or an
/// address a member stopped using.
pub struct Forget<'a> {
    pub email: Option<&'a str>,
    pub username: Option<&'a str>,
    /// A deleted account's id (mail files carry it, whatever name they used).
    pub member_id: Option<i64>,
}

/// Brings every copy in line with what was erased. Blocking: call it off the executor
/// (`settle_async` does) or from the command line.
pub fn settle(db: &Database, config: &Config, account: Option<Forget<'_>>) -> anyhow::Result<()> {
    ledger::write_file(&mut *db.get()?, &config.backup_dir)?;
    db.checkpoint_after_erasure()?;
    if let (Some(account), MailSettings::Files(dir)) = (account, &config.mail) {
        crate::mail::forget_files(dir, account.email, account.username, account.member_id)?;
    }
    Ok(())
}

/// `settle` from a request, after any removal or deletion: with `settle`, the one ledger
/// service the web pages and `agora account erase` share. A failure is logged, not
/// shown: the erasure itself is done.
/// `account`: the address, username and account id to find mail files by.
pub async fn settle_async(state: &crate::AppState, account: Option<(Option<String>, Option<String>, Option<i64>)>) {
    let (db, config) = (state.db.clone(), state.config.clone());
    let done = actix_web::web::block(move || {
        let forget = account.as_ref().map(|(email, username, member_id)| Forget {
            email: email.as_deref(),
            username: username.as_deref(),
            member_id: *member_id,
        });
        settle(&db, &config, forget)
    })
    .await;
    match done {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::error!(error = %format!("{error:#}"), "copies not brought in line after an erasure"),
        Err(error) => tracing::error!(%error, "erasure follow-up did not run"),
    }
}
