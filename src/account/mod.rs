//! The member's own data and the privacy promises: "Your data", editing, e-mail
//! links, newsletter consent, export, deletion, the ledger, the policy itself.

pub mod deletion;
pub mod email;
pub mod erasure;
pub mod export;
pub mod ledger;
pub mod mails;
pub mod newsletter;
pub mod policy;
pub mod registry;
pub mod routes;
pub mod store;
pub mod tokens;
