//! The member's own data and the privacy promises: the policy page and "Your data".

pub mod policy;
pub mod routes;
pub mod store;
