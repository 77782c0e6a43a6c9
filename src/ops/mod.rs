//! The operator's tasks: backups that honour deletions, and the daily maintenance.

pub mod backup;
pub mod copy;
pub mod health;
pub mod maintenance;
pub mod rewrite;
pub mod seed;
