//! `lab report`: chart and summary from any timeline.csv (with the decisions.csv and
//! accounting.csv beside it, when a replay wrote them).

use std::path::{Path, PathBuf};

use super::{load_spec, print_table, scenario_spec};
use crate::replay::accounting::Accounting;
use crate::report::timeline::Timeline;
use crate::scenario::Scenario;

pub fn report(
    timeline_path: &Path,
    scenario: Option<&str>,
    scaled_object: Option<PathBuf>,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let scenario = scenario.map(Scenario::load).transpose()?;
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
    let accounting_file = beside.join("accounting.csv");
    let accounting = accounting_file
        .exists()
        .then(|| Accounting::read_csv(&accounting_file))
        .transpose()?;
    let dir = out.unwrap_or_else(|| beside.to_path_buf());
    crate::report::write_renderings(&timeline, &spec, accounting.as_ref(), &[], &dir)?;
    print_table(&timeline);
    println!("chart and summary in {}", dir.display());
    Ok(())
}
