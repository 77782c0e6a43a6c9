//! Request metrics for `/metrics` (the page itself is `ops::health`): requests by route
//! template and status, and latency histograms by route template, counted by the
//! request-log middleware. Route templates (`/t/{id}/{slug}`), never paths, so ids and
//! search words do not become labels.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteStatus {
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Route {
    pub route: String,
}

/// What one instance counts; each `App` has its own.
pub struct Metrics {
    registry: Registry,
    requests: Family<RouteStatus, Counter>,
    latency: Family<Route, Histogram>,
    pub pool_in_use: Gauge,
    pub pool_idle: Gauge,
    pub mail_queue_pending: Gauge,
    pub active_sessions: Gauge,
    pub backup_last_success: Gauge,
    pub backup_last_failure: Gauge,
}

/// Latency buckets from half a millisecond to ten seconds.
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

impl Default for Metrics {
    fn default() -> Self {
        let requests = Family::<RouteStatus, Counter>::default();
        let latency = Family::<Route, Histogram>::new_with_constructor(|| Histogram::new(BUCKETS));
        let (pool_in_use, pool_idle, mail_queue_pending, active_sessions) =
            (Gauge::default(), Gauge::default(), Gauge::default(), Gauge::default());
        let mut registry = Registry::with_prefix("agora");
        registry.register("http_requests", "Requests answered, by route template and status", requests.clone());
        registry.register("http_request_duration_seconds", "Time to answer, by route template", latency.clone());
        registry.register("db_pool_in_use", "Database connections in use", pool_in_use.clone());
        registry.register("db_pool_idle", "Database connections open and idle", pool_idle.clone());
        registry.register("mail_queue_pending", "Queued mails not yet sent", mail_queue_pending.clone());
        registry.register("active_sessions", "Sign-ins that have not expired", active_sessions.clone());
        let (backup_last_success, backup_last_failure) = (Gauge::default(), Gauge::default());
        registry.register(
            "backup_last_success_timestamp_seconds",
            "When the last backup was written (Unix seconds; 0: never)",
            backup_last_success.clone(),
        );
        registry.register(
            "backup_last_failure_timestamp_seconds",
            "When a backup last failed (Unix seconds; 0: never); alert when it is later than the last success",
            backup_last_failure.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            pool_in_use,
            pool_idle,
            mail_queue_pending,
            active_sessions,
            backup_last_success,
            backup_last_failure,
        }
    }
}

impl Metrics {
    pub fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let labels = RouteStatus { route: route.to_string(), method: method.to_string(), status };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&Route { route: route.to_string() }).observe(seconds);
    }

    /// The Prometheus text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
