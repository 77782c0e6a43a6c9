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
//! The same goes for a list's fixed flags: `.filter(not(topics::held))` is written into
//! the text, where `.filter(topics::held.eq(false))` would be a parameter the kept plan
//! cannot know (for the pinned topics, a generic plan read the whole table).

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

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
