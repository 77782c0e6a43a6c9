//! Who you are: local accounts, passwords, sessions. (GitHub sign-in joins here.)

pub mod domain;
pub mod forms;
pub mod github;
pub mod password;
pub mod role;
pub mod routes;
pub mod sessions;
pub mod store;
pub mod visitor;
