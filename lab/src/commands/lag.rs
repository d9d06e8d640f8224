//! `lab lag`: read a group's offsets as KEDA does, print them or record them as a trace.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use super::with_warnings;
use lab_model::trace::TraceSample;

/// Show a group's lag per partition and what KEDA would decide from it.
///
/// TLS and SASL come from the environment, as for the producer and the consumer:
/// KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME,
/// KAFKA_SASL_PASSWORD, KAFKA_SSL_CA_LOCATION (or their dotted names).
#[derive(Debug, Args)]
pub struct LagArgs {
    /// Bootstrap brokers, host:port. On Kubernetes, run it inside the cluster
    /// (scripts/cluster-lag): Strimzi's brokers advertise in-cluster pod names, which
    /// a laptop cannot resolve, so a `kubectl port-forward` does not work.
    #[arg(long)]
    pub brokers: String,
    /// The consumer group.
    #[arg(long)]
    pub group: String,
    /// The topic it reads.
    #[arg(long)]
    pub topic: String,
    /// The ScaledObject whose trigger settings to apply (default: the repository's, compiled in).
    #[arg(long)]
    pub scaled_object: Option<PathBuf>,
    /// The workload's replica count now (for the HPA's tolerance).
    #[arg(long, default_value_t = 1)]
    pub replicas: u32,
    /// Repeat every S seconds until Ctrl-C.
    #[arg(long)]
    pub watch: Option<u64>,
    /// Also append every reading to FILE as a trace line (the format `lab plan` takes).
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// A table for people, or trace lines for `lab plan`.
    #[arg(long, value_enum, default_value = "table")]
    pub format: LagFormat,
}

/// How `lab lag` prints each reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LagFormat {
    /// A table per reading, and what KEDA and the HPA make of it.
    Table,
    /// One trace line per reading (the format `lab plan` takes), on stdout.
    Json,
}

pub fn lag(args: LagArgs) -> anyhow::Result<()> {
    let (text, shown) = match &args.scaled_object {
        Some(path) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
            path.display().to_string(),
        ),
        None => (
            lab_model::keda::REPOSITORY_SCALED_OBJECT.to_owned(),
            "k8s/keda/scaled-object.yaml".to_owned(),
        ),
    };
    let spec = with_warnings(lab_model::keda::load_text(&text, &shown)?, &shown);
    let checked = lab_model::keda::check_text(&text, &shown)?;
    // TLS and SASL as the producer and consumer read them (`KAFKA_SECURITY_PROTOCOL`, ...).
    let security = common::kafka::Security::from_env(&common::config::Env::from_process())?;
    let reader = lab_kafka::offsets::OffsetReader::connect(
        &args.brokers,
        &security,
        &args.group,
        &args.topic,
        Duration::from_secs(10),
    )?;
    let mut record = match &args.record {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open {}", path.display()))?,
        ),
        None => None,
    };
    let mut scaler = lab_model::emulator::scaler::KafkaScaler::new(spec.trigger.clone());
    let started = Instant::now();
    let mut advised = false;
    loop {
        let t = (started.elapsed().as_millis() as f64 / 100.0).round() / 10.0;
        let offsets = match reader.read_within(Duration::from_secs(5)) {
            Ok(offsets) => offsets,
            // Watching, a failed read is one line and an error sample in the trace; the
            // watch goes on (a single read answers the error).
            Err(e) if args.watch.is_some() => {
                eprintln!("lab lag: t={t} s: the read failed: {e}");
                let error = lab_kafka::offsets::scaler_error(&e);
                let line = serde_json::to_string(&TraceSample::failed(t, error))?;
                if let Some(file) = &mut record {
                    writeln!(file, "{line}")?;
                }
                if args.format == LagFormat::Json {
                    println!("{line}");
                }
                std::thread::sleep(Duration::from_secs(args.watch.unwrap_or(1).max(1)));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if !advised {
            advised = true;
            print_advice(
                &checked,
                &shown,
                reader.partitions() as u32,
                &offsets,
                args.format,
            )?;
        }
        let total_lag = lab_model::emulator::scaler::KafkaScaler::new(spec.trigger.clone())
            .read(&offsets)
            .total_lag;
        let line = serde_json::to_string(&TraceSample::of(t, &offsets, Some(total_lag)))?;
        if let Some(file) = &mut record {
            writeln!(file, "{line}")?;
        }
        let mut stdout = std::io::stdout().lock();
        match args.format {
            LagFormat::Json => writeln!(stdout, "{line}")?,
            LagFormat::Table => lab_kafka::lag_table::print(
                &mut stdout,
                &spec,
                &offsets,
                &mut scaler,
                args.replicas,
            )?,
        }
        stdout.flush()?;
        drop(stdout);
        let Some(every) = args.watch else {
            return Ok(());
        };
        std::thread::sleep(Duration::from_secs(every.max(1)));
        if args.format == LagFormat::Table {
            println!();
        }
    }
}

/// The advice on the ScaledObject for this live topic and group, once: on stdout with the
/// table, on stderr with trace lines (stdout stays a trace).
fn print_advice(
    checked: &lab_model::keda::Checked,
    shown: &str,
    partitions: u32,
    offsets: &[lab_model::emulator::Offsets],
    format: LagFormat,
) -> anyhow::Result<()> {
    let advice = lab_model::advice::advise(checked, Some(partitions));
    let uncommitted: Vec<i32> = offsets
        .iter()
        .filter(|o| o.committed.is_none())
        .map(|o| o.partition)
        .collect();
    let mut out: Box<dyn Write> = match format {
        LagFormat::Table => Box::new(std::io::stdout().lock()),
        LagFormat::Json => Box::new(std::io::stderr().lock()),
    };
    for a in &advice {
        writeln!(out, "advice: {shown}: {a}")?;
        if a.rule == lab_model::rules::RuleId::AdviceLatestNeverCommitted && !uncommitted.is_empty()
        {
            writeln!(
                out,
                "    this group: partitions {uncommitted:?} have no committed offset: each counts a lag of 1 now"
            )?;
        }
    }
    if !advice.is_empty() && format == LagFormat::Table {
        writeln!(out)?;
    }
    Ok(())
}
