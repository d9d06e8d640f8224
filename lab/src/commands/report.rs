//! `lab report`: chart and summary from any timeline.csv (with the decisions.csv and
//! accounting.csv beside it, when a replay wrote them; `<stem>-decisions.csv` and
//! `<stem>-accounting.csv` beside `<stem>.csv` as docs/results keeps them).

use std::path::{Path, PathBuf};

use clap::Args;

use super::{load_spec, print_table, scenario_spec};
use lab_model::scenario::Scenario;
use lab_model::timeline::Timeline;
use lab_replay::accounting::Accounting;

/// Render chart and summary from a timeline.csv (a replay's, or one recorded on a cluster).
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The timeline (decisions.csv beside it is read too, if present).
    pub timeline: PathBuf,
    /// The scenario whose phases and published counts to compare with (published,
    /// original, or a file); default: the phases as the timeline names them.
    #[arg(long)]
    pub scenario: Option<String>,
    /// The ScaledObject the run used (default: the scenario's).
    #[arg(long)]
    pub scaled_object: Option<PathBuf>,
    /// Where chart and summary go (default: beside the timeline).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn report(args: ReportArgs) -> anyhow::Result<()> {
    let ReportArgs {
        timeline: timeline_path,
        scenario,
        scaled_object,
        out,
    } = args;
    let timeline_path = timeline_path.as_path();
    let scenario = scenario.as_deref().map(Scenario::load).transpose()?;
    let spec = match (&scaled_object, &scenario) {
        (Some(path), _) => load_spec(path)?,
        (None, Some(s)) => scenario_spec(s)?,
        (None, None) => scenario_spec(&Scenario::published()?)?,
    };
    let timeline = Timeline::read(timeline_path, scenario)?;
    let beside = timeline_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let accounting = lab_model::timeline::companion(timeline_path, "accounting")
        .map(|file| Accounting::read_csv(&file))
        .transpose()?;
    let dir = out.unwrap_or_else(|| beside.to_path_buf());
    crate::report::write_renderings(&timeline, &spec, accounting.as_ref(), &[], &dir)?;
    print_table(&timeline);
    println!("chart and summary in {}", dir.display());
    Ok(())
}
