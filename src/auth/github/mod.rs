//! Sign in with GitHub (OAuth 2.0 with PKCE), keeping only what the policy names.

pub mod client;
pub mod routes;
pub mod signup;
pub mod store;
