//! The forum itself: categories, topics, posts, likes, search.

pub mod domain;
pub mod latest;
pub mod queries;
pub mod reading;
pub mod routes;
pub mod search;
pub mod search_page;
pub mod writing;
