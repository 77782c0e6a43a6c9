//! Password hashing with argon2id. Only the PHC-format hash is ever stored.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

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

/// `hash` on actix's blocking pool: argon2 takes tens of milliseconds of CPU, which must
/// not stall the async executor serving other requests.
pub async fn hash_off_executor(password: String) -> anyhow::Result<String> {
    actix_web::web::block(move || hash(&password)).await.map_err(|e| anyhow::anyhow!("hashing worker failed: {e}"))?
}

/// `verify` on actix's blocking pool, for the same reason.
pub async fn verify_off_executor(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    actix_web::web::block(move || verify(&password, stored.as_deref()))
        .await
        .map_err(|e| anyhow::anyhow!("verification worker failed: {e}"))
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
}
