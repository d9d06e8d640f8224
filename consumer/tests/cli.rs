//! The consumer binary rejects bad configuration with exit code 2 and one line naming
//! the key. (Also makes `cargo test` build the binary for the cross-binary tests.)

use std::process::Command;

#[test]
fn bad_config_exits_2_naming_the_key() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], "missing kafka.brokers (or KAFKA_BROKERS)"),
        (
            &[("kafka.brokers", "k:9092"), ("PROCESSING_TIME", "soon")],
            "invalid processing.time=\"soon\"",
        ),
        (
            &[("kafka.brokers", "k:9092"), ("kafka.topics", "a b")],
            "invalid kafka.topics=\"a b\"",
        ),
    ];
    for (env, expected) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_kafka-consumer"))
            .env_clear()
            .env("HTTP_ADDRESS", "127.0.0.1")
            .env("HTTP_PORT", "0")
            .envs(env.iter().copied())
            .output()
            .expect("the consumer binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{env:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(expected), "{env:?}: {stderr}");
    }
}
