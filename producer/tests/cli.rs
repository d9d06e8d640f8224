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

/// Text logs carry no colour escapes when stdout is a file or a pipe (a container's
/// stdout, what `kubectl logs` shows), whatever NO_COLOR says.
#[test]
fn text_logs_to_a_file_have_no_colour_escapes() {
    let path = std::env::temp_dir().join(format!("producer-log-{}.txt", std::process::id()));
    for no_color in [None, Some("1")] {
        let file = std::fs::File::create(&path).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kafka-producer-callback"));
        cmd.env_clear()
            .env("HTTP_ADDRESS", "127.0.0.1")
            .env("HTTP_PORT", "0")
            .env("kafka.brokers.host", "127.0.0.1:9")
            .stdout(file);
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let mut child = cmd.spawn().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !std::fs::read_to_string(&path)
            .unwrap()
            .contains("listening")
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the producer did not log"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let log = std::fs::read_to_string(&path).unwrap();
        assert!(log.contains("INFO"), "{log}");
        assert!(!log.contains('\x1b'), "no escape codes: {log:?}");
    }
    std::fs::remove_file(path).unwrap();
}
