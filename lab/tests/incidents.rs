//! The scenarios under scenarios/: each reproduces a symptom (named by what one sees; its
//! description cites the KEDA issue where it was reported) or a workload shape in `lab
//! simulate`, and each test here holds it to what docs/lab.md ("Incidents") says the user
//! sees, with and without the change the docs recommend. Each names the upstream code that
//! makes it so (KEDA v2.20.2, Kubernetes 1.35).

mod support;

use lab_model::emulator::{CallOutcome, Controller, Decision};
use lab_model::scenario::Scenario;
use lab_model::timeline::Timeline;
use support::repo;

/// `lab simulate --scenario scenarios/<file> [--scaled-object <so>] --seed <seed>`.
fn simulate(file: &str, scaled_object: Option<&str>, seed: u64) -> Timeline {
    let mut scenario = Scenario::load(&repo(file)).unwrap();
    if let Some(so) = scaled_object {
        scenario.scaled_object = repo(so).into();
    }
    let spec = scenario.load_scaled_object().unwrap().spec;
    lab_model::simulate::run(&scenario, &spec, seed).unwrap()
}

/// Decisions from `from_s` (included) to `to_s` (excluded), seconds of scenario time.
fn between(t: &Timeline, from_s: u64, to_s: u64) -> Vec<&Decision> {
    t.decisions
        .iter()
        .filter(|d| (from_s * 1000..to_s * 1000).contains(&d.at))
        .collect()
}

fn why(d: &Decision) -> String {
    serde_json::to_value(d.why)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

/// Replica counts of the samples from `from_s` to `to_s`.
fn replicas(t: &Timeline, from_s: f64, to_s: f64) -> Vec<u32> {
    t.samples
        .iter()
        .filter(|s| s.t >= from_s && s.t < to_s)
        .map(|s| s.replicas)
        .collect()
}

const OUTAGE: &str = "scenarios/broker-outage-frozen.yaml";

/// kedacore/keda#8056. pkg/scaling/scale_handler.go: the first failed call clears the
/// scalers cache; performGetScalersCache -> buildScalers -> NewKafkaScaler fails with no
/// broker (sarama.NewClient), checkScalers returns before RequestScale, and the HPA's
/// request fails before pkg/fallback/fallback.go GetMetricsWithFallback: the count is
/// held (horizontal.go: FailedGetExternalMetric) and failureThreshold 3 is never passed.
#[test]
fn broker_outage_frozen_the_count_holds_and_the_fallback_never_comes() {
    for seed in 1..=3 {
        let t = simulate(OUTAGE, Some("scenarios/scaled-objects/fallback.yaml"), seed);
        let outage = between(&t, 150, 175);
        assert!(!outage.is_empty());
        let held = outage[0].from;
        assert!(
            outage.iter().all(|d| d.replicas == held),
            "seed {seed}: {outage:?}"
        );
        assert!(outage.iter().all(|d| d.call != CallOutcome::Fallback));
        let whys: Vec<String> = outage.iter().map(|d| why(d)).collect();
        assert_eq!(
            whys[0], "keda:fallback-pending",
            "the first poll's call fails, counted: RequestScale holds for the fallback"
        );
        assert!(
            whys[1..].iter().all(|w| ["keda:no-scaler", "hpa:failed-get-external-metric"].contains(&w.as_str())),
            "{whys:?}"
        );
        assert!(
            outage[1..].iter().all(|d| d.call == CallOutcome::NoScaler),
            "every call after the first fails to build the scaler: {outage:?}"
        );
        assert!(
            t.samples
                .iter()
                .filter(|s| s.scaler_error.is_some())
                .count()
                == 25,
            "the 25 samples of the outage read nothing"
        );
        // failureThreshold 0: the first failure is already past it; the fallback answers
        // and the HPA goes to fallback.replicas.
        let t = simulate(
            OUTAGE,
            Some("scenarios/scaled-objects/fallback-threshold-0.yaml"),
            seed,
        );
        let outage = between(&t, 150, 175);
        assert!(outage.iter().any(|d| d.call == CallOutcome::Fallback));
        assert_eq!(
            outage.last().unwrap().replicas,
            5,
            "seed {seed}: {outage:?}"
        );
    }
}

/// The outage in the workload: events the producer held are delivered when the broker is
/// back (25 s is inside its 30 s message.timeout.ms): nothing expired.
#[test]
fn broker_outage_frozen_the_held_events_arrive_as_a_backlog_and_none_expire() {
    let t = simulate(OUTAGE, None, 1);
    assert_eq!(t.expired, 0);
    let before = t.samples.iter().find(|s| s.t == 149.0).unwrap().total_lag;
    let after = t.samples.iter().find(|s| s.t == 176.0).unwrap().total_lag;
    assert!(
        after > before + 200,
        "25 s x 10 events/s arrive at once: {before} -> {after}"
    );
}

const MOVING: &str = "scenarios/coordinator-moving-not-ready.yaml";

/// kedacore/keda#4098. pkg/scaling/executor/scale_scaledobjects.go RequestScale: an
/// inactive poll with an error and no fallback sets Ready False (TriggerError) and scales
/// nothing: no drop to zero during the move. With a fallback (replicas 5) RequestScale
/// holds ("ScaleTarget will fallback"), every failing call counts (GetMetricsWithFallback)
/// and from the fourth on the HPA gets 5 x lagThreshold: 5 replicas; behavior
/// currentReplicas (doFallback) serves what runs instead: the count is held.
#[test]
fn coordinator_moving_not_ready_holds_or_brings_the_fallback() {
    for seed in 1..=3 {
        let t = simulate(MOVING, None, seed);
        let moving = between(&t, 120, 240);
        let held = moving[0].from;
        assert!(
            moving.iter().all(|d| d.replicas == held),
            "seed {seed}: {moving:?}"
        );
        let whys: Vec<String> = moving.iter().map(|d| why(d)).collect();
        assert!(
            whys.iter().all(|w| w == "keda:trigger-error"
                || w == "hpa:failed-get-external-metric"
                || w == "hpa:disabled"),
            "{whys:?}"
        );

        let t = simulate(MOVING, Some("scenarios/scaled-objects/fallback.yaml"), seed);
        let moving = between(&t, 120, 240);
        let first_poll = moving.iter().find(|d| d.by == Controller::Keda).unwrap();
        if first_poll.from > 0 {
            assert_eq!(why(first_poll), "keda:fallback-pending");
        }
        assert_eq!(moving.last().unwrap().replicas, 5, "seed {seed}");

        let t = simulate(
            MOVING,
            Some("scenarios/scaled-objects/fallback-current-replicas.yaml"),
            seed,
        );
        let moving = between(&t, 120, 240);
        let held = moving[0].from;
        assert!(
            moving.iter().all(|d| d.replicas == held),
            "seed {seed}: {moving:?}"
        );
    }
}

/// kedacore/keda#5675. pkg/scalers/kafka_scaler.go GetMetricsAndActivity: the metric is
/// totalLag (persistent lag excluded) but activity is totalLagWithPersistent >
/// activationLagThreshold: a stuck partition keeps the trigger active, so with the
/// producer deleted excludePersistentLag brings the HPA down to 1 and never to zero.
#[test]
fn stuck_at_1_persistent_lag_keeps_the_workload_above_zero() {
    let file = "scenarios/stuck-at-1-persistent-lag.yaml";
    for seed in 1..=3 {
        let t = simulate(
            file,
            Some("scenarios/scaled-objects/exclude-persistent-lag.yaml"),
            seed,
        );
        let deleted = between(&t, 150, 360);
        assert!(deleted
            .iter()
            .filter(|d| d.by == Controller::Keda)
            .all(|d| d.active));
        assert!(
            deleted
                .iter()
                .filter(|d| d.by == Controller::Hpa)
                .all(|d| d.metric == 0),
            "{deleted:?}"
        );
        assert!(
            replicas(&t, 240.0, 360.0).iter().all(|r| *r == 1),
            "seed {seed}"
        );
        let t = simulate(file, None, seed);
        assert!(
            replicas(&t, 240.0, 360.0).iter().all(|r| *r >= 2),
            "without it the stuck lag scales out: seed {seed}"
        );
    }
}

/// kedacore/keda#3997. kafka_scaler.go getTotalLag: the metric is capped at partitions x
/// lagThreshold, and with limitToPartitionsWithLag at partitions-with-lag x lagThreshold.
#[test]
fn stuck_at_max_a_hot_partition_unless_limited_to_partitions_with_lag() {
    let file = "scenarios/stuck-at-max-hot-partition.yaml";
    let t = simulate(file, None, 1);
    assert_eq!(*replicas(&t, 120.0, 240.0).iter().min().unwrap(), 10);
    let t = simulate(
        file,
        Some("scenarios/scaled-objects/limit-to-partitions-with-lag.yaml"),
        1,
    );
    assert!(replicas(&t, 0.0, 240.0).iter().all(|r| *r == 1));
}

/// kedacore/keda#7936. kafka_scaler.go getLagForPartition (v2.20.2): no committed offset
/// with earliest returns the log-end offset, retention or not; with
/// scaleToZeroOnInvalidOffset it returns 0.
#[test]
fn stuck_at_max_expired_history_holds_an_idle_workload_at_max() {
    let file = "scenarios/stuck-at-max-expired-history.yaml";
    let t = simulate(file, None, 1);
    let late: Vec<_> = t.samples.iter().filter(|s| s.t >= 120.0).collect();
    assert!(
        late.iter()
            .all(|s| s.replicas == 10 && s.total_lag == 20_000),
        "nothing to read, nothing committed"
    );
    let t = simulate(
        file,
        Some("scenarios/scaled-objects/scale-to-zero-on-invalid-offset.yaml"),
        1,
    );
    assert!(t.samples.iter().all(|s| s.replicas == 0));
}

/// kedacore/keda#2314. scale_scaledobjects.go RequestScale scales an idle target to
/// idleReplicaCount (scaleToZeroOrIdle); horizontal.go raises anything below minReplicas
/// (KEDA gives the HPA minReplicaCount 3): the two undo each other every poll.
#[test]
fn flapping_idle_replica_count_above_zero() {
    let t = simulate("scenarios/flapping-idle-replica-count.yaml", None, 1);
    let idle = between(&t, 150, 360);
    let down = idle
        .iter()
        .filter(|d| why(d) == "keda:deactivate" && (d.from, d.replicas) == (3, 1))
        .count();
    let up = idle
        .iter()
        .filter(|d| why(d) == "hpa:below-min" && (d.from, d.replicas) == (1, 3))
        .count();
    assert!(down >= 6 && up >= 6, "{down} drops to 1, {up} raises to 3");
}

/// kedacore/keda#2033. kafka_scaler.go getLagForPartition: latest with no committed
/// offset returns 1 (0 only with scaleToZeroOnInvalidOffset); earliest with an empty
/// partition returns its log end, 0.
#[test]
fn never_zero_uncommitted_partitions_keep_latest_active() {
    let file = "scenarios/never-zero-uncommitted-partitions.yaml";
    let t = simulate(file, None, 1);
    let deleted = between(&t, 180, 360);
    assert!(deleted
        .iter()
        .filter(|d| d.by == Controller::Keda)
        .all(|d| d.active));
    assert!(replicas(&t, 240.0, 360.0).iter().all(|r| *r == 1));
    let lag: Vec<i64> = t
        .samples
        .iter()
        .filter(|s| s.t >= 240.0)
        .map(|s| s.total_lag)
        .collect();
    assert!(
        lag.iter().all(|l| *l == 3),
        "one per silent partition: {lag:?}"
    );
    let t = simulate(file, Some("k8s/keda/scaled-object.yaml"), 1);
    assert!(replicas(&t, 240.0, 360.0).iter().all(|r| *r == 0));
}

/// A burst: the HPA scales out by its scale-up policy (horizontal.go
/// convertDesiredReplicasWithBehaviorRate: +4 pods or +100 % per 15 s), the backlog drains,
/// the scale-down window and policy bring it back.
#[test]
fn a_burst_scales_out_and_back() {
    let t = simulate("scenarios/shapes-burst.yaml", None, 1);
    let peak = *replicas(&t, 90.0, 330.0).iter().max().unwrap();
    assert!(peak >= 5, "{peak}");
    let end = t.samples.last().unwrap();
    assert!(
        end.replicas <= 1 && end.total_lag < 50,
        "the backlog drained: {end:?}"
    );
}

/// The incident scenarios, named by the symptom one sees, and the KEDA issue each cites.
const INCIDENTS: [(&str, u32); 7] = [
    ("broker-outage-frozen", 8056),
    ("coordinator-moving-not-ready", 4098),
    ("stuck-at-1-persistent-lag", 5675),
    ("stuck-at-max-hot-partition", 3997),
    ("stuck-at-max-expired-history", 7936),
    ("flapping-idle-replica-count", 2314),
    ("never-zero-uncommitted-partitions", 2033),
];

/// Scenarios of what users write beyond one kafka trigger (several triggers, a
/// `scalingModifiers` formula, a ScaledJob): each shows a symptom of an upstream rule and
/// names the upstream source file the rule is in.
const FEATURE_SCENARIOS: [&str; 3] = [
    "cpu-holds-replicas-up",
    "formula-clamps-lag",
    "scaledjob-piles-up-jobs",
];

/// Every file under scenarios/ loads, is named by a symptom or shape (not by an issue
/// number), says how to run it, and each incident's description cites its KEDA issue as
/// an upstream report (a feature scenario: the upstream file of its rule).
#[test]
fn every_scenario_file_loads_and_says_what_it_reproduces() {
    let mut n = 0;
    for entry in std::fs::read_dir(repo("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let scenario = Scenario::load(path.to_str().unwrap()).unwrap();
        let name = path.file_stem().unwrap().to_str().unwrap();
        assert_eq!(scenario.name, name, "{}", path.display());
        assert!(text.contains("# Run: lab "), "{}", path.display());
        assert!(
            !name.starts_with("keda-"),
            "{name}: named by what one sees, not by an issue number"
        );
        let incident = INCIDENTS.iter().find(|(file, _)| *file == name);
        let feature = FEATURE_SCENARIOS.contains(&name);
        assert!(
            incident.is_some() || feature || name.starts_with("shapes-"),
            "{name}: an incident of INCIDENTS, a feature scenario or a shapes- workload"
        );
        if feature {
            assert!(
                scenario.description.contains(".go "),
                "{name}: the description names the upstream source of its rule"
            );
        }
        if let Some((_, number)) = incident {
            assert!(
                scenario
                    .description
                    .contains(&format!("Upstream: kedacore/keda#{number} ")),
                "{}: the description cites kedacore/keda#{number}",
                path.display()
            );
        }
        scenario.load_scalable().unwrap();
        n += 1;
    }
    assert!(n >= 10, "{n}");
}

const CPU: &str = "scenarios/cpu-holds-replicas-up.yaml";

/// kafka + cpu (kedacore/keda#6770). Kubernetes horizontal.go computeReplicasForMetrics
/// takes the largest proposal: after the burst the lag metric proposes about 2, the cpu
/// metric (replica_calculator.go GetResourceReplicas: 0.5 core of work against 50 % of
/// 100m per pod) maxReplicaCount; KEDA's scale_handler.go getScaledObjectState counts
/// only the kafka trigger's activity, so with the producer gone the consumers still drop
/// to zero. Requests sized to the work bring the count down to what the CPU needs.
#[test]
fn cpu_holds_replicas_up_after_the_lag_is_gone() {
    for seed in 1..=3 {
        let t = simulate(CPU, None, seed);
        let lag_gone = replicas(&t, 360.0, 480.0);
        assert!(
            lag_gone.iter().all(|r| *r == 10),
            "seed {seed}: {lag_gone:?}"
        );
        let lag: Vec<i64> = t
            .samples
            .iter()
            .filter(|s| s.t >= 360.0 && s.t < 480.0)
            .map(|s| s.metric)
            .collect();
        assert!(lag.iter().all(|m| *m <= 20), "the lag is gone: {lag:?}");
        assert!(
            replicas(&t, 560.0, 600.0).iter().all(|r| *r == 0),
            "seed {seed}"
        );
        let sized = simulate(
            CPU,
            Some("scenarios/scaled-objects/kafka-and-cpu-sized-requests.yaml"),
            seed,
        );
        let held = replicas(&sized, 360.0, 480.0);
        assert!(
            held.iter().all(|r| (2..=5).contains(r)),
            "seed {seed}: {held:?}"
        );
    }
}

const FORMULA: &str = "scenarios/formula-clamps-lag.yaml";

/// scalingModifiers `min(lag, 20)` over target 5 (pkg/scaling/modifiers/formula.go
/// calculateScalingModifiersFormula; controllers/keda/hpa.go replaces the lag metric by
/// the composite one): never more than 4 replicas, the lag growing under them; the
/// clamp at the partition cap (50) lets the HPA reach maxReplicaCount.
#[test]
fn a_formula_that_clamps_the_lag_holds_the_consumers_under_a_backlog() {
    for seed in 1..=3 {
        let t = simulate(FORMULA, None, seed);
        let counts = replicas(&t, 60.0, 360.0);
        assert!(counts.iter().all(|r| *r <= 4), "seed {seed}: {counts:?}");
        assert!(counts.ends_with(&[4]), "seed {seed}");
        let lag = |t: &lab_model::timeline::Timeline, at: f64| {
            t.samples.iter().find(|s| s.t == at).unwrap().total_lag
        };
        assert!(lag(&t, 359.0) > lag(&t, 120.0) + 500, "the backlog grows");
        let capped = simulate(
            FORMULA,
            Some("scenarios/scaled-objects/formula-min-at-partition-cap.yaml"),
            seed,
        );
        assert!(
            replicas(&capped, 300.0, 360.0).iter().all(|r| *r >= 6),
            "seed {seed}"
        );
        assert_eq!(lag(&capped, 599.0), 0, "drained");
    }
}

const JOBS: &str = "scenarios/scaledjob-piles-up-jobs.yaml";

/// A ScaledJob on Kafka lag (pkg/scaling/executor/scale_jobs.go GetEffectiveMaxScale):
/// the lag counts the events running Jobs took and have not committed, so `accurate`
/// (maxScale - pending) creates Jobs for them at every poll and the Jobs pile up to
/// maxReplicaCount, idle; `default` (maxScale - unfinished Jobs) keeps them near what
/// the lag needs.
#[test]
fn a_scaled_job_piles_up_jobs_with_accurate_on_kafka_and_not_with_default() {
    let run = |file: Option<&str>, seed| {
        let mut scenario = Scenario::load(&repo(JOBS)).unwrap();
        if let Some(f) = file {
            scenario.scaled_object = repo(f).into();
        }
        let lab_model::keda::Scalable::Job(job) = scenario.load_scalable().unwrap() else {
            panic!("a ScaledJob");
        };
        lab_model::simulate::jobs::run(&scenario, &job.spec, seed).unwrap()
    };
    for seed in 1..=3 {
        let accurate = run(None, seed);
        let default = run(
            Some("scenarios/scaled-objects/scaledjob-default.yaml"),
            seed,
        );
        assert_eq!(
            accurate.peak_unfinished(0),
            50,
            "seed {seed}: maxReplicaCount"
        );
        assert!(
            default.peak_unfinished(0) <= 12,
            "seed {seed}: {}",
            default.peak_unfinished(0)
        );
        let idle = |t: &lab_model::simulate::jobs::JobTimeline| t.samples.last().unwrap().running;
        assert!(idle(&accurate) >= 40, "seed {seed}: Jobs left waiting");
        assert!(idle(&default) <= 10, "seed {seed}");
    }
}
