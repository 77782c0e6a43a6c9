//! The forum itself: categories, topics, posts, likes, search, what each member has read.

pub mod blocks;
pub mod domain;
pub mod latest;
pub mod mentions;
pub mod notification_settings;
pub mod notifications;
pub mod page_cache;
pub mod page_read;
pub mod queries;
pub mod read_lists;
pub mod read_state;
pub mod reading;
pub mod rendering;
pub mod routes;
pub mod search;
pub mod search_page;
pub mod search_rank;
pub mod site_map;
pub mod watching;
pub mod writing;
