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

/// The paragraph of `doc` that starts with `bold`, on one line.
fn paragraph(doc: &str, bold: &str) -> String {
    let text = doc
        .split(bold)
        .nth(1)
        .unwrap_or_else(|| panic!("docs/performance.md has no {bold:?}"));
    let text = text.split("\n\n").next().unwrap();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_readme_quotes_the_simulate_and_tune_speeds_the_bench_wrote() {
    let file = read("docs/results/bench-simulate-tune.md");
    let readme = paragraph(
        &read("docs/performance.md"),
        "**Simulation and tune speed, since**",
    );
    let (before, after) = file
        .split_once("## After")
        .expect("a before and an after section");

    let in_process = |section| median(&row(section, "in-process simulate::run")[1]).to_owned();
    let process = |section| median(&row(section, "lab simulate (process)")[1]).to_owned();
    let quoted = [
        format!(
            "{} -> **{}** in-process",
            in_process(before),
            in_process(after)
        ),
        format!(
            "{} -> {} as `lab simulate`",
            process(before).trim_end_matches(" ms"),
            process(after)
        ),
    ];
    let tune = row(after, "512");
    let (seeds, wall, rate) = (&tune[1], &tune[2], &tune[3]);
    assert_eq!(seeds, "20", "{tune:?}");
    let quoted = quoted.into_iter().chain([
        format!("{rate} simulations a second"),
        format!("takes {wall}, inside its 60 s target"),
        "(512 candidates".to_owned(),
    ]);
    for text in quoted {
        assert!(
            readme.contains(&text),
            "docs/performance.md lacks {text:?}: {readme}"
        );
    }
}
