//! Figure 4, start-up: from process start to `/health/live` answering 200, and to the
//! first delivered event (producer) or the first processed event (consumer, on a
//! pre-filled topic, fresh group each run).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use harness::{free_port, App, Binary};

use crate::broker::Broker;
use crate::figures::{consumer_env, environment, producer_env};
use crate::scrape::{get, poll_until, stat};
use crate::Options;

/// One start of one binary.
#[derive(Debug, Clone, Copy)]
pub struct Startup {
    /// Process start to `/health/live` 200, s.
    pub live: f64,
    /// Process start to the first event delivered / processed, s.
    pub first_event: f64,
}

const POLL: Duration = Duration::from_millis(2);

/// Starts `binary` once against `topic` and times it.
pub fn project(
    options: &Options,
    broker: &Broker,
    binary: Binary,
    topic: &str,
) -> anyhow::Result<Startup> {
    let port = free_port();
    let mut env = vec![("HTTP_PORT", port.to_string())];
    env.extend(match binary {
        Binary::Producer => producer_env(broker, topic),
        Binary::Consumer => consumer_env(broker, topic, "bench-start"),
    });
    let started = Instant::now();
    let mut app = App::spawn(binary, binary.name(), &environment(options, binary, &env));
    app.address = Some(SocketAddr::from(([127, 0, 0, 1], port)));
    let live = poll_until("/health/live", POLL, Duration::from_secs(30), || {
        get(&app, "/health/live").is_some_and(|(status, _)| status == 200)
    })?;
    let first_event = poll_until(
        "the first event",
        POLL,
        Duration::from_secs(60),
        || match binary {
            Binary::Producer => stat(&app, "delivered").is_some_and(|n| n >= 1),
            Binary::Consumer => stat(&app, "consumed").is_some_and(|n| n >= 1),
        },
    )?;
    app.terminate(Duration::from_secs(30));
    Ok(Startup {
        live: (live - started).as_secs_f64(),
        first_event: (first_event - started).as_secs_f64(),
    })
}
