//! Command-line options of `bench`.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use crate::broker::BrokerChoice;
use crate::reference::Reference;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "bench",
    version,
    about = "Measure the producer, the consumer and the lab side by side with kcat and confluent-kafka on the same broker; print figures and ratios"
)]
pub struct Options {
    /// Broker(s) to measure on.
    #[arg(long, value_enum, default_value = "both")]
    pub broker: BrokerChoice,
    /// Events per drain and per burst.
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub events: u64,
    /// Runs of each client for the drain and burst figures (the median is shown).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub runs: u32,
    /// The producer's periods for the accuracy figure, ms (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "100,10,1", value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub period_ms: Vec<u64>,
    /// How long the accuracy figure runs at each period, s.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub period_seconds: u64,
    /// Events of the scale-out figure (each takes 1 ms of work).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub scaling_events: u64,
    /// Starts of each binary for the start-up figure (the median is shown).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub startup_runs: u32,
    /// Runs of `lab simulate` (the median is shown).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub simulate_runs: u32,
    /// Seeds of the `lab tune` figure.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub tune_seeds: u64,
    /// Random candidates of the `lab tune` figure (its local search adds a few).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub tune_candidates: u64,
    /// Hours of the `diurnal` day the day figures use (its first ones; the whole day is 24).
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..=24))]
    pub day_hours: u64,
    /// Seeds of the `lab tune` figure of a day (`diurnal`).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub day_seeds: u64,
    /// Candidates of the `lab tune` figure of a day.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub day_candidates: u64,
    /// Partitions of the day's recording that `lab tune --trace` fits and tunes.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub trace_partitions: u32,
    /// Seeds of the `lab tune --trace` figure.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub trace_seeds: u64,
    /// Candidates of the `lab tune --trace` figure.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub trace_candidates: u64,
    /// The lab binary the lab's figures run (default: the `lab` beside this bench). An older
    /// build measures the "before" of a change in the same sitting; figure 6's in-process
    /// row is always this bench's own model.
    #[arg(long, value_name = "PATH")]
    pub lab: Option<PathBuf>,
    /// Reference clients to compare with (comma-separated).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "kcat,confluent-kafka,confluent-kafka-json"
    )]
    pub reference: Vec<Reference>,
    /// Figures to measure (comma-separated; default all).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "drain,burst,period,scaling,startup,footprint,simulate,tune,day,trace-day"
    )]
    pub only: Vec<Figure>,
    /// The kcat executable.
    #[arg(long, default_value = "kcat")]
    pub kcat: PathBuf,
    /// A Python interpreter with confluent-kafka (default: the one scripts/bench installs).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Extra environment for every consumer the bench starts (repeatable), for tuning
    /// experiments: `--consumer-env KAFKA_EXTRA_FETCH_WAIT_MAX_MS=500`.
    #[arg(long, value_name = "KEY=VALUE", value_parser = key_value)]
    pub consumer_env: Vec<(String, String)>,
    /// Extra environment for every producer the bench starts (repeatable).
    #[arg(long, value_name = "KEY=VALUE", value_parser = key_value)]
    pub producer_env: Vec<(String, String)>,
    /// Echo the project's binaries' log lines to stderr.
    #[arg(long)]
    pub show_logs: bool,
    /// Also write the figures as Markdown to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Scratch folder (event file, simulation output).
    #[arg(long, default_value = "target/bench")]
    pub work: PathBuf,
}

/// The figures of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Figure {
    /// 1. consumer drain of a pre-filled topic vs the references
    Drain,
    /// 2. producer burst vs the references
    Burst,
    /// 3. tick accuracy of the producer
    Period,
    /// 7. drain by 1, 2, 3 and 5 replicas in one group
    Scaling,
    /// 4. start-up to live and to the first event
    Startup,
    /// 5. binary and image sizes, idle and under-load memory
    Footprint,
    /// 6. `lab simulate` of one hour of virtual time
    Simulate,
    /// 8. `lab tune` of the published scenario
    Tune,
    /// 9. `lab tune` of a day (`diurnal`)
    Day,
    /// 10. `lab tune --trace` of a day's recording on many partitions
    TraceDay,
}

impl Options {
    pub fn wants(&self, figure: Figure) -> bool {
        self.only.contains(&figure)
    }

    /// The lab binary the lab's figures run.
    pub fn lab(&self) -> PathBuf {
        self.lab
            .clone()
            .unwrap_or_else(|| harness::app::binary_dir().join("lab"))
    }
}

fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_measure_everything_with_both_references_on_both_brokers() {
        let o = Options::try_parse_from(["bench"]).unwrap();
        assert_eq!(
            (o.events, o.runs, o.period_ms.as_slice(), o.period_seconds),
            (200_000, 3, &[100, 10, 1][..], 30)
        );
        assert_eq!(o.broker, BrokerChoice::Both);
        assert_eq!(
            o.reference,
            [
                Reference::Kcat,
                Reference::ConfluentKafka,
                Reference::ConfluentKafkaJson
            ]
        );
        assert_eq!(o.only, Figure::value_variants());
    }

    #[test]
    fn bad_values_are_refused_with_the_option_named() {
        for args in [
            &["bench", "--events", "0"][..],
            &["bench", "--tune-candidates", "0"],
            &["bench", "--day-seeds", "0"],
            &["bench", "--day-hours", "25"],
            &["bench", "--trace-partitions", "0"],
            &["bench", "--only", "drain,speed"],
            &["bench", "--reference", "kafkacat"],
            &["bench", "--consumer-env", "NOEQUALS"],
            &["bench", "--broker", "kafka"],
        ] {
            let err = Options::try_parse_from(args).unwrap_err().to_string();
            assert!(err.contains(args[1]), "{args:?}: {err}");
        }
        let o = Options::try_parse_from(["bench", "--consumer-env", "A=b=c"]).unwrap();
        assert_eq!(o.consumer_env, [("A".to_owned(), "b=c".to_owned())]);
    }
}
