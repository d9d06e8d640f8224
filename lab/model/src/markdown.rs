//! Markdown tables: the one way every report writes a table (summaries, `lab tune`'s
//! candidates, `bench`'s figures) and the one way the docs' tests read one back, as GitHub
//! reads it.

use std::fmt;

/// A table: a header row and rows of cells, written as a Markdown pipe table (`Display`)
/// or as aligned columns for a terminal ([`Table::text`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: ToString>(header: impl IntoIterator<Item = S>) -> Self {
        Self {
            header: header.into_iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row of cells.
    pub fn row<S: ToString>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        self.rows
            .push(cells.into_iter().map(|c| c.to_string()).collect());
        self
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Aligned columns for a terminal, two spaces apart, no trailing blanks.
    pub fn text(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                match widths.get_mut(i) {
                    Some(w) => *w = (*w).max(cell.chars().count()),
                    None => widths.push(cell.chars().count()),
                }
            }
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            padded.join("  ").trim_end().to_owned() + "\n"
        };
        std::iter::once(&self.header)
            .chain(&self.rows)
            .map(|r| line(r))
            .collect()
    }

    /// The first table at or after the line containing `marker` in `text` (a heading, a
    /// `<!-- claims: ... -->` comment), read as GitHub reads it; `None` when there is no
    /// such line or no table after it.
    pub fn after(text: &str, marker: &str) -> Option<Self> {
        let at = text.find(marker)?;
        Self::parse(&text[at..])
    }

    /// The first pipe table in `text`: its header, then its rows (the separator row left
    /// out); each cell split on `|` not escaped as `\|`, and trimmed.
    pub fn parse(text: &str) -> Option<Self> {
        let mut lines = text
            .lines()
            .map(str::trim)
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'));
        let header = cells(lines.next()?);
        let separator = lines.next()?;
        if !cells(separator)
            .iter()
            .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')))
        {
            return None;
        }
        Some(Self {
            header,
            rows: lines.map(cells).collect(),
        })
    }
}

/// A pipe (and a line break, which would end the row) inside a cell, escaped.
fn escape(cell: &str) -> String {
    cell.replace('|', "\\|").replace('\n', " ")
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An empty cell is one blank (`| a | |`), as people write them.
        let line = |cells: &[String]| {
            let cells: Vec<String> = cells
                .iter()
                .map(|c| match c.is_empty() {
                    true => " ".to_owned(),
                    false => format!(" {} ", escape(c)),
                })
                .collect();
            format!("|{}|", cells.join("|"))
        };
        writeln!(f, "{}", line(&self.header))?;
        writeln!(f, "|{}", "---|".repeat(self.header.len()))?;
        for row in &self.rows {
            writeln!(f, "{}", line(row))?;
        }
        Ok(())
    }
}

/// A row's cells as GitHub reads them: split on `|` not escaped as `\|`, each trimmed (an
/// empty cell stays a cell).
fn cells(row: &str) -> Vec<String> {
    let row = row.trim();
    let inner = row.strip_prefix('|').unwrap_or(row);
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().expect("one cell at least").push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().expect("one cell at least").push(c),
        }
    }
    cells.into_iter().map(|c| c.trim().to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_reads_back_what_it_writes_even_with_pipes() {
        let mut t = Table::new(["phase", "observed"]);
        t.row(["period 100 ms", "3 | 4"]).row(["deleted", ""]);
        let md = t.to_string();
        assert_eq!(
            md,
            "| phase | observed |\n|---|---|\n| period 100 ms | 3 \\| 4 |\n| deleted | |\n"
        );
        assert_eq!(Table::parse(&format!("text\n\n{md}\nafter")), Some(t));
    }

    #[test]
    fn text_aligns_columns_and_after_finds_the_table_past_a_marker() {
        let mut t = Table::new(["client", "time"]);
        t.row(["kafka-consumer", "1.20 s"]).row(["kcat", "980 ms"]);
        assert_eq!(
            t.text(),
            "client          time\nkafka-consumer  1.20 s\nkcat            980 ms\n"
        );
        let doc = format!("| a |\n|---|\n| x |\n\n<!-- claims: here -->\n{t}");
        assert_eq!(Table::after(&doc, "claims: here"), Some(t));
        assert_eq!(Table::after(&doc, "nowhere"), None);
        assert_eq!(Table::parse("| a | b |\n| c | d |\n"), None, "no separator");
    }
}
