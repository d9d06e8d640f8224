//! The consumer's fast path: an event exactly as the producer writes it,
//! `{"id":"…","seq":N,"source":"…","name":"…","type":"…","time":N}` (fields in this order,
//! no spaces, strings without escapes), read in one pass over the bytes.
//!
//! It accepts only what serde_json would accept with the same values; anything else (other
//! field order, whitespace, escapes, extra fields, a number serde_json refuses) returns
//! `None` and the caller falls back to serde_json, which stays the judge of what is
//! malformed and why. The differential tests below hold the two to the same answers.

use std::borrow::Cow;

use uuid::Uuid;

use super::EventView;

/// A cursor over the payload.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn literal(&mut self, expected: &str) -> Option<()> {
        let rest = self.text.get(self.at..)?;
        rest.starts_with(expected)
            .then(|| self.at += expected.len())
    }

    /// A string without escapes or control characters (both send us to serde_json).
    fn string(&mut self) -> Option<&'a str> {
        self.literal("\"")?;
        let rest = self.text.get(self.at..)?;
        let end = rest
            .bytes()
            .position(|b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest.as_bytes()[end] != b'"' {
            return None;
        }
        self.at += end + 1;
        Some(&rest[..end])
    }

    /// A JSON integer as serde_json reads it into a u64: digits, no leading zero, no
    /// overflow (a fraction or an exponent sends us to serde_json).
    fn unsigned(&mut self) -> Option<u64> {
        let rest = self.text.get(self.at..)?.as_bytes();
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || (digits > 1 && rest[0] == b'0') {
            return None;
        }
        if matches!(rest.get(digits), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let mut n: u64 = 0;
        for &b in &rest[..digits] {
            n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        }
        self.at += digits;
        Some(n)
    }
}

/// The event in `text`, when it is written exactly as the producer writes it.
pub fn parse(text: &str) -> Option<EventView<'_>> {
    let mut c = Cursor { text, at: 0 };
    c.literal("{\"id\":")?;
    let id = Uuid::try_parse(c.string()?).ok()?;
    c.literal(",\"seq\":")?;
    let seq = c.unsigned()?;
    c.literal(",\"source\":")?;
    let source = c.string()?;
    c.literal(",\"name\":")?;
    let name = c.string()?;
    c.literal(",\"type\":")?;
    let kind = c.string()?;
    c.literal(",\"time\":")?;
    let time = c.unsigned()?;
    c.literal("}")?;
    (c.at == text.len()).then_some(EventView {
        id,
        seq,
        source: Cow::Borrowed(source),
        name: Cow::Borrowed(name),
        kind: Cow::Borrowed(kind),
        time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Encoder, Event};

    /// What serde_json makes of `text` (the slow path's answer).
    fn serde(text: &str) -> Option<EventView<'_>> {
        serde_json::from_str(text).ok()
    }

    #[test]
    fn the_producer_s_events_take_the_fast_path_with_serde_s_values() {
        for (source, seq) in [
            ("p", 0),
            ("kafka-producer-callback-7d9f", 42),
            ("x", u64::MAX),
        ] {
            let mut encoder = Encoder::new(source);
            let payload = encoder.encode(seq).payload;
            let text = std::str::from_utf8(payload).unwrap().to_owned();
            let fast = parse(&text).expect("canonical");
            assert_eq!(Some(fast), serde(&text), "{text}");
        }
        let text = String::from_utf8(Event::new("p", 7).to_json()).unwrap();
        assert!(
            parse(&text).is_some(),
            "Event::to_json writes the same layout"
        );
    }

    /// Variations of a canonical event: the fast path either agrees with serde_json or
    /// steps aside (`None`); it never accepts what serde_json refuses or reads other values.
    #[test]
    fn the_fast_path_agrees_with_serde_or_steps_aside() {
        let base = r#"{"id":"3f0c2c9a-0000-4000-8000-000000000001","seq":42,"source":"s","name":"event-42","type":"test","time":1764300000000}"#;
        let mut cases: Vec<String> = vec![base.into()];
        let edits: &[(&str, &str)] = &[
            ("\"seq\":42", "\"seq\":042"),
            ("\"seq\":42", "\"seq\":0"),
            ("\"seq\":42", "\"seq\":-1"),
            ("\"seq\":42", "\"seq\":4.2"),
            ("\"seq\":42", "\"seq\":4e2"),
            ("\"seq\":42", "\"seq\":18446744073709551616"),
            ("\"seq\":42", "\"seq\":18446744073709551615"),
            ("\"seq\":42", "\"seq\": 42"),
            ("\"seq\":42", "\"seq\":\"42\""),
            ("\"source\":\"s\"", "\"source\":\"a\\\"b\""),
            ("\"source\":\"s\"", "\"source\":\"a\\u0041\""),
            ("\"source\":\"s\"", "\"source\":\"tab\there\""),
            ("\"source\":\"s\"", "\"source\":\"é\""),
            ("\"source\":\"s\"", "\"source\":\"\""),
            (
                "3f0c2c9a-0000-4000-8000-000000000001",
                "3f0c2c9a000040008000000000000001",
            ),
            ("3f0c2c9a-0000-4000-8000-000000000001", "not-a-uuid"),
            (
                "3f0c2c9a-0000-4000-8000-000000000001",
                "{3f0c2c9a-0000-4000-8000-000000000001}",
            ),
            ("1764300000000}", "1764300000000,\"extra\":1}"),
            ("1764300000000}", "1764300000000} "),
            ("1764300000000}", "1764300000000}}"),
            ("{\"id\"", "{ \"id\""),
            ("\"type\":\"test\"", "\"type\":null"),
        ];
        for (from, to) in edits {
            assert!(base.contains(from), "{from}");
            cases.push(base.replacen(from, to, 1));
        }
        for cut in 0..base.len() {
            cases.push(base[..cut].to_owned());
        }
        for case in &cases {
            // `None`: serde_json decides.
            if let Some(fast) = parse(case) {
                assert_eq!(Some(fast), serde(case), "fast path differs on {case}");
            }
        }
    }
}
