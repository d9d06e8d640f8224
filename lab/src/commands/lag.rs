//! `lab lag`: read a group's offsets as KEDA does, print them or record them as a trace.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{load_spec, with_warnings};
use crate::cli::LagFormat;
use crate::plan::TraceSample;

/// Where `lab lag` reads and what it does with each reading.
pub struct LagArgs {
    pub brokers: String,
    pub group: String,
    pub topic: String,
    pub scaled_object: Option<PathBuf>,
    pub replicas: u32,
    pub watch: Option<u64>,
    pub record: Option<PathBuf>,
    pub format: LagFormat,
}

pub fn lag(args: LagArgs) -> anyhow::Result<()> {
    let spec = match &args.scaled_object {
        Some(path) => load_spec(path)?,
        None => with_warnings(
            crate::keda::load_text(
                crate::keda::REPOSITORY_SCALED_OBJECT,
                "k8s/keda/scaled-object.yaml",
            )?,
            "k8s/keda/scaled-object.yaml",
        ),
    };
    // TLS and SASL as the producer and consumer read them (`KAFKA_SECURITY_PROTOCOL`, ...).
    let security = common::kafka::Security::from_env(&common::config::Env::from_process())?;
    let reader = crate::replay::lag::LagReader::connect(
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
                .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let mut scaler = crate::emulator::scaler::KafkaScaler::new(spec.trigger.clone());
    let started = Instant::now();
    loop {
        let offsets = reader.read()?;
        let t = (started.elapsed().as_millis() as f64 / 100.0).round() / 10.0;
        let total_lag = crate::emulator::scaler::KafkaScaler::new(spec.trigger.clone())
            .read(&offsets)
            .total_lag;
        let line = serde_json::to_string(&TraceSample::of(t, &offsets, Some(total_lag)))?;
        if let Some(file) = &mut record {
            writeln!(file, "{line}")?;
        }
        let mut stdout = std::io::stdout().lock();
        match args.format {
            LagFormat::Json => writeln!(stdout, "{line}")?,
            LagFormat::Table => {
                crate::lag::print(&mut stdout, &spec, &offsets, &mut scaler, args.replicas)?
            }
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
