//! What the figures were measured on: CPU, cores, kernel, date, commit, client versions.

use std::process::Command;

#[derive(Debug, Clone)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub kernel: String,
    pub date: String,
    pub commit: String,
    /// librdkafka inside the project's binaries.
    pub librdkafka: String,
    /// The reference clients, with versions.
    pub references: Vec<String>,
}

impl Machine {
    pub fn read(references: &[(crate::reference::Reference, String)]) -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, name)| name.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|k| k.trim().to_owned())
            .unwrap_or_default();
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            kernel,
            date: output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            commit: output("git", &["rev-parse", "--short", "HEAD"]),
            librdkafka: rdkafka::util::get_rdkafka_version().1,
            references: references.iter().map(|(_, name)| name.clone()).collect(),
        }
    }

    /// One paragraph for the top of the report.
    pub fn describe(&self) -> String {
        let mut text =
            format!(
            "{} ({} cores), Linux {}, {}, commit {}. Project binaries: {} build, librdkafka {}.",
            self.cpu,
            self.cores,
            self.kernel,
            self.date,
            self.commit,
            if cfg!(debug_assertions) { "debug" } else { "release" },
            self.librdkafka
        );
        if !self.references.is_empty() {
            text.push_str(&format!(" References: {}.", self.references.join(", ")));
        }
        text
    }
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}
