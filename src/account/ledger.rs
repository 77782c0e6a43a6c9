//! The deletion ledger: every erasure (a whole account, or a value a member removed),
//! by account id and field name only. Restoring a backup replays it, so a backup can
//! never bring back what a member erased. A copy lives beside the backups, outside
//! the database, because the database itself is what a restore replaces.

use std::path::Path;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::deletion_ledger;
use crate::db::{DbConn, DbError};
use crate::with_conn;

pub const FILE_NAME: &str = "deletion-ledger.json";

/// Adds a ledger row inside the caller's transaction (`$c` is a concrete connection).
#[macro_export]
macro_rules! record_erasure {
    ($c:expr, $user_id:expr, $erased:expr, $reason:expr, $now:expr) => {
        ::diesel::insert_into($crate::db::schema::deletion_ledger::table)
            .values((
                $crate::db::schema::deletion_ledger::user_id.eq($user_id),
                $crate::db::schema::deletion_ledger::erased.eq($erased),
                $crate::db::schema::deletion_ledger::reason.eq($reason),
                $crate::db::schema::deletion_ledger::erased_at.eq($now),
            ))
            .execute($c)
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Queryable)]
pub struct Entry {
    pub user_id: i64,
    /// `account`, or the field that was removed (`first_name`, `avatar`, …).
    pub erased: String,
    pub reason: String,
    pub erased_at: i64,
}

pub fn entries(conn: &mut DbConn) -> Result<Vec<Entry>, DbError> {
    Ok(with_conn!(conn, |c| deletion_ledger::table
        .select((
            deletion_ledger::user_id,
            deletion_ledger::erased,
            deletion_ledger::reason,
            deletion_ledger::erased_at
        ))
        .order(deletion_ledger::id)
        .load(c))?)
}

/// Rewrites the copy beside the backups from the database's ledger.
pub fn write_file(conn: &mut DbConn, dir: &Path) -> anyhow::Result<()> {
    let mut all = read_file(dir)?;
    for entry in entries(conn)? {
        if !all.contains(&entry) {
            all.push(entry);
        }
    }
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!("{FILE_NAME}.tmp"));
    std::fs::write(&temporary, serde_json::to_vec_pretty(&all)?)?;
    std::fs::rename(temporary, dir.join(FILE_NAME))?;
    Ok(())
}

pub fn read_file(dir: &Path) -> anyhow::Result<Vec<Entry>> {
    match std::fs::read(dir.join(FILE_NAME)) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}
