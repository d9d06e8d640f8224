//! The event schema: what the producer sends and the consumer reads.
//!
//! It keeps the published demo's fields (`id`, `name`, `type`, `time`) and adds what
//! verification needs: `seq`, a per-producer sequence number, and `source`, the producer
//! instance, so that `(source, seq)` names every event exactly once. Events are keyed by
//! `seq`, which librdkafka's default partitioner hashes evenly over all partitions.

mod canonical;

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The largest payload the consumer will try to decode, in bytes. Real events are about
/// 150 bytes; anything this large is counted as malformed instead of parsed.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

/// One event. Unknown extra fields are tolerated (newer producers may add some).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// A random id, as in the published demo.
    pub id: Uuid,
    /// Sequence number within `source`, starting at 0, without gaps.
    pub seq: u64,
    /// The producer instance that sent it (its pod name or a random id).
    pub source: String,
    /// `event-<seq>`, as in the published demo's `name` field.
    pub name: String,
    /// Always `test`, as in the published demo.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it was created, milliseconds since the Unix epoch.
    pub time: u64,
}

impl Event {
    pub fn new(source: &str, seq: u64) -> Self {
        Self {
            id: Uuid::new_v4(),
            seq,
            source: source.to_owned(),
            name: format!("event-{seq}"),
            kind: "test".to_owned(),
            time: now_millis(),
        }
    }

    /// The record key: the sequence number, so records spread evenly over partitions.
    pub fn key(&self) -> String {
        self.seq.to_string()
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an Event always serializes")
    }

    /// Decodes a record payload, saying why it is malformed if it is.
    pub fn decode(payload: Option<&[u8]>) -> Result<Self, Malformed> {
        EventView::decode(payload).map(EventView::into_owned)
    }
}

/// An event read in place: its strings borrow from the record unless they hold escapes.
/// The consumer decodes every record into one, allocating nothing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EventView<'a> {
    pub id: Uuid,
    pub seq: u64,
    #[serde(borrow)]
    pub source: Cow<'a, str>,
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    pub time: u64,
}

impl<'a> EventView<'a> {
    pub fn into_owned(self) -> Event {
        Event {
            id: self.id,
            seq: self.seq,
            source: self.source.into_owned(),
            name: self.name.into_owned(),
            kind: self.kind.into_owned(),
            time: self.time,
        }
    }

    /// Decodes a record payload, saying why it is malformed if it is.
    pub fn decode(payload: Option<&'a [u8]>) -> Result<Self, Malformed> {
        let bytes = match payload {
            None | Some([]) => return Err(Malformed::Empty),
            Some(b) if b.len() > MAX_EVENT_BYTES => return Err(Malformed::TooLarge(b.len())),
            Some(b) => b,
        };
        let text = std::str::from_utf8(bytes).map_err(|_| Malformed::NotUtf8)?;
        // The consumer's hot path: the producer's own layout, read in one pass.
        if let Some(view) = canonical::parse(text) {
            return Ok(view);
        }
        // Anything else, serde_json decides. Only a failure is parsed again, to tell
        // broken JSON from JSON of the wrong shape.
        serde_json::from_str(text).map_err(|shape| {
            match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                Ok(_) => Malformed::WrongShape(shape.to_string()),
                Err(syntax) => Malformed::NotJson(syntax.to_string()),
            }
        })
    }
}

/// Why a record could not be read as an [`Event`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("empty payload")]
    Empty,
    #[error("payload of {0} bytes exceeds {MAX_EVENT_BYTES}")]
    TooLarge(usize),
    #[error("payload is not UTF-8")]
    NotUtf8,
    #[error("payload is not JSON: {0}")]
    NotJson(String),
    #[error("JSON is not an event: {0}")]
    WrongShape(String),
}

impl Malformed {
    /// A short label for the `reason` of `events_malformed_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            Malformed::Empty => "empty",
            Malformed::TooLarge(_) => "too_large",
            Malformed::NotUtf8 => "not_utf8",
            Malformed::NotJson(_) => "not_json",
            Malformed::WrongShape(_) => "wrong_shape",
        }
    }
}

/// Writes new events of one producer, reusing its buffers: a send allocates nothing.
///
/// The payload is written straight, in [`Event`]'s field order and exactly as serde_json
/// writes an [`Event`] (the tests hold it to that), with the producer's name escaped once
/// here rather than for every event.
#[derive(Debug)]
pub struct Encoder {
    /// `source` as a JSON string, quotes and escapes included.
    source: String,
    key: String,
    payload: Vec<u8>,
}

impl Encoder {
    /// An encoder for events of `source`.
    pub fn new(source: &str) -> Self {
        Self {
            source: serde_json::to_string(source).expect("a string always serializes"),
            key: String::new(),
            payload: Vec::with_capacity(192),
        }
    }

    /// A new event `seq` (random id, created now): the same key and payload as
    /// `Event::new(source, seq)` gives through `key()` and `to_json()`.
    pub fn encode(&mut self, seq: u64) -> Encoded<'_> {
        let time = now_millis();
        let mut number = itoa::Buffer::new();
        let seq_text = number.format(seq);
        self.key.clear();
        self.key.push_str(seq_text);
        let out = &mut self.payload;
        out.clear();
        out.extend_from_slice(b"{\"id\":\"");
        let mut id = Uuid::encode_buffer();
        out.extend_from_slice(Uuid::new_v4().hyphenated().encode_lower(&mut id).as_bytes());
        out.extend_from_slice(b"\",\"seq\":");
        out.extend_from_slice(seq_text.as_bytes());
        out.extend_from_slice(b",\"source\":");
        out.extend_from_slice(self.source.as_bytes());
        out.extend_from_slice(b",\"name\":\"event-");
        out.extend_from_slice(seq_text.as_bytes());
        out.extend_from_slice(b"\",\"type\":\"test\",\"time\":");
        out.extend_from_slice(number.format(time).as_bytes());
        out.push(b'}');
        Encoded {
            key: &self.key,
            payload: &self.payload,
            time,
        }
    }
}

/// One event as [`Encoder::encode`] wrote it.
#[derive(Debug, Clone, Copy)]
pub struct Encoded<'a> {
    /// The record key: the sequence number.
    pub key: &'a str,
    /// The event's JSON.
    pub payload: &'a [u8],
    /// Its `time`, milliseconds since the Unix epoch (the record's timestamp, too).
    pub time: u64,
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_published_field_names() {
        let event = Event::new("producer-1", 42);
        let json: serde_json::Value = serde_json::from_slice(&event.to_json()).unwrap();
        for field in ["id", "seq", "source", "name", "type", "time"] {
            assert!(json.get(field).is_some(), "missing {field}: {json}");
        }
        assert_eq!(json["name"], "event-42");
        assert_eq!(json["type"], "test");
        assert_eq!(event.key(), "42");
        assert_eq!(Event::decode(Some(&event.to_json())), Ok(event));
    }

    #[test]
    fn the_encoder_writes_what_event_writes() {
        for source in [
            "producer-\"1\"",
            "kafka-producer-7d9f",
            "tab\there\\ é ✓ \u{1}",
        ] {
            let mut encoder = Encoder::new(source);
            for seq in [0, 7, 123_456, u64::MAX] {
                let Encoded { key, payload, time } = encoder.encode(seq);
                assert_eq!(key, seq.to_string());
                let decoded = Event::decode(Some(payload)).unwrap();
                let expected = Event {
                    id: decoded.id,
                    time: decoded.time,
                    ..Event::new(source, seq)
                };
                assert_eq!(decoded, expected);
                assert_eq!(decoded.time, time);
                assert_eq!(payload, expected.to_json().as_slice());
            }
        }
    }

    #[test]
    fn a_view_borrows_plain_strings_and_unescapes_others() {
        let text = br#"{"id":"67e55044-10b1-426f-9247-bb680e5fe0c8","seq":1,"source":"a\"b","name":"event-1","type":"test","time":5}"#;
        let view = EventView::decode(Some(text)).unwrap();
        assert!(matches!(view.name, Cow::Borrowed("event-1")));
        assert_eq!(view.source, "a\"b");
        assert!(matches!(view.source, Cow::Owned(_)));
    }

    #[test]
    fn extra_fields_are_tolerated() {
        let text = r#"{"id":"67e55044-10b1-426f-9247-bb680e5fe0c8","seq":1,"source":"s","name":"event-1","type":"test","time":5,"extra":true}"#;
        assert_eq!(Event::decode(Some(text.as_bytes())).unwrap().seq, 1);
    }

    #[test]
    fn malformed_payloads_say_why() {
        let huge = vec![b' '; MAX_EVENT_BYTES + 1];
        let cases: [(Option<&[u8]>, &str); 7] = [
            (None, "empty"),
            (Some(b""), "empty"),
            (Some(&huge), "too_large"),
            (Some(b"\xff\xfe"), "not_utf8"),
            (Some(b"hello"), "not_json"),
            (Some(br#"{"seq":"one"}"#), "wrong_shape"),
            (Some(b"[1,2]"), "wrong_shape"),
        ];
        for (payload, reason) in cases {
            assert_eq!(
                Event::decode(payload).unwrap_err().reason(),
                reason,
                "{payload:?}"
            );
        }
    }
}
