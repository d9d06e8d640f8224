//! KEDA v2.20.2's own expectations of a ScaledJob's job count, case by case:
//! pkg/scaling/scaledjob/metrics_test.go, pkg/scaling/executor/scale_jobs_test.go, and
//! the ScaledJob cases of pkg/scaling/scale_handler_test.go.

use super::*;

fn spec(strategy: Strategy, min: Option<i32>, max: Option<i32>) -> JobSpec {
    let (min_replicas, max_replicas) = JobSpec::replica_counts(min, max);
    JobSpec {
        polling_interval: 30_000,
        min_replicas,
        max_replicas,
        strategy,
        calculation: Calculation::Max,
        pending_pod_conditions: Vec::new(),
        triggers: Vec::new(),
    }
}

/// (maxScale, running, pending, maxReplicaCount, scaleTo) -> effective max scale.
fn eff(s: Strategy, args: (i64, i64, i64, i64, i64)) -> i64 {
    s.effective_max_scale(args.0, args.1, args.2, args.3, args.4)
        .0
}

/// metrics_test.go TestTargetAverageValue.
#[test]
fn test_target_average_value() {
    assert_eq!(target_average_value(&[]), 0.0);
    assert_eq!(target_average_value(&[Some(1.0), Some(1.0)]), 1.0);
    assert_eq!(
        target_average_value(&[Some(5.0), Some(5.0), Some(3.0)]),
        4.333333333333333
    );
    assert_eq!(
        target_average_value(&[Some(5.0), Some(5.0), Some(4.0)]),
        4.666666666666667
    );
}

/// scale_jobs_test.go TestNewNewScalingStrategy.
#[test]
fn test_new_new_scaling_strategy() {
    assert!(matches!(
        Strategy::new("custom", Some(10), "0"),
        Strategy::Custom { .. }
    ));
    assert_eq!(Strategy::new("accurate", None, ""), Strategy::Accurate);
    assert_eq!(Strategy::new("", None, ""), Strategy::Default);
    assert_eq!(Strategy::new("default", None, ""), Strategy::Default);
}

/// scale_jobs_test.go TestDefaultScalingStrategy.
#[test]
fn test_default_scaling_strategy() {
    assert_eq!(eff(Strategy::Default, (3, 2, 0, 5, 1)), 1);
    assert_eq!(eff(Strategy::Default, (2, 0, 0, 5, 1)), 2);
}

/// scale_jobs_test.go TestCustomScalingStrategy, every case.
#[test]
fn test_custom_scaling_strategy() {
    let s = Strategy::new("custom", Some(1), "0.5");
    assert_eq!(eff(s, (3, 2, 0, 5, 1)), 1);
    assert_eq!(eff(s, (10, 0, 0, 10, 1)), 9);
    let nil = Strategy::new("custom", None, "");
    assert_eq!(
        nil,
        Strategy::Default,
        "no parameters: the default strategy"
    );
    assert_eq!(eff(nil, (3, 2, 0, 5, 1)), 1);
    assert_eq!(eff(nil, (2, 0, 0, 5, 1)), 2);
    assert_eq!(Strategy::new("custom", Some(1), ""), Strategy::Default);
    assert_eq!(
        eff(Strategy::new("custom", Some(2), "0"), (3, 2, 0, 5, 1)),
        1
    );
    assert_eq!(
        eff(Strategy::new("custom", Some(-2), "0"), (3, 2, 0, 4, 1)),
        4,
        "exceeds maxReplicaCount: capped"
    );
}

/// scale_jobs_test.go TestCustomScalingStrategyNilQueueLengthDeduction (#7798).
#[test]
fn test_custom_scaling_strategy_nil_queue_length_deduction() {
    let s = Strategy::Custom {
        deduction: 0,
        percentage: 0.5,
    };
    assert_eq!(eff(s, (10, 2, 0, 100, 1)), 9);
    assert_eq!(eff(s, (10, 0, 0, 100, 1)), 10);
    let from_factory = Strategy::new("custom", None, "0.5");
    assert!(matches!(from_factory, Strategy::Custom { .. }));
    assert_eq!(eff(from_factory, (10, 2, 0, 100, 1)), 9);
}

/// scale_jobs_test.go TestAccurateScalingStrategy.
#[test]
fn test_accurate_scaling_strategy() {
    let s = Strategy::Accurate;
    for (args, expected) in [
        ((3, 2, 0, 5, 1), 3),
        ((5, 2, 0, 5, 1), 3),
        ((3, 4, 2, 10, 1), 1),
        ((5, 4, 2, 5, 1), 1),
        ((3, 3, 3, 5, 1), 0),
        ((15, 15, 15, 20, 1), 0),
        ((10, 10, 10, 15, 1), 0),
        ((20, 15, 10, 20, 1), 5),
    ] {
        assert_eq!(eff(s, args), expected, "{args:?}");
    }
}

/// scale_jobs_test.go TestEagerScalingStrategy: (effective max, scaleTo).
#[test]
fn test_eager_scaling_strategy() {
    let s = Strategy::Eager;
    for (args, expected) in [
        ((4, 3, 0, 10, 1), (4, 10)),
        ((4, 0, 3, 10, 1), (4, 10)),
        ((4, 7, 0, 10, 1), (3, 10)),
        ((4, 1, 6, 10, 1), (3, 10)),
        ((15, 0, 0, 10, 1), (10, 10)),
    ] {
        let (a, b, c, d, e) = args;
        assert_eq!(s.effective_max_scale(a, b, c, d, e), expected, "{args:?}");
    }
}

/// scale_jobs_test.go TestRunningJobCountSmallerMinReplicaCount,
/// TestRunningJobCountIsDeductedFromMinReplicaCount,
/// TestRunningJobCountGreaterOrEqualMinReplicaCountExecutesScalingStrategy (max 100).
#[test]
fn test_running_job_counts_against_min_replica_count() {
    let min2 = spec(Strategy::Default, Some(2), Some(100));
    assert_eq!(scaling_decision(&min2, 0, 0, 0, 0), (2, 2));
    assert_eq!(scaling_decision(&min2, 1, 0, 0, 0), (1, 1));
    let min1 = spec(Strategy::Default, Some(1), Some(100));
    assert_eq!(scaling_decision(&min1, 1, 2, 2, 0), (2, 2));
}

/// scale_jobs_test.go TestGetPendingJobCount (one unfinished job each) and
/// TestAreAllPendingPodConditionsFulfilledBugScenario (#6727).
#[test]
fn test_get_pending_job_count() {
    let ppc: Vec<String> = vec!["Ready".into(), "PodScheduled".into()];
    let pod = |phase, conds: &[&str]| JobPod {
        phase,
        conditions: conds.iter().map(|c| ((*c).to_owned(), true)).collect(),
    };
    use PodPhase::*;
    let none: Vec<String> = Vec::new();
    for (conditions, pods, pending) in [
        (&none, vec![pod(Succeeded, &[])], false),
        (&none, vec![pod(Running, &[])], false),
        (&none, vec![pod(Failed, &[])], true),
        (&none, vec![pod(Pending, &[])], true),
        (&none, vec![pod(Unknown, &[])], true),
        (&ppc, vec![pod(Pending, &[])], true),
        (&ppc, vec![pod(Pending, &["Ready"])], true),
        (&ppc, vec![pod(Pending, &["PodScheduled"])], true),
        (&ppc, vec![pod(Pending, &["Ready", "PodScheduled"])], false),
        (
            &ppc,
            vec![pod(Pending, &["Ready", "PodScheduled"]); 2],
            false,
        ),
        (
            &ppc,
            vec![
                pod(Pending, &["Ready", "PodScheduled"]),
                pod(Pending, &["Ready"]),
            ],
            false,
        ),
        (
            &ppc,
            vec![pod(Pending, &["Ready"]), pod(Pending, &["PodScheduled"])],
            true,
        ),
        (
            &ppc,
            vec![
                pod(Pending, &[]),
                pod(Pending, &["Ready"]),
                pod(Pending, &["Ready", "PodScheduled"]),
            ],
            false,
        ),
        (
            &ppc,
            vec![
                pod(Pending, &[]),
                pod(Pending, &["Ready"]),
                pod(Pending, &["PodScheduled"]),
            ],
            true,
        ),
        (&none, vec![pod(Running, &["Ready"])], false),
    ] {
        assert_eq!(
            job_pending(&pods, conditions),
            pending,
            "{conditions:?} {pods:?}"
        );
    }
}

/// scale_jobs_test.go TestCleanUpNormalCase, TestCleanUpMixedCaseWithSortByTime,
/// TestCleanUpDefaultValue (completion times in minutes past 15:00).
#[test]
fn test_clean_up_history_limits() {
    assert_eq!(
        jobs_to_delete(&[("name1", 37), ("name2", 36), ("name3", 38)], 2),
        ["name2"]
    );
    let success = jobs_to_delete(&[("success1", 37), ("success2", 36), ("success3", 35)], 1);
    let failed = jobs_to_delete(&[("fail1", 37), ("fail2", 36), ("fail3", 38)], 2);
    assert_eq!(
        (success, failed),
        (
            vec!["success3".to_owned(), "success2".to_owned()],
            vec!["fail2".to_owned()]
        )
    );
    let mut many: Vec<(String, Millis)> = vec![("success0".into(), 35)];
    many.extend((1..=100).map(|i| (format!("success{i}"), 40)));
    let refs: Vec<(&str, Millis)> = many.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    assert_eq!(jobs_to_delete(&refs, 100), ["success0"]);
    let mut failed: Vec<(String, Millis)> = vec![("fail101".into(), 35)];
    failed.extend((102..=201).map(|i| (format!("fail{i}"), 40)));
    let refs: Vec<(&str, Millis)> = failed.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    assert_eq!(jobs_to_delete(&refs, 100), ["fail101"]);
}

/// scale_handler_test.go TestGetScaledJobState: one scaler (queue 20, target 2, active),
/// min 1, max 100 (MaxReplicaCount() = 99).
#[test]
fn test_get_scaled_job_state_single() {
    let (min, max) = JobSpec::replica_counts(Some(1), Some(100));
    assert_eq!((min, max), (1, 99));
    let (queue, max_value) = queue_and_max(20.0, &[Some(2.0)], max);
    let m = [ScalerMetrics {
        queue_length: queue,
        max_value,
        is_active: true,
    }];
    assert_eq!(
        is_scaled_job_active(&m, Calculation::Max, min, max),
        (true, 20, 10)
    );
}

/// scale_handler_test.go TestGetScaledJobState's table: four scalers (queue, target,
/// active) = (20, 1, T), (10, 2, T), (5, 3, T), (7, 4, F), min 0.
#[test]
fn test_get_scaled_job_state_multiple_scalers_calculation() {
    let metrics = |max: i64| -> Vec<ScalerMetrics> {
        [
            (20.0, 1.0, true),
            (10.0, 2.0, true),
            (5.0, 3.0, true),
            (7.0, 4.0, false),
        ]
        .into_iter()
        .map(|(q, t, a)| {
            let (queue_length, max_value) = queue_and_max(q, &[Some(t)], max);
            ScalerMetrics {
                queue_length,
                max_value,
                is_active: a,
            }
        })
        .collect()
    };
    for (calc, max, queue, max_scale) in [
        (Calculation::Max, 100, 20, 20),
        (Calculation::Min, 100, 5, 2),
        (Calculation::Avg, 100, 12, 9),
        (Calculation::Sum, 100, 35, 27),
        (Calculation::Sum, 25, 35, 25),
    ] {
        assert_eq!(
            is_scaled_job_active(&metrics(max), calc, 0, max),
            (true, queue, max_scale),
            "{calc:?} max {max}"
        );
    }
}

/// scale_handler_test.go TestGetScaledJobStateIfQueueEmptyButMinReplicaCountGreaterZero.
#[test]
fn test_queue_empty_but_min_replica_count_greater_zero() {
    let m = [ScalerMetrics {
        queue_length: 0.0,
        max_value: 0.0,
        is_active: true,
    }];
    assert_eq!(
        is_scaled_job_active(&m, Calculation::Max, 1, 99),
        (true, 0, 0)
    );
}

/// For the same running and pending counts (minReplicaCount 0), `accurate` never
/// creates fewer Jobs than `default`: pending Jobs are a part of the unfinished ones
/// (getRunningJobCount counts every unfinished Job), so maxScale - pending >= maxScale -
/// running, and in its other branch maxReplicaCount >= maxScale. Checked over every
/// state up to 20 of each.
#[test]
fn accurate_creates_at_least_as_many_jobs_as_default_for_the_same_counts() {
    for max in 1..=20i64 {
        for max_scale in 0..=max {
            for running in 0..=20i64 {
                for pending in 0..=running {
                    let default = jobs_created(
                        eff(Strategy::Default, (max_scale, running, pending, max, 1000)),
                        1000,
                    );
                    let accurate = jobs_created(
                        eff(Strategy::Accurate, (max_scale, running, pending, max, 1000)),
                        1000,
                    );
                    assert!(accurate >= default, "{max_scale} {running} {pending} {max}");
                }
            }
        }
    }
}
