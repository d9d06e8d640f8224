//! KEDA's loop for a ScaledJob, read from KEDA v2.20.2: every pollingInterval KEDA reads
//! its triggers (pkg/scaling/scale_handler.go `getScaledJobMetrics`; a failing trigger
//! is left out, and nothing is cleared), combines them (pkg/scaling/scaledjob/metrics.go
//! `CalculateQueueLengthAndMaxValue`, `IsScaledJobActive`), and creates Jobs
//! (pkg/scaling/executor/scale_jobs.go `RequestJobScale`, `getScalingDecision`, the
//! scaling strategies' `GetEffectiveMaxScale`, `createJobs`). There is no HPA and no
//! fallback: the Jobs themselves (pending, running, done) are the world's.

use serde::Serialize;

use super::failure::ScalerError;
use super::scaler::{KafkaScaler, Offsets};
use super::spec::{KafkaTrigger, MetricType, Millis};

/// `scalingStrategy.strategy` (NewScalingStrategy; `custom` whose
/// customScalingRunningJobPercentage does not parse as a float is `default`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    Default,
    Custom {
        /// customScalingQueueLengthDeduction (unset: 0).
        deduction: i64,
        /// customScalingRunningJobPercentage, parsed.
        percentage: f64,
    },
    Accurate,
    Eager,
}

impl Strategy {
    /// NewScalingStrategy from the ScaledJob's fields.
    pub fn new(strategy: &str, deduction: Option<i32>, percentage: &str) -> Self {
        match strategy {
            "custom" => match percentage.parse::<f64>() {
                Ok(p) => Strategy::Custom {
                    deduction: deduction.map_or(0, i64::from),
                    percentage: p,
                },
                Err(_) => Strategy::Default,
            },
            "accurate" => Strategy::Accurate,
            "eager" => Strategy::Eager,
            _ => Strategy::Default,
        }
    }

    /// GetEffectiveMaxScale(maxScale, runningJobCount, pendingJobCount, maxReplicaCount,
    /// scaleTo) -> (effective max scale, scaleTo).
    pub fn effective_max_scale(
        self,
        max_scale: i64,
        running: i64,
        pending: i64,
        max_replicas: i64,
        scale_to: i64,
    ) -> (i64, i64) {
        match self {
            Strategy::Default => (max_scale - running, scale_to),
            Strategy::Custom {
                deduction,
                percentage,
            } => {
                let result = max_scale - deduction - (running as f64 * percentage) as i64;
                (result.min(max_replicas), scale_to)
            }
            Strategy::Accurate => {
                if max_scale + running - pending > max_replicas {
                    (max_replicas - running, scale_to)
                } else {
                    (max_scale - pending, scale_to)
                }
            }
            Strategy::Eager => (
                (max_replicas - running - pending).min(max_scale),
                max_replicas,
            ),
        }
    }
}

/// `scalingStrategy.multipleScalersCalculation` (default max).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Calculation {
    Max,
    Min,
    Avg,
    Sum,
}

/// A ScaledJob, as far as the job count goes.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    /// `pollingInterval` (default 30 s).
    pub polling_interval: Millis,
    /// ScaledJob.MinReplicaCount(): spec.min, or spec.max when min > max; default 0.
    pub min_replicas: i64,
    /// ScaledJob.MaxReplicaCount(): spec.max - MinReplicaCount(), spec.max when min >
    /// max, 100 when max is unset.
    pub max_replicas: i64,
    pub strategy: Strategy,
    pub calculation: Calculation,
    /// `scalingStrategy.pendingPodConditions`: a job is pending until one of its pods has
    /// all of them True (else: until one of its pods is Running or Succeeded).
    pub pending_pod_conditions: Vec<String>,
    /// The Kafka triggers, in order, each with its metricType.
    pub triggers: Vec<(KafkaTrigger, MetricType)>,
}

impl JobSpec {
    /// MinReplicaCount() and MaxReplicaCount() from the spec's fields.
    pub fn replica_counts(min: Option<i32>, max: Option<i32>) -> (i64, i64) {
        let min_count = match (min, max) {
            (Some(mn), Some(mx)) if mn > mx => i64::from(mx),
            (Some(mn), _) => i64::from(mn),
            (None, _) => 0,
        };
        let max_count = match (min, max) {
            (Some(mn), Some(mx)) if mn > mx => i64::from(mx),
            (_, Some(mx)) => i64::from(mx) - min_count,
            (_, None) => 100,
        };
        (min_count, max_count)
    }
}

/// One trigger's contribution (scaledjob.ScalerMetrics).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScalerMetrics {
    pub queue_length: f64,
    pub max_value: f64,
    pub is_active: bool,
}

/// CalculateQueueLengthAndMaxValue for one metric against the mean AverageValue target
/// of its specs (`targets`; none: 0, and then maxValue stays 0).
pub fn queue_and_max(metric: f64, targets: &[Option<f64>], max_replicas: i64) -> (f64, f64) {
    let target = target_average_value(targets);
    let max_value = if target != 0.0 {
        (metric / target).min(max_replicas as f64)
    } else {
        0.0
    };
    (metric, max_value)
}

/// getTargetAverageValue: the mean of the specs' AverageValue targets (a missing one
/// counts 0; no specs: 0).
pub fn target_average_value(targets: &[Option<f64>]) -> f64 {
    if targets.is_empty() {
        return 0.0;
    }
    targets.iter().map(|t| t.unwrap_or(0.0)).sum::<f64>() / targets.len() as f64
}

/// IsScaledJobActive: (active, ceil(queueLength), ceil(maxValue)).
pub fn is_scaled_job_active(
    metrics: &[ScalerMetrics],
    calculation: Calculation,
    min_replicas: i64,
    max_replicas: i64,
) -> (bool, i64, i64) {
    let (mut queue, mut max_value, mut active) = (0.0f64, 0.0f64, false);
    match calculation {
        Calculation::Min => {
            for m in metrics {
                if (queue == 0.0 || m.queue_length < queue) && m.is_active {
                    (queue, max_value, active) = (m.queue_length, m.max_value, m.is_active);
                }
            }
        }
        Calculation::Avg | Calculation::Sum => {
            let mut n = 0usize;
            for m in metrics.iter().filter(|m| m.is_active) {
                queue += m.queue_length;
                max_value += m.max_value;
                active = true;
                n += 1;
            }
            if calculation == Calculation::Avg && n != 0 {
                queue /= n as f64;
                max_value /= n as f64;
            }
        }
        Calculation::Max => {
            for m in metrics {
                if m.queue_length > queue && m.is_active {
                    (queue, max_value, active) = (m.queue_length, m.max_value, m.is_active);
                }
            }
        }
    }
    if min_replicas > 0 {
        active = true;
    }
    let max_value = max_value.min(max_replicas as f64);
    (active, queue.ceil() as i64, max_value.ceil() as i64)
}

/// getScalingDecision: (effective max scale, scaleTo).
pub fn scaling_decision(
    spec: &JobSpec,
    running: i64,
    scale_to: i64,
    max_scale: i64,
    pending: i64,
) -> (i64, i64) {
    if running < spec.min_replicas {
        let n = spec.min_replicas - running;
        return (n, n);
    }
    spec.strategy.effective_max_scale(
        max_scale,
        running - spec.min_replicas,
        pending,
        spec.max_replicas,
        scale_to,
    )
}

/// createJobs: how many Jobs one poll creates.
pub fn jobs_created(effective_max: i64, scale_to: i64) -> i64 {
    let effective_max = effective_max.max(0);
    if effective_max <= 0 {
        0
    } else {
        scale_to.min(effective_max)
    }
}

/// A Job's pod phase (core/v1 PodPhase).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

/// One pod of a Job: its phase and its conditions (type, True).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPod {
    pub phase: PodPhase,
    pub conditions: Vec<(String, bool)>,
}

/// getPendingJobCount for one unfinished Job: with pendingPodConditions, pending unless
/// some pod has every listed condition True (areAllPendingPodConditionsFulfilled); else
/// pending unless some pod is Running or Succeeded (isAnyPodRunningOrCompleted).
pub fn job_pending(pods: &[JobPod], pending_pod_conditions: &[String]) -> bool {
    if pending_pod_conditions.is_empty() {
        return !pods
            .iter()
            .any(|p| matches!(p.phase, PodPhase::Running | PodPhase::Succeeded));
    }
    !pods.iter().any(|pod| {
        let fulfilled = pending_pod_conditions
            .iter()
            .filter(|c| pod.conditions.iter().any(|(t, ok)| t == *c && *ok))
            .count();
        fulfilled == pending_pod_conditions.len()
    })
}

/// cleanUp / deleteJobsWithHistoryLimit: finished Jobs (name, completion time) sorted
/// oldest first; those beyond `limit` (successfulJobsHistoryLimit or
/// failedJobsHistoryLimit, default 100) are deleted.
pub fn jobs_to_delete(finished: &[(&str, Millis)], limit: usize) -> Vec<String> {
    let mut sorted = finished.to_vec();
    sorted.sort_by_key(|(_, at)| *at);
    let excess = sorted.len().saturating_sub(limit);
    sorted[..excess]
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .collect()
}

/// One poll of a ScaledJob, as `lab plan` and the job timeline record it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct JobDecision {
    /// ms since the ScaledJob was created.
    pub at: Millis,
    pub active: bool,
    /// Some trigger failed (Ready: PartialTriggerError when active, else TriggerError).
    pub error: bool,
    /// ceil(queueLength): the jobs asked for (`scaleTo`).
    pub queue_length: i64,
    /// ceil(maxValue): `maxScale`.
    pub max_scale: i64,
    /// Unfinished jobs before the poll.
    pub running: i64,
    /// Of those, pending.
    pub pending: i64,
    /// The strategy's effective max scale (floored at 0).
    pub effective_max: i64,
    /// Jobs created by this poll.
    pub created: i64,
}

/// KEDA's loop for one ScaledJob with Kafka triggers.
#[derive(Debug, Clone)]
pub struct JobScaler {
    spec: JobSpec,
    scalers: Vec<KafkaScaler>,
    next_poll: Millis,
}

impl JobScaler {
    pub fn new(spec: JobSpec) -> Self {
        Self {
            scalers: spec
                .triggers
                .iter()
                .map(|(t, _)| KafkaScaler::new(t.clone()))
                .collect(),
            spec,
            next_poll: 0,
        }
    }

    pub fn spec(&self) -> &JobSpec {
        &self.spec
    }

    /// When the next poll is due.
    pub fn next_due(&self) -> Millis {
        self.next_poll
    }

    /// The poll due at or before `now`, if any: each trigger reads what `found(i)` gives;
    /// `running` and `pending` are the unfinished and pending Jobs.
    pub fn poll<'f>(
        &mut self,
        now: Millis,
        found: &dyn Fn(usize) -> Result<&'f [Offsets], ScalerError>,
        running: i64,
        pending: i64,
    ) -> Option<JobDecision> {
        if self.next_poll > now {
            return None;
        }
        let at = self.next_poll;
        self.next_poll += self.spec.polling_interval;
        let mut metrics = Vec::with_capacity(self.scalers.len());
        let mut error = false;
        for (i, scaler) in self.scalers.iter_mut().enumerate() {
            let Ok(offsets) = found(i) else {
                error = true;
                continue;
            };
            let reading = scaler.read(offsets);
            let (trigger, metric_type) = &self.spec.triggers[i];
            let target = match metric_type {
                MetricType::AverageValue => Some(trigger.lag_threshold as f64),
                MetricType::Value => None,
            };
            let (queue_length, max_value) =
                queue_and_max(reading.metric as f64, &[target], self.spec.max_replicas);
            metrics.push(ScalerMetrics {
                queue_length,
                max_value,
                is_active: reading.active,
            });
        }
        Some(self.decide(at, &metrics, error, running, pending))
    }

    /// RequestJobScale on the combined metrics.
    pub fn decide(
        &self,
        at: Millis,
        metrics: &[ScalerMetrics],
        error: bool,
        running: i64,
        pending: i64,
    ) -> JobDecision {
        let s = &self.spec;
        let (active, queue_length, max_scale) =
            is_scaled_job_active(metrics, s.calculation, s.min_replicas, s.max_replicas);
        let (effective_max, scale_to) =
            scaling_decision(s, running, queue_length, max_scale, pending);
        let effective_max = effective_max.max(0);
        let created = if active {
            jobs_created(effective_max, scale_to)
        } else {
            0
        };
        JobDecision {
            at,
            active,
            error,
            queue_length,
            max_scale,
            running,
            pending,
            effective_max,
            created,
        }
    }
}

#[cfg(test)]
mod tests;
