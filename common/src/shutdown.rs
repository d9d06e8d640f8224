//! One shutdown signal for the whole process: SIGTERM (Kubernetes) or SIGINT (Ctrl-C).
//!
//! The first signal cancels the returned token, and every part of the service drains
//! from there; a second signal exits at once, for an operator who does not want to wait.

use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;

/// Exit code after a second signal cut the drain short (128 + SIGINT, as shells report).
pub const EXIT_FORCED: i32 = 130;

/// A token cancelled on the first SIGTERM or SIGINT. Must be called inside a runtime.
pub fn on_signal() -> std::io::Result<CancellationToken> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutdown requested: draining");
        cancel.cancel();
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        tracing::warn!("second signal: exiting without finishing the drain");
        std::process::exit(EXIT_FORCED);
    });
    Ok(token)
}
