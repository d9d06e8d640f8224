//! The configuration tables of docs/reference.md (moved there from the README) say what the
//! binaries read: every declared setting (`producer::config`, `consumer::config`,
//! `common::service`) has its row, with its spellings, default and meaning, and every row
//! is a declared setting or one of the few variables read another way. A table that drifts
//! from the code fails here.

use std::collections::BTreeMap;

use common::config::Setting;
use lab_model::markdown::Table;

/// Variables the "Both" table documents that are not settings (read directly,
/// or a family of names).
const OTHER_VARIABLES: &[&str] = &[
    "`HOSTNAME`",
    "`LOG_FORMAT`",
    "`RUST_LOG`",
    "`NO_COLOR`",
    "`KAFKA_EXTRA_<property>`",
];

/// The rows of the table that follows the line `heading` (key -> the other three cells).
fn table(readme: &str, heading: &str) -> BTreeMap<String, [String; 3]> {
    let table = Table::after(readme, heading)
        .unwrap_or_else(|| panic!("reference.md: no table after {heading:?}"));
    table
        .rows()
        .iter()
        .map(|cells| {
            assert_eq!(cells.len(), 4, "a row of four cells: {cells:?}");
            (
                cells[0].clone(),
                [cells[1].clone(), cells[2].clone(), cells[3].clone()],
            )
        })
        .collect()
}

fn check(readme: &str, heading: &str, settings: &[&Setting], others: &[&str]) {
    let rows = table(readme, heading);
    for s in settings {
        let key = format!("`{}`", s.key);
        let row = rows
            .get(&key)
            .unwrap_or_else(|| panic!("{heading}: no row for {key}"));
        assert_eq!(
            row,
            &[s.readme_spellings(), s.readme_default(), s.readme_meaning()],
            "{heading}: the row of {key} differs from its declaration"
        );
    }
    for key in rows.keys() {
        assert!(
            settings.iter().any(|s| format!("`{}`", s.key) == *key)
                || others.contains(&key.as_str()),
            "{heading}: {key} is no setting the binaries declare"
        );
    }
}

#[test]
fn the_configuration_tables_match_the_declared_settings() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/reference.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let shared: Vec<&Setting> = common::service::SHARED_SETTINGS.to_vec();
    let own = |all: Vec<&'static Setting>| -> Vec<&'static Setting> {
        all.into_iter()
            .filter(|s| !shared.iter().any(|x| x.key == s.key))
            .collect()
    };
    check(
        &readme,
        "Producer (`kafka-producer-callback`):",
        &own(producer::config::settings()),
        &[],
    );
    check(
        &readme,
        "Consumer (`kafka-consumer`):",
        &own(consumer::config::settings()),
        &[],
    );
    check(&readme, "Both:", &shared, OTHER_VARIABLES);
}
