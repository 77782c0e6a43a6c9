//! One log line per request: method, path, status, latency and the client's IP.
//! (The privacy policy allows request IPs in logs; retention bounds how long.)

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
    let res = next.call(req).await?;
    let status = res.status().as_u16();
    tracing::info!(
        %method,
        %path,
        status,
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        %client_ip,
        "request"
    );
    Ok(res)
}
