//! `lab plan`: a recorded lag trace through the emulator, one JSON line per KEDA poll and
//! HPA sync (a ScaledJob: one line per poll, with the Jobs it creates).

use std::path::PathBuf;

use clap::Args;

use lab_model::keda::Scalable;
use lab_model::plan::JobTimes;

/// Replay a recorded lag trace through the emulator; one JSON line per evaluation.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The ScaledObject (or ScaledJob) file; cpu and memory triggers need the target
    /// Deployment in the same file.
    #[arg(long, alias = "scaled-job")]
    pub scaled_object: PathBuf,
    /// JSON lines: {"t": seconds, "partitions": [{"partition": id, "end": N, "committed": N|null}, ...]}.
    #[arg(long)]
    pub trace: PathBuf,
    /// Replicas at t=0.
    #[arg(long, default_value_t = 1)]
    pub replicas: u32,
    /// Evaluate up to this many seconds (default: the last sample's t).
    #[arg(long)]
    pub until: Option<f64>,
    /// A ScaledJob's Job: seconds its pod is Pending after the Job is created.
    #[arg(long, default_value_t = 5.0)]
    pub job_pending_seconds: f64,
    /// A ScaledJob's Job: seconds it runs (takes its events and exits) once started.
    #[arg(long, default_value_t = 60.0)]
    pub job_seconds: f64,
}

pub fn plan(args: PlanArgs) -> anyhow::Result<()> {
    let shown = args.scaled_object.display().to_string();
    let scalable = lab_model::keda::load_scalable(&args.scaled_object)?;
    let samples = lab_model::trace::read_trace(&args.trace)?;
    let mut stdout = std::io::stdout().lock();
    match scalable {
        Scalable::Object(loaded) => {
            let spec = super::with_warnings(*loaded, &shown);
            lab_model::plan::run(spec, &samples, args.replicas, args.until, &mut stdout)
        }
        Scalable::Job(job) => {
            for warning in &job.warnings {
                eprintln!("warning: {shown}: ScaledJob/{}: {warning}", job.name);
            }
            let ms = |s: f64, flag: &str| {
                anyhow::ensure!(
                    s.is_finite() && s >= 0.0,
                    "--{flag} must be a number of seconds >= 0"
                );
                Ok((s * 1000.0).round() as u64)
            };
            let times = JobTimes {
                pending_ms: ms(args.job_pending_seconds, "job-pending-seconds")?,
                running_ms: ms(args.job_seconds, "job-seconds")?,
            };
            lab_model::plan::run_jobs(job.spec, &samples, times, args.until, &mut stdout)
        }
    }
}
