//! The reference clients: Debian's `kcat` and PyPI's `confluent-kafka` (`reference.py`),
//! run as a user would run them, against the same broker as the project.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use serde_json::Value;

use crate::broker::Broker;
use crate::figures::burst::Burst;
use crate::figures::drain::Drain;
use crate::process::Watched;

/// A reference client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Reference {
    /// `kcat` (Debian package; talks to the mock cluster only).
    Kcat,
    /// PyPI `confluent-kafka` through `bench/reference.py` (both brokers).
    ConfluentKafka,
    /// The same, decoding each record's JSON as the project's consumer does (drain only):
    /// the equal-work row.
    ConfluentKafkaJson,
}

impl Reference {
    /// Whether it has a producer side (the burst figure).
    pub fn produces(self) -> bool {
        self != Reference::ConfluentKafkaJson
    }
}

/// Where the reference tools are, and what they are.
#[derive(Debug, Clone)]
pub struct Tools {
    pub kcat: PathBuf,
    pub python: PathBuf,
    pub script: PathBuf,
}

/// The longest any one reference run may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

impl Tools {
    /// `kcat -V` / the Python module's versions, or a message saying how to install it.
    pub fn version(&self, reference: Reference) -> anyhow::Result<String> {
        match reference {
            Reference::Kcat => {
                let out = kcat(self).arg("-V").output().with_context(|| {
                    format!(
                        "cannot run {}: install it with `apt-get install kcat` (scripts/bench does)",
                        self.kcat.display()
                    )
                })?;
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                let version = text
                    .lines()
                    .find(|l| l.starts_with("Version"))
                    .and_then(|l| {
                        let kcat = l.split_whitespace().nth(1)?;
                        let librdkafka =
                            l.split("librdkafka ").nth(1)?.split_whitespace().next()?;
                        Some(format!("kcat {kcat} (librdkafka {librdkafka})"))
                    });
                version.context("kcat -V printed no version line")
            }
            Reference::ConfluentKafka | Reference::ConfluentKafkaJson => {
                let out = Command::new(&self.python)
                    .args([
                        "-c",
                        "import confluent_kafka as c; print(getattr(c, \"__version__\", None) or c.version()[0], c.libversion()[0])",
                    ])
                    .output()
                    .with_context(|| format!("cannot run {}", self.python.display()))?;
                ensure!(
                    out.status.success(),
                    "{} cannot import confluent_kafka: run scripts/bench, or pass --python \
                     with an interpreter that has it ({})",
                    self.python.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                let text = String::from_utf8_lossy(&out.stdout);
                let mut parts = text.split_whitespace();
                let (ck, lib) = (parts.next().unwrap_or("?"), parts.next().unwrap_or("?"));
                let decoding = if reference == Reference::ConfluentKafkaJson {
                    ", json.loads per record"
                } else {
                    ""
                };
                Ok(format!("confluent-kafka {ck} (librdkafka {lib}){decoding}"))
            }
        }
    }
}

/// Reads `count` records of `topic` as a fresh group's only member.
pub fn drain(
    tools: &Tools,
    reference: Reference,
    broker: &Broker,
    topic: &str,
    group: &str,
    count: u64,
) -> anyhow::Result<Drain> {
    match reference {
        Reference::Kcat => {
            let mut kcat = Watched::spawn(kcat(tools).args([
                "-C",
                "-b",
                broker.bootstrap(),
                "-G",
                group,
                "-X",
                "auto.offset.reset=earliest",
                "-X",
                "session.timeout.ms=6000",
                "-c",
                &count.to_string(),
                "-q",
                topic,
            ]))?;
            let started = kcat.started();
            let (mut first, mut last, mut seen) = (None, started, 0u64);
            kcat.read_lines(|_| {
                let now = Instant::now();
                first.get_or_insert(now);
                last = now;
                seen += 1;
            });
            let done = kcat.wait(RUN_TIMEOUT)?;
            ensure!(
                done.status.success() && seen == count,
                "kcat read {seen} of {count} records ({}): {}",
                done.status,
                done.stderr.trim()
            );
            let first = first.context("kcat read nothing")?;
            Ok(Drain {
                join: (first - started).as_secs_f64(),
                drain: (last - first).as_secs_f64(),
                peak_rss: done.peak_rss,
            })
        }
        Reference::ConfluentKafka | Reference::ConfluentKafkaJson => {
            let count = count.to_string();
            let mut args = vec![
                "consume",
                "--brokers",
                broker.bootstrap(),
                "--topic",
                topic,
                "--group",
                group,
                "--count",
                &count,
            ];
            if reference == Reference::ConfluentKafkaJson {
                args.push("--decode");
            }
            let (json, peak_rss) = python(tools, &args)?;
            Ok(Drain {
                join: number(&json, "join_seconds")?,
                drain: number(&json, "drain_seconds")?,
                peak_rss,
            })
        }
    }
}

/// Sends every event of `events` (`key<TAB>json` lines, `count` of them) to `topic`.
pub fn burst(
    tools: &Tools,
    reference: Reference,
    broker: &Broker,
    topic: &str,
    events: &Path,
    count: u64,
) -> anyhow::Result<Burst> {
    match reference {
        Reference::Kcat => {
            let run = |file: &Path| -> anyhow::Result<(f64, u64)> {
                let kcat = Watched::spawn(
                    kcat(tools)
                        .args([
                            "-P",
                            "-b",
                            broker.bootstrap(),
                            "-t",
                            topic,
                            "-K",
                            "\t",
                            "-q",
                            "-l",
                        ])
                        .arg(file),
                )?;
                let done = kcat.wait(RUN_TIMEOUT)?;
                ensure!(
                    done.status.success(),
                    "kcat -P failed ({}): {}",
                    done.status,
                    done.stderr.trim()
                );
                Ok((done.wall.as_secs_f64(), done.peak_rss))
            };
            let (wall, peak_rss) = run(events)?;
            // kcat's wall time includes starting, connecting and closing: measured with
            // one event (the median of three, on the now warm topic) and taken off, so
            // both sides count sending only.
            let one = events.with_extension("one.txt");
            let first_line =
                std::io::BufRead::lines(std::io::BufReader::new(std::fs::File::open(events)?))
                    .next()
                    .context("empty event file")??;
            std::fs::write(&one, format!("{first_line}\n"))?;
            let overheads = (0..3)
                .map(|_| run(&one).map(|(seconds, _)| seconds))
                .collect::<anyhow::Result<Vec<f64>>>()?;
            let overhead = crate::stats::median(&overheads).unwrap_or(0.0);
            if broker.exact_end_offsets() {
                let records =
                    crate::events::records_in(broker.bootstrap(), topic, crate::PARTITIONS)?;
                ensure!(
                    records == count as i64 + 3,
                    "kcat -P left {records} records in {topic}, expected {}",
                    count + 3
                );
            }
            Ok(Burst {
                seconds: (wall - overhead).max(f64::EPSILON),
                peak_rss,
            })
        }
        Reference::ConfluentKafkaJson => bail!("confluent-kafka-json has no producer side"),
        Reference::ConfluentKafka => {
            let (json, peak_rss) = python(
                tools,
                &[
                    "produce",
                    "--brokers",
                    broker.bootstrap(),
                    "--topic",
                    topic,
                    "--events",
                    &events.display().to_string(),
                ],
            )?;
            let delivered = number(&json, "delivered")? as u64;
            ensure!(
                delivered == count,
                "confluent-kafka delivered {delivered} of {count}"
            );
            Ok(Burst {
                seconds: number(&json, "seconds")?,
                peak_rss,
            })
        }
    }
}

/// `kcat` with the system's librdkafka: `cargo test` puts the project's own build of
/// librdkafka on `LD_LIBRARY_PATH`, which kcat would otherwise load.
fn kcat(tools: &Tools) -> Command {
    let mut command = Command::new(&tools.kcat);
    command.env_remove("LD_LIBRARY_PATH");
    command
}

/// Runs `reference.py` with `args`; returns its JSON line and peak memory.
fn python(tools: &Tools, args: &[&str]) -> anyhow::Result<(Value, u64)> {
    let mut child = Watched::spawn(Command::new(&tools.python).arg(&tools.script).args(args))?;
    let stdout = child.read_stdout();
    let done = child.wait(RUN_TIMEOUT)?;
    if !done.status.success() {
        bail!(
            "reference.py {} failed ({}): {}",
            args[0],
            done.status,
            done.stderr.trim()
        );
    }
    let json = serde_json::from_str(stdout.trim())
        .with_context(|| format!("reference.py printed {stdout:?}"))?;
    Ok((json, done.peak_rss))
}

fn number(json: &Value, field: &str) -> anyhow::Result<f64> {
    json[field]
        .as_f64()
        .with_context(|| format!("reference.py printed no {field}: {json}"))
}
