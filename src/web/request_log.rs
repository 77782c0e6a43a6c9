//! One log line per request: method, path, status, latency and the client's IP.
//! (The privacy policy allows request IPs in logs; retention bounds how long.) The same
//! middleware counts the request for `/metrics`. Health checks, which a load balancer
//! sends every few seconds, are logged at debug level only.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.path().to_string();
    let client_ip = crate::web::client_ip::from_request(req.request());
    let metrics = req.app_data::<actix_web::web::Data<crate::web::metrics::Metrics>>().cloned();
    let res = next.call(req).await?;
    let status = res.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".into());
    if let Some(metrics) = metrics {
        metrics.observe(&route, &method, status, elapsed);
    }
    let latency_ms = elapsed * 1000.0;
    if matches!(path.as_str(), "/healthz" | "/readyz") {
        tracing::debug!(%method, %path, status, latency_ms, %client_ip, "request");
    } else {
        tracing::info!(%method, %path, status, latency_ms, %client_ip, "request");
    }
    Ok(res)
}
