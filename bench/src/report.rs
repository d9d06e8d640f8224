//! Figures, printed as aligned text and written as Markdown, and the units they are
//! written in.

use lab_model::markdown::Table;

/// One figure of the benchmark: a title, its table, and notes saying how to read it.
#[derive(Debug, Clone)]
pub struct Figure {
    pub title: String,
    pub table: Table,
    pub notes: Vec<String>,
}

impl Figure {
    pub fn new(title: impl Into<String>, header: &[&str]) -> Figure {
        Figure {
            title: title.into(),
            table: Table::new(header),
            notes: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.table.row(cells);
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// Aligned columns for a terminal, under `== title`, the notes indented below.
    pub fn text(&self) -> String {
        let notes: String = self.notes.iter().map(|n| format!("   {n}\n")).collect();
        format!("== {}\n{}{notes}", self.title, self.table.text())
    }

    /// A Markdown section: `## title`, the table, the notes as a list.
    pub fn markdown(&self) -> String {
        let notes: String = self.notes.iter().map(|n| format!("- {n}\n")).collect();
        let notes = if notes.is_empty() {
            notes
        } else {
            format!("\n{notes}")
        };
        format!("## {}\n\n{}{notes}\n", self.title, self.table)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_aligns_columns_and_markdown_has_a_separator_row() {
        let mut t = Figure::new("Drain", &["client", "time"]);
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
