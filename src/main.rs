//! The `agora` command: parse arguments, load settings, call into the library.

use clap::{Parser, Subcommand};

use agora::config::Config;
use agora::db::Database;

#[derive(Parser)]
#[command(name = "agora", version, about = "A fast, privacy-respecting community forum")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the forum (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::from_env()?;
    let _log_guard = agora::telemetry::init(config.log_dir.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            actix_web::rt::System::new().block_on(async {
                let app = agora::App::build(config.clone())?;
                tracing::info!(address = %config.bind, port = app.port(), public_url = %config.public_url, "Agora is listening");
                app.run_until_stopped().await?;
                anyhow::Ok(())
            })?;
        }
        Command::Migrate => {
            let db = Database::connect(&config.database_url, 1)?;
            let applied = db.migrate()?;
            println!("{applied} migration(s) applied to the {} database", db.backend_name());
        }
    }
    Ok(())
}
