//! The database: one pool over SQLite or PostgreSQL, chosen by the URL's scheme.
//!
//! Queries are written once and compiled for both backends by [`with_conn!`]: each
//! area's `queries.rs` wraps its diesel code in it, so the same statement runs on
//! whichever connection the pool hands out.

pub mod schema;
pub mod settings;
pub mod text_enum;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A pooled connection to whichever backend is configured.
pub enum DbConn {
    Sqlite(PooledConnection<ConnectionManager<SqliteConnection>>),
    Postgres(PooledConnection<ConnectionManager<PgConnection>>),
}

impl DbConn {
    /// Runs several store functions as one transaction: all of their writes, or none.
    /// (Their own transactions become savepoints inside it.) On SQLite the write lock
    /// is taken at the start, so two writers queue instead of failing halfway.
    pub fn in_transaction<T, E>(&mut self, work: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DbError>,
    {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        let begun = match self {
            DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(&mut **c, "BEGIN IMMEDIATE"),
            DbConn::Postgres(c) => AnsiTransactionManager::begin_transaction(&mut **c),
        };
        begun.map_err(|e| E::from(DbError::Query(e)))?;
        let outcome = work(self);
        let finished = match (&outcome, &mut *self) {
            (Ok(_), DbConn::Sqlite(c)) => AnsiTransactionManager::commit_transaction(&mut **c),
            (Ok(_), DbConn::Postgres(c)) => AnsiTransactionManager::commit_transaction(&mut **c),
            (Err(_), DbConn::Sqlite(c)) => AnsiTransactionManager::rollback_transaction(&mut **c),
            (Err(_), DbConn::Postgres(c)) => AnsiTransactionManager::rollback_transaction(&mut **c),
        };
        match (outcome, finished) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(e)) => Err(E::from(DbError::Query(e))),
            (Err(e), _) => Err(e),
        }
    }
}

/// Write transactions on a concrete connection. On SQLite a deferred `BEGIN` takes the
/// write lock only at the first write, and if another writer got there first SQLite
/// answers "database is locked" at once instead of waiting: every write transaction
/// therefore starts with `BEGIN IMMEDIATE`, so writers queue on the busy timeout.
/// Inside an outer transaction it becomes a savepoint, as `transaction` does.
pub trait WriteTransaction: Connection {
    fn write_transaction<T, E, F>(&mut self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut Self) -> Result<T, E>,
        E: From<diesel::result::Error>;
}

impl WriteTransaction for SqliteConnection {
    fn write_transaction<T, E, F>(&mut self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut Self) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        let depth = AnsiTransactionManager::transaction_manager_status_mut(self).transaction_depth()?;
        if depth.is_some() {
            self.transaction(work)
        } else {
            self.immediate_transaction(work)
        }
    }
}

impl WriteTransaction for PgConnection {
    fn write_transaction<T, E, F>(&mut self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut Self) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        self.transaction(work)
    }
}

/// Runs `$body` with `$c` bound to the concrete connection, compiling it once per backend.
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => {
                let $c: &mut ::diesel::SqliteConnection = &mut *$c;
                $body
            }
            $crate::db::DbConn::Postgres($c) => {
                let $c: &mut ::diesel::PgConnection = &mut *$c;
                $body
            }
        }
    };
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database query failed")]
    Query(#[from] diesel::result::Error),
    #[error("cannot open the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("no database connection available")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("the database worker stopped")]
    Blocking,
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
}

impl DbError {
    /// True when a UNIQUE constraint refused the write (a race two requests both lost
    /// the pre-check for, e.g. the same username registered twice at once).
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
        )
    }
}

#[derive(Clone)]
pub enum Database {
    Sqlite(Pool<ConnectionManager<SqliteConnection>>),
    Postgres(Pool<ConnectionManager<PgConnection>>),
}

/// Every SQLite connection: foreign keys enforced, a busy timeout instead of an instant
/// "database is locked", and secure_delete, so erased personal data is overwritten in the
/// file rather than left in free pages. (Write-ahead logging is set once, on the file.)
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;")
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

impl Database {
    pub fn connect(url: &str, pool_size: u32) -> Result<Self, DbError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            // WAL lets readers go on while one member writes. The mode is stored in the
            // file, and switching needs the file to itself: do it before the pool opens.
            SqliteConnection::establish(path)?.batch_execute("PRAGMA journal_mode = WAL")?;
            let pool = Pool::builder()
                .max_size(pool_size.max(1))
                .connection_timeout(Duration::from_secs(10))
                .connection_customizer(Box::new(SqlitePragmas))
                .build(ConnectionManager::<SqliteConnection>::new(path))?;
            Ok(Database::Sqlite(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = Pool::builder()
                .max_size(pool_size.max(1))
                .connection_timeout(Duration::from_secs(10))
                .build(ConnectionManager::<PgConnection>::new(url))?;
            Ok(Database::Postgres(pool))
        } else {
            Err(DbError::UnsupportedUrl(url.to_string()))
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }

    /// A connection for synchronous work (start-up, the command line).
    pub fn get(&self) -> Result<DbConn, DbError> {
        Ok(match self {
            Database::Sqlite(pool) => DbConn::Sqlite(pool.get()?),
            Database::Postgres(pool) => DbConn::Postgres(pool.get()?),
        })
    }

    /// Applies pending migrations. On PostgreSQL an advisory lock makes instances
    /// that start together take turns instead of racing on the same migration.
    pub fn migrate(&self) -> Result<usize, DbError> {
        let migration_error = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
        match self.get()? {
            DbConn::Sqlite(mut conn) => {
                let applied = conn.run_pending_migrations(SQLITE_MIGRATIONS).map_err(migration_error)?;
                Ok(applied.len())
            }
            DbConn::Postgres(mut conn) => {
                conn.batch_execute("SELECT pg_advisory_lock(4242001)")?;
                let result = conn.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len());
                conn.batch_execute("SELECT pg_advisory_unlock(4242001)")?;
                result.map_err(migration_error)
            }
        }
    }

    /// After an erasure commits: on SQLite, copies the write-ahead log into the main file
    /// (where `secure_delete` overwrites freed pages) and truncates the log to nothing, so
    /// the erased rows' old versions do not linger in `-wal`. Nothing to do on PostgreSQL,
    /// whose files Agora does not manage (see the README).
    pub fn checkpoint_after_erasure(&self) -> Result<(), DbError> {
        if let DbConn::Sqlite(mut conn) = self.get()? {
            conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")?;
        }
        Ok(())
    }

    /// Runs blocking diesel work on actix's thread pool, off the async executor.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || {
            let mut conn = db.get()?;
            work(&mut conn)
        })
        .await
        .map_err(|_| E::from(DbError::Blocking))?
    }
}

/// Now, as Unix seconds: the unit every timestamp column uses.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
