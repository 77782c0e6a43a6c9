//! What a load balancer and a monitoring system ask: `GET /healthz` (the process
//! answers; no database), `GET /readyz` (the database answers within a second; 503
//! otherwise) and `GET /metrics` (Prometheus text), the last only from the addresses in
//! `AGORA_METRICS_ALLOW` (404 for anyone else: it is not a page of the forum).

use std::time::Duration;

use actix_web::http::header::ContentType;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::prelude::*;

use crate::db::schema::sessions;
use crate::db::DbError;
use crate::web::errors::AppError;
use crate::web::metrics::Metrics;
use crate::AppState;

/// How long `/readyz` waits for the database.
const READY_WITHIN: Duration = Duration::from_secs(1);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

fn plain(mut response: actix_web::HttpResponseBuilder, text: impl Into<String>) -> HttpResponse {
    response.content_type(ContentType::plaintext()).insert_header(("cache-control", "no-store")).body(text.into())
}

async fn healthz() -> HttpResponse {
    plain(HttpResponse::Ok(), "ok\n")
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ping = state.db.run(|c| -> Result<(), DbError> {
        diesel::sql_query("SELECT 1").execute(c)?;
        Ok(())
    });
    match tokio::time::timeout(READY_WITHIN, ping).await {
        Ok(Ok(())) => plain(HttpResponse::Ok(), "ready\n"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "not ready: the database did not answer");
            plain(HttpResponse::ServiceUnavailable(), "the database does not answer\n")
        }
        Err(_) => plain(HttpResponse::ServiceUnavailable(), "the database did not answer within a second\n"),
    }
}

async fn metrics(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let client = crate::web::client_ip::from_request(&req);
    if !state.config.metrics_allow.iter().any(|net| net.contains(&client)) {
        return Err(AppError::NotFound);
    }
    let (in_use, idle) = state.db.pool_state();
    metrics.pool_in_use.set(i64::from(in_use));
    metrics.pool_idle.set(i64::from(idle));
    let (pending, signed_in, backups) = state
        .db
        .run(|c| -> Result<_, DbError> {
            let (_, pending) = crate::mail::queue::pending(c, 0)?;
            let signed_in: i64 =
                sessions::table.filter(sessions::expires_at.gt(crate::db::now())).count().get_result(c)?;
            Ok((pending, signed_in, crate::ops::backup::health(c)?))
        })
        .await?;
    metrics.mail_queue_pending.set(pending);
    metrics.active_sessions.set(signed_in);
    metrics.backup_last_success.set(backups.last_success.unwrap_or(0));
    metrics.backup_last_failure.set(backups.last_failure.map_or(0, |(at, _)| at));
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .body(metrics.render()))
}
