//! Errors on one line. What a reader refuses is said in one line naming where (a line, a
//! field) and what, even when the input itself put a line break or a control character
//! into the message (a JSON key, a CSV field): those are written escaped, as Rust writes
//! them in a string literal.

/// `message` with every control character escaped (`\n`, `\t`, `\u{1b}`).
pub fn one_line(message: &str) -> String {
    if !message.chars().any(char::is_control) {
        return message.to_owned();
    }
    message
        .chars()
        .map(|c| match c {
            c if c.is_control() => c.escape_default().to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// A TOML parser error as `line L, column C: message` (the parser's own text draws the
/// offending line under its message, over several lines).
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let at = e.span().map(|span| {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        format!("line {line}, column {column}: ")
    });
    format!("{}{}", at.unwrap_or_default(), one_line(e.message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_toml_errors_say_where() {
        assert_eq!(one_line("plain"), "plain");
        assert_eq!(one_line("unknown field `a\nb`"), "unknown field `a\\nb`");
        let text = "name = 'x'\npartitions = 'four'\n";
        let e = toml::from_str::<toml::Value>("a = \n").unwrap_err();
        assert!(
            !toml_error("a = \n", &e).contains('\n'),
            "{}",
            toml_error("a = \n", &e)
        );
        assert!(toml_error("a = \n", &e).starts_with("line 1, column"));
        assert!(text.lines().count() == 2);
    }
}
