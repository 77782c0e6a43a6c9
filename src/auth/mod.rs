//! Who you are: local accounts, passwords, sessions. (GitHub sign-in joins here.)

pub mod accounts;
pub mod domain;
pub mod error_pages;
pub mod forms;
pub mod github;
pub mod password;
pub mod proof;
pub mod role;
pub mod routes;
pub mod sessions;
pub mod two_factor;
pub mod two_factor_routes;
pub mod visitor;
