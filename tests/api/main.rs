//! Agora over HTTP, as a browser meets it, on SQLite and (when configured) PostgreSQL.

mod helpers;

mod accounts;
mod bad_input;
mod posting;
mod reading;
mod security;
