//! The lab's logs: the workload's own log lines go to a file, so the terminal keeps the
//! live view.

use anyhow::Context as _;
use std::path::Path;
use std::sync::Mutex;

/// Sends all tracing output (info and up, or `RUST_LOG`) to `path`.
pub fn to_file(path: &Path) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init()
        .map_err(|e| anyhow::anyhow!("logging: {e}"))
}
