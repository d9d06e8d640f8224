//! Tables of figures, printed as aligned text and written as Markdown.

use anyhow::Context as _;
use std::fmt::Write as _;

/// One table of figures: a title, a header row, rows, and notes saying how to read it.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub notes: Vec<String>,
}

impl Table {
    pub fn new(title: impl Into<String>, header: &[&str]) -> Table {
        Table {
            title: title.into(),
            header: header.iter().map(|h| h.to_string()).collect(),
            ..Table::default()
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// Aligned columns for a terminal.
    pub fn text(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(cell.chars().count());
                }
            }
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            padded.join("  ").trim_end().to_owned()
        };
        let mut out = format!("== {}\n{}\n", self.title, line(&self.header));
        for row in &self.rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        for note in &self.notes {
            let _ = writeln!(out, "   {note}");
        }
        out
    }

    /// A Markdown section.
    pub fn markdown(&self) -> String {
        let mut out = format!("## {}\n\n| {} |\n", self.title, self.header.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(self.header.len()));
        for row in &self.rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for note in &self.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        out.push('\n');
        out
    }
}

/// Seconds with a precision that suits their size.
pub fn seconds(s: f64) -> String {
    if s < 0.01 {
        format!("{:.2} ms", s * 1000.0)
    } else if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

/// Bytes as MiB with one decimal.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Events per second, rounded to thousands.
pub fn rate(events: u64, seconds: f64) -> String {
    let per_second = events as f64 / seconds;
    if per_second < 10_000.0 {
        format!("{per_second:.0}/s")
    } else {
        format!("{:.0}k/s", per_second / 1000.0)
    }
}

/// A ratio against a target: `1.07 (met)`.
pub fn ratio(value: f64, target: f64) -> String {
    let verdict = if value >= target { "met" } else { "MISSED" };
    format!("{value:.2} ({verdict})")
}

/// Prints every table and, with `--out`, writes them as Markdown.
pub fn publish(results: &crate::Results, options: &crate::Options) -> anyhow::Result<()> {
    let tables = crate::tables::tables(results);
    println!("{}\n", results.machine.describe());
    for table in &tables {
        println!("{}", table.text());
    }
    if let Some(path) = &options.out {
        let mut md = format!(
            "# Benchmark figures\n\n{}\n\nCommand: `{}`\n\n",
            results.machine.describe(),
            std::env::args().collect::<Vec<_>>().join(" ")
        );
        for table in &tables {
            md.push_str(&table.markdown());
        }
        std::fs::write(path, md).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("bench: wrote {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_aligns_columns_and_markdown_has_a_separator_row() {
        let mut t = Table::new("Drain", &["client", "time"]);
        t.row(vec!["kafka-consumer".into(), "1.20 s".into()]);
        t.row(vec!["kcat".into(), "980 ms".into()]);
        t.note("median of 3");
        assert_eq!(
            t.text(),
            "== Drain\nclient          time\nkafka-consumer  1.20 s\nkcat            980 ms\n   median of 3\n"
        );
        let md = t.markdown();
        assert!(
            md.starts_with("## Drain\n\n| client | time |\n|---|---|\n| kafka-consumer | 1.20 s |"),
            "{md}"
        );
        assert!(md.contains("- median of 3"));
    }

    #[test]
    fn units_read_well() {
        assert_eq!(seconds(0.0042), "4.20 ms");
        assert_eq!(seconds(0.25), "250 ms");
        assert_eq!(seconds(12.345), "12.35 s");
        assert_eq!(mib(30 * 1024 * 1024), "30.0 MiB");
        assert_eq!(rate(200_000, 2.0), "100k/s");
        assert_eq!(ratio(0.95, 0.9), "0.95 (met)");
        assert_eq!(ratio(0.5, 0.9), "0.50 (MISSED)");
    }
}
