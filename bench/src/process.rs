//! Watching a process from outside: resident memory from `/proc`, and reference tools
//! run to completion with their peak memory and wall time.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// Resident memory of process `pid`, in bytes: `(VmRSS now, VmHWM = peak so far)`.
pub fn resident(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kib| kib * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// A reference tool run to completion.
pub struct Finished {
    pub status: ExitStatus,
    /// From spawn to exit.
    pub wall: Duration,
    /// The peak resident memory seen (VmHWM, sampled every 20 ms), bytes.
    pub peak_rss: u64,
    /// stderr, for error messages.
    pub stderr: String,
    /// Each stderr line with when it arrived, from spawn.
    pub stderr_lines: Vec<(Duration, String)>,
}

impl Finished {
    /// When the first stderr line for which `wanted` holds arrived, from spawn.
    pub fn first_stderr(&self, wanted: impl Fn(&str) -> bool) -> Option<Duration> {
        self.stderr_lines
            .iter()
            .find(|(_, line)| wanted(line))
            .map(|(at, _)| *at)
    }
}

/// A child process whose peak memory is sampled while it runs.
pub struct Watched {
    child: Child,
    started: Instant,
    peak: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    sampler: JoinHandle<()>,
    /// Reads stderr from the spawn on, timing each line.
    stderr_reader: JoinHandle<Vec<(Duration, String)>>,
}

impl Watched {
    /// Spawns `command` with piped stdout and stderr.
    pub fn spawn(command: &mut Command) -> anyhow::Result<Watched> {
        let program = command.get_program().to_string_lossy().into_owned();
        let started = Instant::now();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {program}"))?;
        let (peak, done) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let pid = child.id();
        let sampler = {
            let (peak, done) = (peak.clone(), done.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    if let Some((_, hwm)) = resident(pid) {
                        peak.fetch_max(hwm, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        let stderr = child.stderr.take();
        let stderr_reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            if let Some(stderr) = stderr {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    lines.push((started.elapsed(), line));
                }
            }
            lines
        });
        Ok(Watched {
            child,
            started,
            peak,
            done,
            sampler,
            stderr_reader,
        })
    }

    pub fn started(&self) -> Instant {
        self.started
    }

    /// Calls `on_line` with each stdout line as it arrives, until stdout closes.
    pub fn read_lines(&mut self, mut on_line: impl FnMut(&str)) {
        let Some(stdout) = self.child.stdout.take() else {
            return;
        };
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            on_line(&line);
        }
    }

    /// stdout as one string (reads until it closes).
    pub fn read_stdout(&mut self) -> String {
        let mut out = String::new();
        self.read_lines(|line| {
            out.push_str(line);
            out.push('\n');
        });
        out
    }

    /// Waits for the exit (killing the process after `timeout`).
    pub fn wait(mut self, timeout: Duration) -> anyhow::Result<Finished> {
        let deadline = self.started + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait()? {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                bail!("still running after {timeout:?}: killed");
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let wall = self.started.elapsed();
        self.done.store(true, Ordering::Relaxed);
        let _ = self.sampler.join();
        let stderr_lines = self.stderr_reader.join().unwrap_or_default();
        Ok(Finished {
            status,
            wall,
            peak_rss: self.peak.load(Ordering::Relaxed),
            stderr: stderr_lines
                .iter()
                .map(|(_, line)| format!("{line}\n"))
                .collect(),
            stderr_lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_memory() {
        let (rss, hwm) = resident(std::process::id()).expect("/proc/self/status");
        assert!(rss > 0 && hwm >= rss, "rss {rss} hwm {hwm}");
    }

    #[test]
    fn a_finished_process_reports_status_time_and_memory() {
        let mut sh = Watched::spawn(Command::new("sh").args([
            "-c",
            "echo one; echo early >&2; sleep 0.1; echo two; echo late >&2",
        ]))
        .unwrap();
        let mut lines = Vec::new();
        sh.read_lines(|l| lines.push(l.to_owned()));
        let finished = sh.wait(Duration::from_secs(10)).unwrap();
        assert_eq!(lines, ["one", "two"]);
        assert!(finished.status.success());
        assert!(finished.wall >= Duration::from_millis(100));
        assert!(finished.peak_rss > 0);
        assert_eq!(finished.stderr, "early\nlate\n");
        let (early, late) = (
            finished.first_stderr(|l| l == "early").unwrap(),
            finished.first_stderr(|l| l == "late").unwrap(),
        );
        assert!(
            late >= early + Duration::from_millis(100),
            "{early:?} {late:?}"
        );
        assert_eq!(finished.first_stderr(|l| l == "never"), None);
    }

    #[test]
    fn a_hanging_process_is_killed_at_the_timeout() {
        let sh = Watched::spawn(Command::new("sleep").arg("30")).unwrap();
        let err = sh
            .wait(Duration::from_millis(200))
            .err()
            .expect("timed out");
        assert!(err.to_string().contains("killed"), "{err}");
    }
}
