//! Password hashing with argon2id. Only the PHC-format hash is ever stored.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::web::errors::AppError;

/// OWASP's recommended argon2id settings (m = 19 MiB, t = 2, p = 1).
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let hash =
        hasher().hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    Ok(hash.to_string())
}

/// Checks a password against a stored hash; with no hash (unknown member), it checks
/// against a dummy so that a wrong username takes as long as a wrong password.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let dummy = dummy_hash();
    let (candidate, real) = match stored {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(candidate) else {
        return false;
    };
    // Verification uses the parameters recorded in the hash itself.
    let ok = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
    ok && real
}

/// At most one argon2 computation per core at a time. Each takes 19 MiB and tens of
/// milliseconds of CPU: without a bound, a flood of sign-ins fills actix's blocking pool
/// (hundreds of threads) and the memory with them, and every other page waits.
fn slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS
        .get_or_init(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)))
}

/// How long a request waits for a free slot before it is told to come back later.
const SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Runs argon2 work on the blocking pool once a slot is free; a request that waits
/// longer than `SLOT_WAIT` gets the "busy" page (503, Retry-After) instead.
async fn with_slot<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    with_slot_within(slots(), SLOT_WAIT, work).await
}

async fn with_slot_within<T: Send + 'static>(
    slots: &tokio::sync::Semaphore,
    wait: std::time::Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let _permit = tokio::time::timeout(wait, slots.acquire())
        .await
        .map_err(|_| {
            AppError::Busy("The forum is very busy signing people in. Please try again in a few seconds.".into())
        })?
        .map_err(|_| anyhow::anyhow!("password slots closed"))?;
    actix_web::web::block(work).await.map_err(|e| AppError::Internal(anyhow::anyhow!("hashing worker failed: {e}")))
}

/// `hash` off the async executor, within the bound on concurrent hashes.
pub async fn hash_off_executor(password: String) -> Result<String, AppError> {
    Ok(with_slot(move || hash(&password)).await??)
}

/// `verify` off the async executor, within the bound on concurrent hashes.
pub async fn verify_off_executor(password: String, stored: Option<String>) -> Result<bool, AppError> {
    with_slot(move || verify(&password, stored.as_deref())).await
}

fn dummy_hash() -> &'static String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("agora-dummy-password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_argon2id_with_owasp_parameters_and_verifies() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!h.contains("correct horse"));
        assert!(verify("correct horse battery", Some(&h)));
        assert!(!verify("wrong horse battery", Some(&h)));
        assert!(!verify("agora-dummy-password", None));
    }

    #[actix_web::test]
    async fn hashing_waits_for_a_free_slot_then_sheds_with_a_busy_page() {
        use actix_web::ResponseError;
        let slots = tokio::sync::Semaphore::new(1);
        let wait = std::time::Duration::from_millis(50);
        assert_eq!(with_slot_within(&slots, wait, || 7).await.unwrap(), 7);
        let _taken = slots.acquire().await.unwrap();
        let shed = with_slot_within(&slots, wait, || 7).await.unwrap_err();
        assert_eq!(shed.status_code(), actix_web::http::StatusCode::SERVICE_UNAVAILABLE);
        let page = shed.error_response();
        assert_eq!(page.headers().get("retry-after").unwrap(), "5");
    }
}
