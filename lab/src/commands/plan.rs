//! `lab plan`: a recorded lag trace through the emulator, one JSON line per KEDA poll and
//! HPA sync.

use std::path::PathBuf;

use clap::Args;

use super::load_spec;

/// Replay a recorded lag trace through the emulator; one JSON line per evaluation.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[arg(long)]
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
}

pub fn plan(args: PlanArgs) -> anyhow::Result<()> {
    let spec = load_spec(&args.scaled_object)?;
    let samples = lab_model::trace::read_trace(&args.trace)?;
    let mut stdout = std::io::stdout().lock();
    lab_model::plan::run(spec, &samples, args.replicas, args.until, &mut stdout)
}
