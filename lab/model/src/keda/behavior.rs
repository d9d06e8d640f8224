//! An HPA `behavior` (autoscaling/v2) as the API server validates and defaults it
//! (kubernetes pkg/apis/autoscaling/validation/validation.go validateScalingRules,
//! pkg/apis/autoscaling/v2/defaults.go): every unset field filled with Kubernetes'
//! default, each bad value a problem naming its field.

use super::model;
use super::validate::Collector;
use super::Problem;
use crate::emulator::spec::{Behavior, Policy, PolicyKind, ScalingRules, SelectPolicy};
use crate::rules::RuleId;

/// An HPA's `behavior` as the API server validates and defaults it (every unset field
/// filled with Kubernetes' default), or the problems it has: what `lab doctor` compares a
/// cluster's HPA with.
pub fn hpa_behavior(b: &model::Behavior) -> Result<Behavior, Vec<Problem>> {
    let mut c = Collector::default();
    match parse_behavior(&mut c, b) {
        Some(behavior) if c.problems.is_empty() => Ok(behavior),
        _ => Err(c.problems),
    }
}

/// The HPA behavior as the API server validates and defaults it.
pub(super) fn parse_behavior(c: &mut Collector, b: &model::Behavior) -> Option<Behavior> {
    let base = "spec.advanced.horizontalPodAutoscalerConfig.behavior";
    let up = parse_rules(
        c,
        b.scale_up.as_ref(),
        &format!("{base}.scaleUp"),
        ScalingRules::default_up(),
    );
    let down = parse_rules(
        c,
        b.scale_down.as_ref(),
        &format!("{base}.scaleDown"),
        ScalingRules::default_down(),
    );
    Some(Behavior {
        scale_up: up?,
        scale_down: down?,
    })
}

fn parse_rules(
    c: &mut Collector,
    rules: Option<&model::ScalingRules>,
    field: &str,
    default: ScalingRules,
) -> Option<ScalingRules> {
    let Some(rules) = rules else {
        return Some(default);
    };
    let mut ok = true;
    let window = match rules.stabilization_window_seconds {
        None => default.stabilization_window,
        Some(s) if (0..=3600).contains(&s) => s as u64 * 1000,
        Some(s) => {
            c.error(
                &format!("{field}.stabilizationWindowSeconds"),
                RuleId::HpaBehavior,
                format!("{s} must be 0..=3600"),
            );
            ok = false;
            0
        }
    };
    let select = match rules.select_policy.as_deref() {
        None => default.select,
        Some("Max") => SelectPolicy::Max,
        Some("Min") => SelectPolicy::Min,
        Some("Disabled") => SelectPolicy::Disabled,
        Some(other) => {
            c.error(
                &format!("{field}.selectPolicy"),
                RuleId::HpaBehavior,
                format!("{other:?} must be Max, Min or Disabled"),
            );
            ok = false;
            SelectPolicy::Max
        }
    };
    let policies = match &rules.policies {
        None => default.policies,
        Some(list) if list.is_empty() => {
            c.error(
                &format!("{field}.policies"),
                RuleId::HpaBehavior,
                "must specify at least one Policy",
            );
            ok = false;
            Vec::new()
        }
        Some(list) => {
            let mut out = Vec::new();
            for (i, p) in list.iter().enumerate() {
                let at = format!("{field}.policies[{i}]");
                let kind = match p.kind.as_str() {
                    "Pods" => Some(PolicyKind::Pods),
                    "Percent" => Some(PolicyKind::Percent),
                    other => {
                        c.error(
                            &format!("{at}.type"),
                            RuleId::HpaBehavior,
                            format!("{other:?} must be Pods or Percent"),
                        );
                        None
                    }
                };
                if p.value <= 0 {
                    c.error(
                        &format!("{at}.value"),
                        RuleId::HpaBehavior,
                        format!("{} must be greater than zero", p.value),
                    );
                }
                if !(1..=1800).contains(&p.period_seconds) {
                    c.error(
                        &format!("{at}.periodSeconds"),
                        RuleId::HpaBehavior,
                        format!("{} must be 1..=1800", p.period_seconds),
                    );
                }
                match kind {
                    Some(kind) if p.value > 0 && (1..=1800).contains(&p.period_seconds) => out
                        .push(Policy {
                            kind,
                            value: p.value as u32,
                            period: p.period_seconds as u64 * 1000,
                        }),
                    _ => ok = false,
                }
            }
            out
        }
    };
    let tolerance = match &rules.tolerance {
        None => None,
        Some(v) => match quantity(v) {
            Some(t) if t >= 0.0 => Some(t),
            _ => {
                c.error(
                    &format!("{field}.tolerance"),
                    RuleId::HpaBehavior,
                    format!(
                        "{} is not a quantity of 0 or more (such as \"0.05\" or \"50m\")",
                        describe(v)
                    ),
                );
                ok = false;
                None
            }
        },
    };
    ok.then_some(ScalingRules {
        stabilization_window: window,
        select,
        policies,
        tolerance,
    })
}

/// A resource.Quantity as a number: a plain decimal (`0.05`, `1`), or with the milli
/// suffix (`50m`). Larger suffixes make no sense for a tolerance and are refused.
fn quantity(v: &serde_yaml_ng::Value) -> Option<f64> {
    match v {
        serde_yaml_ng::Value::Number(n) => n.as_f64(),
        serde_yaml_ng::Value::String(s) => {
            let s = s.trim();
            let (number, scale) = match s.strip_suffix('m') {
                Some(n) => (n, 1e-3),
                None => (s, 1.0),
            };
            let plain = !number.is_empty()
                && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                && number.bytes().filter(|b| *b == b'.').count() <= 1;
            plain
                .then(|| number.parse::<f64>().ok().map(|x| x * scale))
                .flatten()
        }
        _ => None,
    }
}

fn describe(v: &serde_yaml_ng::Value) -> String {
    serde_yaml_ng::to_string(v)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}
