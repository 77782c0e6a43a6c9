//! Running the place: roles, flags, post/topic/member moderation, IP lookup,
//! privacy requests, categories and the audit log, under `/admin`.

pub mod audit;
pub mod review;
pub mod routes;
pub mod store;
