//! The subcommands, each turning arguments into a run and its output; one module each,
//! with the helpers they share here.

mod archive;
mod check;
mod doctor;
mod lag;
mod plan;
mod record;
mod replay;
mod report;
mod simulate;
mod tune;

use std::path::{Path, PathBuf};

pub use archive::{archive, ArchiveArgs};
pub use check::{check_manifests, CheckArgs};
pub use doctor::{doctor, DoctorArgs};
pub use lag::{lag, LagArgs, LagFormat};
pub use plan::{plan, PlanArgs};
pub use record::{record, RecordArgs};
pub use replay::{replay, ReplayArgs};
pub use report::{report, ReportArgs};
pub use simulate::{simulate, SimulateArgs};
pub use tune::{tune, TuneArgs};

use lab_model::emulator::ScalingSpec;
use lab_model::keda::Loaded;
use lab_model::scenario::Scenario;
use lab_model::timeline::Timeline;

/// An exit with this status, whatever needed saying already said (`lab doctor`'s 1 and 2,
/// an interrupted `lab record`'s 130).
#[derive(Debug, thiserror::Error)]
#[error("exit status {0}")]
pub struct ExitWith(pub u8);

/// Prints what KEDA would have ignored and returns the spec.
fn with_warnings(loaded: Loaded, shown: &str) -> ScalingSpec {
    for warning in &loaded.warnings {
        eprintln!("warning: {shown}: ScaledObject/{}: {warning}", loaded.name);
    }
    loaded.spec
}

/// The ScaledObject at `path`, checked, its warnings printed.
fn load_spec(path: &Path) -> anyhow::Result<ScalingSpec> {
    Ok(with_warnings(
        lab_model::keda::load(path)?,
        &path.display().to_string(),
    ))
}

/// The scenario's ScaledObject, checked, its warnings printed.
fn scenario_spec(scenario: &Scenario) -> anyhow::Result<ScalingSpec> {
    Ok(with_warnings(
        scenario.load_scaled_object()?,
        &scenario.scaled_object.display().to_string(),
    ))
}

/// The scenario by name or file, its ScaledObject replaced by `scaled_object` when given
/// (a path from the current directory).
fn load_scenario(name: &str, scaled_object: Option<PathBuf>) -> anyhow::Result<Scenario> {
    let mut scenario = Scenario::load(name)?;
    if let Some(path) = scaled_object {
        anyhow::ensure!(
            path.is_file(),
            "--scaled-object {}: no such file",
            path.display()
        );
        scenario.scaled_object = std::path::absolute(&path)?;
    }
    Ok(scenario)
}

fn out_dir(out: Option<PathBuf>, scenario: &Scenario, mode: &str) -> PathBuf {
    out.unwrap_or_else(|| PathBuf::from("lab-out").join(format!("{}-{mode}", scenario.name)))
}

/// Prints the phase table to the terminal.
fn print_table(timeline: &Timeline) {
    println!(
        "{:<20} {:>9} {:>9} {:>12}",
        "phase", "published", "observed", "range"
    );
    for (i, phase) in timeline.scenario.phases.iter().enumerate() {
        let published = phase.published.map_or("-".into(), |p| p.to_string());
        match timeline.outcome(i) {
            Some(o) => println!(
                "{:<20} {:>9} {:>9} {:>12}",
                phase.name,
                published,
                o.settled,
                format!("{}..{}", o.min, o.max)
            ),
            None => println!("{:<20} {:>9} {:>9}", phase.name, published, "-"),
        }
    }
}
