//! What README.md and docs/lab.md say about `lab simulate --seeds`, asserted: the figures
//! they quote are these, for seeds 1..=40. A change to the model or the emulator that
//! moves them fails here until the docs say the new figures.

use std::collections::BTreeMap;

use lab::scenario::Scenario;

/// Seeds per replica count, per phase, as `lab simulate --seeds 40` prints them.
fn spread(name: &str) -> Vec<BTreeMap<u32, u64>> {
    let scenario = Scenario::load(name).unwrap();
    let spec = scenario.load_scaled_object().unwrap().spec;
    lab::simulate::robustness(&scenario, &spec, 40)
        .unwrap()
        .counts
}

fn counts(pairs: &[(u32, u64)]) -> BTreeMap<u32, u64> {
    pairs.iter().copied().collect()
}

/// docs/lab.md, "How often each phase ends as published": the published scenario.
#[test]
fn published_scenario_over_40_seeds() {
    let s = spread("published");
    assert_eq!(s[0], counts(&[(0, 13), (1, 16), (2, 11)]), "period 1000 ms");
    assert_eq!(s[1], counts(&[(0, 40)]), "producer deleted");
    assert_eq!(s[2], counts(&[(2, 8), (3, 29), (4, 3)]), "period 100 ms");
    assert_eq!(s[3], counts(&[(0, 40)]), "period 10 s");
}

/// README.md and docs/lab.md: the original manifests (3 partitions) end the 100 ms phase
/// at 3 in 40 of 40 seeds: the partition cap, 3 x lagThreshold = 15, is a fixed point.
#[test]
fn original_scenario_over_40_seeds() {
    let s = spread("original");
    assert_eq!(s[0], counts(&[(1, 40)]), "period 1000 ms");
    assert_eq!(s[1], counts(&[(0, 40)]), "producer deleted");
    assert_eq!(s[2], counts(&[(3, 40)]), "period 100 ms");
    assert_eq!(s[3], counts(&[(0, 40)]), "period 10 s");
}

/// A scenario file on the published phases with the given consumer.
fn custom(partitions: u32, processing_ms: u64, commit_interval_ms: u64) -> Scenario {
    let mut s = Scenario::published().unwrap();
    s.partitions = partitions;
    s.consumer.processing_ms = processing_ms;
    s.consumer.commit_interval_ms = commit_interval_ms;
    s
}

fn spread_of(scenario: &Scenario, seeds: u64) -> lab::simulate::Spread {
    let spec = scenario.load_scaled_object().unwrap().spec;
    lab::simulate::robustness(scenario, &spec, seeds).unwrap()
}

/// docs/lab.md: on 10 partitions the original consumer (instant, 5 s auto-commit) gives
/// 6-7 replicas at 100 ms; on 3 partitions a 15 s commit interval gives all four
/// published counts in 20/20 seeds.
#[test]
fn other_consumers_the_docs_quote() {
    let ten = spread_of(&custom(10, 0, 5000), 20);
    assert_eq!(
        ten.counts[2],
        counts(&[(6, 17), (7, 3)]),
        "10 partitions, 5 s commits, 100 ms"
    );
    let long = spread_of(&custom(3, 0, 15_000), 20);
    assert_eq!(long.all_as_published, 20);
}
