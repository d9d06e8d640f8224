//! The HPA's Resource metrics (cpu, memory) from what metrics-server holds for each pod:
//! Kubernetes 1.35 pkg/controller/podautoscaler/replica_calculator.go
//! `GetResourceReplicas` (Utilization target), `GetRawResourceReplicas` /
//! `calcPlainMetricReplicas` (AverageValue target), `groupPods` (pending and unready pods,
//! pods without a metric), `calculateRequests`; and metrics/utilization.go
//! `GetResourceUtilizationRatio` (utilization = int32(sum(usage) x 100 / sum(requests)),
//! truncated) and `GetMetricUsageRatio`.
//!
//! A pod without a metric counts as using its whole request (or the target, above 100 %)
//! on a scale-down and nothing on a scale-up; an unready pod (cpu only: not Ready, or no
//! full metric window since it became Ready within the cpu initialization period) is left
//! out, and counts as using nothing on a scale-up; if filling them in turns the direction
//! round, the count holds.

use super::spec::Millis;
use super::triggers::{pipeline, PodRequests, Resource, ResourceTarget, ResourceTrigger};

/// What the HPA knows of one pod of the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodMetric {
    /// `status.startTime`, ms; `None` while the pod is Pending (not started).
    pub started_at: Option<Millis>,
    /// When its Ready condition last turned True, ms; `None` when not Ready.
    pub ready_since: Option<Millis>,
    /// metrics-server's CPU reading, millicores (the rate over `window` ending at `at`).
    pub cpu_milli: Option<i64>,
    /// metrics-server's memory reading (working set at `at`), bytes.
    pub memory_bytes: Option<i64>,
    /// The reading's timestamp, ms.
    pub at: Millis,
    /// The reading's window, ms.
    pub window: Millis,
}

impl PodMetric {
    /// A running, ready pod read at `at` over the pipeline's window.
    pub fn running(started_at: Millis, at: Millis) -> Self {
        Self {
            started_at: Some(started_at),
            ready_since: Some(started_at),
            cpu_milli: None,
            memory_bytes: None,
            at,
            window: pipeline::RESOLUTION,
        }
    }

    fn reading(&self, resource: Resource) -> Option<i64> {
        match resource {
            Resource::Cpu => self.cpu_milli,
            // MilliValue of a memory quantity.
            Resource::Memory => self.memory_bytes.map(|b| b.saturating_mul(1000)),
        }
    }
}

/// The pods of the target as the HPA lists them, in order.
pub type PodMetrics = [PodMetric];

/// A Resource metric's proposal: (replicas, within the tolerance), or the HPA's error.
pub fn resource_replicas(
    trigger: &ResourceTrigger,
    requests: &PodRequests,
    pods: &PodMetrics,
    now: Millis,
    current: u32,
    tolerance: (f64, f64),
) -> Result<(u32, bool), String> {
    let resource = trigger.resource;
    if pods.is_empty() {
        return Err("no pods returned by selector while calculating replica count".into());
    }
    if pods.iter().all(|p| p.reading(resource).is_none()) {
        return Err(format!(
            "unable to get metrics for resource {}: no metrics returned from resource metrics API",
            resource.as_str()
        ));
    }
    let Some(request) = requests.milli(resource, trigger.container.as_deref()) else {
        return Err(format!(
            "missing request for {} in container {} of the target's pods",
            resource.as_str(),
            trigger.container.as_deref().unwrap_or("(some container)")
        ));
    };
    let groups = group_pods(pods, resource, now);
    if groups.usage.is_empty() {
        return Err("did not receive metrics for targeted pods (pods might be unready)".into());
    }
    let within = |r: f64| (1.0 - tolerance.1) <= r && r <= (1.0 + tolerance.0);
    let ratio_of = |usage: &[i64]| -> f64 {
        match trigger.target {
            ResourceTarget::Utilization(target) => {
                let total: i64 = usage.iter().sum();
                let requests = request * usage.len() as i64;
                let utilization = (total * 100 / requests) as i32;
                f64::from(utilization) / f64::from(target)
            }
            ResourceTarget::AverageValue(target) => {
                let average = usage.iter().sum::<i64>() / usage.len() as i64;
                average as f64 / target as f64
            }
        }
    };
    let ratio = ratio_of(&groups.usage);
    let scale_up_with_unready = groups.unready > 0 && ratio > 1.0;
    if !scale_up_with_unready && groups.missing == 0 {
        if within(ratio) {
            return Ok((current, true));
        }
        return Ok(((ratio * groups.usage.len() as f64).ceil() as u32, false));
    }
    let mut usage = groups.usage.clone();
    if groups.missing > 0 {
        let filled = if ratio < 1.0 {
            match trigger.target {
                ResourceTarget::Utilization(t) => request * i64::from(t.max(100)) / 100,
                ResourceTarget::AverageValue(t) => t,
            }
        } else {
            0
        };
        if ratio != 1.0 {
            usage.extend(std::iter::repeat_n(filled, groups.missing));
        }
    }
    if scale_up_with_unready {
        usage.extend(std::iter::repeat_n(0, groups.unready));
    }
    let new_ratio = ratio_of(&usage);
    let turned = (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0);
    if within(new_ratio) || turned {
        return Ok((current, within(new_ratio)));
    }
    let proposed = (new_ratio * usage.len() as f64).ceil() as u32;
    if (new_ratio < 1.0 && proposed > current) || (new_ratio > 1.0 && proposed < current) {
        return Ok((current, false));
    }
    Ok((proposed, false))
}

/// groupPods: the readings of ready pods, and how many pods are unready or missing.
struct Groups {
    usage: Vec<i64>,
    unready: usize,
    missing: usize,
}

fn group_pods(pods: &PodMetrics, resource: Resource, now: Millis) -> Groups {
    let mut g = Groups {
        usage: Vec::with_capacity(pods.len()),
        unready: 0,
        missing: 0,
    };
    for pod in pods {
        let Some(started) = pod.started_at else {
            g.unready += 1; // Pending
            continue;
        };
        let Some(value) = pod.reading(resource) else {
            g.missing += 1;
            continue;
        };
        if resource == Resource::Cpu {
            let unready = match pod.ready_since {
                None => true,
                Some(ready) if started + pipeline::CPU_INITIALIZATION > now => {
                    pod.at < ready + pod.window
                }
                // Past the initialization period a Ready pod counts.
                Some(_) => false,
            };
            if unready {
                g.unready += 1;
                continue;
            }
        }
        g.usage.push(value);
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: i64 = 200;

    fn requests() -> PodRequests {
        PodRequests {
            cpu_milli: Some(REQUEST),
            memory_bytes: Some(50 << 20),
            containers: Vec::new(),
        }
    }

    fn cpu(target: i32) -> ResourceTrigger {
        ResourceTrigger {
            resource: Resource::Cpu,
            target: ResourceTarget::Utilization(target),
            container: None,
        }
    }

    /// A pod started long ago, ready, read at `now` using `milli`.
    fn pod(milli: i64) -> PodMetric {
        PodMetric {
            cpu_milli: Some(milli),
            ..PodMetric::running(0, 600_000)
        }
    }

    fn proposal(pods: &[PodMetric], current: u32) -> (u32, bool) {
        resource_replicas(&cpu(50), &requests(), pods, 600_000, current, (0.1, 0.1)).unwrap()
    }

    /// replica_calculator.go GetResourceReplicas with metrics/utilization.go: target 50 %
    /// of a 200m request.
    #[test]
    fn utilization_proposals_follow_get_resource_replicas() {
        assert_eq!(proposal(&[pod(150)], 1), (2, false), "75 % -> 1.5 -> 2");
        assert_eq!(proposal(&[pod(300); 3], 3), (9, false), "150 % -> 3.0 x 3");
        assert_eq!(
            proposal(&[pod(60); 3], 3),
            (2, false),
            "30 % -> 0.6 x 3 = 1.8"
        );
        assert_eq!(proposal(&[pod(100); 2], 2), (2, true), "50 %: within");
        assert_eq!(proposal(&[pod(110)], 1), (1, true), "55 %: 1.10 within");
        assert_eq!(proposal(&[pod(112)], 1), (2, false), "56 %: 1.12 outside");
        assert_eq!(
            proposal(&[pod(111)], 1),
            (1, true),
            "55.5 % truncates to 55"
        );
    }

    /// groupPods + GetResourceReplicas: an unready pod on a scale-up counts as 0.
    #[test]
    fn unready_pods_count_as_zero_on_a_scale_up() {
        let fresh = PodMetric {
            cpu_milli: Some(400),
            ready_since: Some(595_000),
            ..PodMetric::running(590_000, 600_000)
        };
        // 2 ready at 200m (100 % -> 2.0), the fresh one within its window: unready.
        let got = proposal(&[pod(200), pod(200), fresh], 3);
        assert_eq!(
            got,
            (4, false),
            "400 x 100 / 600 = 66 % -> 1.32 x 3 = 3.96 -> 4"
        );
    }

    /// GetResourceReplicas: a pod without a metric counts as its full request on a
    /// scale-down, so a quiet pod beside a new one holds the count.
    #[test]
    fn missing_pods_damp_a_scale_down() {
        let missing = PodMetric::running(0, 600_000);
        let got = proposal(&[pod(40), pod(40), missing], 3);
        // 20 % -> 0.4; the missing pod at 100 %: (80 + 200) x 100 / 600 = 46 % -> 0.92:
        // within the tolerance: hold.
        assert_eq!(got, (3, true));
    }

    #[test]
    fn no_request_and_no_metrics_are_the_hpa_s_errors() {
        let none = PodRequests::default();
        let e = resource_replicas(&cpu(50), &none, &[pod(10)], 600_000, 1, (0.1, 0.1));
        assert!(e.unwrap_err().contains("missing request for cpu"));
        let e = resource_replicas(
            &cpu(50),
            &requests(),
            &[PodMetric::running(0, 0)],
            600_000,
            1,
            (0.1, 0.1),
        );
        assert!(e
            .unwrap_err()
            .contains("unable to get metrics for resource cpu"));
    }

    /// GetRawResourceReplicas: an AverageValue memory target per pod.
    #[test]
    fn average_value_targets_divide_the_mean_usage() {
        let memory = ResourceTrigger {
            resource: Resource::Memory,
            target: ResourceTarget::AverageValue(30 * (1 << 20) * 1000),
            container: None,
        };
        let pods = [PodMetric {
            memory_bytes: Some(60 << 20),
            ..PodMetric::running(0, 600_000)
        }; 2];
        let got = resource_replicas(&memory, &requests(), &pods, 600_000, 2, (0.1, 0.1));
        assert_eq!(got, Ok((4, false)), "60Mi / 30Mi = 2.0 x 2");
    }
}
