//! The forum itself: categories, topics, posts, likes, Markdown.

pub mod domain;
pub mod queries;
pub mod reading;
pub mod routes;
pub mod writing;
