//! The producer binary rejects bad configuration with exit code 2 and one line naming
//! the key. (Also makes `cargo test` build the binary for the cross-binary tests.)

use std::process::Command;

fn producer(env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kafka-producer-callback"));
    cmd.env_clear()
        .env("HTTP_ADDRESS", "127.0.0.1")
        .env("HTTP_PORT", "0")
        .envs(env.iter().copied());
    cmd.output().expect("the producer binary runs")
}

#[test]
fn bad_config_exits_2_naming_the_key() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], "missing kafka.brokers.host"),
        (
            &[
                ("kafka.brokers.host", "k:9092"),
                ("kafka.time.period", "u5"),
            ],
            "invalid kafka.time.period=\"u5\": expected milliseconds 1..=3600000",
        ),
        (
            &[
                ("KAFKA_BROKERS_HOST", "k:9092"),
                ("KAFKA_EXTRA_no.such.thing", "1"),
            ],
            "invalid KAFKA_EXTRA_no.such.thing=\"1\"",
        ),
    ];
    for (env, expected) in cases {
        let out = producer(env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{env:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(expected), "{env:?}: {stderr}");
    }
}
