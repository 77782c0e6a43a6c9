//! Member-supplied values, parsed once at the edge: a handler that holds a `Username`
//! knows it is valid, so nothing deeper checks again.

/// 3–20 characters: letters, digits, `_` and `-`, starting with a letter or digit.
/// Unique without regard to case (`Alice` and `alice` are the same member).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MIN: usize = 3;
    pub const MAX: usize = 20;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        let length = name.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&length) {
            return Err(format!("A username is {} to {} characters long.", Self::MIN, Self::MAX));
        }
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err("A username may use only letters, digits, '_' and '-'.".into());
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err("A username starts with a letter or a digit.".into());
        }
        if name.eq_ignore_ascii_case("anonymous") {
            return Err("That username is reserved.".into());
        }
        Ok(Username(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key that uniqueness is checked on.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// An e-mail address, stored lower-cased so each address belongs to one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        let invalid = || "Enter an e-mail address such as name@example.org.".to_string();
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        // The mailer's own parser has the last word: an address it would refuse later
        // must be refused here, before anyone is told "we sent you a link".
        if email.parse::<lettre::Address>().is_err() {
            return Err(invalid());
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 10 to 128 characters, and not the username or e-mail itself.
/// Length beats composition rules (NIST SP 800-63B), so there are none of those.
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN: usize = 10;
    pub const MAX: usize = 128;

    pub fn parse(raw: &str, username: &str, email: &str) -> Result<Self, String> {
        let length = raw.chars().count();
        if length < Self::MIN {
            return Err(format!("Choose a password of at least {} characters.", Self::MIN));
        }
        if length > Self::MAX {
            return Err(format!("A password is at most {} characters.", Self::MAX));
        }
        let lowered = raw.to_lowercase();
        if lowered == username.to_lowercase() || lowered == email.to_lowercase() {
            return Err("Your password must not be your username or e-mail address.".into());
        }
        if COMMON_PASSWORDS.contains(&lowered.as_str()) {
            return Err("That password is one of the most common ones; choose another.".into());
        }
        Ok(NewPassword(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The most common passwords of at least ten characters in public breach lists.
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "0123456789",
    "qwertyuiop",
    "1q2w3e4r5t",
    "password12",
    "password123",
    "password1234",
    "iloveyou12",
    "qwerty1234",
    "1qaz2wsx3edc",
    "abcdefghij",
    "aaaaaaaaaa",
    "0000000000",
    "1111111111",
    "letmein123",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(Username::parse("alice_01").is_ok());
        assert_eq!(Username::parse("  Bob  ").unwrap().as_str(), "Bob");
        assert_eq!(Username::parse("Bob").unwrap().key(), "bob");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(21)).is_err());
        assert!(Username::parse("has space").is_err());
        assert!(Username::parse("_lead").is_err());
        assert!(Username::parse("Anonymous").is_err());
        assert!(Username::parse("élodie").is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(Email::parse(" Ann@Example.ORG ").unwrap().as_str(), "ann@example.org");
        for bad in [
            "",
            "plain",
            "a@b",
            "@example.org",
            "a@.org",
            "a b@example.org",
            "a@example..org",
            "a(b@example.org",
            "a\"b@example.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn passwords() {
        assert!(NewPassword::parse("correct horse battery", "ann", "ann@example.org").is_ok());
        assert!(NewPassword::parse("short", "ann", "a@example.org").is_err());
        assert!(NewPassword::parse("annabelle-x", "Annabelle-X", "a@example.org").is_err());
        assert!(NewPassword::parse("Password123", "ann", "a@example.org").is_err());
        assert!(NewPassword::parse(&"x".repeat(129), "ann", "a@example.org").is_err());
    }
}
