//! `lab record`: what KEDA and the HPA did on a cluster, a row a second.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use lab_cluster::record::{self, Options, PhaseLabel, Stop};
use lab_cluster::subject::{Overrides, Subject};
use lab_cluster::Cluster;

/// Record a ScaledObject on a cluster: every second, the scale target's replicas, the
/// HPA's desired count, metric and conditions, the ScaledObject's conditions and fallback
/// failures, KEDA's metric as the HPA reads it, and the group's offsets read from Kafka.
///
/// Writes timeline.csv (`lab report` reads it), trace.jsonl (`lab plan` and `lab tune
/// --trace` take it), events.jsonl and recording.md into --out. Reads the cluster of the
/// kubeconfig (or, in a pod, its service account: k8s/lab-record grants the reads).
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The ScaledObject's namespace (default: the kubeconfig context's).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// The ScaledObject to record.
    #[arg(long)]
    pub scaled_object: String,
    /// Where the files go (default lab-out/record-<name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Stop after S seconds (default: at Ctrl-C).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub seconds: Option<u64>,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Name the rows' phases after a scenario's (published, original, diurnal, or a file): the
    /// experiment's phases, so `lab report --scenario` compares them with the published
    /// counts.
    #[arg(long)]
    pub scenario: Option<String>,
    /// With --scenario: every phase lasts this many seconds (a shortened run).
    #[arg(long, requires = "scenario", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub phase_seconds: Option<u64>,
    /// After writing, wait until terminated (in a pod, so that `kubectl exec POD -- lab
    /// archive DIR` can fetch the files: scripts/cluster-record).
    #[arg(long)]
    pub hold: bool,
}

/// Where the lab reads the group's lag.
#[derive(Debug, Args)]
pub struct KafkaArgs {
    /// Bootstrap brokers instead of the trigger's (Strimzi's advertise in-cluster names a
    /// laptop cannot resolve; inside the cluster the trigger's own work).
    #[arg(long)]
    pub brokers: Option<String>,
    /// Read the TriggerAuthentication's Secrets for TLS and SASL (else the KAFKA_SECURITY_*
    /// and KAFKA_SASL_* settings, as for `lab lag`).
    #[arg(long)]
    pub read_secrets: bool,
}

impl KafkaArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            brokers: self.brokers.clone(),
            read_secrets: self.read_secrets,
        }
    }
}

pub fn record(args: RecordArgs) -> anyhow::Result<()> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("lab-out").join(format!("record-{}", args.scaled_object)));
    let phases = phases(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let recording = runtime.block_on(async {
        let cluster = Cluster::connect(args.namespace.as_deref()).await?;
        let subject = Subject::find(&cluster, &args.scaled_object).await?;
        let kafka = subject
            .kafka(&cluster, &args.kafka.overrides(), &out)
            .await?;
        eprintln!(
            "recording {}/{} ({} {}, HPA {}, metric {}, group {} on {} at {}) into {}",
            cluster.namespace(),
            subject.name,
            subject.target.0,
            subject.target.1,
            subject.hpa.as_deref().unwrap_or("-"),
            subject.metric.as_deref().unwrap_or("-"),
            kafka.group,
            kafka.topic,
            kafka.brokers,
            out.display()
        );
        let shutdown = tokio_util::sync::CancellationToken::new();
        let on_signal = shutdown.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\nCtrl-C: writing what was recorded");
                on_signal.cancel();
            }
        });
        let options = Options {
            out: out.clone(),
            seconds: args.seconds,
            phases,
            give_up_after: Duration::from_secs(30),
        };
        let recording =
            record::record(&cluster, &subject, &kafka, &options, shutdown.clone()).await?;
        eprintln!(
            "lab record: written {} rows and {} events to {} ({})",
            recording.rows,
            recording.events,
            out.display(),
            match recording.failed.values().map(|(n, _)| n).sum::<usize>() {
                0 => "every read succeeded".to_owned(),
                n => format!("{n} failed reads, in recording.md"),
            }
        );
        if args.hold {
            eprintln!(
                "holding until terminated (fetch the files with `lab archive {}`)",
                out.display()
            );
            hold(shutdown).await;
        }
        anyhow::Ok(recording)
    })?;
    runtime.shutdown_timeout(Duration::from_secs(1));
    match recording.stopped {
        Stop::Done => Ok(()),
        Stop::Interrupted => Err(super::ExitWith(130).into()),
        Stop::Lost(why) => anyhow::bail!(
            "lab record: {why}; what was recorded is in {}",
            out.display()
        ),
    }
}

/// Waits for SIGTERM or Ctrl-C.
async fn hold(shutdown: tokio_util::sync::CancellationToken) {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => return shutdown.cancelled().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = shutdown.cancelled() => {}
    }
}

/// The rows' phases: the scenario's (each --phase-seconds long when given), else one
/// phase, "recorded".
fn phases(args: &RecordArgs) -> anyhow::Result<Vec<PhaseLabel>> {
    let Some(name) = &args.scenario else {
        return Ok(vec![PhaseLabel {
            name: "recorded".into(),
            seconds: args.seconds.unwrap_or(u64::MAX / 2),
            period_ms: 0,
        }]);
    };
    let scenario = lab_model::scenario::Scenario::load(name)?;
    Ok(scenario
        .phases
        .iter()
        .map(|p| PhaseLabel {
            name: p.name.clone(),
            seconds: args.phase_seconds.unwrap_or(p.seconds),
            period_ms: p.producer_period_ms.unwrap_or(0),
        })
        .collect())
}
