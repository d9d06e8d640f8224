//! The live view of a replay: one status line, redrawn each sample on a terminal (a line
//! every 30 s otherwise), and a permanent line for every change of the replica count.

use std::io::{IsTerminal, Write};

use crate::emulator::{Controller, Decision};
use crate::run::Watch;
use crate::timeline::Sample;

pub struct LiveView {
    terminal: bool,
    total_s: f64,
    last_plain: f64,
}

impl LiveView {
    pub fn new(total_s: f64) -> Self {
        Self {
            terminal: std::io::stderr().is_terminal(),
            total_s,
            last_plain: f64::NEG_INFINITY,
        }
    }

    pub fn finish(&mut self) {
        if self.terminal {
            let _ = writeln!(std::io::stderr());
        }
    }
}

impl Watch for LiveView {
    fn sample(&mut self, s: &Sample, phase_name: &str, phases: usize) {
        let line = format!(
            "[{}/{} {phase_name}] {:>4.0}/{:.0} s  rate {:>5.1}/s  lag {:>5}  metric {:>4}  active {}  HPA wants {:>2}  replicas {:>2} (running {})",
            s.phase + 1,
            phases,
            s.t,
            self.total_s,
            s.produced_per_s,
            s.total_lag,
            s.metric,
            if s.active { "yes" } else { "no " },
            s.hpa_desired,
            s.replicas,
            s.running
        );
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{line}");
        } else if s.t - self.last_plain >= 30.0 {
            let _ = writeln!(err, "{line}");
            self.last_plain = s.t;
        }
        let _ = err.flush();
    }

    fn decision(&mut self, d: &Decision) {
        let before = d.from;
        if d.replicas == before {
            return;
        }
        let who = match d.by {
            Controller::Keda => "KEDA",
            Controller::Hpa => "HPA ",
        };
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K");
        }
        let _ = writeln!(
            err,
            "  {:>5.0} s  {who}  metric {:>3}  active {:<5}  replicas {before} -> {}",
            d.at as f64 / 1000.0,
            d.metric,
            d.active,
            d.replicas
        );
    }
}
