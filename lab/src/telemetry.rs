//! The lab's logs: the workload's own log lines go to a file, so the terminal keeps the
//! live view.

use std::path::Path;
use std::sync::Mutex;

use anyhow::Context as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Sends all tracing output (info and up, or `RUST_LOG`) to `path`.
pub fn to_file(path: &Path) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(Mutex::new(file)),
        )
        .with(common::telemetry::filter())
        .try_init()
        .map_err(|e| anyhow::anyhow!("logging: {e}"))
}
