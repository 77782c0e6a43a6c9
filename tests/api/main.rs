//! Agora over HTTP, as a browser meets it, on SQLite and (when configured) PostgreSQL.

pub mod fake_github;
mod helpers;

mod abuse;
mod accounts;
mod bad_input;
mod conversation;
mod deletion;
mod everywhere;
mod finish;
mod github;
mod holes;
mod latest;
mod moderation;
mod notification_mail;
mod operations;
mod page_cache;
mod policy_truth;
mod posting;
mod privacy;
mod profiles;
mod read_state;
mod reading;
mod restores;
mod search;
mod second_review;
mod security;
mod site_settings;
mod staff_pages;
mod two_factor;
