//! TLS and SASL over real connections. The producer, the consumer and `lab lag` reach
//! Tansu over TLS (a certificate signed by a CA made here, served by the harness's broker
//! front: the pinned Tansu cannot switch its own TLS on) with the published-style
//! settings, and log in with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 as users made here.
//! The logins are run by the front, as a Kafka broker's authenticator runs them (the
//! pinned Tansu can require SCRAM but keeps no users, so it refuses everyone: a test here
//! holds it to that too). Bad settings end in one line naming the setting: exit 2 at
//! start-up, or a not-ready probe for what only the broker can refuse.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use harness::brokers::Guard;
use harness::{unique, wait_for, App, Binary, Tansu};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use serde_json::Value;

/// A CA, and a certificate for 127.0.0.1 and localhost that it signed, as PEM files.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        let dir = std::env::temp_dir().join(unique("pki"));
        std::fs::create_dir_all(&dir).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "keda-kafka-lab test CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let broker_key = KeyPair::generate().unwrap();
        let broker = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap()
            .signed_by(&broker_key, &issuer)
            .unwrap();
        let write = |name: &str, pem: String| {
            let path = dir.join(name);
            std::fs::write(&path, pem).unwrap();
            path
        };
        Pki {
            ca: write("ca.pem", ca_cert.pem()),
            cert: write("broker.pem", broker.pem()),
            key: write("broker-key.pem", broker_key.serialize_pem()),
        }
    }
}

/// Settings for a client that speaks `protocol` with `user`'s password and trusts `ca`.
fn security(
    protocol: &str,
    mechanism: &str,
    user: &str,
    password: &str,
    ca: &Path,
) -> Vec<(&'static str, String)> {
    vec![
        ("KAFKA_SECURITY_PROTOCOL", protocol.to_owned()),
        ("KAFKA_SASL_MECHANISM", mechanism.to_owned()),
        ("KAFKA_SASL_USERNAME", user.to_owned()),
        ("KAFKA_SASL_PASSWORD", password.to_owned()),
        ("KAFKA_SSL_CA_LOCATION", ca.display().to_string()),
    ]
}

/// Tansu behind the front with TLS; Tansu itself requires SASL when `authentication`.
fn tls_tansu(pki: &Pki, authentication: bool) -> Tansu {
    let client = vec![
        ("security.protocol".to_owned(), "ssl".to_owned()),
        ("ssl.ca.location".to_owned(), pki.ca.display().to_string()),
    ];
    Tansu::start_guarded(
        &Guard {
            tls: Some((pki.cert.clone(), pki.key.clone())),
            authentication,
            ..Guard::default()
        },
        client,
    )
}

/// The reason `GET /health/ready` gives once it names `needle`.
fn not_ready_naming(app: &App, needle: &str) -> String {
    wait_for(
        &format!("{} not ready naming {needle}", app.name),
        Duration::from_secs(30),
        || {
            let (status, body) = app.get("/health/ready");
            let reason = body["reason"].as_str().unwrap_or_default().to_owned();
            (status == 503 && reason.contains(needle)).then_some(reason)
        },
    )
}

/// Starts a producer (an event every 50 ms) and a consumer on `topic` with these settings
/// added, and waits until 20 events went through: both ready, no delivery failed.
fn events_flow(
    tansu: &Tansu,
    topic: &str,
    group: &str,
    mut producer_env: Vec<(&'static str, String)>,
    mut consumer_env: Vec<(&'static str, String)>,
    how: &str,
) -> (App, App) {
    producer_env.extend([
        ("kafka.brokers.host", tansu.bootstrap().to_owned()),
        ("kafka.topic", topic.to_owned()),
        ("kafka.time.period", "50".into()),
    ]);
    consumer_env.extend([
        ("kafka.brokers", tansu.bootstrap().to_owned()),
        ("kafka.topics", topic.to_owned()),
        ("kafka.groupId", group.to_owned()),
        ("kafka.session.timeout", "6000".into()),
    ]);
    let producer = App::start(Binary::Producer, "producer", &producer_env);
    let consumer = App::start(Binary::Consumer, "consumer", &consumer_env);
    let consumed = wait_for(
        &format!("20 events consumed {how}"),
        Duration::from_secs(60),
        || {
            let (_, stats) = consumer.get("/stats");
            let n = stats["consumed"].as_u64().unwrap_or(0);
            (n >= 20).then_some(n)
        },
    );
    let (_, sent) = producer.get("/stats");
    assert!(sent["delivered"].as_u64().unwrap() >= consumed, "{sent}");
    assert_eq!(sent["failed"].as_u64(), Some(0), "{sent}");
    assert_eq!(producer.get("/health/ready").0, 200);
    assert_eq!(consumer.get("/health/ready").0, 200);
    (producer, consumer)
}

/// `lab lag` once against `brokers`, with the security settings in `env`.
fn lab_lag(brokers: &str, group: &str, topic: &str, env: &[(&str, String)]) -> Output {
    Command::new(harness::app::binary_dir().join("lab"))
        .args(["lag", "--brokers", brokers, "--group", group])
        .args(["--topic", topic, "--format", "json"])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap()
}

/// The first JSON line of a successful `lab lag`.
fn lag_reading(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().next().unwrap()).unwrap()
}

/// The committed offsets a `lab lag` reading shows, summed over partitions.
fn committed(reading: &Value) -> i64 {
    reading["partitions"]
        .as_array()
        .expect("partitions")
        .iter()
        .filter_map(|p| p["committed"].as_i64())
        .sum()
}

fn all_output(app: &App) -> String {
    app.logs()
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn producer_consumer_and_lab_lag_work_over_tls() {
    let pki = Pki::new();
    let tansu = tls_tansu(&pki, false);
    let topic = unique("event");
    tansu.create_topic(&topic, 10);
    let group = unique("group");
    let tls = |protocol: &str| {
        vec![
            ("KAFKA_SECURITY_PROTOCOL", protocol.to_owned()),
            ("kafka.ssl.ca.location", pki.ca.display().to_string()),
        ]
    };

    let mut producer_env = tls("SSL");
    producer_env.push(("KAFKA_EXTRA_batch.num.messages", "1".into()));
    let (producer, consumer) =
        events_flow(&tansu, &topic, &group, producer_env, tls("ssl"), "over TLS");
    for app in [&producer, &consumer] {
        assert!(
            all_output(app).contains("security.protocol=ssl"),
            "{} logs its protocol",
            app.name
        );
    }

    // `lab lag` reads the group's committed offsets with the same settings, from the
    // environment (the consumer commits every 5 s).
    let reading = wait_for(
        "lab lag to see commits over TLS",
        Duration::from_secs(30),
        || {
            let reading = lag_reading(&lab_lag(tansu.bootstrap(), &group, &topic, &tls("ssl")));
            (committed(&reading) > 0).then_some(reading)
        },
    );
    assert_eq!(reading["partitions"].as_array().unwrap().len(), 10);
}

/// A Tansu whose front logs these users in, over TLS when `pki` is given; its admin
/// client (for topics) logs in as `admin` with SCRAM-SHA-512.
fn sasl_tansu(pki: Option<&Pki>, users: &[(&str, &str)]) -> Tansu {
    let mut client = vec![
        ("sasl.mechanism".to_owned(), "SCRAM-SHA-512".to_owned()),
        ("sasl.username".to_owned(), "admin".to_owned()),
        ("sasl.password".to_owned(), "admin-Pa55".to_owned()),
    ];
    match pki {
        Some(pki) => client.extend([
            ("security.protocol".to_owned(), "sasl_ssl".to_owned()),
            ("ssl.ca.location".to_owned(), pki.ca.display().to_string()),
        ]),
        None => client.push(("security.protocol".to_owned(), "sasl_plaintext".to_owned())),
    }
    let mut users: Vec<(String, String)> = users
        .iter()
        .map(|(user, password)| (user.to_string(), password.to_string()))
        .collect();
    users.push(("admin".into(), "admin-Pa55".into()));
    Tansu::start_guarded(
        &Guard {
            tls: pki.map(|pki| (pki.cert.clone(), pki.key.clone())),
            users,
            ..Guard::default()
        },
        client,
    )
}

#[test]
fn plain_and_scram_logins_carry_the_experiment_and_a_wrong_password_names_the_setting() {
    let pki = Pki::new();
    let tansu = sasl_tansu(
        Some(&pki),
        &[
            ("producer", "p-Pa55"),
            ("consumer", "c-Pa55"),
            ("lab", "l-Pa55"),
        ],
    );
    let topic = unique("event");
    tansu.create_topic(&topic, 10);
    let group = unique("group");

    // Each app with its own user and mechanism, over TLS.
    let (producer, consumer) = events_flow(
        &tansu,
        &topic,
        &group,
        security("SASL_SSL", "SCRAM-SHA-512", "producer", "p-Pa55", &pki.ca),
        security("sasl_ssl", "SCRAM-SHA-256", "consumer", "c-Pa55", &pki.ca),
        "after SCRAM logins",
    );
    let lab = security("sasl_ssl", "PLAIN", "lab", "l-Pa55", &pki.ca);
    let reading = wait_for(
        "lab lag to see commits after a PLAIN login",
        Duration::from_secs(30),
        || {
            let reading = lag_reading(&lab_lag(tansu.bootstrap(), &group, &topic, &lab));
            (committed(&reading) > 0).then_some(reading)
        },
    );
    assert_eq!(reading["partitions"].as_array().unwrap().len(), 10);
    let logins = tansu.logins();
    for login in [
        "producer/SCRAM-SHA-512",
        "consumer/SCRAM-SHA-256",
        "lab/PLAIN",
    ] {
        assert!(logins.iter().any(|l| l == login), "{login} in {logins:?}");
    }

    // The consumer's password given to the producer: refused, named, logged once.
    let mut env = security("sasl_ssl", "SCRAM-SHA-512", "producer", "c-Pa55", &pki.ca);
    env.extend([
        ("kafka.brokers.host", tansu.bootstrap().to_owned()),
        ("kafka.topic", topic.clone()),
    ]);
    let refused = App::start(Binary::Producer, "refused producer", &env);
    let reason = not_ready_naming(&refused, "kafka.sasl.password");
    assert!(
        reason.starts_with("the broker refused the credentials")
            && reason.contains("invalid credentials with SASL mechanism SCRAM-SHA-512"),
        "{reason}"
    );
    assert_eq!(refused.logged("cannot connect securely").len(), 1);
    for app in [&producer, &consumer, &refused] {
        let output = all_output(app);
        assert!(
            !output.contains("p-Pa55") && !output.contains("c-Pa55"),
            "{} logs no password",
            app.name
        );
    }

    // SASL without TLS (sasl_plaintext): `lab lag` logs in with SCRAM-SHA-256.
    let plaintext = sasl_tansu(None, &[("lab", "l-Pa55")]);
    plaintext.create_topic(&topic, 2);
    let mut env = security("sasl_plaintext", "SCRAM-SHA-256", "lab", "l-Pa55", &pki.ca);
    env.retain(|(key, _)| *key != "KAFKA_SSL_CA_LOCATION");
    let reading = lag_reading(&lab_lag(plaintext.bootstrap(), &group, &topic, &env));
    assert_eq!(reading["partitions"].as_array().unwrap().len(), 2);
    assert!(plaintext.logins().contains(&"lab/SCRAM-SHA-256".to_owned()));
}

#[test]
fn tansus_own_scram_refuses_every_user_and_the_apps_name_the_setting() {
    let pki = Pki::new();
    let tansu = tls_tansu(&pki, true);
    let topic = unique("event");

    let mut env = security(
        "sasl_ssl",
        "SCRAM-SHA-512",
        "consumer",
        "secret-Pa55",
        &pki.ca,
    );
    env.extend([
        ("kafka.brokers", tansu.bootstrap().to_owned()),
        ("kafka.topics", topic.clone()),
        ("kafka.groupId", unique("group")),
    ]);
    let mut consumer = App::start(Binary::Consumer, "consumer", &env);
    let reason = not_ready_naming(&consumer, "kafka.sasl.password");
    assert!(
        reason.starts_with("the broker refused the credentials"),
        "{reason}"
    );
    // The SCRAM exchange ran over TLS up to the broker's verdict on the user.
    assert!(reason.contains("SCRAM"), "{reason}");
    let logged = consumer.logged("cannot connect securely");
    assert_eq!(logged.len(), 1, "logged once, not per retry: {logged:?}");

    let mut env = security(
        "SASL_SSL",
        "SCRAM-SHA-256",
        "producer",
        "secret-Pa55",
        &pki.ca,
    );
    env.extend([
        ("kafka.brokers.host", tansu.bootstrap().to_owned()),
        ("kafka.topic", topic),
    ]);
    let mut producer = App::start(Binary::Producer, "producer", &env);
    let reason = not_ready_naming(&producer, "kafka.sasl.username");
    assert!(reason.contains("SCRAM"), "{reason}");

    // `lab lag` ends with one line that names the settings, within its 10 s bound.
    let started = std::time::Instant::now();
    let out = lab_lag(
        tansu.bootstrap(),
        "event",
        "event",
        &security("sasl_ssl", "SCRAM-SHA-512", "lab", "secret-Pa55", &pki.ca),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("lab: cannot read from") && last.contains("kafka.sasl.password"),
        "{stderr}"
    );
    assert!(!stderr.contains("secret-Pa55"));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    for app in [&consumer, &producer] {
        assert!(!all_output(app).contains("secret-Pa55"), "{}", app.name);
    }
    // Never a hang: both still stop on SIGTERM.
    for app in [&mut consumer, &mut producer] {
        let (status, took) = app.terminate(Duration::from_secs(20));
        assert!(took < Duration::from_secs(15), "{} took {took:?}", app.name);
        assert!(status.code().is_some(), "{} exited: {status:?}", app.name);
    }
}

#[test]
fn a_protocol_the_listener_does_not_speak_or_an_untrusted_certificate_names_the_setting() {
    let pki = Pki::new();
    let plaintext = Tansu::shared();
    let tls = tls_tansu(&pki, false);
    let stranger = Pki::new();
    // (brokers, protocol, CA, what the not-ready reason says)
    let cases = [
        // TLS to a plaintext listener: the broker never answers the ClientHello (librdkafka
        // gives up after socket.connection.setup.timeout.ms, 10 s here).
        (
            plaintext.bootstrap(),
            "ssl",
            &pki.ca,
            "the broker does not answer the TLS handshake: check kafka.security.protocol",
        ),
        // Plaintext to a TLS listener: the TLS side closes the connection during the first
        // request, which librdkafka 2.12 reports only as "all brokers down"; the producer
        // names the setting in its not-ready reason all the same.
        (
            tls.bootstrap(),
            "plaintext",
            &pki.ca,
            "check kafka.brokers.host, and kafka.security.protocol",
        ),
        // A certificate another CA signed.
        (
            tls.bootstrap(),
            "ssl",
            &stranger.ca,
            "the broker's TLS certificate is not trusted: check kafka.ssl.ca.location",
        ),
    ];
    for (brokers, protocol, ca, says) in cases {
        let mut env = vec![
            ("kafka.brokers.host", brokers.to_owned()),
            ("KAFKA_SECURITY_PROTOCOL", protocol.to_owned()),
        ];
        if protocol == "ssl" {
            env.push(("KAFKA_SSL_CA_LOCATION", ca.display().to_string()));
        }
        let producer = App::start(Binary::Producer, "producer", &env);
        let reason = not_ready_naming(&producer, says);
        eprintln!("{protocol} to {brokers}: {reason}");
    }
}

#[test]
fn a_missing_ca_file_or_half_a_sasl_setup_exits_2_naming_the_setting() {
    let started = Instant::now();
    for (env, key) in [
        (
            vec![
                ("KAFKA_SECURITY_PROTOCOL", "ssl"),
                ("KAFKA_SSL_CA_LOCATION", "/nonexistent/ca.pem"),
            ],
            "kafka.ssl.ca.location",
        ),
        (
            vec![
                ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
                ("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
                ("KAFKA_SASL_USERNAME", "producer"),
            ],
            "kafka.sasl.password",
        ),
        (
            vec![("KAFKA_SASL_PASSWORD", "hunter2")],
            "kafka.security.protocol",
        ),
    ] {
        for binary in [Binary::Producer, Binary::Consumer] {
            let out = Command::new(binary.path())
                .env_clear()
                .env("HTTP_ADDRESS", "127.0.0.1")
                .env("HTTP_PORT", "0")
                .env("kafka.brokers.host", "127.0.0.1:9")
                .env("kafka.brokers", "127.0.0.1:9")
                .envs(env.iter().copied())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(2), "{binary:?} {env:?}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
            assert!(stderr.contains(key), "{binary:?} names {key}: {stderr}");
            assert!(!stderr.contains("hunter2") && !stdout.contains("hunter2"));
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no waiting on a broker"
    );
}
