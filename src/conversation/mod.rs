//! Members talking to each other: public profiles and pictures (and, as they come,
//! notifications, mentions, quotes and watching).

pub mod notifications;
pub mod profiles;
pub mod profiles_store;
