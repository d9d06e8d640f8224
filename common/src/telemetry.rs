//! Logging, set up once per process.
//!
//! `LOG_FORMAT=json` prints one JSON object per line (for log shippers and for the tests,
//! which read the binaries' output); anything else prints human-readable text. The level
//! filter comes from `RUST_LOG` (default `info`). librdkafka's own log lines arrive
//! through the `log` bridge and are filtered the same way.

use std::sync::Once;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; later calls do nothing.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stdout);
        let result = if json {
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .try_init()
        } else {
            builder.with_target(false).try_init()
        };
        // A subscriber installed by someone else (a test harness) is fine.
        drop(result);
    });
}
