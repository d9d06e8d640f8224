//! `lab doctor`: why a ScaledObject is at N replicas, and what happens next.

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use lab_cluster::doctor::{self, Diagnosis};
use lab_cluster::subject::Subject;
use lab_cluster::Cluster;

use super::record::KafkaArgs;

/// Say why a ScaledObject is at N replicas and what KEDA and the HPA do next, by the
/// rules of KEDA v2.20.2 and Kubernetes 1.35 (each line names its upstream source); give
/// advice on its settings; and show where the cluster disagrees with those rules.
///
/// Exit status: 0 healthy, 1 something to look at, 2 could not read.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The ScaledObject's namespace (default: the kubeconfig context's).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// The ScaledObject to diagnose.
    #[arg(long)]
    pub scaled_object: String,
    /// Diagnose again every S seconds until Ctrl-C.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub watch: Option<u64>,
    /// Read the offsets twice, this many seconds apart, to see which partitions move.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub window: u64,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Text for people, or one JSON object per diagnosis.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DoctorFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoctorFormat {
    Text,
    Json,
}

pub fn doctor(args: DoctorArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let code = runtime.block_on(async {
        let cluster = Cluster::connect(args.namespace.as_deref()).await?;
        let subject = Subject::find(&cluster, &args.scaled_object).await?;
        if subject.hpa.is_none() && !subject.checked.object.as_ref().is_some_and(paused) {
            anyhow::bail!(lab_cluster::record::no_hpa(&subject, cluster.namespace()));
        }
        subject.kafka_source()?;
        let scratch = std::env::temp_dir().join(format!("lab-doctor-{}", std::process::id()));
        let reader = match subject.kafka(&cluster, &args.kafka.overrides(), &scratch).await {
            Ok(kafka) => tokio::task::spawn_blocking(move || {
                lab_kafka::offsets::OffsetReader::connect(&kafka.brokers, &kafka.security, &kafka.group, &kafka.topic, Duration::from_secs(10))
            })
            .await?
            .map(Arc::new)
            .map_err(|e| eprintln!("lab doctor: brokers unreachable: {e:#} (give --brokers, or run it in the cluster)"))
            .ok(),
            Err(e) => {
                eprintln!("lab doctor: {e:#}");
                None
            }
        };
        loop {
            let look = doctor::look(&cluster, &subject, reader.clone(), Duration::from_secs(args.window)).await;
            let diagnosis = doctor::diagnose(&subject, &look);
            print(&diagnosis, args.format)?;
            let Some(every) = args.watch else {
                return anyhow::Ok(diagnosis.exit_code());
            };
            tokio::time::sleep(Duration::from_secs(every)).await;
        }
    })?;
    runtime.shutdown_timeout(Duration::from_secs(1));
    match code {
        0 => Ok(()),
        code => Err(super::ExitWith(code).into()),
    }
}

fn paused(so: &lab_model::keda::model::ScaledObject) -> bool {
    let a = &so.metadata.annotations;
    a.contains_key("autoscaling.keda.sh/paused")
        || a.contains_key("autoscaling.keda.sh/paused-replicas")
}

fn print(diagnosis: &Diagnosis, format: DoctorFormat) -> anyhow::Result<()> {
    match format {
        DoctorFormat::Text => print!("{}", diagnosis.text()),
        DoctorFormat::Json => println!("{}", serde_json::to_string(diagnosis)?),
    }
    Ok(())
}
