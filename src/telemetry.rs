//! Logging through `tracing`: always to stdout, and to daily files when `AGORA_LOG_DIR` is
//! set; as text, or one JSON object per line with `AGORA_LOG_FORMAT=json` (for log
//! collectors).

use std::io::IsTerminal;
use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter, Layer};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    pub fn parse(raw: &str) -> Option<LogFormat> {
        match raw.trim() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }
}

type Boxed = Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>;

/// Installs the global subscriber. Keep the returned guard alive: it flushes the log file.
pub fn init(log_dir: Option<&Path>, format: LogFormat) -> anyhow::Result<Option<WorkerGuard>> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let stdout: Boxed = match format {
        // Colour only for a person at a terminal; log collectors get plain text.
        LogFormat::Text => fmt::layer().with_target(false).with_ansi(std::io::stdout().is_terminal()).boxed(),
        LogFormat::Json => fmt::layer().json().flatten_event(true).with_current_span(false).boxed(),
    };
    let mut layers = vec![stdout];
    let guard = match log_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            // Files are named agora.log.YYYY-MM-DD, so retention can prune them by date.
            let appender = tracing_appender::rolling::daily(dir, "agora.log");
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer: Boxed = match format {
                LogFormat::Text => fmt::layer().with_ansi(false).with_writer(writer).boxed(),
                LogFormat::Json => fmt::layer().json().flatten_event(true).with_writer(writer).boxed(),
            };
            layers.push(layer);
            Some(guard)
        }
        None => None,
    };
    tracing_subscriber::registry().with(layers).with(filter).try_init()?;
    Ok(guard)
}
