//! `agora db copy --to postgres://…`: moves a SQLite community to an empty PostgreSQL
//! database when it outgrows one machine. The target gets this version's schema by its
//! migrations; every table's rows follow in one PostgreSQL transaction (all or
//! nothing), batch by batch as JSON (`json_populate_recordset`, as PostgreSQL backups
//! are restored); sequences are set past the copied ids, and each table's count is
//! checked against the source before it commits.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::{Database, DbConn};

/// Rows per batch.
const BATCH: i64 = 5000;

#[derive(Debug)]
pub struct Copied {
    /// Each table with the rows copied.
    pub tables: Vec<(String, i64)>,
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
}

#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = BigInt)]
    at: i64,
    #[diesel(sql_type = Text)]
    row: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The SQLite expression that gives a column's value as PostgreSQL's JSON input wants
/// it: booleans as `true`/`false` (SQLite stores 0 and 1), bytes as `\x…` hex.
fn json_value(column: &str, data_type: &str) -> String {
    match data_type {
        "boolean" => format!(
            "CASE WHEN \"{column}\" IS NULL THEN NULL WHEN \"{column}\" THEN json('true') ELSE json('false') END"
        ),
        "bytea" => format!("CASE WHEN \"{column}\" IS NULL THEN NULL ELSE '\\x' || hex(\"{column}\") END"),
        _ => format!("\"{column}\""),
    }
}

/// Copies every table of the SQLite `source` into the empty PostgreSQL database at
/// `target_url`. `progress` hears each table's name, rows done, and the rows in all.
pub fn to_postgres(source: &Database, target_url: &str, progress: &dyn Fn(&str, u64, u64)) -> anyhow::Result<Copied> {
    let mut from = source.get()?;
    let DbConn::Sqlite(from) = &mut *from else {
        anyhow::bail!("agora db copy copies a SQLite community (AGORA_DATABASE_URL=sqlite://…) to PostgreSQL");
    };
    if !(target_url.starts_with("postgres://") || target_url.starts_with("postgresql://")) {
        anyhow::bail!("--to must be a postgres:// URL");
    }
    let target = Database::connect(target_url, 1)?;
    target.migrate()?;
    let mut to = target.get()?;
    let DbConn::Postgres(to) = &mut *to else { unreachable!("a postgres URL opens PostgreSQL") };
    let members: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM users WHERE role <> 'system'").get_result(to)?;
    let written: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM posts").get_result(to)?;
    if members.n > 0 || written.n > 0 {
        anyhow::bail!(
            "the PostgreSQL database already holds {} members and {} posts: copy into an empty database",
            members.n,
            written.n
        );
    }
    let tables: Vec<&str> =
        crate::ops::backup::backed_up_tables().iter().copied().filter(|t| *t != "__diesel_schema_migrations").collect();
    let mut counts = Vec::with_capacity(tables.len());
    let mut total = 0u64;
    for table in &tables {
        let count: Count = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result(from)?;
        counts.push(count.n);
        total += count.n as u64;
    }
    let mut done = 0u64;
    let copied = to.transaction::<_, anyhow::Error, _>(|to| {
        to.batch_execute(&format!("TRUNCATE {} RESTART IDENTITY CASCADE", tables.join(", ")))?;
        let mut copied = Vec::with_capacity(tables.len());
        for (table, &expected) in tables.iter().zip(&counts) {
            let columns: Vec<Column> = diesel::sql_query(
                "SELECT column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind::<Text, _>(*table)
            .load(to)?;
            let object = columns
                .iter()
                .map(|c| format!("'{}', {}", c.column_name, json_value(&c.column_name, &c.data_type)))
                .collect::<Vec<_>>()
                .join(", ");
            // Keyset by rowid: each batch starts where the last ended (no OFFSET).
            let select = format!(
                "SELECT rowid AS at, json_object({object}) AS row FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT {BATCH}"
            );
            let mut after = i64::MIN;
            loop {
                let rows: Vec<JsonRow> = diesel::sql_query(select.clone()).bind::<BigInt, _>(after).load(from)?;
                let Some(last) = rows.last().map(|r| r.at) else { break };
                let json = format!("[{}]", rows.iter().map(|r| r.row.as_str()).collect::<Vec<_>>().join(","));
                diesel::sql_query(format!(
                    "INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, $1::json)"
                ))
                .bind::<Text, _>(json)
                .execute(to)?;
                done += rows.len() as u64;
                progress(table, done, total);
                after = last;
            }
            let there: Count = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result(to)?;
            if there.n != expected {
                anyhow::bail!("{table}: {expected} rows in SQLite but {} copied; nothing was kept", there.n);
            }
            copied.push((table.to_string(), expected));
        }
        for table in crate::ops::backup::identity_tables() {
            to.batch_execute(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ))?;
        }
        Ok(copied)
    })?;
    to.batch_execute("ANALYZE")?;
    Ok(Copied { tables: copied })
}
