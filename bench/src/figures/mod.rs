//! One module per figure of the benchmark. Each runs the project (and, where there is
//! one, the references) on one broker and returns what it measured; `crate::run` turns
//! the results into tables.

pub mod burst;
pub mod day;
pub mod drain;
pub mod footprint;
pub mod period;
pub mod scaling;
pub mod simulate;
pub mod startup;

use harness::{unique, App, Binary};

use crate::broker::Broker;
use crate::Options;

/// A producer on `topic` of `broker` (plus `kafka.time.period` where a figure sets it).
pub fn producer_env(broker: &Broker, topic: &str) -> Vec<(&'static str, String)> {
    vec![
        ("kafka.brokers.host", broker.bootstrap().to_owned()),
        ("kafka.topic", topic.to_owned()),
    ]
}

/// A consumer of `topic` of `broker`, alone in a fresh group whose name starts with
/// `group`, with a 6 s session (the shortest both brokers accept) and no processing time.
pub fn consumer_env(broker: &Broker, topic: &str, group: &str) -> Vec<(&'static str, String)> {
    vec![
        ("kafka.brokers", broker.bootstrap().to_owned()),
        ("kafka.topics", topic.to_owned()),
        ("kafka.groupId", unique(group)),
        ("kafka.session.timeout", "6000".into()),
        ("processing.time", "0".into()),
    ]
}

/// Log filter for the project's binaries while they are measured: warnings, plus the
/// lines the bench reads ("listening", "burst finished").
pub const QUIET_LOGS: &str = "warn,common::service=info,producer::burst=info";

/// Starts one of the project's binaries with `env`, quiet logs unless `env` says
/// otherwise, and the extra environment the options give for that binary.
pub fn start(options: &Options, binary: Binary, name: &str, env: &[(&str, String)]) -> App {
    App::start(binary, name, &environment(options, binary, env))
}

/// `RUST_LOG` = [`QUIET_LOGS`], then `env`, then `--consumer-env` / `--producer-env`.
pub fn environment<'a>(
    options: &'a Options,
    binary: Binary,
    env: &[(&'a str, String)],
) -> Vec<(&'a str, String)> {
    let mut all = vec![("RUST_LOG", QUIET_LOGS.to_owned())];
    all.extend(env.iter().cloned());
    let extra = match binary {
        Binary::Producer => &options.producer_env,
        Binary::Consumer => &options.consumer_env,
    };
    all.extend(extra.iter().map(|(k, v)| (k.as_str(), v.clone())));
    all
}
