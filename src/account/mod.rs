//! The member's own data: "Your data", editing, e-mail links, newsletter consent,
//! export and deletion and the privacy-request form. (The privacy primitives they share with sign-in are `privacy`.)

pub mod deletion;
pub mod email;
pub mod export;
pub mod newsletter;
pub mod notification_choices;
pub mod policy_page;
pub mod privacy_request;
pub mod routes;
pub mod store;
