//! Members talking to each other: public profiles and pictures, notifications and the
//! mail they send, blocking. (Mentions, quotes and watching are stored by `forum`, in the
//! transaction of the post.)

pub mod blocking;
pub mod mailing;
pub mod notifications;
pub mod profiles;
pub mod profiles_store;
