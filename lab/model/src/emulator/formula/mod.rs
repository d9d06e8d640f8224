//! `scalingModifiers.formula`, as KEDA v2.20.2 compiles and runs it with
//! expr-lang/expr v1.17.8:
//!
//! - apis/keda/v1alpha1/scaledobject_webhook.go `castToFloatIfNecessary`: a formula with
//!   `??` becomes `let r = (F); r == nil ? nil : float(r)` (nil survives for the
//!   fallback); one that starts with `float(` is kept as written (so `float(a) > 1 ? 1 :
//!   0` can still return an int); anything else becomes `float(F)`;
//! - `validateScalingModifiersFormula`: compiled against the named triggers that are not
//!   cpu or memory (each a float64), then run once with every value -1; any error
//!   refuses the ScaledObject;
//! - pkg/scaling/modifiers/formula.go `calculateScalingModifiersFormula`: run with each
//!   trigger's value (nil for a trigger whose scalingModifiers fallback is past its
//!   threshold); a nil result is `fallback.replicas x target`, a result that is not a
//!   float64 is an error.
//!
//! The expression language itself is [`parser`] and [`eval`], over the subset KEDA
//! documents and tests; [`lexer`] splits it into tokens.

pub mod eval;
pub mod lexer;
pub mod parser;

use std::collections::BTreeMap;

use eval::{Ty, Value};
use parser::{Builtin, Node, ParseError};

/// How KEDA wrapped the formula (castToFloatIfNecessary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    /// Contains `??`: `let _kedaCompositeResult = (F); _kedaCompositeResult == nil ? nil :
    /// float(_kedaCompositeResult)`.
    NilOrFloat,
    /// Starts with `float(`: kept as written.
    AsWritten,
    /// `float(F)`.
    Float,
}

/// A compiled formula.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    /// The formula as the ScaledObject writes it.
    pub source: String,
    pub wrap: Wrap,
    node: Node,
}

/// Why a formula is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormulaError {
    /// KEDA's webhook refuses it (ValidateAndCompileScalingModifiers): expr's error.
    #[error("error validating formula in ScalingModifiers: {0}")]
    Invalid(String),
    /// expr would take it; the emulator does not evaluate that construct.
    #[error("{0}")]
    Unsupported(ParseError),
}

/// What a formula evaluates to at run time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// A float64: the composite metric.
    Value(f64),
    /// nil (every `??` branch was nil): KEDA uses `fallback.replicas x target`.
    Nil,
}

impl Formula {
    /// Compiles `source` as KEDA's webhook does, against the trigger names `names` (named
    /// triggers that are not cpu or memory), and runs it once with every value -1.
    pub fn compile(source: &str, names: &[&str]) -> Result<Formula, FormulaError> {
        let wrap = if source.contains("??") {
            Wrap::NilOrFloat
        } else if source.starts_with("float(") {
            Wrap::AsWritten
        } else {
            Wrap::Float
        };
        let node = parser::parse(source).map_err(|e| match e {
            ParseError::Syntax(message) => FormulaError::Invalid(message),
            unsupported => FormulaError::Unsupported(unsupported),
        })?;
        let env = |name: &str| names.contains(&name);
        let ty = eval::check(&node, &env).map_err(FormulaError::Invalid)?;
        if wrap != Wrap::AsWritten && !matches!(ty, Ty::Int | Ty::Float | Ty::Unknown | Ty::Nil) {
            let shown = match ty {
                Ty::Bool => "bool",
                _ => "[]interface {}",
            };
            return Err(FormulaError::Invalid(format!(
                "invalid argument for float (type {shown})"
            )));
        }
        let formula = Formula {
            source: source.to_owned(),
            wrap,
            node,
        };
        let dummy: BTreeMap<String, Option<f64>> = names
            .iter()
            .map(|n| ((*n).to_owned(), Some(-1.0)))
            .collect();
        formula.run(&dummy).map_err(FormulaError::Invalid)?;
        Ok(formula)
    }

    /// The formula's value with each trigger's (absent or `None`: nil), as expr returns
    /// it through KEDA's wrapper: an error is expr's (run time), or "formula returned
    /// non-float result" (calculateScalingModifiersFormula).
    pub fn evaluate(&self, data: &BTreeMap<String, Option<f64>>) -> Result<Outcome, String> {
        match self.run(data)? {
            Value::Nil => Ok(Outcome::Nil),
            Value::Float(f) => Ok(Outcome::Value(f)),
            other => Err(format!(
                "formula returned non-float result {} ({})",
                other.type_name(),
                shown(&other)
            )),
        }
    }

    fn run(&self, data: &BTreeMap<String, Option<f64>>) -> Result<Value, String> {
        let value = eval::run(&self.node, data)?;
        let float = |v: Value| eval::run(&Node::Call(Builtin::Float, vec![literal(v)]), data);
        match (self.wrap, value) {
            (Wrap::AsWritten, v) => Ok(v),
            (Wrap::NilOrFloat, Value::Nil) => Ok(Value::Nil),
            (_, v) => float(v),
        }
    }
}

/// A value back into a node, for the wrapper's `float(...)`.
fn literal(v: Value) -> Node {
    match v {
        Value::Int(i) => Node::Int(i),
        Value::Float(f) => Node::Float(f),
        Value::Bool(b) => Node::Bool(b),
        Value::Nil => Node::Nil,
        Value::Array(items) => Node::Array(items.into_iter().map(literal).collect()),
    }
}

/// Go's `%v` of a value.
fn shown(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Nil => "<nil>".into(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(shown).collect::<Vec<_>>().join(" ")
        ),
    }
}

/// The composite metric in milli-units, as `ret.Value.SetMilli(int64(out * 1000))`
/// stores it: truncated toward zero, negatives kept.
pub fn milli(value: f64) -> i64 {
    (value * 1000.0) as i64
}

#[cfg(test)]
mod tests;
