//! KEDA v2.20.2's own expectations of formulas: pkg/scaling/modifiers/formula_test.go
//! (the evaluation cases) and apis/keda/v1alpha1/scaledobject_webhook_test.go (which
//! formulas the webhook accepts), case by case.

use super::*;

fn data(pairs: &[(&str, Option<f64>)]) -> BTreeMap<String, Option<f64>> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// formula_test.go TestCalculateScalingModifiersFormula: `trigger1 + trigger2` with
/// 2000m and 5000m gives one composite metric of 7000m.
#[test]
fn test_calculate_scaling_modifiers_formula() {
    let f = Formula::compile("trigger1 + trigger2", &["trigger1", "trigger2"]).unwrap();
    let out = f
        .evaluate(&data(&[("trigger1", Some(2.0)), ("trigger2", Some(5.0))]))
        .unwrap();
    assert_eq!(out, Outcome::Value(7.0));
    assert_eq!(milli(7.0), 7000);
}

/// formula_test.go TestCalculateScalingModifiersFormulaFallbackReplicas: `trigger1 ??
/// trigger2` with both triggers past their threshold (nil) evaluates to nil; KEDA then
/// serves fallback.replicas x target (7 x 2 = 14000m), which the emulator's KEDA side
/// does (emulator/composite.rs), so here: nil.
#[test]
fn test_calculate_scaling_modifiers_formula_fallback_replicas() {
    let f = Formula::compile("trigger1 ?? trigger2", &["trigger1", "trigger2"]).unwrap();
    assert_eq!(f.wrap, Wrap::NilOrFloat);
    assert_eq!(
        f.evaluate(&data(&[("trigger1", None), ("trigger2", None)])),
        Ok(Outcome::Nil)
    );
}

/// scaledobject_webhook_test.go: the formulas the webhook accepts, each with the triggers
/// named as in the test (`workload_trig`, `cron_trig`, `trig_one`, `trig_two`).
#[test]
fn the_webhook_accepts_the_formulas_its_tests_accept() {
    let names = ["workload_trig", "cron_trig", "trig_one", "trig_two"];
    for source in [
        "workload_trig + cron_trig",
        "workload_trig + 1",
        "float(workload_trig + 1)",
        "float(workload_trig < 5 ? cron_trig + workload_trig : 5)",
        "workload_trig < 5 ? cron_trig + workload_trig : 5",
        "count([trig_one,trig_two],{#>1}) > 1 ? 5 : 0",
        "float(trig_one < 2 ? trig_one+trig_two >= 2 ? 5 : 10 : 0)",
        "float(float(trig_two < 5 ? trig_one + trig_two : 5))",
        "trig_one ?? trig_two ?? 5",
    ] {
        assert!(Formula::compile(source, &names).is_ok(), "{source}");
    }
}

/// scaledobject_webhook_test.go: a formula naming an unnamed trigger is refused
/// (`unknown name`, expr's checker against `expr.Env` of the named triggers).
#[test]
fn the_webhook_refuses_a_formula_naming_an_unnamed_trigger() {
    let e = Formula::compile("workload_trig + cron_trig", &["workload_trig"]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "error validating formula in ScalingModifiers: unknown name cron_trig"
    );
}

/// scaledobject_webhook.go validateScalingModifiersFormula runs the formula with -1 for
/// every trigger: a run-time error refuses it; castToFloatIfNecessary wraps it.
#[test]
fn validation_runs_the_formula_once_with_minus_one() {
    assert!(
        Formula::compile("int(a) % int(a + 1)", &["a"]).is_err(),
        "-1 % 0"
    );
    assert_eq!(Formula::compile("a * 2", &["a"]).unwrap().wrap, Wrap::Float);
    assert_eq!(
        Formula::compile("float(a) > 1 ? 1 : 0", &["a"])
            .unwrap()
            .wrap,
        Wrap::AsWritten
    );
    let e = Formula::compile("a > 1", &["a"]).unwrap_err();
    assert!(
        e.to_string()
            .contains("invalid argument for float (type bool)"),
        "{e}"
    );
}

/// calculateScalingModifiersFormula: a formula kept as written (`float(` first) that
/// returns an int fails at run time: "formula returned non-float result int (1)".
#[test]
fn a_formula_kept_as_written_can_return_a_non_float() {
    let f = Formula::compile("float(a) > 1 ? 1 : 0", &["a"]).unwrap();
    assert_eq!(
        f.evaluate(&data(&[("a", Some(3.0))])),
        Err("formula returned non-float result int (1)".into())
    );
    let wrapped = Formula::compile("a > 1 ? 1 : 0", &["a"]).unwrap();
    assert_eq!(
        wrapped.evaluate(&data(&[("a", Some(3.0))])),
        Ok(Outcome::Value(1.0))
    );
}

/// tests/internals/fallback/fallback_scaling_modifiers_test.go's formula `primary ??
/// secondary ?? 8`: the first non-nil trigger, else 8.
#[test]
fn coalescing_falls_through_to_the_literal() {
    let f = Formula::compile("primary ?? secondary ?? 8", &["primary", "secondary"]).unwrap();
    let at = |p, s| {
        f.evaluate(&data(&[("primary", p), ("secondary", s)]))
            .unwrap()
    };
    assert_eq!(at(Some(16.0), Some(12.0)), Outcome::Value(16.0));
    assert_eq!(at(None, Some(12.0)), Outcome::Value(12.0));
    assert_eq!(at(None, None), Outcome::Value(8.0));
}

/// A construct outside the subset is refused naming it, never evaluated wrongly.
#[test]
fn constructs_outside_the_subset_are_refused_by_name() {
    match Formula::compile("kafka_lag in [1, 2] ? 1 : 0", &["kafka_lag"]) {
        Err(FormulaError::Unsupported(ParseError::Unsupported { construct, .. })) => {
            assert_eq!(construct, "the `in` operator")
        }
        other => panic!("{other:?}"),
    }
}
