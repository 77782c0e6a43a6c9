//! A subquery that yields one value, without diesel's `LIMIT 1`.
//!
//! A member's statement brings their page's own answers along as subqueries, each of them
//! one row at most by construction: an aggregate (`COUNT(*)`, `string_agg`) or a lookup
//! by primary key. diesel's `single_value()` adds `LIMIT $n` to each, and on PostgreSQL
//! every LIMIT is a plan node to start and a parameter to bind on every execution. The
//! members' topic statement without them (and without the outer one: a token names one
//! session) ran 6% more often a second (pgbench, prepared, two clients), and PostgreSQL's
//! members' topic page went from 14,800 to 15,400 pages a second (A/B, three runs each).
//! SQLite needs no LIMIT either.
//!
//! Only for subqueries that cannot return two rows: PostgreSQL refuses a scalar subquery
//! that does, where `LIMIT 1` would have hidden it.

use diesel::expression::{is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId, SelectQuery};
use diesel::sql_types::IntoNullable;
use diesel::QueryResult;

/// `(query)` as a value: NULL when it finds no row.
pub fn one_value<Q>(query: Q) -> OneValue<Q> {
    OneValue { query }
}

/// The type of [`one_value`], under the name `#[diesel::dsl::auto_type]` looks for.
#[allow(non_camel_case_types)]
pub type one_value<Q> = OneValue<Q>;

#[derive(Debug, Clone, Copy, QueryId)]
pub struct OneValue<Q> {
    query: Q,
}

impl<Q> Expression for OneValue<Q>
where
    Q: SelectQuery,
    Q::SqlType: IntoNullable,
    <Q::SqlType as IntoNullable>::Nullable: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType,
{
    type SqlType = <Q::SqlType as IntoNullable>::Nullable;
}

impl<DB: diesel::backend::Backend, Q: QueryFragment<DB>> QueryFragment<DB> for OneValue<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("(");
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

// A subquery may name the outer statement's columns (`users.id`), which diesel checks for
// its own subselects with a trait it keeps private; here the tests are the check.
impl<Q, QS> AppearsOnTable<QS> for OneValue<Q> where OneValue<Q>: Expression {}

impl<Q, QS> SelectableExpression<QS> for OneValue<Q> where OneValue<Q>: Expression {}

impl<Q, GroupBy> ValidGrouping<GroupBy> for OneValue<Q> {
    type IsAggregate = is_aggregate::Never;
}

#[cfg(test)]
mod tests {
    use diesel::pg::Pg;
    use diesel::prelude::*;
    use diesel::sqlite::Sqlite;

    use super::one_value;
    use crate::db::schema::{notifications, users};

    #[test]
    fn a_one_value_subquery_has_no_limit_on_either_backend() {
        let unread = one_value(
            notifications::table.filter(notifications::user_id.eq(users::id)).select(diesel::dsl::count_star()),
        );
        let query = users::table.select((users::id, unread));
        for sql in
            [diesel::debug_query::<Pg, _>(&query).to_string(), diesel::debug_query::<Sqlite, _>(&query).to_string()]
        {
            assert!(sql.contains("(SELECT COUNT(*) FROM "), "{sql}");
            assert!(!sql.contains("LIMIT"), "{sql}");
        }
    }
}
