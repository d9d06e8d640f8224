//! Logging, set up once per process.
//!
//! `LOG_FORMAT=json` prints one JSON object per line (for log shippers and for the tests,
//! which read the binaries' output); anything else prints human-readable text, coloured
//! only when stdout is a terminal and `NO_COLOR` is not set (a container's stdout is a
//! pipe: `kubectl logs` would show the escape codes). The level filter comes from
//! `RUST_LOG` (default `info`): a level, or `target=level` directives separated by commas
//! (`warn,consumer=debug`); an invalid one is named on stderr and `info` applies.
//! librdkafka's own log lines arrive through the `log` bridge and are filtered the same
//! way. (Targets, not EnvFilter: no span or field filters, and no regex engine in the
//! binaries.)

use std::io::IsTerminal;
use std::sync::Once;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer as _;

/// The level filter `RUST_LOG` asks for, `info` when unset; an invalid value is named on
/// stderr (logging is not up yet) and `info` applies.
pub fn filter() -> Targets {
    let (targets, warning) = filter_from(std::env::var("RUST_LOG").ok().as_deref());
    if let Some(warning) = warning {
        eprintln!("{warning}");
    }
    targets
}

/// The filter a `RUST_LOG` value gives, and the warning for a value that is no filter.
fn filter_from(value: Option<&str>) -> (Targets, Option<String>) {
    let info = Targets::new().with_default(tracing::Level::INFO);
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => (info, None),
        Some(value) => match value.parse() {
            Ok(targets) => (targets, None),
            Err(e) => (
                info,
                Some(format!("invalid RUST_LOG={value:?}: {e}; logging at info")),
            ),
        },
    }
}

/// Installs the global subscriber; later calls do nothing.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
        let format = tracing_subscriber::fmt::layer().with_writer(std::io::stdout);
        let format = if json {
            format
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .boxed()
        } else {
            let colour = colour(
                std::io::stdout().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
            );
            format.with_target(false).with_ansi(colour).boxed()
        };
        let result = tracing_subscriber::registry()
            .with(format)
            .with(filter())
            .try_init();
        // A subscriber installed by someone else (a test harness) is fine.
        drop(result);
    });
}

/// Whether text logs are coloured: on a terminal, unless `NO_COLOR` is set to anything
/// but the empty string (no-color.org).
pub fn colour(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Lets a repeated warning through at most once per `every`, counting the rest, so a
/// broker outage logs a line every few seconds instead of thousands.
#[derive(Debug)]
pub struct Throttle {
    every: std::time::Duration,
    state: std::sync::Mutex<(Option<std::time::Instant>, u64)>,
}

impl Throttle {
    pub const fn new(every: std::time::Duration) -> Self {
        Self {
            every,
            state: std::sync::Mutex::new((None, 0)),
        }
    }

    /// `Some(suppressed)` when this occurrence should be logged, with how many were
    /// suppressed since the last one; `None` when it should be dropped.
    pub fn allow(&self) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        match state.0 {
            Some(last) if now.duration_since(last) < self.every => {
                state.1 += 1;
                None
            }
            _ => {
                let suppressed = state.1;
                *state = (Some(now), 0);
                Some(suppressed)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    #[test]
    fn rust_log_takes_a_level_or_target_directives_and_names_a_bad_value() {
        let (targets, warning) = super::filter_from(Some("warn,consumer=debug"));
        assert!(warning.is_none());
        assert!(targets.would_enable("consumer::group", &Level::DEBUG));
        assert!(!targets.would_enable("producer", &Level::INFO));
        let (targets, _) = super::filter_from(None);
        assert!(targets.would_enable("anything", &Level::INFO));
        assert!(!targets.would_enable("anything", &Level::DEBUG));
        let (targets, warning) = super::filter_from(Some("consumer=loud"));
        assert!(warning
            .unwrap()
            .contains("invalid RUST_LOG=\"consumer=loud\""));
        assert!(
            targets.would_enable("consumer", &Level::INFO),
            "info applies"
        );
    }

    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(colour(true, None));
        assert!(!colour(false, None), "a pipe or a file");
        assert!(!colour(true, Some(OsStr::new("1"))));
        assert!(
            colour(true, Some(OsStr::new(""))),
            "an empty NO_COLOR does not count"
        );
    }

    #[test]
    fn throttle_counts_what_it_drops() {
        let throttle = Throttle::new(std::time::Duration::from_millis(50));
        assert_eq!(throttle.allow(), Some(0));
        assert_eq!(throttle.allow(), None);
        assert_eq!(throttle.allow(), None);
        std::thread::sleep(std::time::Duration::from_millis(60));
        assert_eq!(throttle.allow(), Some(2));
    }
}
