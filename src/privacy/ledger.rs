//! The deletion ledger: every erasure (a whole account, or a value a member removed),
//! by account id and field name only. Restoring a backup replays it, so a backup can
//! never bring back what a member erased. A copy lives beside the backups, outside
//! the database, because the database itself is what a restore replaces.

use std::path::Path;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::deletion_ledger;
use crate::db::{DbConn, DbError};

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

impl Entry {
    /// The same erasure, whatever words its reason was recorded with.
    pub fn same_erasure(&self, other: &Entry) -> bool {
        (self.user_id, &self.erased, self.erased_at) == (other.user_id, &other.erased, other.erased_at)
    }

    fn with_category(mut self) -> Entry {
        if self.erased == "account" {
            self.reason = ErasureReason::from_ledger(&self.reason).as_str().to_string();
        }
        self
    }
}

pub fn entries(conn: &mut DbConn) -> Result<Vec<Entry>, DbError> {
    Ok(deletion_ledger::table
        .select((
            deletion_ledger::user_id,
            deletion_ledger::erased,
            deletion_ledger::reason,
            deletion_ledger::erased_at,
        ))
        .order(deletion_ledger::id)
        .load(conn)?)
}

/// Rewrites the copy beside the backups from the database's ledger (plus any entry
/// only the old copy has). Safe with any number of writers, in this process or others
/// (server instances, the `agora` command): they take turns on an exclusive lock on
/// `deletion-ledger.json.lock`, and each writes a private temporary file, syncs it and
/// renames it over the copy, so a reader sees the old file or the new one, never half.
/// A copy that does not parse is kept aside and replaced from the table.
pub fn write_file(conn: &mut DbConn, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let lock = std::fs::File::options().create(true).truncate(false).write(true).open(dir.join(LOCK_NAME))?;
    lock.lock()?;
    let mut all = match read_file(dir) {
        // Copies written before erasure categories were fixed may hold free text.
        Ok(entries) => entries.into_iter().map(Entry::with_category).collect::<Vec<_>>(),
        Err(error) => {
            let aside = dir.join(format!("{FILE_NAME}.unreadable-{}", crate::db::now()));
            tracing::error!(%error, aside = %aside.display(), "deletion ledger copy unreadable; rewriting it from the database");
            std::fs::rename(dir.join(FILE_NAME), aside)?;
            Vec::new()
        }
    };
    for entry in entries(conn)? {
        if !all.iter().any(|known| known.same_erasure(&entry)) {
            all.push(entry);
        }
    }
    replace(dir, &all)
}

/// Writes the copy from the database's ledger alone (`agora ledger rewrite`), for when
/// the copy is lost or damaged: the table holds every erasure, restores included.
pub fn rewrite_file(conn: &mut DbConn, dir: &Path) -> anyhow::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let lock = std::fs::File::options().create(true).truncate(false).write(true).open(dir.join(LOCK_NAME))?;
    lock.lock()?;
    let all = entries(conn)?;
    replace(dir, &all)?;
    Ok(all.len())
}

const LOCK_NAME: &str = "deletion-ledger.json.lock";

/// Atomically replaces the copy (the caller holds the lock).
fn replace(dir: &Path, all: &[Entry]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut suffix = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut suffix);
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let temporary = dir.join(format!("{FILE_NAME}.{}-{suffix}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(&serde_json::to_vec_pretty(all)?)?;
    file.sync_all()?;
    std::fs::rename(&temporary, dir.join(FILE_NAME))?;
    // The rename itself must reach the disk too.
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

pub fn read_file(dir: &Path) -> anyhow::Result<Vec<Entry>> {
    match std::fs::read(dir.join(FILE_NAME)) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// Why an account was erased, as the ledger and the audit log record it: a fixed
/// category, never free text (which could describe the person).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErasureReason {
    /// The member deleted their account.
    SelfService,
    /// Staff or the operator erased it: the member is under 13.
    Under13,
    /// Staff or the operator erased it for another reason.
    StaffOther,
}

impl ErasureReason {
    pub const STAFF_CHOICES: [ErasureReason; 2] = [ErasureReason::Under13, ErasureReason::StaffOther];

    pub fn as_str(self) -> &'static str {
        match self {
            ErasureReason::SelfService => "self-service",
            ErasureReason::Under13 => "under-13",
            ErasureReason::StaffOther => "staff-other",
        }
    }

    /// The category of a ledger entry, including those written before categories were
    /// fixed (their free text is not carried over).
    pub fn from_ledger(raw: &str) -> Self {
        match raw {
            "self-service" | "deleted by member" => ErasureReason::SelfService,
            "under-13" | "under 13" | "erased by staff: under 13" => ErasureReason::Under13,
            _ => ErasureReason::StaffOther,
        }
    }

    /// A staff member's or operator's choice (members delete through their own page).
    pub fn parse_staff_choice(raw: &str) -> Option<Self> {
        Self::STAFF_CHOICES.into_iter().find(|r| r.as_str() == raw.trim())
    }
}
