//! The tokens of an expr-lang/expr v1.17.8 expression (parser/lexer/state.go `root`,
//! `scanNumber`, `identifier`): numbers, identifiers, operators and brackets, each with
//! the line and column expr's errors name. Strings, bytes and raw strings are lexed only to
//! be refused by the parser, naming them.

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A number literal as written (`1_000`, `0.5`, `1e3`, `0x1F`).
    Number,
    /// A name: a trigger, a builtin, `true`, `false`, `nil`.
    Identifier,
    /// An operator, a keyword operator (`and`, `not`, `in`, `let`, ...) or punctuation.
    Operator,
    /// One of `( ) [ ] { }`.
    Bracket,
    /// A quoted string or bytes literal (outside the subset).
    Text,
    /// The end of the expression.
    Eof,
}

/// One token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: Kind,
    /// The token's text (for a number, without `_` separators removed).
    pub value: String,
    /// Line, 1-based.
    pub line: usize,
    /// Column, 0-based as expr counts it (its errors print `(line:column)`).
    pub column: usize,
}

impl Token {
    /// Whether it is `kind` with text `value`.
    pub fn is(&self, kind: Kind, value: &str) -> bool {
        self.kind == kind && self.value == value
    }
}

/// Keywords expr lexes as operators (parser/lexer/state.go `identifier`).
const KEYWORD_OPERATORS: &[&str] = &[
    "not",
    "in",
    "or",
    "and",
    "matches",
    "contains",
    "startsWith",
    "endsWith",
    "let",
    "if",
    "else",
];

fn alphanumeric(c: char) -> bool {
    c == '_' || c == '$' || c.is_alphanumeric()
}

/// Splits `source` into tokens; an unknown character is an error naming it and where.
pub fn lex(source: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut line_start) = (0usize, 1usize, 0usize);
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let column = i - line_start;
        let push = |out: &mut Vec<Token>, kind: Kind, end: usize| {
            out.push(Token {
                kind,
                value: chars[start..end].iter().collect(),
                line,
                column,
            });
        };
        if c == '\n' {
            line += 1;
            line_start = i + 1;
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        if c.is_ascii_digit() || (c == '.' && next.is_some_and(|n| n.is_ascii_digit())) {
            i = scan_number(&chars, i)
                .ok_or_else(|| format!("bad number syntax ({line}:{column})"))?;
            push(&mut out, Kind::Number, i);
            continue;
        }
        if c == '"' || c == '\'' || c == '`' {
            i = scan_quoted(&chars, i, c)
                .ok_or_else(|| format!("literal not terminated ({line}:{column})"))?;
            push(&mut out, Kind::Text, i);
            continue;
        }
        if alphanumeric(c) {
            while i < chars.len() && alphanumeric(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let kind = if KEYWORD_OPERATORS.contains(&word.as_str()) {
                Kind::Operator
            } else {
                Kind::Identifier
            };
            push(&mut out, kind, i);
            continue;
        }
        i += 1 + operator_tail(c, next);
        let kind = if "([{)]}".contains(c) {
            Kind::Bracket
        } else if "?|:,;%+-^&!=*<>/#.".contains(c) {
            Kind::Operator
        } else {
            return Err(format!(
                "unrecognized character: U+{:04X} '{c}' ({line}:{column})",
                c as u32
            ));
        };
        push(&mut out, kind, i);
    }
    out.push(Token {
        kind: Kind::Eof,
        value: String::new(),
        line,
        column: chars.len() - line_start,
    });
    Ok(out)
}

/// How many more characters the operator starting with `c` takes (`??`, `?.`, `||`, `::`,
/// `&&`, `==`, `!=`, `<=`, `>=`, `**`, `..`).
fn operator_tail(c: char, next: Option<char>) -> usize {
    let two = match (c, next) {
        ('?', Some('?' | '.')) | ('|', Some('|')) | (':', Some(':')) | ('.', Some('.')) => true,
        ('&' | '!' | '=' | '*' | '<' | '>', Some(n)) => "&=*".contains(n),
        _ => false,
    };
    usize::from(two)
}

/// expr's scanNumber: digits (hex, octal, binary after `0x`, `0o`, `0b`), a fraction
/// (not before `..`), an exponent; nothing alphanumeric right after.
fn scan_number(chars: &[char], mut i: usize) -> Option<usize> {
    let mut digits = "0123456789_";
    if chars[i] == '0' {
        match chars.get(i + 1) {
            Some('x' | 'X') => (digits, i) = ("0123456789abcdefABCDEF_", i + 2),
            Some('o' | 'O') => (digits, i) = ("01234567_", i + 2),
            Some('b' | 'B') => (digits, i) = ("01_", i + 2),
            _ => {}
        }
    }
    let run = |mut i: usize| {
        while chars.get(i).is_some_and(|c| digits.contains(*c)) {
            i += 1;
        }
        i
    };
    i = run(i);
    if chars.get(i) == Some(&'.') && chars.get(i + 1) != Some(&'.') {
        i = run(i + 1);
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        i += 1;
        if matches!(chars.get(i), Some('+' | '-')) {
            i += 1;
        }
        i = run(i);
    }
    (!chars.get(i).is_some_and(|c| alphanumeric(*c))).then_some(i)
}

fn scan_quoted(chars: &[char], mut i: usize, quote: char) -> Option<usize> {
    i += 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if quote != '`' => i += 2,
            c if c == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<(Kind, String)> {
        lex(source)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.value))
            .collect()
    }

    /// parser/lexer/state.go: two-rune operators, keyword operators, numbers before `..`.
    #[test]
    fn tokens_as_expr_lexes_them() {
        use Kind::*;
        let op = |s: &str| (Operator, s.to_owned());
        assert_eq!(
            kinds("a ?? 1_000 ** 2 >= b.c and not x"),
            [
                (Identifier, "a".into()),
                op("??"),
                (Number, "1_000".into()),
                op("**"),
                (Number, "2".into()),
                op(">="),
                (Identifier, "b".into()),
                op("."),
                (Identifier, "c".into()),
                op("and"),
                op("not"),
                (Identifier, "x".into()),
                (Eof, String::new()),
            ]
        );
        assert_eq!(kinds("1..2")[1], op(".."));
        assert_eq!(kinds(".5")[0], (Number, ".5".into()));
        assert!(lex("1x").unwrap_err().contains("bad number syntax"));
        assert!(lex("a @ b").unwrap_err().contains("unrecognized character"));
        let tokens = lex("a +\n  b").unwrap();
        assert_eq!((tokens[2].line, tokens[2].column), (2, 2));
    }
}
