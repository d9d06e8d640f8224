//! One progress bar for every long command (`lab replay`, `lab tune`, `lab tune
//! --verify`): what is done of what, the elapsed time and an ETA from the first step, on
//! stderr. On a terminal it redraws in place; otherwise (a log, CI) it prints a plain line
//! every `plain_every` of the work, so a log shows progress without a line per step.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar over `total` units of `unit` (candidates, scenario seconds).
pub struct Progress {
    bar: ProgressBar,
    terminal: bool,
    unit: &'static str,
    /// Plain output: the next position to print at, and the step between prints.
    next_plain: u64,
    plain_step: u64,
    /// When the last plain line went out: at least one every [`PLAIN_AT_LEAST`].
    last_plain: Instant,
}

/// Plain output prints a line at least this often while work moves.
const PLAIN_AT_LEAST: Duration = Duration::from_secs(10);

impl Progress {
    /// A bar headed `prefix` (`tune`, `replay`).
    pub fn new(prefix: &'static str, total: u64, unit: &'static str) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = ProgressBar::with_draw_target(
            Some(total),
            if terminal {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        let template = format!(
            "{{prefix}}: [{{bar:30}}] {{pos}}/{{len}} {unit}, {{elapsed}} elapsed, ETA {{eta}} {{msg}}"
        );
        bar.set_style(
            ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(prefix);
        bar.enable_steady_tick(Duration::from_millis(500));
        Self {
            bar,
            terminal,
            unit,
            next_plain: 1,
            plain_step: (total / 10).max(1),
            last_plain: Instant::now(),
        }
    }

    /// The work grew or shrank to `total` units (a search learns what it left out).
    pub fn set_total(&mut self, total: u64) {
        if self.bar.length() != Some(total) {
            self.bar.set_length(total);
        }
    }

    /// Sets how far the work is, with a short status after the bar.
    pub fn set(&mut self, position: u64, status: &str) {
        self.bar.set_position(position);
        if self.terminal {
            self.bar.set_message(status.to_owned());
        } else if position >= self.next_plain
            || Some(position) == self.bar.length()
            || self.last_plain.elapsed() >= PLAIN_AT_LEAST
        {
            self.next_plain = position + self.plain_step;
            self.last_plain = Instant::now();
            eprintln!("{}", self.line(status));
        }
    }

    /// A line that stays, printed above the bar.
    pub fn println(&self, line: &str) {
        if self.terminal {
            self.bar.println(line);
        } else {
            eprintln!("{line}");
        }
    }

    /// The plain form of the bar: `tune: 312/540 simulations, 12 s, ETA 9 s` (the ETA at
    /// the pace so far).
    fn line(&self, status: &str) -> String {
        let (done, total) = (self.bar.position(), self.bar.length().unwrap_or(0));
        let elapsed = self.bar.elapsed().as_secs_f64();
        let eta = match done {
            0 => 0.0,
            _ => elapsed / done as f64 * total.saturating_sub(done) as f64,
        }
        .round();
        format!(
            "{}: {}/{} {}, {} s, ETA {eta} s{}{status}",
            self.bar.prefix(),
            self.bar.position(),
            self.bar.length().unwrap_or(0),
            self.unit,
            self.bar.elapsed().as_secs(),
            if status.is_empty() { "" } else { "  " },
        )
    }

    /// Ends the bar, leaving its last state on the terminal.
    pub fn finish(&self) {
        self.bar.abandon();
    }
}
