//! An append-only record of every event delivered or processed, for accounting.
//!
//! When `ledger.file` (`LEDGER_FILE`) is set, the producer appends one JSON line per
//! delivered event and the consumer one per processed event (with the event's own `time`,
//! so its delay can be told), written before the offset is stored. Each line is a single `write` on a file opened with `O_APPEND`, so it
//! survives a SIGKILL of the process and lines from several processes do not interleave.
//! Tests and the lab compare the two sides to count lost and duplicated events.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// One line of a ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The producer instance that created the event.
    pub source: String,
    pub seq: u64,
    pub partition: i32,
    pub offset: i64,
    /// Who wrote the line: the producer's or the consumer's instance id.
    pub by: String,
    /// When the line was written, ms since the Unix epoch (set by [`Ledger::record`]).
    #[serde(default)]
    pub at: u64,
    /// The event's own `time` (when the producer made it), ms since the Unix epoch: the
    /// consumer's lines carry it, so `at - time` is the event's end-to-end delay. Absent
    /// from the producer's lines and from ledgers written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<u64>,
}

/// A ledger file, or nothing when none is configured.
#[derive(Debug, Default)]
pub struct Ledger {
    file: Option<Mutex<File>>,
}

impl Ledger {
    pub fn open(path: Option<&Path>) -> std::io::Result<Self> {
        let file = match path {
            None => None,
            Some(path) => Some(Mutex::new(
                OpenOptions::new().create(true).append(true).open(path)?,
            )),
        };
        Ok(Self { file })
    }

    /// Whether a ledger file is configured (callers skip building entries otherwise).
    pub fn is_enabled(&self) -> bool {
        self.file.is_some()
    }

    /// Appends `entry`. An I/O error is returned so the caller does not store the offset
    /// of an event it could not account for.
    pub fn record(&self, entry: &Entry) -> std::io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let stamped = Entry {
            at: crate::event::now_millis(),
            ..entry.clone()
        };
        let mut line = serde_json::to_vec(&stamped)?;
        line.push(b'\n');
        file.lock()
            .unwrap_or_else(|e| e.into_inner())
            .write_all(&line)
    }
}

/// Reads every entry of the ledger files at `paths` (missing files count as empty).
pub fn read_all<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> std::io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for path in paths {
        let text = match std::fs::read_to_string(path.as_ref()) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for line in text.lines().filter(|l| !l.is_empty()) {
            out.push(serde_json::from_str(line).map_err(std::io::Error::other)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("ledger-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.jsonl");
        let ledger = Ledger::open(Some(&path)).unwrap();
        let entry = Entry {
            source: "p".into(),
            seq: 3,
            partition: 1,
            offset: 9,
            by: "c".into(),
            at: 0,
            time: Some(5),
        };
        ledger.record(&entry).unwrap();
        ledger.record(&entry).unwrap();
        Ledger::default().record(&entry).unwrap();
        let all = read_all([path, dir.join("missing")]).unwrap();
        assert_eq!(all.len(), 2);
        assert!(
            all.iter()
                .all(|e| e.at > 0 && Entry { at: 0, ..e.clone() } == entry),
            "stamped: {all:?}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
