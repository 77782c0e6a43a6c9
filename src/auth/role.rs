//! What a member may do on the forum, stored as text in `users.role`.

use std::fmt;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;

#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum Role {
    Member,
    Moderator,
    Admin,
    /// The shared Anonymous account that deleted members' posts belong to: nobody signs
    /// in as it, and member lists and commands never show it.
    System,
}

impl Role {
    /// The roles staff can give (the system account's is not one).
    pub const ASSIGNABLE: [Role; 3] = [Role::Member, Role::Moderator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
            Role::System => "system",
        }
    }

    /// A role staff or the command line may give, from its name.
    pub fn parse_assignable(raw: &str) -> Option<Role> {
        Role::ASSIGNABLE.into_iter().find(|r| r.as_str() == raw.trim())
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

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<DB> FromSql<Text, DB> for Role
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let text = String::from_sql(bytes)?;
        match text.as_str() {
            "system" => Ok(Role::System),
            other => Role::parse_assignable(other).ok_or_else(|| format!("unknown role {other:?}").into()),
        }
    }
}

impl ToSql<Text, Sqlite> for Role {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.as_str());
        Ok(IsNull::No)
    }
}

impl ToSql<Text, Pg> for Role {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(self.as_str(), &mut out.reborrow())
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
        assert_eq!(Role::Admin.to_string(), "admin");
    }
}
