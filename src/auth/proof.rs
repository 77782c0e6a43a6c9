//! Proof that the person at the keyboard is the member: the current password, or a
//! fresh confirmation with GitHub for members who have no password. Asked before
//! anything that would hand the account over (password, address, GitHub link,
//! deletion, a staff erasure of staff).

use crate::auth::accounts;
use crate::auth::password;
use crate::auth::sessions::{self, SessionUser};
use crate::db::now;
use crate::web::errors::AppError;
use crate::web::rate_limit::Limit;
use crate::AppState;

/// How long a confirmation with GitHub counts as proof.
pub const REAUTH_SECONDS: i64 = 600;

pub fn recently_reauthenticated(reauthenticated_at: Option<i64>) -> bool {
    reauthenticated_at.is_some_and(|at| now() - at <= REAUTH_SECONDS)
}

/// A stolen session must not be enough to take the account over: changing the password
/// or the address asks for the current password, or, for members who sign in only with
/// GitHub, a fresh confirmation with GitHub (as deletion does). Guesses count against
/// the account's sign-in limit. Returns what to tell the member when the proof fails.
pub async fn proof_of_identity(
    state: &AppState,
    member: &SessionUser,
    current_password: String,
    then: &str,
) -> Result<Option<String>, AppError> {
    let user_id = member.user_id;
    match state.db.run(move |c| accounts::password_hash(c, user_id)).await? {
        Some(hash) => {
            // Wrong guesses count against the account's sign-in budget.
            let key = format!("member:{user_id}");
            state.rate_limit_reached(Limit::LoginPerAccount, &key).await?;
            let valid = password::verify_off_executor(current_password, Some(hash)).await?;
            if !valid {
                state.rate_limit(Limit::LoginPerAccount, &key).await.or_else(crate::auth::routes::ignore_too_many)?;
            }
            Ok((!valid).then(|| "Your current password is not right.".to_string()))
        }
        None => {
            let session_id = member.session_id;
            let at = state.db.run(move |c| sessions::reauthenticated_at(c, session_id)).await?;
            Ok((!recently_reauthenticated(at)).then(|| {
                format!("Confirm with GitHub first (the button is on the account deletion page), then {then}.")
            }))
        }
    }
}
