//! The member's own data and the privacy promises (the policy page; export and deletion join here).

pub mod policy;
