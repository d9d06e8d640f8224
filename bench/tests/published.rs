//! The bench figures docs/performance.md quotes are the ones the bench wrote: each quoted
//! median is read back from the file the page links to, so a new run that is not copied
//! over (or a figure typed by hand) fails here.

use std::path::Path;

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The cells of the table row of `section` whose first cell is `first`.
fn row(section: &str, first: &str) -> Vec<String> {
    let prefix = format!("| {first} |");
    let line = section
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no row {first:?} in {section}"));
    line.trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_owned())
        .collect()
}

/// The median of a "median (min–max)" cell: "12 ms (10 ms–14 ms)" -> "12 ms".
fn median(cell: &str) -> &str {
    cell.split(" (").next().unwrap()
}

/// `5.39 ms (4.62 ms–8.88 ms)` -> `4.62-8.88 ms`.
fn range(cell: &str) -> String {
    let inside = cell.split(" (").nth(1).unwrap().trim_end_matches(')');
    let (low, high) = inside.split_once('–').unwrap();
    format!("{}-{high}", low.trim_end_matches(" ms"))
}

/// The paragraph of `doc` that starts with `bold`, on one line.
fn paragraph(doc: &str, bold: &str) -> String {
    let text = doc
        .split(bold)
        .nth(1)
        .unwrap_or_else(|| panic!("docs/performance.md has no {bold:?}"));
    let text = text.split("\n\n").next().unwrap();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The section of `doc` from the heading that starts with `heading` to the next heading
/// of the same level.
fn figure<'a>(doc: &'a str, heading: &str) -> &'a str {
    let at = doc
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in {doc}"));
    let level = heading.split(' ').next().unwrap();
    let rest = &doc[at + heading.len()..];
    let end = rest.find(&format!("\n{level} ")).unwrap_or(rest.len());
    &rest[..end]
}

/// The first data row of the figure's table (the row after the `|---|` line).
fn first_row(section: &str) -> Vec<String> {
    let mut lines = section.lines().skip_while(|l| !l.starts_with("|---"));
    lines.next();
    lines
        .next()
        .unwrap_or_else(|| panic!("no table in {section}"))
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_owned())
        .collect()
}

/// `595.39 s (MISSED)` -> `595 s`; `72.11 s (met)` -> `72.1 s`; `637 ms` stays.
fn short(cell: &str) -> String {
    let value = cell.split(" (").next().unwrap();
    match value.strip_suffix(" s") {
        Some(s) => {
            let s: f64 = s.parse().unwrap();
            if s >= 100.0 {
                format!("{s:.0} s")
            } else {
                format!("{s:.1} s")
            }
        }
        None => value.to_owned(),
    }
}

/// `1705.7 MiB` -> `1706 MiB`.
fn mib(cell: &str) -> String {
    let value: f64 = cell
        .split(" MiB")
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("not MiB: {cell}"));
    format!("{value:.0} MiB")
}

#[test]
fn the_docs_quote_the_simulate_and_tune_figures_the_bench_wrote() {
    let file = read("docs/results/bench-lab-day.md");
    let doc = paragraph(
        &read("docs/performance.md"),
        "**Simulation and tune speed, since**",
    );
    let (before, after) = file
        .split_once("## After")
        .expect("a before and an after section");
    let in_process =
        |s| median(&row(figure(s, "### 6."), "in-process simulate::run")[1]).to_owned();
    let process = |s| median(&row(figure(s, "### 6."), "lab simulate (process)")[1]).to_owned();
    let (tune_b, tune_a) = (
        first_row(figure(before, "### 8.")),
        first_row(figure(after, "### 8.")),
    );
    let (day_b, day_a) = (
        first_row(figure(before, "### 9.")),
        first_row(figure(after, "### 9.")),
    );
    let (trace_b, trace_a) = (
        first_row(figure(before, "### 10.")),
        first_row(figure(after, "### 10.")),
    );
    assert_eq!((&day_a[1][..], &day_a[2][..]), ("512", "10"), "{day_a:?}");
    assert!(day_a[4].ends_with("(met)"), "{day_a:?}");
    assert!(day_a[5].ends_with("(met)"), "{day_a:?}");
    assert!(trace_a[6].ends_with("(met)"), "{trace_a:?}");
    let quoted = [
        format!(
            "{} -> **{}** in-process",
            in_process(before),
            in_process(after)
        ),
        format!(
            "({} over 7 runs",
            range(&row(figure(after, "### 6."), "in-process simulate::run")[1])
        ),
        format!(
            "{} -> {} as `lab simulate`",
            process(before).trim_end_matches(" ms"),
            process(after)
        ),
        format!(
            "{} -> {} simulations, {} -> {}",
            tune_b[3],
            tune_a[3],
            short(&tune_b[4]),
            short(&tune_a[4])
        ),
        format!("{} -> **{}**", short(&day_b[4]), short(&day_a[4])),
        format!("first ETA on stderr after {}", short(&day_a[5])),
        format!("peak RSS {} -> {}", mib(&day_b[6]), mib(&day_a[6])),
        format!("{} -> **{}** peak", mib(&trace_b[6]), mib(&trace_a[6])),
        format!("{} -> {}", short(&trace_b[4]), short(&trace_a[4])),
    ];
    for text in quoted {
        assert!(
            doc.contains(&text),
            "docs/performance.md lacks {text:?}: {doc}"
        );
    }
}
