//! An expr-lang/expr v1.17.8 expression parsed as expr parses it (parser/parser.go
//! `parseExpression`, `parseConditional`, `parsePrimary`, `parseSecondary`,
//! `parseComparison`, `parseCall`, `parsePredicate`; operator table
//! parser/operator/operator.go), restricted to the part KEDA documents and tests for
//! `scalingModifiers.formula`: numbers, trigger names, `true`/`false`/`nil`, unary
//! `- + ! not`, arithmetic `+ - * / % ** ^`, comparisons (chained as expr chains them),
//! `== !=`, `&& || and or`, `??`, the ternary, arrays, and the builtins `float int abs
//! ceil floor round min max` and `count(array, {predicate with #})`.
//!
//! Anything else expr accepts (strings, maps, member access, `in`, `matches`, ranges, the
//! pipe, `let`, `if`, sequences, the Elvis operator, other builtins) is refused with
//! [`ParseError::Unsupported`], naming the construct and where it is.

use super::lexer::{lex, Kind, Token};

/// A unary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unary {
    Neg,
    Plus,
    Not,
}

/// A binary operator (`and`/`or` are `&&`/`||`, `^` is `**`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Lt,
    Gt,
    Le,
    Ge,
    Eq,
    Ne,
    And,
    Or,
    Coalesce,
}

impl Binary {
    /// The operator as expr's errors print it.
    pub fn symbol(self) -> &'static str {
        match self {
            Binary::Add => "+",
            Binary::Sub => "-",
            Binary::Mul => "*",
            Binary::Div => "/",
            Binary::Mod => "%",
            Binary::Pow => "**",
            Binary::Lt => "<",
            Binary::Gt => ">",
            Binary::Le => "<=",
            Binary::Ge => ">=",
            Binary::Eq => "==",
            Binary::Ne => "!=",
            Binary::And => "&&",
            Binary::Or => "||",
            Binary::Coalesce => "??",
        }
    }
}

/// The builtins of the subset that take plain arguments (builtin/builtin.go).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Float,
    Int,
    Abs,
    Ceil,
    Floor,
    Round,
    Min,
    Max,
}

impl Builtin {
    fn named(name: &str) -> Option<Self> {
        Some(match name {
            "float" => Builtin::Float,
            "int" => Builtin::Int,
            "abs" => Builtin::Abs,
            "ceil" => Builtin::Ceil,
            "floor" => Builtin::Floor,
            "round" => Builtin::Round,
            "min" => Builtin::Min,
            "max" => Builtin::Max,
            _ => return None,
        })
    }

    /// Its name in a formula.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Float => "float",
            Builtin::Int => "int",
            Builtin::Abs => "abs",
            Builtin::Ceil => "ceil",
            Builtin::Floor => "floor",
            Builtin::Round => "round",
            Builtin::Min => "min",
            Builtin::Max => "max",
        }
    }
}

/// Every builtin expr v1.17.8 has (builtin/builtin.go `Builtins`, parser.go
/// `predicates`): those outside the subset are refused by name, not taken for triggers.
const EXPR_BUILTINS: &[&str] = &[
    "all",
    "none",
    "any",
    "one",
    "filter",
    "map",
    "find",
    "findIndex",
    "findLast",
    "findLastIndex",
    "count",
    "sum",
    "groupBy",
    "sortBy",
    "reduce",
    "len",
    "type",
    "abs",
    "ceil",
    "floor",
    "round",
    "int",
    "float",
    "string",
    "trim",
    "trimPrefix",
    "trimSuffix",
    "upper",
    "lower",
    "split",
    "splitAfter",
    "replace",
    "repeat",
    "join",
    "indexOf",
    "lastIndexOf",
    "hasPrefix",
    "hasSuffix",
    "max",
    "min",
    "mean",
    "median",
    "toJSON",
    "fromJSON",
    "toBase64",
    "fromBase64",
    "now",
    "duration",
    "date",
    "timezone",
    "first",
    "last",
    "get",
    "take",
    "keys",
    "values",
    "toPairs",
    "fromPairs",
    "reverse",
    "uniq",
    "concat",
    "flatten",
    "sort",
    "bitand",
    "bitor",
    "bitxor",
    "bitnand",
    "bitshl",
    "bitshr",
    "bitushr",
    "bitnot",
];

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    /// A trigger's name.
    Ident(String),
    /// `#` inside `count`'s predicate: the element.
    Pointer,
    Unary(Unary, Box<Node>),
    Binary(Binary, Box<Node>, Box<Node>),
    /// `cond ? then : else`.
    Ternary(Box<Node>, Box<Node>, Box<Node>),
    Call(Builtin, Vec<Node>),
    /// `count(array, predicate)`.
    Count(Box<Node>, Box<Node>),
    Array(Vec<Node>),
}

/// Why a formula cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// expr itself refuses it: its message, with `(line:column)`.
    #[error("{0}")]
    Syntax(String),
    /// expr accepts it, the emulator does not evaluate it.
    #[error("{construct} ({line}:{column}) is outside the expr subset the emulator evaluates (numbers, trigger names, arithmetic, comparisons, && || !, ??, the ternary, arrays, float int abs ceil floor round min max count)")]
    Unsupported {
        construct: String,
        line: usize,
        column: usize,
    },
}

/// Binary operator precedence and right-associativity (parser/operator/operator.go).
fn binary(op: &str) -> Option<(u32, bool)> {
    Some(match op {
        "|" => (0, false),
        "or" | "||" => (10, false),
        "and" | "&&" => (15, false),
        "==" | "!=" | "<" | ">" | ">=" | "<=" | "in" | "matches" | "contains" | "startsWith"
        | "endsWith" => (20, false),
        ".." => (25, false),
        "+" | "-" => (30, false),
        "*" | "/" | "%" => (60, false),
        "**" | "^" => (100, true),
        "??" => (500, false),
        _ => return None,
    })
}

/// Unary operator precedence (parser/operator/operator.go `Unary`).
fn unary(op: &str) -> Option<(Unary, u32)> {
    Some(match op {
        "not" | "!" => (Unary::Not, 50),
        "-" => (Unary::Neg, 90),
        "+" => (Unary::Plus, 90),
        _ => return None,
    })
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// Inside a predicate (`#` is allowed).
    depth: usize,
}

/// Parses `source` as expr would, within the subset.
pub fn parse(source: &str) -> Result<Node, ParseError> {
    let tokens = lex(source).map_err(ParseError::Syntax)?;
    let mut p = Parser {
        tokens,
        at: 0,
        depth: 0,
    };
    let node = p.sequence()?;
    if p.current().kind != Kind::Eof {
        return Err(p.unexpected());
    }
    Ok(node)
}

impl Parser {
    fn current(&self) -> &Token {
        &self.tokens[self.at]
    }

    fn peek(&self) -> &Token {
        &self.tokens[(self.at + 1).min(self.tokens.len() - 1)]
    }

    fn next(&mut self) {
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
        }
    }

    fn unexpected(&self) -> ParseError {
        let t = self.current();
        let what = if t.kind == Kind::Eof {
            "EOF".to_owned()
        } else {
            format!("{:?}", t.value)
        };
        ParseError::Syntax(format!("unexpected token {what} ({}:{})", t.line, t.column))
    }

    fn unsupported(&self, construct: impl Into<String>) -> ParseError {
        let t = self.current();
        ParseError::Unsupported {
            construct: construct.into(),
            line: t.line,
            column: t.column,
        }
    }

    fn expect(&mut self, kind: Kind, value: &str) -> Result<(), ParseError> {
        if self.current().is(kind, value) {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// parseSequenceExpression: one expression; `;` sequences are outside the subset.
    fn sequence(&mut self) -> Result<Node, ParseError> {
        let node = self.expression(0)?;
        if self.current().is(Kind::Operator, ";") {
            return Err(self.unsupported("the sequence operator `;`"));
        }
        Ok(node)
    }

    /// parseExpression.
    fn expression(&mut self, precedence: u32) -> Result<Node, ParseError> {
        if precedence == 0 {
            for keyword in ["let", "if"] {
                if self.current().is(Kind::Operator, keyword) {
                    return Err(self.unsupported(format!("`{keyword}`")));
                }
            }
        }
        let mut left = self.primary()?;
        let mut previous = String::new();
        loop {
            let token = self.current().clone();
            if token.kind != Kind::Operator {
                break;
            }
            if token.value == "not" {
                let suffix = self.peek().value.clone();
                if ["in", "matches", "contains", "startsWith", "endsWith"]
                    .contains(&suffix.as_str())
                {
                    return Err(self.unsupported(format!("`not {suffix}`")));
                }
                self.next();
                return Err(self.unexpected());
            }
            let Some((op_precedence, right_assoc)) = binary(&token.value) else {
                break;
            };
            if op_precedence < precedence {
                break;
            }
            match token.value.as_str() {
                "|" => return Err(self.unsupported("the pipe operator `|`")),
                ".." => return Err(self.unsupported("the range operator `..`")),
                "in" | "matches" | "contains" | "startsWith" | "endsWith" => {
                    return Err(self.unsupported(format!("the `{}` operator", token.value)))
                }
                _ => {}
            }
            self.next();
            if previous == "??" && token.value != "??" {
                return Err(ParseError::Syntax(format!(
                    "Operator ({}) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses. ({}:{})",
                    token.value, token.line, token.column
                )));
            }
            left = if matches!(token.value.as_str(), "<" | ">" | "<=" | ">=") {
                self.comparison(left, token.value.clone(), op_precedence)?
            } else {
                let next = if right_assoc {
                    op_precedence
                } else {
                    op_precedence + 1
                };
                let right = self.expression(next)?;
                Node::Binary(binary_op(&token.value), Box::new(left), Box::new(right))
            };
            previous = token.value;
        }
        if precedence == 0 {
            left = self.conditional(left)?;
        }
        Ok(left)
    }

    /// parseComparison: `a < b < c` is `a < b && b < c`.
    fn comparison(&mut self, left: Node, op: String, precedence: u32) -> Result<Node, ParseError> {
        let (mut left, mut op) = (left, op);
        let mut root: Option<Node> = None;
        loop {
            let right = self.expression(precedence + 1)?;
            let cmp = Node::Binary(binary_op(&op), Box::new(left), Box::new(right.clone()));
            root = Some(match root {
                None => cmp,
                Some(r) => Node::Binary(Binary::And, Box::new(r), Box::new(cmp)),
            });
            left = right;
            let t = self.current();
            if !(t.kind == Kind::Operator && matches!(t.value.as_str(), "<" | ">" | "<=" | ">=")) {
                break;
            }
            op = t.value.clone();
            self.next();
        }
        Ok(root.expect("one comparison at least"))
    }

    /// parseConditional: `cond ? a : b` after a whole expression.
    fn conditional(&mut self, mut node: Node) -> Result<Node, ParseError> {
        while self.current().is(Kind::Operator, "?") {
            self.next();
            if self.current().is(Kind::Operator, ":") {
                return Err(self.unsupported("the Elvis operator `?:`"));
            }
            let then = self.expression(0)?;
            self.expect(Kind::Operator, ":")?;
            let otherwise = self.expression(0)?;
            node = Node::Ternary(Box::new(node), Box::new(then), Box::new(otherwise));
        }
        Ok(node)
    }

    /// parsePrimary: unary operators, parentheses, `#` in a predicate.
    fn primary(&mut self) -> Result<Node, ParseError> {
        let token = self.current().clone();
        if token.kind == Kind::Operator {
            if let Some((op, precedence)) = unary(&token.value) {
                self.next();
                let operand = self.expression(precedence)?;
                return self.postfix(Node::Unary(op, Box::new(operand)));
            }
            if token.value == "#" && self.depth > 0 {
                self.next();
                if self.current().kind == Kind::Identifier {
                    return Err(self.unsupported("a named pointer `#name`"));
                }
                return self.postfix(Node::Pointer);
            }
            if token.value == "." && self.depth > 0 {
                return Err(self.unsupported("a field pointer `.field`"));
            }
            if token.value == "::" {
                return Err(self.unsupported("the `::` call"));
            }
        }
        if token.is(Kind::Bracket, "(") {
            self.next();
            let inner = self.sequence()?;
            self.expect(Kind::Bracket, ")")?;
            return self.postfix(inner);
        }
        self.secondary()
    }

    /// parseSecondary: names, calls, literals, arrays.
    fn secondary(&mut self) -> Result<Node, ParseError> {
        let token = self.current().clone();
        let node = match token.kind {
            Kind::Identifier => {
                self.next();
                match token.value.as_str() {
                    "true" => return Ok(Node::Bool(true)),
                    "false" => return Ok(Node::Bool(false)),
                    "nil" => return Ok(Node::Nil),
                    name if self.current().is(Kind::Bracket, "(") => self.call(name, &token)?,
                    name => Node::Ident(name.to_owned()),
                }
            }
            Kind::Number => {
                self.next();
                number(&token)?
            }
            Kind::Text => return Err(self.unsupported("a string literal")),
            Kind::Bracket if token.value == "[" => self.array()?,
            Kind::Bracket if token.value == "{" => return Err(self.unsupported("a map literal")),
            _ => return Err(self.unexpected()),
        };
        self.postfix(node)
    }

    /// parsePostfixExpression: member access and indexing are outside the subset.
    fn postfix(&mut self, node: Node) -> Result<Node, ParseError> {
        let t = self.current();
        if t.kind == Kind::Operator && (t.value == "." || t.value == "?.") {
            return Err(self.unsupported(format!("member access `{}`", t.value)));
        }
        if t.is(Kind::Bracket, "[") {
            return Err(self.unsupported("indexing `[...]`"));
        }
        Ok(node)
    }

    /// parseCall: `count` with its predicate, the subset's builtins; other builtins are
    /// refused; any other name is a call of a function the environment lacks.
    fn call(&mut self, name: &str, token: &Token) -> Result<Node, ParseError> {
        if name == "count" {
            self.expect(Kind::Bracket, "(")?;
            let array = self.expression(0)?;
            self.expect(Kind::Operator, ",")?;
            let predicate = self.predicate()?;
            if self.current().is(Kind::Operator, ",") {
                self.next();
            }
            self.expect(Kind::Bracket, ")")?;
            return Ok(Node::Count(Box::new(array), Box::new(predicate)));
        }
        let Some(builtin) = Builtin::named(name) else {
            let construct = if EXPR_BUILTINS.contains(&name) {
                format!("the builtin `{name}`")
            } else {
                return Err(ParseError::Syntax(format!(
                    "unknown name {name} ({}:{})",
                    token.line, token.column
                )));
            };
            return Err(ParseError::Unsupported {
                construct,
                line: token.line,
                column: token.column,
            });
        };
        self.expect(Kind::Bracket, "(")?;
        let mut args = Vec::new();
        while !self.current().is(Kind::Bracket, ")") {
            if !args.is_empty() {
                self.expect(Kind::Operator, ",")?;
                if self.current().is(Kind::Bracket, ")") {
                    break;
                }
            }
            args.push(self.expression(0)?);
        }
        self.expect(Kind::Bracket, ")")?;
        Ok(Node::Call(builtin, args))
    }

    /// parsePredicate: `{ ... }` or a bare expression, with `#` allowed.
    fn predicate(&mut self) -> Result<Node, ParseError> {
        let braces = self.current().is(Kind::Bracket, "{");
        if braces {
            self.next();
        }
        self.depth += 1;
        let node = self.sequence();
        self.depth -= 1;
        let node = node?;
        if braces {
            self.expect(Kind::Bracket, "}")?;
        }
        Ok(node)
    }

    /// parseArrayExpression (a trailing comma allowed).
    fn array(&mut self) -> Result<Node, ParseError> {
        self.expect(Kind::Bracket, "[")?;
        let mut items = Vec::new();
        while !self.current().is(Kind::Bracket, "]") {
            if !items.is_empty() {
                self.expect(Kind::Operator, ",")?;
                if self.current().is(Kind::Bracket, "]") {
                    break;
                }
            }
            items.push(self.expression(0)?);
        }
        self.expect(Kind::Bracket, "]")?;
        Ok(Node::Array(items))
    }
}

fn binary_op(op: &str) -> Binary {
    match op {
        "+" => Binary::Add,
        "-" => Binary::Sub,
        "*" => Binary::Mul,
        "/" => Binary::Div,
        "%" => Binary::Mod,
        "**" | "^" => Binary::Pow,
        "<" => Binary::Lt,
        ">" => Binary::Gt,
        "<=" => Binary::Le,
        ">=" => Binary::Ge,
        "==" => Binary::Eq,
        "!=" => Binary::Ne,
        "&&" | "and" => Binary::And,
        "||" | "or" => Binary::Or,
        "??" => Binary::Coalesce,
        other => unreachable!("{other} is no binary operator of the subset"),
    }
}

/// parseSecondary's number: `_` dropped; hex, octal, binary; a `.` or `e` makes a float.
fn number(token: &Token) -> Result<Node, ParseError> {
    let text = token.value.replace('_', "");
    let lower = text.to_ascii_lowercase();
    let bad = |what: &str| {
        ParseError::Syntax(format!(
            "invalid {what} literal ({}:{})",
            token.line, token.column
        ))
    };
    let radix = |prefix: &str, radix: u32| {
        lower
            .strip_prefix(prefix)
            .map(|digits| i64::from_str_radix(digits, radix).map_err(|_| bad("integer")))
    };
    if let Some(n) = radix("0x", 16)
        .or_else(|| radix("0o", 8))
        .or_else(|| radix("0b", 2))
    {
        return n.map(Node::Int);
    }
    if lower.contains(['.', 'e']) {
        return lower
            .parse::<f64>()
            .map(Node::Float)
            .map_err(|_| bad("float"));
    }
    lower
        .parse::<i64>()
        .map(Node::Int)
        .map_err(|_| bad("integer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(source: &str) -> Node {
        parse(source).unwrap_or_else(|e| panic!("{source}: {e}"))
    }

    fn id(name: &str) -> Box<Node> {
        Box::new(Node::Ident(name.into()))
    }

    fn bin(op: Binary, l: Box<Node>, r: Box<Node>) -> Box<Node> {
        Box::new(Node::Binary(op, l, r))
    }

    /// parser/operator/operator.go: `??` binds tightest, `**` to the right, unary minus
    /// above `*` and below `**`; parser.go parseComparison chains comparisons.
    #[test]
    fn precedence_and_associativity_follow_the_operator_table() {
        use Binary::*;
        assert_eq!(
            p("a + b ?? c"),
            *bin(Add, id("a"), bin(Coalesce, id("b"), id("c")))
        );
        assert_eq!(
            p("a ** b ** c"),
            *bin(Pow, id("a"), bin(Pow, id("b"), id("c")))
        );
        assert_eq!(
            p("-a ** 2"),
            Node::Unary(Unary::Neg, bin(Pow, id("a"), Box::new(Node::Int(2))))
        );
        assert_eq!(
            p("-a * b"),
            *bin(Mul, Box::new(Node::Unary(Unary::Neg, id("a"))), id("b"))
        );
        assert_eq!(
            p("a < b < c"),
            *bin(And, bin(Lt, id("a"), id("b")), bin(Lt, id("b"), id("c")))
        );
        assert_eq!(
            p("a ?? b ?? 5"),
            *bin(
                Coalesce,
                bin(Coalesce, id("a"), id("b")),
                Box::new(Node::Int(5))
            )
        );
        assert!(
            matches!(p("x > 1 ? a : b ? 1 : 2"), Node::Ternary(_, _, e) if matches!(*e, Node::Ternary(..)))
        );
        assert_eq!(p("1_000"), Node::Int(1000));
        assert_eq!(p("0x1F"), Node::Int(31));
        assert_eq!(p("1e3"), Node::Float(1000.0));
    }

    /// parser.go parseExpression: after `??` another operator at the same level is an error.
    #[test]
    fn coalesce_cannot_be_mixed_without_parentheses() {
        let e = parse("a ?? b + 1").unwrap_err().to_string();
        assert!(
            e.contains("Operator (+) and coalesce expressions (??) cannot be mixed"),
            "{e}"
        );
        assert!(parse("(a ?? b) + 1").is_ok());
    }

    /// What expr accepts and the emulator does not is refused by name.
    #[test]
    fn constructs_outside_the_subset_are_named() {
        for (source, construct) in [
            ("a in [1]", "the `in` operator"),
            ("'x'", "a string literal"),
            ("a.b", "member access `.`"),
            ("a?.b", "member access `?.`"),
            ("[a][0]", "indexing"),
            ("let x = 1; x", "`let`"),
            ("len([a])", "the builtin `len`"),
            ("a | float()", "the pipe operator"),
            ("1..3", "the range operator"),
            ("a ?: b", "the Elvis operator"),
            ("{a: 1}", "a map literal"),
            ("a; b", "the sequence operator"),
            ("sum([a, b])", "the builtin `sum`"),
        ] {
            match parse(source) {
                Err(ParseError::Unsupported { construct: c, .. }) => {
                    assert!(c.contains(construct), "{source}: {c}")
                }
                other => panic!("{source}: {other:?}"),
            }
        }
        assert!(
            matches!(parse("foo(1)"), Err(ParseError::Syntax(e)) if e.starts_with("unknown name foo"))
        );
    }
}
