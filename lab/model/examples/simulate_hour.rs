//! One hour of the published workload at 100 ms, simulated in this process `N` times (the
//! argument, default 20), for profiling the model: `perf record` this, not the bench.
//!
//!   CARGO_PROFILE_RELEASE_STRIP=none CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
//!     cargo run --release -p keda-kafka-lab-model --example simulate_hour -- 50

use lab_model::scenario::{Phase, Scenario};

fn main() -> anyhow::Result<()> {
    let runs: u64 = std::env::args().nth(1).map_or(Ok(20), |n| n.parse())?;
    let mut scenario = Scenario::published()?;
    scenario.phases = vec![Phase {
        name: "period 100 ms".into(),
        seconds: 3600,
        producer_period_ms: Some(100),
        ..Phase::default()
    }];
    let spec = scenario.load_scaled_object()?.spec;
    let started = std::time::Instant::now();
    for seed in 1..=runs {
        lab_model::simulate::run(&scenario, &spec, seed)?;
    }
    let each = started.elapsed().as_secs_f64() / runs as f64;
    println!("{:.2} ms per simulated hour ({runs} runs)", each * 1000.0);
    Ok(())
}
