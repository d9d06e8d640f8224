//! `advanced.scalingModifiers` checked as KEDA's webhook checks it
//! (apis/keda/v1alpha1/scaledobject_webhook.go `ValidateAndCompileScalingModifiers`,
//! `validateScalingModifiersFormula`, `validateScalingModifiersTarget`), into the
//! emulator's [`Modifiers`]. The formula is compiled against the triggers that have a
//! name and are not cpu or memory; a construct outside the expression subset the
//! emulator evaluates is refused, naming it.

use super::model::ScaledObject;
use super::validate::Collector;
use crate::emulator::formula::{Formula, FormulaError};
use crate::emulator::spec::MetricType;
use crate::emulator::triggers::Modifiers;
use crate::rules::RuleId;

const FIELD: &str = "spec.advanced.scalingModifiers";

/// The modifiers, when the ScaledObject uses them and KEDA accepts them.
pub fn read(c: &mut Collector, so: &ScaledObject) -> Option<Modifiers> {
    if !super::triggers::uses_modifiers(so) {
        return None;
    }
    let m = so.spec.advanced.as_ref()?.scaling_modifiers.as_ref()?;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let (formula, target) = (text(&m.formula), text(&m.target));
    if formula.is_empty() {
        c.error(
            &format!("{FIELD}.formula"),
            RuleId::KedaScalingModifiers,
            "error ScalingModifiers.Formula is mandatory",
        );
        return None;
    }
    if target.is_empty() {
        c.error(
            &format!("{FIELD}.target"),
            RuleId::KedaScalingModifiers,
            "error validating formula in ScalingModifiers: formula is given but target is empty",
        );
        return None;
    }
    let names: Vec<&str> = so
        .spec
        .triggers
        .iter()
        .filter(|t| !matches!(t.kind.as_str(), "cpu" | "memory"))
        .filter_map(|t| t.name.as_deref().filter(|n| !n.is_empty()))
        .collect();
    let compiled = match Formula::compile(&formula, &names) {
        Ok(f) => f,
        Err(FormulaError::Unsupported(e)) => {
            c.not_emulated(&format!("{FIELD}.formula"), e.to_string());
            return None;
        }
        Err(e @ FormulaError::Invalid(_)) => {
            c.error(
                &format!("{FIELD}.formula"),
                RuleId::KedaScalingModifiers,
                e.to_string(),
            );
            return None;
        }
    };
    let target_value = match target.parse::<f64>() {
        Ok(t) if t > 0.0 => t,
        parsed => {
            let why = match parsed {
                Err(_) => format!("strconv.ParseFloat: parsing {target:?}: invalid syntax"),
                Ok(_) => "%!w(<nil>)".into(),
            };
            c.error(
                &format!("{FIELD}.target"),
                RuleId::KedaScalingModifiers,
                format!("error validating target in ScalingModifiers: error converting target for scalingModifiers (string->float) to valid target: {why}"),
            );
            return None;
        }
    };
    let metric_type = match m.metric_type.as_deref().unwrap_or("") {
        "" | "AverageValue" => MetricType::AverageValue,
        "Value" => MetricType::Value,
        "Utilization" => {
            c.error(
                &format!("{FIELD}.metricType"),
                RuleId::KedaScalingModifiers,
                "error validating target in ScalingModifiers: error trigger type is Utilization, but it needs to be AverageValue or Value for external metrics",
            );
            return None;
        }
        other => {
            c.error(
                &format!("{FIELD}.metricType"),
                RuleId::KedaMetricType,
                format!("{other:?}: the HPA's metric target type must be Value or AverageValue (case-sensitive)"),
            );
            return None;
        }
    };
    let activation_text = text(&m.activation_target);
    let activation_target = if activation_text.is_empty() {
        0.0
    } else if let Ok(a) = activation_text.parse::<f64>() {
        a
    } else {
        c.not_emulated(
            &format!("{FIELD}.activationTarget"),
            format!("{activation_text:?} is no number: KEDA accepts it, then every poll fails (getScaledObjectState returns the parse error before RequestScale) and the target never scales"),
        );
        return None;
    };
    Some(Modifiers {
        formula: compiled,
        target: target_value,
        target_text: target,
        activation_target,
        metric_type,
    })
}
