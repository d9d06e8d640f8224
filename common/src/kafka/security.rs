//! TLS and SASL: how a client proves who it is and whom it talks to.
//!
//! Five settings in the published style (`kafka.security.protocol`, `kafka.sasl.*`,
//! `kafka.ssl.ca.location`, each also in UPPER_SNAKE) become librdkafka's
//! `security.protocol`, `sasl.mechanism`, `sasl.username`, `sasl.password` and
//! `ssl.ca.location`. They are validated together here, so a half-configured connection
//! (SASL without a password, a CA file that is not there, a username on a plaintext
//! connection) stops the binary at start-up with one line naming the setting.
//!
//! What only the broker can reject (a wrong password, TLS spoken to a plaintext port) shows
//! up later as a client error; [`SecurityAlarm`] turns those into one line that names the
//! setting to check, for the log and for the readiness probe. The password is never shown.
//!
//! librdkafka is built with OpenSSL (vendored, linked statically) and its built-in SASL
//! mechanisms PLAIN and SCRAM; GSSAPI (Kerberos) and OAUTHBEARER are not offered.

use std::fmt;
use std::path::PathBuf;
use std::sync::Mutex;

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use crate::config::{ConfigError, Env, Kind, Preset, Setting};

pub const SECURITY_PROTOCOL: Setting = Setting {
    key: "kafka.security.protocol",
    kind: Kind::OneOf(&["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"]),
    default: Preset::Value("plaintext"),
    meaning: "how clients connect: `ssl` is TLS, `sasl_*` authenticates (any case)",
};
pub const SASL_MECHANISM: Setting = Setting {
    key: "kafka.sasl.mechanism",
    kind: Kind::OneOf(&["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]),
    default: Preset::Unset("required with `sasl_*`"),
    meaning: "SASL mechanism (Strimzi's `scram-sha-512` is `SCRAM-SHA-512`)",
};
pub const SASL_USERNAME: Setting = Setting {
    key: "kafka.sasl.username",
    kind: Kind::Text,
    default: Preset::Unset("required with `sasl_*`"),
    meaning: "SASL user name",
};
pub const SASL_PASSWORD: Setting = Setting {
    key: "kafka.sasl.password",
    kind: Kind::Secret,
    default: Preset::Unset("required with `sasl_*`"),
    meaning: "SASL password, never logged",
};
pub const SSL_CA_LOCATION: Setting = Setting {
    key: "kafka.ssl.ca.location",
    kind: Kind::Path,
    default: Preset::Unset("the system's CA certificates"),
    meaning: "PEM file of the CA that signed the brokers' certificates (`ssl`, `sasl_ssl`)",
};

/// The security settings, in the order of docs/reference.md ("TLS and SASL").
pub const SETTINGS: &[&Setting] = &[
    &SECURITY_PROTOCOL,
    &SASL_MECHANISM,
    &SASL_USERNAME,
    &SASL_PASSWORD,
    &SSL_CA_LOCATION,
];

/// librdkafka's `security.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl Protocol {
    /// The protocol `word` names, in any case as librdkafka reads it; `None` for a word
    /// that names none (the binaries refuse it at start-up).
    pub fn parse(word: &str) -> Option<Self> {
        [
            Self::Plaintext,
            Self::Ssl,
            Self::SaslPlaintext,
            Self::SaslSsl,
        ]
        .into_iter()
        .find(|p| p.as_str().eq_ignore_ascii_case(word.trim()))
    }

    /// The protocol a listener wants: TLS and SASL on or off.
    pub fn for_listener(tls: bool, sasl: bool) -> Self {
        match (tls, sasl) {
            (true, true) => Self::SaslSsl,
            (true, false) => Self::Ssl,
            (false, true) => Self::SaslPlaintext,
            (false, false) => Self::Plaintext,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::Ssl => "ssl",
            Self::SaslPlaintext => "sasl_plaintext",
            Self::SaslSsl => "sasl_ssl",
        }
    }

    pub fn uses_tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }

    pub fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
}

/// SASL credentials. `Debug` does not show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Sasl {
    pub mechanism: &'static str,
    pub username: String,
    password: String,
}

impl fmt::Debug for Sasl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sasl")
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// A connection's security, validated as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    pub protocol: Protocol,
    /// Present exactly when the protocol is `sasl_*`.
    pub sasl: Option<Sasl>,
    /// A readable file, only with a TLS protocol.
    pub ca_location: Option<PathBuf>,
}

impl Default for Security {
    fn default() -> Self {
        Self {
            protocol: Protocol::Plaintext,
            sasl: None,
            ca_location: None,
        }
    }
}

impl Security {
    /// Reads the five settings and checks that they fit together.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let protocol =
            Protocol::parse(env.word(&SECURITY_PROTOCOL)?).unwrap_or(Protocol::Plaintext);
        let mechanism = env.optional_word(&SASL_MECHANISM)?;
        let username = env.optional_text(&SASL_USERNAME)?;
        let password = env.optional_text(&SASL_PASSWORD)?;
        let ca_location = env.path(&SSL_CA_LOCATION)?;

        let needs = |what: &str| {
            ConfigError::invalid(
                SECURITY_PROTOCOL.key,
                protocol.as_str(),
                format!("{what} (the protocol now is {})", protocol.as_str()),
            )
        };
        let sasl = if protocol.uses_sasl() {
            let required = |s: &Setting| {
                ConfigError::missing(
                    s.key,
                    format!("{} with {}", s.expected(), protocol.as_str()),
                )
            };
            Some(Sasl {
                mechanism: mechanism.ok_or_else(|| required(&SASL_MECHANISM))?,
                username: username.ok_or_else(|| required(&SASL_USERNAME))?,
                password: password.ok_or_else(|| required(&SASL_PASSWORD))?,
            })
        } else {
            let given = [
                (mechanism.is_some(), SASL_MECHANISM.key),
                (username.is_some(), SASL_USERNAME.key),
                (password.is_some(), SASL_PASSWORD.key),
            ];
            if let Some((_, key)) = given.iter().find(|(set, _)| *set) {
                return Err(needs(&format!(
                    "sasl_plaintext or sasl_ssl, since {key} is set"
                )));
            }
            None
        };
        if let Some(path) = &ca_location {
            if !protocol.uses_tls() {
                return Err(needs(&format!(
                    "ssl or sasl_ssl, since {} is set",
                    SSL_CA_LOCATION.key
                )));
            }
            if let Err(err) = std::fs::File::open(path) {
                return Err(ConfigError::invalid(
                    SSL_CA_LOCATION.key,
                    &path.display().to_string(),
                    format!("a readable PEM file ({err})"),
                ));
            }
        }
        Ok(Self {
            protocol,
            sasl,
            ca_location,
        })
    }

    /// The librdkafka properties (nothing for plaintext: librdkafka's defaults).
    pub fn properties(&self) -> Vec<(&'static str, String)> {
        if self.protocol == Protocol::Plaintext {
            return Vec::new();
        }
        let mut out = vec![("security.protocol", self.protocol.as_str().to_owned())];
        if let Some(sasl) = &self.sasl {
            out.push(("sasl.mechanism", sasl.mechanism.to_owned()));
            out.push(("sasl.username", sasl.username.clone()));
            out.push(("sasl.password", sasl.password.clone()));
        }
        if let Some(ca) = &self.ca_location {
            out.push(("ssl.ca.location", ca.display().to_string()));
        }
        out
    }

    /// For the start-up log: protocol, mechanism, user and CA file, never the password.
    pub fn describe(&self) -> String {
        let mut out = format!("security.protocol={}", self.protocol.as_str());
        if let Some(sasl) = &self.sasl {
            out.push_str(&format!(
                " sasl.mechanism={} sasl.username={}",
                sasl.mechanism, sasl.username
            ));
        }
        if let Some(ca) = &self.ca_location {
            out.push_str(&format!(" ssl.ca.location={}", ca.display()));
        }
        out
    }
}

/// Turns client errors that the security settings cause into one line naming the setting
/// to check; `None` for every other error.
pub fn explain(error: &KafkaError, reason: &str) -> Option<String> {
    let code = match error {
        KafkaError::Global(code) => Some(*code),
        _ => None,
    };
    explain_text(code, reason)
}

/// The same for a text librdkafka wrote: an error's reason or a log line (a TLS handshake
/// that gets no answer only shows up as a log line).
fn explain_text(code: Option<RDKafkaErrorCode>, text: &str) -> Option<String> {
    let hint = if code == Some(RDKafkaErrorCode::Authentication)
        || text.contains("SASL authentication error")
    {
        format!(
            "the broker refused the credentials: check {}, {} and {}",
            SASL_USERNAME.key, SASL_PASSWORD.key, SASL_MECHANISM.key
        )
    } else if text.contains("mechanism handshake failed") {
        format!(
            "the broker does not take this SASL mechanism: check {}",
            SASL_MECHANISM.key
        )
    } else if text.contains("certificate verify failed") {
        format!(
            "the broker's TLS certificate is not trusted: check {}",
            SSL_CA_LOCATION.key
        )
    } else if code == Some(RDKafkaErrorCode::SSL) || text.contains("SSL handshake failed") {
        format!(
            "the TLS handshake failed: check {} (is the port a TLS listener?) and {}",
            SECURITY_PROTOCOL.key, SSL_CA_LOCATION.key
        )
    } else if text.contains("in state SSL_HANDSHAKE") {
        format!(
            "the broker does not answer the TLS handshake: check {} (is the port a TLS listener?)",
            SECURITY_PROTOCOL.key
        )
    } else if text.contains("security.protocol") || text.contains("SSL listener") {
        // librdkafka's own guess when a connection closes during the first request.
        format!(
            "the broker's listener speaks another protocol: check {}",
            SECURITY_PROTOCOL.key
        )
    } else {
        return None;
    };
    Some(format!("{hint} ({})", text.trim()))
}

/// The last security problem a client reported, explained by [`explain`]: readiness shows
/// it, and each distinct problem is logged once (librdkafka repeats it on every retry).
#[derive(Debug, Default)]
pub struct SecurityAlarm {
    last: Mutex<Option<String>>,
}

impl SecurityAlarm {
    /// Records `error` if it is a security problem and returns the explanation; logs it the
    /// first time this explanation (without the broker address) is seen.
    pub fn observe(&self, error: &KafkaError, reason: &str) -> Option<String> {
        self.record(explain(error, reason)?)
    }

    /// Reads a librdkafka log line: a connection failure (`FAIL`) the security settings
    /// explain is recorded as [`SecurityAlarm::observe`] does.
    pub fn observe_log(&self, facility: &str, message: &str) -> Option<String> {
        if facility != "FAIL" {
            return None;
        }
        self.record(explain_text(None, message)?)
    }

    fn record(&self, line: String) -> Option<String> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let kind = |l: &str| l.split(" (").next().map(str::to_owned);
        if last.as_deref().and_then(kind) != kind(&line) {
            tracing::error!(problem = %line, "cannot connect securely");
        }
        *last = Some(line.clone());
        Some(line)
    }

    /// The last problem seen, until [`SecurityAlarm::clear`].
    pub fn current(&self) -> Option<String> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Forgets the last problem (the connection works again).
    pub fn clear(&self) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// Logs a librdkafka log line as rdkafka's default `ClientContext::log` does (target
/// `librdkafka`), for contexts that also read the lines.
pub fn forward_log(level: RDKafkaLogLevel, facility: &str, message: &str) {
    match level {
        RDKafkaLogLevel::Emerg
        | RDKafkaLogLevel::Alert
        | RDKafkaLogLevel::Critical
        | RDKafkaLogLevel::Error => {
            tracing::error!(target: "librdkafka", "librdkafka: {facility} {message}")
        }
        RDKafkaLogLevel::Warning => {
            tracing::warn!(target: "librdkafka", "librdkafka: {facility} {message}")
        }
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
            tracing::info!(target: "librdkafka", "librdkafka: {facility} {message}")
        }
        RDKafkaLogLevel::Debug => {
            tracing::debug!(target: "librdkafka", "librdkafka: {facility} {message}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Security, String> {
        Security::from_env(&Env::from_pairs(pairs.iter().copied())).map_err(|e| e.to_string())
    }

    #[test]
    fn plaintext_by_default_adds_no_properties() {
        let s = load(&[]).unwrap();
        assert_eq!(s, Security::default());
        assert!(s.properties().is_empty());
    }

    #[test]
    fn sasl_ssl_in_upper_snake_becomes_librdkafka_properties() {
        let ca = std::env::temp_dir().join(format!("ca-{}.pem", std::process::id()));
        std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\n").unwrap();
        let s = load(&[
            ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
            ("KAFKA_SASL_MECHANISM", "scram-sha-512"),
            ("KAFKA_SASL_USERNAME", "consumer"),
            ("kafka.sasl.password", "hunter2"),
            ("KAFKA_SSL_CA_LOCATION", ca.to_str().unwrap()),
        ])
        .unwrap();
        let props = s.properties();
        let get = |k: &str| props.iter().find(|(key, _)| *key == k).unwrap().1.clone();
        assert_eq!(get("security.protocol"), "sasl_ssl");
        assert_eq!(get("sasl.mechanism"), "SCRAM-SHA-512");
        assert_eq!(get("sasl.username"), "consumer");
        assert_eq!(get("sasl.password"), "hunter2");
        assert_eq!(get("ssl.ca.location"), ca.display().to_string());
        let shown = format!("{} {s:?}", s.describe());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("sasl.username=consumer"), "{shown}");
        std::fs::remove_file(ca).unwrap();
    }

    #[test]
    fn half_configured_connections_name_the_setting() {
        let err = load(&[("kafka.security.protocol", "sasl_ssl")]).unwrap_err();
        assert!(err.starts_with("missing kafka.sasl.mechanism"), "{err}");
        let err = load(&[
            ("kafka.security.protocol", "sasl_plaintext"),
            ("kafka.sasl.mechanism", "PLAIN"),
            ("kafka.sasl.username", "u"),
        ])
        .unwrap_err();
        assert!(err.starts_with("missing kafka.sasl.password"), "{err}");
        let err = load(&[("kafka.sasl.password", "hunter2")]).unwrap_err();
        assert!(
            err.contains("kafka.security.protocol=\"plaintext\"")
                && err.contains("since kafka.sasl.password is set"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
        let err = load(&[("kafka.security.protocol", "tls")]).unwrap_err();
        assert!(err.contains("plaintext or ssl or sasl_plaintext or sasl_ssl"));
        let err = load(&[
            ("kafka.security.protocol", "sasl_ssl"),
            ("kafka.sasl.mechanism", "GSSAPI"),
        ])
        .unwrap_err();
        assert!(
            err.starts_with("invalid kafka.sasl.mechanism=\"GSSAPI\""),
            "{err}"
        );
    }

    #[test]
    fn a_missing_ca_file_or_a_ca_without_tls_is_refused() {
        let err = load(&[
            ("kafka.security.protocol", "ssl"),
            ("kafka.ssl.ca.location", "/nonexistent/ca.pem"),
        ])
        .unwrap_err();
        assert!(
            err.starts_with("invalid kafka.ssl.ca.location=\"/nonexistent/ca.pem\": expected a readable PEM file"),
            "{err}"
        );
        let err = load(&[("kafka.ssl.ca.location", "/etc/hostname")]).unwrap_err();
        assert!(
            err.contains("ssl or sasl_ssl, since kafka.ssl.ca.location is set"),
            "{err}"
        );
    }

    #[test]
    fn security_errors_are_explained_and_logged_once() {
        let auth = KafkaError::Global(RDKafkaErrorCode::Authentication);
        let line = explain(&auth, "SASL authentication error: invalid credentials").unwrap();
        assert!(line.starts_with("the broker refused the credentials: check kafka.sasl.username"));
        let untrusted = explain(
            &KafkaError::Global(RDKafkaErrorCode::SSL),
            "SSL handshake failed: certificate verify failed",
        )
        .unwrap();
        assert!(
            untrusted.contains("check kafka.ssl.ca.location"),
            "{untrusted}"
        );
        let wrong_port = explain(
            &KafkaError::Global(RDKafkaErrorCode::BrokerTransportFailure),
            "Disconnected while requesting ApiVersion: might be caused by incorrect security.protocol configuration (connecting to a SSL listener?)",
        )
        .unwrap();
        assert!(
            wrong_port.contains("check kafka.security.protocol"),
            "{wrong_port}"
        );
        assert_eq!(
            explain(
                &KafkaError::Global(RDKafkaErrorCode::AllBrokersDown),
                "1/1 brokers are down"
            ),
            None
        );
        let alarm = SecurityAlarm::default();
        let silent = alarm.observe_log(
            "FAIL",
            "ssl://127.0.0.1:9/bootstrap: Connection setup timed out in state SSL_HANDSHAKE (after 10010ms in state SSL_HANDSHAKE)",
        );
        assert!(silent.unwrap().starts_with(
            "the broker does not answer the TLS handshake: check kafka.security.protocol"
        ));
        assert_eq!(
            alarm.observe_log("CONFWARN", "in state SSL_HANDSHAKE"),
            None
        );
        let mechanism = alarm
            .observe_log("FAIL", "SASL PLAIN mechanism handshake failed: Local: Broker transport failure: broker's supported mechanisms: (n/a)")
            .unwrap();
        assert!(
            mechanism.contains("check kafka.sasl.mechanism"),
            "{mechanism}"
        );

        let alarm = SecurityAlarm::default();
        assert_eq!(alarm.current(), None);
        assert!(alarm.observe(&auth, "a").is_some());
        assert_eq!(
            alarm.current().unwrap(),
            format!("{} (a)", line.split(" (").next().unwrap())
        );
        alarm.clear();
        assert_eq!(alarm.current(), None);
    }
}
