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
