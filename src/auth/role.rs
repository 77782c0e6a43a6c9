//! What a member may do on the forum, stored as text in `users.role`.

crate::text_enum! {
    pub enum Role {
        Member => "member",
        Moderator => "moderator",
        Admin => "admin",
        /// The shared Anonymous account that deleted members' posts belong to: nobody signs
        /// in as it, and member lists and commands never show it.
        System => "system",
    }
}

impl Role {
    /// The roles staff can give (the system account's is not one).
    pub const ASSIGNABLE: [Role; 3] = [Role::Member, Role::Moderator, Role::Admin];

    /// A role staff or the command line may give, from its name.
    pub fn parse_assignable(raw: &str) -> Option<Role> {
        Role::parse(raw).filter(|role| *role != Role::System)
    }

    pub fn is_staff(self) -> bool {
        matches!(self, Role::Moderator | Role::Admin)
    }

    /// Who may act on whom: admins on moderators and members, moderators on members only.
    pub fn outranks(self, other: Role) -> bool {
        fn rank(role: Role) -> u8 {
            match role {
                Role::Admin => 2,
                Role::Moderator => 1,
                Role::Member | Role::System => 0,
            }
        }
        rank(self) > rank(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_and_names() {
        assert!(Role::Admin.outranks(Role::Moderator) && Role::Moderator.outranks(Role::Member));
        assert!(!Role::Moderator.outranks(Role::Moderator) && !Role::Moderator.outranks(Role::Admin));
        assert_eq!(Role::parse_assignable("moderator"), Some(Role::Moderator));
        assert_eq!(Role::parse_assignable("system"), None, "nobody is made the system account");
        assert_eq!(Role::parse("system"), Some(Role::System));
        assert_eq!(Role::Admin.to_string(), "admin");
    }
}
