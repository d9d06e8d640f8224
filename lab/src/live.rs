//! The live view of a replay: a progress bar over the scenario's seconds with the current
//! sample after it (phase, rate, lag, metric, what the HPA wants, replicas), and a line
//! that stays for every change of the replica count.

use lab_model::emulator::{Controller, Decision};
use lab_model::run::Watch;
use lab_model::timeline::Sample;

use crate::progress::Progress;

pub struct LiveView {
    progress: Progress,
}

impl LiveView {
    pub fn new(total_s: u64) -> Self {
        Self {
            progress: Progress::new("replay", total_s, "s"),
        }
    }

    pub fn finish(&self) {
        self.progress.finish();
    }
}

impl Watch for LiveView {
    fn sample(&mut self, s: &Sample, phase_name: &str, phases: usize) {
        let status = format!(
            "[{}/{phases} {phase_name}] rate {:.1}/s lag {} metric {} active {} HPA wants {} replicas {} (running {})",
            s.phase + 1,
            s.produced_per_s,
            s.total_lag,
            s.metric,
            if s.active { "yes" } else { "no" },
            s.hpa_desired,
            s.replicas,
            s.running
        );
        self.progress.set(s.t.max(0.0) as u64, &status);
    }

    fn decision(&mut self, d: &Decision) {
        if d.replicas == d.from {
            return;
        }
        let who = match d.by {
            Controller::Keda => "KEDA",
            Controller::Hpa => "HPA ",
        };
        self.progress.println(&format!(
            "  {:>5.0} s  {who}  metric {:>3}  active {:<5}  replicas {} -> {}",
            d.at as f64 / 1000.0,
            d.metric,
            d.active,
            d.from,
            d.replicas
        ));
    }
}
