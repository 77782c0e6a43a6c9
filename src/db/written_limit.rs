//! `LIMIT n` written into a statement's text instead of bound as a parameter, for the
//! hot lists whose page size never changes.
//!
//! diesel binds every `.limit(n)`. PostgreSQL plans a prepared statement for the values
//! at hand until its one generic plan looks no costlier, and it costs a generic
//! `LIMIT $n` as a tenth of the table: so a list statement was planned afresh on every
//! execution, 0.6 ms of planning for 0.15 ms of work on Latest's four-table join (server
//! log durations of bind against execute). With the number in the text, the generic plan
//! costs what the custom ones do and PostgreSQL keeps it after five executions. It still
//! compares the two, so a statement whose values matter (a small category, a rare flag)
//! keeps being planned for its values. SQLite gains nothing and loses nothing.
//!
//! The same goes for a list's fixed flags: `topics::held.eq(written(false))` is
//! `held = FALSE` in the text, where `.eq(false)` would be a parameter the kept plan cannot
//! know (for the pinned topics, a generic plan read the whole table). An equality, not
//! `NOT held`: SQLite uses only equalities to enter a many-column index such as
//! `topics_by_activity (category_id, pinned, …)` (`NOT pinned` made a category page
//! scan the category, 60 req/s).

use diesel::backend::Backend;
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::Bool;
use diesel::{QueryResult, RunQueryDsl};

/// `TRUE` or `FALSE` written into the statement's text. (diesel's `sql("FALSE")` would
/// do it too, but marks the statement as one never to prepare and keep.)
pub fn written(value: bool) -> Written {
    Written(value)
}

#[derive(Debug, Clone, Copy)]
pub struct Written(bool);

impl Expression for Written {
    type SqlType = Bool;
}

impl<DB: Backend> QueryFragment<DB> for Written {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(if self.0 { "TRUE" } else { "FALSE" });
        Ok(())
    }
}

impl QueryId for Written {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<QS> AppearsOnTable<QS> for Written {}

impl<QS> SelectableExpression<QS> for Written {}

impl<GroupBy> ValidGrouping<GroupBy> for Written {
    type IsAggregate = is_aggregate::Never;
}

/// `query` followed by ` LIMIT limit`. The query must have no `LIMIT`, `OFFSET` or
/// locking clause of its own.
pub fn written_limit<Q>(query: Q, limit: i64) -> WrittenLimit<Q> {
    WrittenLimit { query, limit }
}

#[derive(Debug, Clone)]
pub struct WrittenLimit<Q> {
    query: Q,
    limit: i64,
}

// The limit is part of the text, so the statement cache must key on the text, never on
// the type alone (two limits, one type).
impl<Q> QueryId for WrittenLimit<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for WrittenLimit<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, DB> QueryFragment<DB> for WrittenLimit<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(&format!(" LIMIT {}", self.limit));
        Ok(())
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for WrittenLimit<Q> {}
