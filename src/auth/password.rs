//! Password hashing with argon2id. Only the PHC-format hash is ever stored.
//!
//! Argon2 is memory-hard on purpose: each computation fills 19 MiB. Two things keep a
//! flood of sign-ins from taking the server down with it:
//! - at most one computation per core runs at a time (`Slots`); a request that waits
//!   longer than `SLOT_WAIT` for a free slot gets the "busy" page (503, Retry-After);
//! - each computation's 19 MiB are given back to the system as soon as it ends. With
//!   glibc's malloc, freed blocks stayed in its per-thread arenas (192 wrong passwords,
//!   never more than two at once, left the process at 1.2 GB), so each slot kept its
//!   memory for good; with mimalloc (`main.rs`) and the thread's cache collected after
//!   each hash (`web::memory`), nothing stays: one sign-in had left 25 MB behind, most of
//!   the server's RSS past its 64 MB target in the benchmark.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

use crate::web::cpu_slots::CpuSlots;
use crate::web::errors::AppError;

/// OWASP's recommended argon2id settings (m = 19 MiB, t = 2, p = 1).
fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid")
}

/// Working memory for one argon2 computation with our parameters.
fn workspace() -> Vec<Block> {
    vec![Block::default(); params().block_count()]
}

/// A new PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for `password`.
fn hash_with(password: &str, memory: &mut Vec<Block>) -> anyhow::Result<String> {
    let params = params();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    grow(memory, params.block_count());
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, &mut memory[..params.block_count()])
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("params: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches a PHC string, computed with the parameters recorded in it.
fn matches(password: &str, stored: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    let (Ok(params), Ok(algorithm)) = (Params::try_from(&parsed), Algorithm::try_from(parsed.algorithm)) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else { return false };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else { return false };
    let mut out = vec![0u8; expected.len()];
    grow(memory, params.block_count());
    let blocks = params.block_count();
    let computed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt_bytes,
        &mut out,
        &mut memory[..blocks],
    );
    computed.is_ok() && bool::from(expected.as_bytes().ct_eq(&out))
}

/// A hash made with larger parameters than ours (e.g. raised later) needs more memory.
fn grow(memory: &mut Vec<Block>, blocks: usize) {
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
}

pub fn hash(password: &str) -> anyhow::Result<String> {
    hash_with(password, &mut workspace())
}

/// Checks a password against a stored hash; with no hash (unknown member), it checks
/// against a dummy so that a wrong username takes as long as a wrong password.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    verify_with(password, stored, &mut workspace())
}

fn verify_with(password: &str, stored: Option<&str>, memory: &mut Vec<Block>) -> bool {
    match stored {
        Some(hash) => matches(password, hash, memory),
        None => {
            matches(password, dummy_hash(), memory);
            false
        }
    }
}

/// Hashes at once: one per core.
fn slots() -> &'static CpuSlots {
    static SLOTS: OnceLock<CpuSlots> = OnceLock::new();
    SLOTS.get_or_init(|| {
        CpuSlots::per_core("The forum is very busy signing people in. Please try again in a few seconds.")
    })
}

/// Runs argon2 work in a slot, with working memory of its own that is given back when
/// it ends.
async fn with_slot<T: Send + 'static>(work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static) -> Result<T, AppError> {
    slots()
        .run(move || {
            let mut memory = workspace();
            let result = work(&mut memory);
            drop(memory);
            result
        })
        .await
}

/// `hash` off the async executor, within the bound on concurrent hashes.
pub async fn hash_off_executor(password: String) -> Result<String, AppError> {
    Ok(with_slot(move |memory| hash_with(&password, memory)).await??)
}

/// `verify` off the async executor, within the bound on concurrent hashes.
pub async fn verify_off_executor(password: String, stored: Option<String>) -> Result<bool, AppError> {
    with_slot(move |memory| verify_with(&password, stored.as_deref(), memory)).await
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
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
        assert!(!verify("anything", Some("not a phc string")));
    }

    #[test]
    fn hashes_from_the_argon2_crate_itself_verify_and_ours_verify_there() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
            .hash_password(b"shared secret words", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify("shared secret words", Some(&theirs)));
        let ours = hash("shared secret words").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"shared secret words", &parsed).is_ok());
        // A stored hash with heavier parameters than today's still verifies.
        let heavier = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(32 * 1024, 3, 1, None).unwrap())
            .hash_password(b"older words", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify("older words", Some(&heavier)));
    }
}
