//! `lab plan`: replays a recorded lag trace ([`crate::trace`]) through the emulator.
//!
//! The trace is sampled whenever something changes; each evaluation uses the latest
//! sample at or before it (none yet: no partitions, so no lag). A sample can instead be an error a scaler would have got
//! from then on, `{"t": 60, "error": "broker unreachable"}` (or `coordinator moving`,
//! `topic not found`): KEDA's failure handling takes over ([`crate::emulator::failure`])
//! until a sample with partitions. The ScaledObject is created at t = 0 (no lastActiveTime):
//! KEDA polls at 0 and every pollingInterval, the HPA syncs from one sync period on, KEDA
//! first on ties, up to the last sample's t (or `--until`). Output: one JSON line per
//! evaluation; with several triggers each line also lists every metric's value, activity,
//! proposal and scaler call (`metrics`). A ScaledJob gets one line per poll instead
//! ([`run_jobs`]): the queue, the strategy's effective max and the Jobs it creates.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::json;

use crate::emulator::jobs::{JobScaler, JobSpec};
use crate::emulator::{
    Autoscaler, Inputs, MetricDetail, Offsets, PodMetric, ScalerError, ScalingSpec, Start,
};
use crate::inputs::Recorded;
use crate::run::Observation;
use crate::trace::TraceSample;

impl TraceSample {
    /// What a scaler finds at this sample (its error was checked when the trace was read).
    pub fn observation(&self) -> Observation {
        match self.error.as_deref().map(ScalerError::parse) {
            Some(Ok(e)) => Observation::Error(e),
            _ => Observation::Offsets(self.offsets()),
        }
    }
}

/// Writes one JSON line per evaluation to `out`.
pub fn run(
    spec: ScalingSpec,
    samples: &[TraceSample],
    replicas: u32,
    until: Option<f64>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let last_ms = last_ms(samples, until)?;
    let detailed = !spec.triggers.is_single_kafka();
    let mut autoscaler = Autoscaler::new(spec, replicas, Start::Created);
    // The samples seen so far: the trace is in time order, so the latest one only moves on.
    let mut seen = 0;
    while autoscaler.next_due() <= last_ms {
        let now = autoscaler.next_due();
        seen = seen_by(samples, seen, now);
        let sample = seen.checked_sub(1).map(|i| &samples[i]);
        let observation = sample.map_or(Observation::Offsets(Vec::new()), |s| s.observation());
        let recorded = sample.map(recorded).unwrap_or_default();
        let others = crate::inputs::from_recorded(&autoscaler.spec().triggers, &recorded);
        let pods = sample.map(|s| pods(s, autoscaler.replicas(), now));
        let inputs = Inputs {
            kafka: observation.observed(),
            others: &others,
            pods: pods.as_deref(),
        };
        for (d, details) in autoscaler.evaluate_detailed(now, &inputs) {
            let mut line = json!({
                "t": seconds(d.at), "by": d.by, "metric": d.metric, "active": d.active,
                "from": d.from, "desired": d.desired, "replicas": d.replicas,
                "why": d.why, "rule": d.why.upstream(),
            });
            if d.call != crate::emulator::CallOutcome::Read {
                line["scaler"] = json!(d.call);
                line["failures"] = json!(d.failures);
            }
            if let Observation::Error(e) = &observation {
                line["error"] = json!(e.as_str());
            }
            if detailed {
                line["metrics"] = details.iter().map(detail).collect();
            }
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// The last evaluation time, ms: `until`, else the last sample's.
fn last_ms(samples: &[TraceSample], until: Option<f64>) -> anyhow::Result<u64> {
    let last = until.unwrap_or_else(|| samples.last().map_or(0.0, |s| s.t));
    anyhow::ensure!(
        last.is_finite() && last >= 0.0,
        "--until must be a number >= 0"
    );
    Ok((last * 1000.0).round() as u64)
}

/// How many samples are at or before `now` (from `seen` on).
fn seen_by(samples: &[TraceSample], mut seen: usize, now: u64) -> usize {
    while samples
        .get(seen)
        .is_some_and(|s| (s.t * 1000.0).round() as u64 <= now)
    {
        seen += 1;
    }
    seen
}

fn seconds(at: u64) -> serde_json::Value {
    if at.is_multiple_of(1000) {
        json!(at / 1000)
    } else {
        json!(at as f64 / 1000.0)
    }
}

/// A sample's other triggers, as the emulator's inputs take them.
fn recorded(sample: &TraceSample) -> BTreeMap<String, Recorded> {
    sample
        .triggers
        .iter()
        .map(|(key, t)| {
            let r = match (&t.partitions, t.value, &t.error) {
                (Some(p), _, _) => Recorded::Offsets(
                    p.iter()
                        .enumerate()
                        .map(|(i, p)| Offsets {
                            partition: p.partition.unwrap_or(i as i32),
                            end: p.end,
                            committed: p.committed,
                        })
                        .collect(),
                ),
                (_, Some(v), _) => Recorded::Value(v),
                (_, _, e) => Recorded::Error(
                    e.as_deref()
                        .and_then(|e| ScalerError::parse(e).ok())
                        .unwrap_or(ScalerError::MetricUnavailable),
                ),
            };
            (key.clone(), r)
        })
        .collect()
}

/// The emulated target's pods with the sample's readings (entry i for pod i; a pod the
/// sample does not list has no reading yet), each a pod running since t = 0 read at `now`.
fn pods(sample: &TraceSample, replicas: u32, now: u64) -> Vec<PodMetric> {
    (0..replicas as usize)
        .map(|i| {
            let reading = sample.pods.get(i);
            PodMetric {
                cpu_milli: reading.and_then(|p| p.cpu_millicores),
                memory_bytes: reading.and_then(|p| p.memory_bytes),
                ..PodMetric::running(0, now)
            }
        })
        .collect()
}

/// One metric's part, as a JSON object.
fn detail(d: &MetricDetail) -> serde_json::Value {
    let mut v = json!({ "metric": d.metric });
    if let Some(m) = d.value_milli {
        v["value"] = json!(m as f64 / 1000.0);
    }
    if let Some(a) = d.active {
        v["active"] = json!(a);
    }
    if let Some(p) = d.proposal {
        v["proposal"] = json!(p);
    }
    if let Some(c) = d.call.filter(|c| *c != crate::emulator::CallOutcome::Read) {
        v["scaler"] = json!(c);
        v["failures"] = json!(d.failures);
    }
    if let Some(e) = &d.error {
        v["error"] = json!(e);
    }
    v
}

/// How a ScaledJob's Jobs behave in `lab plan`, where the trace gives the lag: each Job's
/// pod is Pending for `pending_ms` after it is created, then runs `running_ms` and exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobTimes {
    pub pending_ms: u64,
    pub running_ms: u64,
}

/// A ScaledJob through a recorded trace: one JSON line per poll (KEDA's job count,
/// pkg/scaling/executor/scale_jobs.go RequestJobScale).
pub fn run_jobs(
    spec: JobSpec,
    samples: &[TraceSample],
    times: JobTimes,
    until: Option<f64>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let last_ms = last_ms(samples, until)?;
    let mut keda = JobScaler::new(spec);
    let mut jobs: Vec<u64> = Vec::new();
    let mut seen = 0;
    while keda.next_due() <= last_ms {
        let now = keda.next_due();
        seen = seen_by(samples, seen, now);
        let observation = seen
            .checked_sub(1)
            .map_or(Observation::Offsets(Vec::new()), |i| {
                samples[i].observation()
            });
        let unfinished = jobs
            .iter()
            .filter(|c| now < **c + times.pending_ms + times.running_ms)
            .count() as i64;
        let pending = jobs.iter().filter(|c| now < **c + times.pending_ms).count() as i64;
        let found = |_: usize| match &observation {
            Observation::Offsets(o) => Ok(o.as_slice()),
            Observation::Error(e) => Err(*e),
        };
        let Some(d) = keda.poll(now, &found, unfinished, pending) else {
            break;
        };
        jobs.extend(std::iter::repeat_n(now, d.created as usize));
        let mut line = serde_json::to_value(d)?;
        line["t"] = seconds(d.at);
        line["rule"] = json!("pkg/scaling/executor/scale_jobs.go RequestJobScale, getScalingDecision, GetEffectiveMaxScale; pkg/scaling/scaledjob/metrics.go IsScaledJobActive");
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::parse_trace;

    fn published() -> ScalingSpec {
        crate::keda::load_text(crate::keda::REPOSITORY_SCALED_OBJECT, "repo")
            .unwrap()
            .spec
    }

    type Line = (f64, String, i64, bool, u32, u32);

    fn lines_for(spec: ScalingSpec, trace: &str, replicas: u32, until: Option<f64>) -> Vec<Line> {
        let samples = parse_trace(trace).unwrap();
        let mut out = Vec::new();
        run(spec, &samples, replicas, until, &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["t"].as_f64().unwrap(),
                    v["by"].as_str().unwrap().to_owned(),
                    v["metric"].as_i64().unwrap(),
                    v["active"].as_bool().unwrap(),
                    v["desired"].as_u64().unwrap() as u32,
                    v["replicas"].as_u64().unwrap() as u32,
                )
            })
            .collect()
    }

    fn lines(trace: &str, replicas: u32, until: Option<f64>) -> Vec<Line> {
        lines_for(published(), trace, replicas, until)
    }

    const BURST_THEN_IDLE: &str = r#"
{"t": 0, "partitions": [{"end": 0, "committed": 0}, {"end": 0, "committed": 0}, {"end": 0, "committed": 0}]}
{"t": 20, "partitions": [{"end": 30, "committed": 10}, {"end": 30, "committed": 10}, {"end": 30, "committed": 10}]}
{"t": 100, "partitions": [{"end": 30, "committed": 30}, {"end": 30, "committed": 30}, {"end": 30, "committed": 30}]}
{"t": 200, "partitions": [{"end": 30, "committed": 30}, {"end": 30, "committed": 30}, {"end": 30, "committed": 30}]}
"#;

    /// The published ScaledObject through a burst: KEDA's first poll drops to zero at
    /// once (scaleToZeroOrIdle: no lastActiveTime, creationTimestamp + 0 has passed), the
    /// burst brings it back, the HPA follows the lag, and KEDA drops to zero at the first
    /// inactive poll a cooldown after the last active one (whole-second lastActiveTime).
    #[test]
    fn burst_then_idle_scales_up_down_and_to_zero() {
        let got = lines(BURST_THEN_IDLE, 1, None);
        let k = |t: f64, m, a, d, r| (t, "keda".to_owned(), m, a, d, r);
        let h = |t: f64, m, a, d, r| (t, "hpa".to_owned(), m, a, d, r);
        let expected = vec![
            k(0.0, 0, false, 0, 0), // never active, created at 0 + initialCooldownPeriod 0: drop
            h(15.0, 0, false, 0, 0), // the HPA does nothing at zero
            k(30.0, 15, true, 1, 1), // lag 60 over 3 partitions, capped at 15: active, 0 -> 1
            h(30.0, 15, true, 3, 3), // ceil(15 / 5) = 3, within max(1 + 4, 2)
            h(45.0, 15, true, 3, 3), // 15 / (5 x 3) = 1: tolerance
            k(60.0, 15, true, 3, 3),
            h(60.0, 15, true, 3, 3),
            h(75.0, 15, true, 3, 3),
            k(90.0, 15, true, 3, 3),
            h(90.0, 15, true, 3, 3),
            h(105.0, 0, false, 0, 3), // the 3 of t=90 is inside the 30 s window
            k(120.0, 0, false, 0, 0), // last active 90 + 30 s: a poll landing after 120 s drops
            h(120.0, 0, false, 0, 0),
            h(135.0, 0, false, 0, 0),
            k(150.0, 0, false, 0, 0),
            h(150.0, 0, false, 0, 0),
            h(165.0, 0, false, 0, 0),
            k(180.0, 0, false, 0, 0),
            h(180.0, 0, false, 0, 0),
            h(195.0, 0, false, 0, 0),
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn latest_sample_at_or_before_each_evaluation_and_until() {
        // Active from t=30 exactly: the KEDA poll at 30 sees it, from zero replicas.
        let trace = r#"{"t": 0, "partitions": [{"end": 0, "committed": null}]}
{"t": 30, "partitions": [{"end": 7, "committed": 0}]}"#;
        let mut spec = published();
        spec.trigger.offset_reset = crate::emulator::spec::OffsetReset::Latest;
        let got = lines_for(spec, trace, 0, Some(30.0));
        assert_eq!(got[0].1, "keda");
        assert_eq!(
            (got[0].2, got[0].3),
            (1, true),
            "never committed + latest: lag 1, active"
        );
        let at_30: Vec<_> = got.iter().filter(|l| l.0 == 30.0).collect();
        assert_eq!(at_30.len(), 2, "KEDA then the HPA at 30 s");
        assert_eq!((at_30[0].1.as_str(), at_30[0].2), ("keda", 7));
        assert_eq!(
            (at_30[1].1.as_str(), at_30[1].5),
            ("hpa", 2),
            "ceil(7 / 5) = 2"
        );
    }

    /// Trace files may carry partition ids: partitionLimitation counts only those.
    #[test]
    fn partition_ids_in_the_trace_meet_partition_limitation() {
        let mut spec = published();
        spec.trigger.partition_limitation = Some(vec![7]);
        let trace = r#"{"t": 0, "partitions": [{"partition": 3, "end": 100, "committed": 0}, {"partition": 7, "end": 12, "committed": 0}]}"#;
        let got = lines_for(spec, trace, 1, Some(15.0));
        assert_eq!(
            got[0].2, 5,
            "only partition 7 counts: its 12 capped at 1 partition x 5 (both would cap at 10)"
        );
    }

    #[test]
    fn bad_traces_say_which_line() {
        for (trace, expected) in [
            ("", "no samples"),
            ("{\"t\": 1}", "line 1: missing field `partitions`"),
            (
                "{\"t\": 5, \"partitions\": []}\n{\"t\": 4, \"partitions\": []}",
                "line 2: t=4 goes back in time",
            ),
            ("{\"t\": -1, \"partitions\": []}", "line 1: t must be"),
            (
                "{\"t\": 0, \"partitions\": [{\"end\": -3, \"committed\": null}]}",
                "partitions[0].end is negative",
            ),
            (
                "{\"t\": 0, \"partitions\": [{\"partition\": 1, \"end\": 3, \"committed\": null}, {\"partition\": 1, \"end\": 3, \"committed\": null}]}",
                "partition id 1 is negative or repeated",
            ),
            ("{\"t\": 0, \"partitions\": [], \"lag\": 3}", "unknown field `lag`"),
            ("not json", "line 1:"),
            (
                "{\"t\": 0, \"error\": \"disk full\"}",
                "line 1: error: \"disk full\" is no scaler error the emulator knows",
            ),
            (
                "{\"t\": 0, \"error\": \"broker unreachable\", \"partitions\": []}",
                "line 1: an error sample carries no partitions or total_lag",
            ),
            (
                "{\"t\": 0, \"error\": \"group not found\"}",
                "line 1: error: \"group not found\" is no scaler error: Kafka answers OffsetFetch",
            ),
        ] {
            let err = format!("{:#}", parse_trace(trace).unwrap_err());
            assert!(err.contains(expected), "{expected:?} not in {err:?}");
        }
    }

    /// An error sample holds until the next line: the first call fails (keda.rs
    /// RequestScale, no fallback: TriggerError), the cache is cleared and the scaler
    /// cannot be built while no broker answers (scale_handler.go checkScalers), and each
    /// line says which upstream rule decided, the call's outcome and the error.
    #[test]
    fn error_samples_run_through_keda_s_error_branches() {
        let trace = "{\"t\": 0, \"partitions\": [{\"end\": 100, \"committed\": 90}]}\n{\"t\": 20, \"error\": \"broker unreachable\"}\n{\"t\": 100, \"partitions\": [{\"end\": 100, \"committed\": 100}]}";
        let samples = parse_trace(trace).unwrap();
        let mut out = Vec::new();
        run(published(), &samples, 2, Some(120.0), &mut out).unwrap();
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let at = |t: u64, by: &str| {
            lines
                .iter()
                .find(|l| l["t"] == t && l["by"] == by)
                .unwrap_or_else(|| panic!("no {by} at {t}: {lines:?}"))
        };
        assert_eq!(at(30, "keda")["why"], "keda:trigger-error");
        assert_eq!(at(30, "keda")["scaler"], "failed");
        assert_eq!(at(30, "keda")["error"], "broker unreachable");
        assert!(at(30, "keda")["rule"]
            .as_str()
            .unwrap()
            .contains("RequestScale"));
        assert_eq!(at(60, "keda")["why"], "keda:no-scaler");
        assert_eq!(at(45, "hpa")["why"], "hpa:failed-get-external-metric");
        assert!(lines
            .iter()
            .filter(|l| l.get("error").is_some())
            .all(|l| l["replicas"] == 2));
        assert_eq!(
            at(105, "hpa")["scaler"],
            serde_json::Value::Null,
            "read again once the broker answers"
        );
    }
}
