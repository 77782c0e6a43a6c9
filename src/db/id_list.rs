//! Lists of ids in and out of one statement that each backend keeps prepared.
//!
//! In: `column IN (ids)`, for lists of ids that change from page to page (the topics on a
//! list page).
//!
//! diesel writes `eq_any` on SQLite as `IN (?, ?, …)`, one placeholder per id, and marks
//! such a statement never to be kept: SQLite parsed and planned the read marks' four-table
//! join on every member's list page. Here the ids are one bound value: a JSON array that
//! SQLite unpacks with `json_each`, an array PostgreSQL compares with `= ANY`.
//!
//! Out: [`id_list`] and [`id_pairs`], ids (the posts a member liked) or pairs of them (a
//! topic and a position in it) as one text value, so that a statement about one row (a
//! member's session) can bring a short list along instead of costing a statement, and on
//! PostgreSQL a round trip, of its own.

use std::collections::HashMap;

use diesel::backend::Backend;
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text};
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

/// `string_agg(a || ':' || b, ',')` over the rows it is selected from: `"12:5,13:7"`, or
/// NULL for no rows (the same SQL on both backends; SQLite has `string_agg` since 3.44).
/// Read back with [`parse_pairs`].
pub fn id_pairs<A, B>(a: A, b: B) -> IdPairs<A, B> {
    IdPairs { a, b }
}

/// The type of [`id_pairs`], under the name `#[diesel::dsl::auto_type]` looks for.
#[allow(non_camel_case_types)]
pub type id_pairs<A, B> = IdPairs<A, B>;

#[derive(Debug, Clone, Copy, QueryId)]
pub struct IdPairs<A, B> {
    a: A,
    b: B,
}

impl<A, B> Expression for IdPairs<A, B> {
    type SqlType = Nullable<Text>;
}

impl<DB: Backend, A: QueryFragment<DB>, B: QueryFragment<DB>> QueryFragment<DB> for IdPairs<A, B> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("string_agg(CAST(");
        self.a.walk_ast(out.reborrow())?;
        out.push_sql(" AS TEXT) || ':' || CAST(");
        self.b.walk_ast(out.reborrow())?;
        out.push_sql(" AS TEXT), ',')");
        Ok(())
    }
}

impl<A: AppearsOnTable<QS>, B: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for IdPairs<A, B> {}

impl<A: SelectableExpression<QS>, B: SelectableExpression<QS>, QS> SelectableExpression<QS> for IdPairs<A, B> {}

impl<A, B, GroupBy> ValidGrouping<GroupBy> for IdPairs<A, B> {
    type IsAggregate = is_aggregate::Yes;
}

/// `string_agg(a, ',')` over the rows it is selected from: `"12,13"`, or NULL for no
/// rows. Read back with [`parse_ids`].
pub fn id_list<A>(a: A) -> IdList<A> {
    IdList { a }
}

/// The type of [`id_list`], under the name `#[diesel::dsl::auto_type]` looks for.
#[allow(non_camel_case_types)]
pub type id_list<A> = IdList<A>;

#[derive(Debug, Clone, Copy, QueryId)]
pub struct IdList<A> {
    a: A,
}

impl<A> Expression for IdList<A> {
    type SqlType = Nullable<Text>;
}

impl<DB: Backend, A: QueryFragment<DB>> QueryFragment<DB> for IdList<A> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("string_agg(CAST(");
        self.a.walk_ast(out.reborrow())?;
        out.push_sql(" AS TEXT), ',')");
        Ok(())
    }
}

impl<A: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for IdList<A> {}

impl<A: SelectableExpression<QS>, QS> SelectableExpression<QS> for IdList<A> {}

impl<A, GroupBy> ValidGrouping<GroupBy> for IdList<A> {
    type IsAggregate = is_aggregate::Yes;
}

fn malformed(text: Option<&str>) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(format!("not a list of ids: {text:?}").into())
}

/// The ids [`id_list`] wrote. `None` (no rows) is none; text it did not write is an
/// error, not a guess.
pub fn parse_ids(text: Option<&str>) -> Result<Vec<i64>, diesel::result::Error> {
    let Some(list) = text else { return Ok(Vec::new()) };
    list.split(',').map(|id| id.parse().map_err(|_| malformed(text))).collect()
}

/// The pairs [`id_pairs`] wrote, by their first id. `None` (no rows) is no pairs; text it
/// did not write is an error, not a guess.
pub fn parse_pairs(text: Option<&str>) -> Result<HashMap<i64, i64>, diesel::result::Error> {
    let Some(list) = text else { return Ok(HashMap::new()) };
    list.split(',')
        .map(|pair| {
            let (a, b) = pair.split_once(':').ok_or_else(|| malformed(text))?;
            Ok((a.parse().map_err(|_| malformed(text))?, b.parse().map_err(|_| malformed(text))?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{parse_ids, parse_pairs};

    #[test]
    fn ids_read_back_as_written_and_nothing_else() {
        assert_eq!(parse_ids(Some("12,13,-1")).unwrap(), vec![12, 13, -1]);
        assert!(parse_ids(None).unwrap().is_empty());
        for bad in ["", "12,", "a", "1:2"] {
            assert!(parse_ids(Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pairs_read_back_as_written_and_nothing_else() {
        let pairs = parse_pairs(Some("12:5,13:-7")).unwrap();
        assert_eq!((pairs[&12], pairs[&13], pairs.len()), (5, -7, 2));
        assert!(parse_pairs(None).unwrap().is_empty());
        for bad in ["", "12", "12:", "a:1", "1:2,", "1:2:3"] {
            assert!(parse_pairs(Some(bad)).is_err(), "{bad:?}");
        }
    }
}
