//! Logging through `tracing`: always to stdout, and to daily files when `AGORA_LOG_DIR` is set.

use std::io::IsTerminal;
use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter, Layer};

/// Installs the global subscriber. Keep the returned guard alive: it flushes the log file.
pub fn init(log_dir: Option<&Path>) -> anyhow::Result<Option<WorkerGuard>> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour only for a person at a terminal; log collectors get plain text.
    let stdout = fmt::layer().with_target(false).with_ansi(std::io::stdout().is_terminal());
    let (file_layer, guard) = match log_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            // Files are named agora.log.YYYY-MM-DD, so retention can prune them by date.
            let appender = tracing_appender::rolling::daily(dir, "agora.log");
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = fmt::layer().with_ansi(false).with_writer(writer).boxed();
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    tracing_subscriber::registry().with(filter).with(stdout).with(file_layer).try_init()?;
    Ok(guard)
}
