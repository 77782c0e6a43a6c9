//! The database: one pool over SQLite or PostgreSQL, chosen by the URL's scheme.
//!
//! Queries are written once, against [`DbConn`], and run on whichever backend the pool
//! was opened for.

pub mod id_list;
pub mod one_value;
pub mod schema;
pub mod settings;
pub mod text_enum;
pub mod written_limit;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to whichever backend is configured. diesel's `MultiConnection` makes it
/// a connection in its own right: a query is written and compiled once, and runs on
/// either backend. Only SQL that really differs (`ON CONFLICT`, pragmas, backups) looks
/// inside, with [`per_backend!`] or a `match`.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl DbConn {
    /// Runs `work` as one write transaction: all of its writes, or none. Inside an outer
    /// transaction it becomes a savepoint. On SQLite a deferred `BEGIN` takes the write
    /// lock only at the first write, and if another writer got there first SQLite answers
    /// "database is locked" at once instead of waiting: the outermost write transaction
    /// therefore starts with `BEGIN IMMEDIATE`, so writers queue on the busy timeout.
    pub fn write_transaction<T, E, F>(&mut self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        let DbConn::Sqlite(sqlite) = self else {
            return self.transaction(work);
        };
        if AnsiTransactionManager::transaction_manager_status_mut(sqlite).transaction_depth()?.is_some() {
            return self.transaction(work);
        }
        AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
        let outcome = work(self);
        let DbConn::Sqlite(sqlite) = self else { unreachable!("the backend does not change") };
        match outcome {
            Ok(value) => {
                if let Err(e) = AnsiTransactionManager::commit_transaction(sqlite) {
                    // A failed COMMIT leaves the transaction open on SQLite: end it.
                    let _ = AnsiTransactionManager::rollback_transaction(sqlite);
                    return Err(E::from(e));
                }
                Ok(value)
            }
            Err(e) => {
                AnsiTransactionManager::rollback_transaction(sqlite)?;
                Err(e)
            }
        }
    }
}

/// Runs `$body` with `$c` bound to the concrete connection, compiled once per backend:
/// only for the few statements diesel cannot express for both at once (`ON CONFLICT`).
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Postgres($c) => $body,
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

impl DbError {
    /// The database cannot be reached (down, restarting, the network): the page says so
    /// with a 503, and the pool reconnects by itself when it is back.
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            DbError::Pool(_) | DbError::Connect(_) => true,
            DbError::Query(Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)) => true,
            DbError::Query(Error::DatabaseError(DatabaseErrorKind::Unknown, info)) => {
                let message = info.message();
                message.contains("server closed the connection")
                    || message.contains("terminating connection")
                    || message.contains("no connection to the server")
            }
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The pool. Each connection is opened for the backend the URL named, so a PostgreSQL
/// URL never becomes an SQLite file of that name.
#[derive(Clone)]
pub struct Database {
    pool: Pool<Manager>,
    backend: Backend,
}

#[derive(Debug)]
pub struct Manager {
    backend: Backend,
    target: String,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        let opened = match self.backend {
            Backend::Sqlite => SqliteConnection::establish(&self.target).map(DbConn::Sqlite),
            Backend::Postgres => PgConnection::establish(&self.target).map(DbConn::Postgres),
        };
        opened.map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Whether `conn` still reaches its server (a ping). One that does not is marked broken,
/// so the pool drops it when it comes back instead of handing it out again: diesel marks
/// a PostgreSQL connection broken after some failures on a closed socket but not all
/// (not when preparing a statement fails).
fn answers(conn: &mut DbConn) -> Result<(), diesel::result::Error> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let answered = conn.ping();
    if answered.is_err() {
        per_backend!(conn, |c| AnsiTransactionManager::transaction_manager_status_mut(c).set_in_error());
    }
    answered
}

/// Every SQLite connection: foreign keys enforced, a busy timeout instead of an instant
/// "database is locked", and secure_delete, so erased personal data is overwritten in the
/// file rather than left in free pages. (Write-ahead logging is set once, on the file.)
///
/// Every PostgreSQL connection plans without Memoize nodes: Agora's joins look up at
/// most a page of rows by primary key, where the memo's hash table costs more than it
/// saves (Latest's statement: 0.229 ms with them, 0.186 ms without, pgbench, 1M posts).
#[derive(Debug)]
struct ConnectionSettings;

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for ConnectionSettings {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        let settings = match conn {
            DbConn::Sqlite(_) => "PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;",
            DbConn::Postgres(_) => "SET enable_memoize = off",
        };
        conn.batch_execute(settings).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Bytes SQLite aims to stay under, across every connection (see `Database::connect`).
/// 12 MB: under 32 new searches at once the server peaked at 71-74 MB instead of 84-86
/// with 24 MB, and neither searches nor members' pages got slower (measured, A/B).
const SQLITE_HEAP_LIMIT: i64 = 12 * 1024 * 1024;

impl Database {
    pub fn connect(url: &str, pool_size: u32) -> Result<Self, DbError> {
        let (backend, target) = if let Some(path) = url.strip_prefix("sqlite://") {
            // WAL lets readers go on while one member writes. The mode is stored in the
            // file, and switching needs the file to itself: do it before the pool opens.
            //
            // The soft heap limit is for the whole process: past it SQLite gives back
            // cached pages before it takes more, so ten connections' caches and a few
            // searches' index reads cannot grow the server's memory without bound
            // (measured: 153 MB under 32 concurrent searches without it).
            SqliteConnection::establish(path)?
                .batch_execute(&format!("PRAGMA journal_mode = WAL; PRAGMA soft_heap_limit = {SQLITE_HEAP_LIMIT};"))?;
            (Backend::Sqlite, path)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url)
        } else {
            return Err(DbError::UnsupportedUrl(url.to_string()));
        };
        let pool = Pool::builder()
            .max_size(pool_size.max(1))
            // `get` pings before writes; reads retry instead (`read_unchecked`).
            .test_on_check_out(false)
            // A database that does not answer makes pages answer 503 after this long,
            // not hang (see `DbError::is_unavailable`).
            .connection_timeout(Duration::from_secs(3))
            .connection_customizer(Box::new(ConnectionSettings))
            .build(Manager { backend, target: target.to_string() })?;
        Ok(Database { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// Connections (in use, open and idle), for `/metrics`.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections - state.idle_connections, state.idle_connections)
    }

    /// A connection that has just answered the server (a ping), for writes and for
    /// synchronous work (start-up, the command line). One the server closed since it was
    /// last used (a restart, a failover) fails the ping, is dropped by the pool (see
    /// `Manager::has_broken`), and the next is tried.
    pub fn get(&self) -> Result<PooledConnection<Manager>, DbError> {
        let mut tries = self.pool.max_size() + 1;
        loop {
            let mut conn = self.pool.get()?;
            match answers(&mut conn) {
                Ok(()) => return Ok(conn),
                // The last refusal itself: a closed connection is a 503, like the pool's.
                Err(refused) if tries == 1 => return Err(refused.into()),
                Err(_) => tries -= 1,
            }
        }
    }

    /// Runs read-only `work` on a pooled connection without pinging it first: the ping
    /// was a round trip per checkout, two or three per page on PostgreSQL (13% of the
    /// home page's throughput, 40% of a cached topic page's). A connection the server
    /// closed fails at once; if it then fails a ping too, it leaves the pool and the work
    /// runs again on the next. A read is safe to run twice.
    fn read_unchecked<T, E>(&self, work: impl Fn(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DbError>,
    {
        let mut tries = self.pool.max_size() + 1;
        loop {
            let mut conn = self.pool.get().map_err(DbError::from)?;
            let outcome = work(&mut conn);
            if outcome.is_err() && tries > 1 && answers(&mut conn).is_err() {
                tries -= 1;
                continue;
            }
            return outcome;
        }
    }

    /// Applies pending migrations. On PostgreSQL an advisory lock makes instances
    /// that start together take turns instead of racing on the same migration.
    pub fn migrate(&self) -> Result<usize, DbError> {
        let migration_error = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
        match &mut *self.get()? {
            DbConn::Sqlite(conn) => {
                let applied = conn.run_pending_migrations(SQLITE_MIGRATIONS).map_err(migration_error)?;
                Ok(applied.len())
            }
            DbConn::Postgres(conn) => {
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
        if let DbConn::Sqlite(conn) = &mut *self.get()? {
            conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")?;
        }
        Ok(())
    }

    /// Read-only work on a hot page (a visitor's topic, category or home page). On SQLite
    /// it runs right here on the worker thread: a read in WAL mode never waits for a
    /// writer, and takes far less time than handing it to another thread and back, which
    /// is where most of a page's time went (futex wake-ups and context switches, measured
    /// with perf). On PostgreSQL, whose queries cross the network, it goes to the
    /// blocking pool like [`Database::run`]. `work` may run twice (see `read_unchecked`):
    /// never give it work that writes.
    pub async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: Fn(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        match self.backend {
            Backend::Sqlite => self.read_unchecked(work),
            Backend::Postgres => self.on_blocking_pool(move |db| db.read_unchecked(work)).await,
        }
    }

    /// Runs blocking diesel work on actix's thread pool, off the async executor.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.on_blocking_pool(move |db| {
            let mut conn = db.get()?;
            work(&mut conn)
        })
        .await
    }

    /// Runs `work` with this database on actix's blocking pool, off the async executor.
    async fn on_blocking_pool<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&Database) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || work(&db)).await.map_err(|_| E::from(DbError::Blocking))?
    }
}

/// Now, as Unix seconds: the unit every timestamp column uses.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
