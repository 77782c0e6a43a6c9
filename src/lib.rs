//! Agora: a server-rendered community forum that keeps its privacy policy to the letter.

pub mod account;
pub mod auth;
pub mod config;
pub mod conversation;
pub mod db;
pub mod forum;
pub mod mail;
pub mod moderation;
pub mod ops;
pub mod privacy;
pub mod telemetry;
pub mod text;
pub mod web;

use std::net::TcpListener;

use anyhow::Context;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web as aweb, App as ActixApp, HttpServer};

use config::Config;
use db::Database;
use web::errors::AppError;

/// What every handler can reach: the database and the settings.
pub struct AppState {
    pub db: Database,
    pub config: Config,
    /// Present when sign-in with GitHub is configured.
    pub github: Option<auth::github::client::GithubClient>,
    pub mailer: mail::Mailer,
    pub signer: web::signing::Signer,
    /// The banner about a coming privacy-policy change, refreshed once a minute.
    pub upcoming_policy: privacy::policy::UpcomingCache,
    /// The forum's name, description, contact and logo, read again every few seconds.
    pub site: web::site::SiteCache,
    /// Visitors' topic pages, keyed by the database's content version.
    pub page_cache: forum::page_cache::PageCache,
    /// Searches running at once: one per core.
    pub search_slots: tokio::sync::Semaphore,
    /// `config.public_url`, shared with every page's `Visitor`.
    pub public_url: std::sync::Arc<str>,
}

impl AppState {
    /// Counts one `limit` event for `key` (an IP, an address, a member id); over the
    /// limit it is `AppError::TooMany`, which handlers with a form turn into the form again.
    pub async fn rate_limit(&self, limit: web::rate_limit::Limit, key: impl ToString) -> Result<(), AppError> {
        // A limit switched off costs no trip to the database.
        if self.config.rate_limits.rate(limit).is_none() {
            return Ok(());
        }
        let (signer, limits, key) = (self.signer.clone(), self.config.rate_limits.clone(), key.to_string());
        let outcome = self
            .db
            .run(move |c| web::rate_limit::hit(c, &signer, &limits, limit, &key).map_err(AppError::from))
            .await?;
        outcome.map_err(AppError::TooMany)
    }

    /// `AppError::TooMany` when `limit` for `key` is used up, counting nothing (for
    /// limits on failures: check first, `rate_limit` after a failure).
    pub async fn rate_limit_reached(&self, limit: web::rate_limit::Limit, key: impl ToString) -> Result<(), AppError> {
        if self.config.rate_limits.rate(limit).is_none() {
            return Ok(());
        }
        let (signer, limits, key) = (self.signer.clone(), self.config.rate_limits.clone(), key.to_string());
        let outcome = self
            .db
            .run(move |c| web::rate_limit::peek(c, &signer, &limits, limit, &key).map_err(AppError::from))
            .await?;
        outcome.map_err(AppError::TooMany)
    }
}

/// A bound, migrated, ready-to-run Agora. `main` and every test start it this way.
pub struct App {
    port: u16,
    server: Server,
}

impl App {
    /// Connects to and migrates the database, binds the address (port 0 picks a free
    /// port), and returns the server, not yet running.
    pub fn build(mut config: Config) -> anyhow::Result<App> {
        let db = Database::connect(&config.database_url, config.database_pool_size)?;
        let applied = db.migrate()?;
        tracing::info!(backend = db.backend_name(), applied, "database ready");
        if let db::DbConn::Postgres(pg) = &mut *db.get()? {
            for warning in ops::rewrite::wal_warnings(pg)? {
                tracing::warn!(%warning, "erased data may be kept longer than the privacy policy says");
            }
        }
        let listener = TcpListener::bind(&config.bind)
            .with_context(|| format!("cannot listen on {} (AGORA_BIND)", config.bind))?;
        let port = listener.local_addr()?.port();
        // A public URL on port 0 follows the port actually bound (the tests use this).
        if let Some(base) = config.public_url.strip_suffix(":0") {
            config.public_url = format!("{base}:{port}");
        }
        let github = match config.github.clone() {
            Some(github) => Some(auth::github::client::GithubClient::new(github, &config.public_url)?),
            None => None,
        };
        let mailer = mail::Mailer::new(&config.mail, &config.mail_from)?;
        let signer = web::signing::Signer::new(db::settings::signing_key(&mut *db.get()?)?);
        let policy_notices = privacy::policy::seed(&db)?;
        if config.daily_maintenance {
            ops::maintenance::spawn_daily(db.clone(), config.clone());
        }
        ops::maintenance::spawn_frequent(db.clone(), config.clone());
        conversation::mailing::spawn_if_enabled(&db, &config)?;
        let shutdown_grace = config.shutdown_grace_seconds;
        // Database work runs on each worker's blocking threads (see `Database::run`), and
        // a thread without a connection only waits in the pool's queue, which wakes
        // waiters in no order: with actix's default of hundreds of threads, 32 requests
        // at once on PostgreSQL gave a p99 of 100-700 ms and 200 MB of thread stacks and
        // heaps. As many threads as connections queue the rest in order instead.
        let workers = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        let blocking_threads = (config.database_pool_size as usize).div_ceil(workers).max(2);
        // What every page shares (web::) reads only the settings and the signing key.
        let shared_config = aweb::Data::new(config.clone());
        let shared_signer = aweb::Data::new(signer.clone());
        let metrics = aweb::Data::new(web::metrics::Metrics::default());
        let public_url: std::sync::Arc<str> = config.public_url.as_str().into();
        let state = aweb::Data::new(AppState {
            db,
            config,
            github,
            mailer,
            signer,
            upcoming_policy: Default::default(),
            page_cache: Default::default(),
            site: Default::default(),
            public_url,
            search_slots: tokio::sync::Semaphore::new(workers),
        });
        if let Some((version, recipients)) = policy_notices {
            // This build brought a new policy text: every member is told, 72 hours ahead.
            let state = state.clone();
            actix_web::rt::spawn(async move {
                for to in recipients {
                    state.mailer.send_or_log(privacy::policy::change_notice(&state.public_url, to, &version)).await;
                }
            });
        }
        let server =
            HttpServer::new(move || {
                ActixApp::new()
                    .app_data(state.clone())
                    .app_data(shared_config.clone())
                    .app_data(shared_signer.clone())
                    .app_data(metrics.clone())
                    .app_data(aweb::PayloadConfig::new(web::csrf::FORM_LIMIT))
                    .app_data(aweb::PathConfig::default().error_handler(|_, _| {
                        AppError::BadRequest("That address has a malformed id in it.".into()).into()
                    }))
                    .app_data(aweb::QueryConfig::default().error_handler(|_, _| {
                        AppError::BadRequest("That address has a malformed parameter in it.".into()).into()
                    }))
                    .wrap(from_fn(auth::error_pages::with_site_header))
                    .wrap(from_fn(web::csrf::ensure_token))
                    .wrap(web::security_headers())
                    .wrap(Compress::default())
                    .wrap(from_fn(web::request_log::log_request))
                    .wrap(from_fn(web::response_policy))
                    .route("/static/agora.css", aweb::get().to(web::stylesheet))
                    .configure(ops::health::routes)
                    .configure(forum::routes::routes)
                    .configure(forum::site_map::routes)
                    .configure(auth::routes::routes)
                    .configure(auth::github::routes::routes)
                    .configure(auth::two_factor_routes::routes)
                    .configure(conversation::blocking::routes)
                    .configure(conversation::profiles::routes)
                    .configure(moderation::routes)
                    .configure(moderation::review::routes)
                    .configure(moderation::settings::routes)
                    // Before the policy's /privacy/{version}.
                    .configure(account::privacy_request::routes)
                    .configure(account::policy_page::routes)
                    .configure(account::routes::routes)
                    .configure(account::email::routes)
                    .configure(account::export::routes)
                    .configure(account::deletion::routes)
                    .configure(account::newsletter::routes)
                    .configure(account::notification_choices::routes)
                    // Before /notifications/{id}.
                    .configure(conversation::mailing::routes)
                    .configure(conversation::notifications::routes)
                    .default_service(aweb::to(web::not_found))
            })
            // On SIGTERM or SIGINT: stop accepting, let requests in flight finish within
            // the grace period, then exit.
            .shutdown_timeout(shutdown_grace)
            .workers(workers)
            .worker_max_blocking_threads(blocking_threads)
            .listen(listener)?
            .run();
        Ok(App { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
