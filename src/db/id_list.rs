//! `column IN (ids)` as a statement each backend keeps prepared, for lists of ids that
//! change from page to page (the topics on a list page).
//!
//! diesel writes `eq_any` on SQLite as `IN (?, ?, …)`, one placeholder per id, and marks
//! such a statement never to be kept: SQLite parsed and planned the read marks' four-table
//! join on every member's list page. Here the ids are one bound value: a JSON array that
//! SQLite unpacks with `json_each`, an array PostgreSQL compares with `= ANY`.

use diesel::expression::{is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Text};
use diesel::sqlite::Sqlite;
use diesel::QueryResult;

/// `column IN (ids)`, with the ids bound as one value.
pub fn in_ids<C>(column: C, ids: &[i64]) -> InIds<C> {
    let json = format!("[{}]", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
    InIds { column, ids: ids.to_vec(), json }
}

#[derive(Debug, Clone)]
pub struct InIds<C> {
    column: C,
    ids: Vec<i64>,
    /// The same ids as a JSON array, for SQLite.
    json: String,
}

impl<C: Expression> Expression for InIds<C> {
    type SqlType = Bool;
}

impl<C: QueryFragment<Sqlite>> QueryFragment<Sqlite> for InIds<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.json)?;
        out.push_sql("))");
        Ok(())
    }
}

impl<C: QueryFragment<Pg>> QueryFragment<Pg> for InIds<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" = ANY(");
        out.push_bind_param::<Array<BigInt>, _>(&self.ids)?;
        out.push_sql(")");
        Ok(())
    }
}

// The statement's text does not depend on the ids, so the column's type is its identity.
impl<C: QueryId> QueryId for InIds<C> {
    type QueryId = InIds<C::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = C::HAS_STATIC_QUERY_ID;
}

impl<C: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for InIds<C> {}

impl<C: SelectableExpression<QS>, QS> SelectableExpression<QS> for InIds<C> {}

impl<C, GroupBy> ValidGrouping<GroupBy> for InIds<C> {
    type IsAggregate = is_aggregate::Never;
}
