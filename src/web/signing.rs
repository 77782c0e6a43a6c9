//! Links that prove themselves: an HMAC-SHA256 over what the link is for, with the
//! forum's shared key. Used where a member acts without signing in (unsubscribe).

use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl Signer {
    pub fn new(key: Vec<u8>) -> Self {
        Signer { key }
    }

    fn mac(&self, message: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(message.as_bytes());
        mac
    }

    pub fn sign(&self, message: &str) -> String {
        self.mac(message).finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Constant-time check of a signature made by `sign`.
    pub fn verify(&self, message: &str, signature: &str) -> bool {
        let Some(bytes) = decode_hex(signature) else { return false };
        self.mac(message).verify_slice(&bytes).is_ok()
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::Signer;

    #[test]
    fn signatures_verify_only_for_their_message_and_key() {
        let signer = Signer::new(b"key one".to_vec());
        let signature = signer.sign("unsubscribe:42");
        assert!(signer.verify("unsubscribe:42", &signature));
        assert!(!signer.verify("unsubscribe:43", &signature));
        assert!(!Signer::new(b"key two".to_vec()).verify("unsubscribe:42", &signature));
        assert!(!signer.verify("unsubscribe:42", "zz"));
    }
}
