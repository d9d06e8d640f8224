//! Type checking and evaluation of a parsed expression, as expr-lang/expr v1.17.8 does
//! it: checker/checker.go (compile-time types: an unknown name, `%` on a float, a
//! non-bool condition, `float(bool)` are errors) and vm/runtime (run time: `+ - *` keep
//! integers whole, `/` and `**` always give floats, `%` is integer only, `==` compares
//! numbers across int and float, arithmetic on nil is an error, `??` takes the right side
//! only when the left one is nil).
//!
//! Trigger values are float64 (KEDA compiles with `expr.Env(map[string]float64)`), and
//! nil at run time when a trigger's fallback is past its threshold.

use std::collections::BTreeMap;

use super::parser::{Binary, Builtin, Node, Unary};

/// A compile-time type (expr's Nature, as far as the subset needs it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Int,
    Float,
    Bool,
    Nil,
    Array,
    /// `interface{}`: anything (a `??` of different types, a ternary's mixed branches).
    Unknown,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Int => "int",
            Ty::Float => "float64",
            Ty::Bool => "bool",
            Ty::Nil => "nil",
            Ty::Array => "[]interface {}",
            Ty::Unknown => "interface {}",
        }
    }

    fn number(self) -> bool {
        matches!(self, Ty::Int | Ty::Float)
    }

    fn number_or_unknown(self) -> bool {
        self.number() || self == Ty::Unknown
    }
}

/// Checks `node` against an environment of float64 triggers named `env`; the error is
/// expr's compile error.
pub fn check(node: &Node, env: &dyn Fn(&str) -> bool) -> Result<Ty, String> {
    Checker { env, pointer: None }.visit(node)
}

struct Checker<'a> {
    env: &'a dyn Fn(&str) -> bool,
    /// The type of `#` inside a predicate.
    pointer: Option<Ty>,
}

impl Checker<'_> {
    fn visit(&mut self, node: &Node) -> Result<Ty, String> {
        Ok(match node {
            Node::Int(_) => Ty::Int,
            Node::Float(_) => Ty::Float,
            Node::Bool(_) => Ty::Bool,
            Node::Nil => Ty::Nil,
            Node::Ident(name) if (self.env)(name) => Ty::Float,
            Node::Ident(name) => return Err(format!("unknown name {name}")),
            Node::Pointer => self.pointer.unwrap_or(Ty::Unknown),
            Node::Array(items) => {
                for item in items {
                    self.visit(item)?;
                }
                Ty::Array
            }
            Node::Unary(op, operand) => unary_type(*op, self.visit(operand)?)?,
            Node::Binary(op, l, r) => {
                let (l, r) = (self.visit(l)?, self.visit(r)?);
                binary_type(*op, l, r)?
            }
            Node::Ternary(c, a, b) => {
                let c = self.visit(c)?;
                if !matches!(c, Ty::Bool | Ty::Unknown) {
                    return Err(format!(
                        "non-bool expression (type {}) used as condition",
                        c.name()
                    ));
                }
                let (a, b) = (self.visit(a)?, self.visit(b)?);
                if a == b {
                    a
                } else {
                    Ty::Unknown
                }
            }
            Node::Call(f, args) => {
                let types = args
                    .iter()
                    .map(|a| self.visit(a))
                    .collect::<Result<Vec<_>, _>>()?;
                call_type(*f, &types)?
            }
            Node::Count(array, predicate) => {
                let a = self.visit(array)?;
                if !matches!(a, Ty::Array | Ty::Unknown) {
                    return Err(format!("builtin count takes only array (got {})", a.name()));
                }
                let outer = self.pointer.replace(Ty::Unknown);
                let p = self.visit(predicate);
                self.pointer = outer;
                if !matches!(p?, Ty::Bool | Ty::Unknown) {
                    return Err("predicate should return boolean".into());
                }
                Ty::Int
            }
        })
    }
}

fn mismatch(op: &str, l: Ty, r: Ty) -> String {
    format!(
        "invalid operation: {op} (mismatched types {} and {})",
        l.name(),
        r.name()
    )
}

fn unary_type(op: Unary, t: Ty) -> Result<Ty, String> {
    match op {
        Unary::Not if matches!(t, Ty::Bool | Ty::Unknown) => Ok(Ty::Bool),
        Unary::Neg | Unary::Plus if t.number() => Ok(t),
        Unary::Neg | Unary::Plus if t == Ty::Unknown => Ok(Ty::Unknown),
        _ => {
            let symbol = match op {
                Unary::Not => "!",
                Unary::Neg => "-",
                Unary::Plus => "+",
            };
            Err(format!(
                "invalid operation: {symbol} (mismatched type {})",
                t.name()
            ))
        }
    }
}

/// checker.go binaryNode, for the subset's operators.
fn binary_type(op: Binary, l: Ty, r: Ty) -> Result<Ty, String> {
    let unknown = l == Ty::Unknown || r == Ty::Unknown;
    let numbers = l.number_or_unknown() && r.number_or_unknown();
    let ok = match op {
        Binary::Add | Binary::Sub | Binary::Mul if numbers => {
            return Ok(match (l, r) {
                (Ty::Int, Ty::Int) => Ty::Int,
                _ if unknown => Ty::Unknown,
                _ => Ty::Float,
            })
        }
        Binary::Div | Binary::Pow if numbers => return Ok(Ty::Float),
        Binary::Mod if matches!(l, Ty::Int | Ty::Unknown) && matches!(r, Ty::Int | Ty::Unknown) => {
            return Ok(Ty::Int)
        }
        Binary::Lt | Binary::Gt | Binary::Le | Binary::Ge => numbers,
        Binary::Eq | Binary::Ne => numbers || l == r || unknown || l == Ty::Nil || r == Ty::Nil,
        Binary::And | Binary::Or => {
            matches!(l, Ty::Bool | Ty::Unknown) && matches!(r, Ty::Bool | Ty::Unknown)
        }
        Binary::Coalesce => {
            return Ok(match (l, r) {
                (Ty::Nil, r) => r,
                (l, Ty::Nil) => l,
                (l, r) if l == r => l,
                _ => Ty::Unknown,
            })
        }
        _ => false,
    };
    if ok {
        Ok(Ty::Bool)
    } else {
        Err(mismatch(op.symbol(), l, r))
    }
}

/// builtin/builtin.go Validate of each builtin.
fn call_type(f: Builtin, args: &[Ty]) -> Result<Ty, String> {
    let one = |args: &[Ty]| match args {
        [t] => Ok(*t),
        _ => Err(format!(
            "invalid number of arguments (expected 1, got {})",
            args.len()
        )),
    };
    let invalid = |t: Ty| format!("invalid argument for {} (type {})", f.name(), t.name());
    match f {
        Builtin::Float
        | Builtin::Int
        | Builtin::Abs
        | Builtin::Ceil
        | Builtin::Floor
        | Builtin::Round => {
            let t = one(args)?;
            if !t.number_or_unknown() {
                return Err(invalid(t));
            }
            Ok(match f {
                Builtin::Int => Ty::Int,
                Builtin::Abs => t,
                _ => Ty::Float,
            })
        }
        Builtin::Min | Builtin::Max => {
            if args.is_empty() {
                return Err(format!("not enough arguments to call {}", f.name()));
            }
            if let Some(bad) = args
                .iter()
                .find(|t| !(t.number_or_unknown() || **t == Ty::Array))
            {
                return Err(invalid(*bad));
            }
            Ok(Ty::Unknown)
        }
    }
}

/// A value at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    Array(Vec<Value>),
}

impl Value {
    /// Go's `%T` of the value, as expr's run-time errors print it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Bool(_) => "bool",
            Value::Nil => "<nil>",
            Value::Array(_) => "[]interface {}",
        }
    }

    fn float(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
}

/// Evaluates `node` with each trigger's value (absent or `None`: nil); the error is
/// expr's run-time error.
pub fn run(node: &Node, data: &BTreeMap<String, Option<f64>>) -> Result<Value, String> {
    Vm {
        data,
        pointer: None,
    }
    .eval(node)
}

struct Vm<'a> {
    data: &'a BTreeMap<String, Option<f64>>,
    pointer: Option<Value>,
}

impl Vm<'_> {
    fn eval(&mut self, node: &Node) -> Result<Value, String> {
        Ok(match node {
            Node::Int(i) => Value::Int(*i),
            Node::Float(f) => Value::Float(*f),
            Node::Bool(b) => Value::Bool(*b),
            Node::Nil => Value::Nil,
            Node::Ident(name) => match self.data.get(name) {
                Some(Some(v)) => Value::Float(*v),
                _ => Value::Nil,
            },
            Node::Pointer => self.pointer.clone().unwrap_or(Value::Nil),
            Node::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.eval(i))
                    .collect::<Result<_, _>>()?,
            ),
            Node::Unary(op, operand) => negate(*op, self.eval(operand)?)?,
            Node::Binary(Binary::And, l, r) => match self.eval(l)? {
                Value::Bool(false) => Value::Bool(false),
                Value::Bool(true) => truth(self.eval(r)?)?,
                other => return Err(bool_expected(&other)),
            },
            Node::Binary(Binary::Or, l, r) => match self.eval(l)? {
                Value::Bool(true) => Value::Bool(true),
                Value::Bool(false) => truth(self.eval(r)?)?,
                other => return Err(bool_expected(&other)),
            },
            Node::Binary(Binary::Coalesce, l, r) => match self.eval(l)? {
                Value::Nil => self.eval(r)?,
                v => v,
            },
            Node::Binary(op, l, r) => {
                let (l, r) = (self.eval(l)?, self.eval(r)?);
                arithmetic(*op, &l, &r)?
            }
            Node::Ternary(c, a, b) => match self.eval(c)? {
                Value::Bool(true) => self.eval(a)?,
                Value::Bool(false) => self.eval(b)?,
                other => return Err(bool_expected(&other)),
            },
            Node::Call(f, args) => {
                let args = args
                    .iter()
                    .map(|a| self.eval(a))
                    .collect::<Result<Vec<_>, _>>()?;
                builtin(*f, args)?
            }
            Node::Count(array, predicate) => {
                let Value::Array(items) = self.eval(array)? else {
                    return Err("invalid argument for count".into());
                };
                let mut n = 0;
                for item in items {
                    let outer = self.pointer.replace(item);
                    let keep = self.eval(predicate);
                    self.pointer = outer;
                    if truth(keep?)? == Value::Bool(true) {
                        n += 1;
                    }
                }
                Value::Int(n)
            }
        })
    }
}

fn bool_expected(v: &Value) -> String {
    format!("invalid operation: expected bool, got {}", v.type_name())
}

fn truth(v: Value) -> Result<Value, String> {
    match v {
        Value::Bool(_) => Ok(v),
        other => Err(bool_expected(&other)),
    }
}

fn negate(op: Unary, v: Value) -> Result<Value, String> {
    match (op, v) {
        (Unary::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
        (Unary::Neg, Value::Int(i)) => Ok(Value::Int(i.wrapping_neg())),
        (Unary::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
        (Unary::Plus, v @ (Value::Int(_) | Value::Float(_))) => Ok(v),
        (op, v) => Err(format!(
            "invalid operation: {} {}",
            match op {
                Unary::Not => "!",
                Unary::Neg => "-",
                Unary::Plus => "+",
            },
            v.type_name()
        )),
    }
}

/// vm/runtime: Add, Subtract, Multiply, Divide, Modulo, Exponent, Less, More, LessOrEqual,
/// MoreOrEqual, Equal.
fn arithmetic(op: Binary, l: &Value, r: &Value) -> Result<Value, String> {
    let invalid = || {
        format!(
            "invalid operation: {} {} {}",
            l.type_name(),
            op.symbol(),
            r.type_name()
        )
    };
    if matches!(op, Binary::Eq | Binary::Ne) {
        let equal = match (l.float(), r.float()) {
            (Some(a), Some(b)) => a == b,
            _ => l == r,
        };
        return Ok(Value::Bool(equal == (op == Binary::Eq)));
    }
    if let (Binary::Mod, Value::Int(a), Value::Int(b)) = (op, l, r) {
        return match a.checked_rem(*b) {
            Some(m) => Ok(Value::Int(m)),
            None => Err("runtime error: integer divide by zero".into()),
        };
    }
    if let (Value::Int(a), Value::Int(b)) = (l, r) {
        match op {
            Binary::Add => return Ok(Value::Int(a.wrapping_add(*b))),
            Binary::Sub => return Ok(Value::Int(a.wrapping_sub(*b))),
            Binary::Mul => return Ok(Value::Int(a.wrapping_mul(*b))),
            _ => {}
        }
    }
    let (Some(a), Some(b)) = (l.float(), r.float()) else {
        return Err(invalid());
    };
    Ok(match op {
        Binary::Add => Value::Float(a + b),
        Binary::Sub => Value::Float(a - b),
        Binary::Mul => Value::Float(a * b),
        Binary::Div => Value::Float(a / b),
        Binary::Pow => Value::Float(a.powf(b)),
        Binary::Lt => Value::Bool(a < b),
        Binary::Gt => Value::Bool(a > b),
        Binary::Le => Value::Bool(a <= b),
        Binary::Ge => Value::Bool(a >= b),
        _ => return Err(invalid()),
    })
}

/// builtin/builtin.go Float, Int, Abs, Ceil, Floor, Round (math.Round: half away from
/// zero), and minMax (elements keep their type; arrays are flattened).
fn builtin(f: Builtin, args: Vec<Value>) -> Result<Value, String> {
    let invalid = |v: &Value| format!("invalid argument for {} (type {})", f.name(), v.type_name());
    match f {
        Builtin::Min | Builtin::Max => {
            let mut flat = Vec::new();
            flatten(args, &mut flat);
            let mut best: Option<(f64, Value)> = None;
            for v in flat {
                let x = v.float().ok_or_else(|| invalid(&v))?;
                let better =
                    best.as_ref().is_none_or(
                        |(b, _)| {
                            if f == Builtin::Max {
                                x > *b
                            } else {
                                x < *b
                            }
                        },
                    );
                if better {
                    best = Some((x, v));
                }
            }
            best.map(|(_, v)| v)
                .ok_or_else(|| format!("not enough arguments to call {}", f.name()))
        }
        _ => {
            let v = args.into_iter().next().unwrap_or(Value::Nil);
            let x = v.float().ok_or_else(|| invalid(&v))?;
            Ok(match (f, &v) {
                (Builtin::Float, _) => Value::Float(x),
                (Builtin::Int, _) => Value::Int(x.trunc() as i64),
                (Builtin::Abs, Value::Int(i)) => Value::Int(i.wrapping_abs()),
                (Builtin::Abs, _) => Value::Float(x.abs()),
                (Builtin::Ceil, _) => Value::Float(x.ceil()),
                (Builtin::Floor, _) => Value::Float(x.floor()),
                (Builtin::Round, _) => Value::Float(x.round()),
                (Builtin::Min | Builtin::Max, _) => unreachable!("handled above"),
            })
        }
    }
}

fn flatten(values: Vec<Value>, out: &mut Vec<Value>) {
    for v in values {
        match v {
            Value::Array(items) => flatten(items, out),
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parser::parse;
    use super::*;

    fn env(name: &str) -> bool {
        ["a", "b", "c"].contains(&name)
    }

    fn value(source: &str, a: Option<f64>, b: Option<f64>) -> Result<Value, String> {
        let node = parse(source).unwrap();
        check(&node, &env)?;
        let data = BTreeMap::from([("a".to_owned(), a), ("b".to_owned(), b)]);
        run(&node, &data)
    }

    /// vm/runtime: integers stay whole under + - *, `/` and `**` give floats, `%` is for
    /// integers, `==` compares across int and float.
    #[test]
    fn arithmetic_keeps_expr_s_number_types() {
        assert_eq!(value("1 + 2", None, None), Ok(Value::Int(3)));
        assert_eq!(value("1 / 2", None, None), Ok(Value::Float(0.5)));
        assert_eq!(value("2 ** 3", None, None), Ok(Value::Float(8.0)));
        assert_eq!(value("7 % 3", None, None), Ok(Value::Int(1)));
        assert_eq!(value("1 == 1.0", None, None), Ok(Value::Bool(true)));
        assert_eq!(
            value("a / 0", Some(1.0), None),
            Ok(Value::Float(f64::INFINITY))
        );
        assert_eq!(
            value("round(2.5) + round(-2.5)", None, None),
            Ok(Value::Float(0.0))
        );
        assert_eq!(value("int(-2.7)", None, None), Ok(Value::Int(-2)));
        assert_eq!(
            value("max(a, b / 1000)", Some(3.0), Some(5000.0)),
            Ok(Value::Float(5.0))
        );
        assert_eq!(
            value("max(1, 2)", None, None),
            Ok(Value::Int(2)),
            "keeps the int"
        );
        assert_eq!(
            value("count([a, b, 3], {# > 1})", Some(0.0), Some(2.0)),
            Ok(Value::Int(2))
        );
        assert!(value("7 % 0", None, None)
            .unwrap_err()
            .contains("integer divide by zero"));
    }

    /// checker/checker.go: compile-time errors KEDA's webhook reports.
    #[test]
    fn compile_errors_are_expr_s() {
        let err = |s: &str| value(s, Some(1.0), Some(1.0)).unwrap_err();
        assert_eq!(err("d + 1"), "unknown name d");
        assert_eq!(
            err("a % 2"),
            "invalid operation: % (mismatched types float64 and int)"
        );
        assert_eq!(
            err("a ? 1 : 2"),
            "non-bool expression (type float64) used as condition"
        );
        assert_eq!(
            err("float(a > 1)"),
            "invalid argument for float (type bool)"
        );
        assert_eq!(
            err("true + 1"),
            "invalid operation: + (mismatched types bool and int)"
        );
    }

    /// vm/runtime: nil only passes through `??`; arithmetic on it fails at run time.
    #[test]
    fn nil_goes_through_coalesce_and_fails_arithmetic() {
        assert_eq!(value("a ?? b ?? 8", None, None), Ok(Value::Int(8)));
        assert_eq!(
            value("a ?? b ?? 8", None, Some(12.0)),
            Ok(Value::Float(12.0))
        );
        assert_eq!(value("a ?? b", None, None), Ok(Value::Nil));
        assert_eq!(
            value("a + b", None, Some(1.0)),
            Err("invalid operation: <nil> + float64".into())
        );
    }
}
