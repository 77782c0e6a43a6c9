//! What sign-in and the member's own data both need, below both: the privacy policy and
//! its versions, newsletter consent, e-mail link tokens, the words of every mail, the deletion
//! ledger and what follows an erasure, and the registry of personal data.

pub mod consent;
pub mod erasure;
pub mod ledger;
pub mod mails;
pub mod policy;
pub mod registry;
pub mod requests;
pub mod tokens;
