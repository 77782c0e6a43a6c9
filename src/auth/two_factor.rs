//! Two-factor sign-in: a code from an authenticator app (TOTP, RFC 6238: SHA-1, six
//! digits, 30-second steps, the step before and after accepted for clocks that drift),
//! or one of ten one-time recovery codes. A code is accepted once: the last step used is
//! kept, and an older or equal one is refused, so a code seen over a shoulder is spent.
//! Recovery codes are kept only as SHA-256 hashes (they are 50 random bits, not
//! passwords people choose, so a fast hash is enough).

use diesel::prelude::*;
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::db::schema::{recovery_codes, two_factor, users};
use crate::db::{DbConn, DbError};
use crate::record_erasure;

/// Seconds a code is valid for, and how many steps either side are accepted.
const STEP_SECONDS: u64 = 30;
const SKEW_STEPS: u8 = 1;
/// Recovery codes made when two-factor sign-in is turned on.
pub const RECOVERY_CODES: usize = 10;
/// Characters of recovery codes: no 0/O or 1/I/L to misread.
const RECOVERY_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// A new secret for an authenticator app, in base32 (what apps and `otpauth://` take).
pub fn new_secret() -> String {
    let bytes: [u8; 20] = rand::rng().random();
    match Secret::Raw(bytes.to_vec()).to_encoded() {
        Secret::Encoded(text) => text,
        Secret::Raw(_) => String::new(),
    }
}

fn totp(secret: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_string()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, SKEW_STEPS, STEP_SECONDS, bytes).ok()
}

/// The step (30-second period since the epoch) whose code `code` is, within the skew
/// around `now`, if any.
fn matching_step(secret: &str, code: &str, now: u64) -> Option<u64> {
    let totp = totp(secret)?;
    let code = code.trim().replace(' ', "");
    let current = now / STEP_SECONDS;
    (current.saturating_sub(SKEW_STEPS as u64)..=current + SKEW_STEPS as u64)
        .find(|step| bool::from(totp.generate(step * STEP_SECONDS).as_bytes().ct_eq(code.as_bytes())))
}

/// The step of `code` for a secret not yet stored (turning it on), if it is current.
pub fn step_of(secret: &str, code: &str, now: u64) -> Option<i64> {
    matching_step(secret, code, now).map(|step| step as i64)
}

/// The `otpauth://` address an authenticator app reads (from the QR code or typed).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &str) -> String {
    let issuer_enc = crate::web::url_encode(issuer);
    format!(
        "otpauth://totp/{issuer_enc}:{}?secret={secret}&issuer={issuer_enc}&algorithm=SHA1&digits=6&period={STEP_SECONDS}",
        crate::web::url_encode(account)
    )
}

/// `text` as a QR code in SVG, drawn here (no third party sees the secret): one path,
/// dark modules on a light square with the quiet zone the standard asks for.
pub fn qr_svg(text: &str) -> Option<String> {
    use qrcodegen::{QrCode, QrCodeEcc};
    let code = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let (size, border) = (code.size(), 4);
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if code.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let full = size + 2 * border;
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {full} {full}\" width=\"220\" height=\"220\" \
         role=\"img\" aria-label=\"QR code for your authenticator app\" shape-rendering=\"crispEdges\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

fn recovery_hash(code: &str) -> String {
    let normal: String = code.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    Sha256::digest(normal.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn new_recovery_code() -> String {
    let mut rng = rand::rng();
    let mut pick = || RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())] as char;
    let first: String = (0..5).map(|_| pick()).collect();
    let second: String = (0..5).map(|_| pick()).collect();
    format!("{first}-{second}")
}

/// Whether the member signs in with a second step.
pub fn is_on(conn: &mut DbConn, user_id: i64) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(two_factor::table.find(user_id))).get_result(conn)?)
}

/// The member's recovery codes not used yet.
pub fn codes_left(conn: &mut DbConn, user_id: i64) -> Result<i64, DbError> {
    Ok(recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Turns two-factor sign-in on with `secret`, whose code for `step` the member just
/// typed (that code is spent), and returns the recovery codes, to be shown once. One
/// transaction.
pub fn turn_on(conn: &mut DbConn, user_id: i64, secret: &str, step: i64, now: i64) -> Result<Vec<String>, DbError> {
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        diesel::delete(two_factor::table.find(user_id)).execute(conn)?;
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn)?;
        diesel::insert_into(two_factor::table)
            .values((
                two_factor::user_id.eq(user_id),
                two_factor::secret.eq(secret),
                two_factor::enabled_at.eq(now),
                two_factor::last_step.eq(step),
            ))
            .execute(conn)?;
        let rows: Vec<_> = codes
            .iter()
            .map(|code| (recovery_codes::user_id.eq(user_id), recovery_codes::code_hash.eq(recovery_hash(code))))
            .collect();
        crate::per_backend!(conn, |c| diesel::insert_into(recovery_codes::table).values(&rows).execute(c))?;
        diesel::update(users::table.find(user_id)).set(users::two_factor_on.eq(true)).execute(conn)?;
        Ok(())
    })?;
    Ok(codes)
}

/// What the deletion ledger calls turning it off: a restored backup must not bring the
/// secret back (`ops::backup` replays it).
pub const LEDGER_KIND: &str = "two_factor";

/// Turns it off (`why` goes in the ledger: by the member, by an administrator): the
/// secret and the codes are deleted.
pub fn turn_off(conn: &mut DbConn, user_id: i64, why: &str) -> Result<(), DbError> {
    let now = crate::db::now();
    Ok(conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        erase(conn, user_id)?;
        record_erasure!(conn, user_id, LEDGER_KIND, why, now)?;
        Ok(())
    })?)
}

/// Deletes the secret and the codes (also when a restore replays the ledger).
pub fn erase(conn: &mut DbConn, user_id: i64) -> Result<(), diesel::result::Error> {
    diesel::delete(two_factor::table.find(user_id)).execute(conn)?;
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn)?;
    diesel::update(users::table.find(user_id)).set(users::two_factor_on.eq(false)).execute(conn)?;
    Ok(())
}

/// How a second step was passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passed {
    AppCode,
    RecoveryCode,
}

/// Checks a code typed at the second step: an app code newer than the last one used,
/// or an unused recovery code, which is then spent. One transaction.
pub fn check(conn: &mut DbConn, user_id: i64, code: &str, now: i64) -> Result<Option<Passed>, DbError> {
    Ok(conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        let Some((secret, last_step)) = two_factor::table
            .find(user_id)
            .select((two_factor::secret, two_factor::last_step))
            .first::<(String, i64)>(conn)
            .optional()?
        else {
            return Ok(None);
        };
        if let Some(step) = matching_step(&secret, code, now.max(0) as u64) {
            let step = step as i64;
            if step <= last_step {
                return Ok(None);
            }
            diesel::update(two_factor::table.find(user_id)).set(two_factor::last_step.eq(step)).execute(conn)?;
            return Ok(Some(Passed::AppCode));
        }
        let spent = diesel::update(
            recovery_codes::table
                .filter(recovery_codes::user_id.eq(user_id))
                .filter(recovery_codes::code_hash.eq(recovery_hash(code)))
                .filter(recovery_codes::used_at.is_null()),
        )
        .set(recovery_codes::used_at.eq(Some(now)))
        .execute(conn)?;
        Ok((spent == 1).then_some(Passed::RecoveryCode))
    })?)
}

/// The current code for a stored secret (for tests that play the authenticator app).
pub fn code_at(secret: &str, unix_seconds: u64) -> Option<String> {
    Some(totp(secret)?.generate(unix_seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_rfc_6238_and_allow_one_step_of_drift() {
        // RFC 6238's SHA-1 test key, "12345678901234567890", at T = 59 s: 94287082 (8
        // digits), so 287082 in six.
        let secret = match Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => unreachable!(),
        };
        assert_eq!(code_at(&secret, 59).as_deref(), Some("287082"));
        assert_eq!(matching_step(&secret, "287082", 59), Some(1));
        assert_eq!(matching_step(&secret, "287 082", 89), Some(1), "the step before, spaces ignored");
        assert_eq!(matching_step(&secret, "287082", 200), None, "too old");
        assert_eq!(matching_step(&secret, "000000", 59), None);
    }

    #[test]
    fn the_uri_and_qr_code_carry_the_secret_and_nothing_else() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32, "160 bits in base32");
        let uri = otpauth_uri("My Forum", "alice", &secret);
        assert!(uri.starts_with("otpauth://totp/My%20Forum:alice?secret="), "{uri}");
        assert!(uri.contains(&secret));
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<path d=\"M"), "{svg}");
    }

    #[test]
    fn recovery_codes_are_normalised_before_hashing() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 11);
        assert_eq!(recovery_hash(&code), recovery_hash(&format!(" {} ", code.to_uppercase().replace('-', ""))));
    }
}
