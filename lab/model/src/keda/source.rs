//! KEDA's side of a Kafka trigger: where its scaler reads lag. The scaler (`kafka` or
//! `apache-kafka`), the brokers, group and topics (written, or named by `<key>FromEnv`), and
//! how it connects (`tls`, `sasl`). `check-manifests` compares it with the apps and the
//! listener, the advice and the cluster recorder read it; the emulator never does (it
//! gets the scaling settings, [`crate::emulator::spec::KafkaTrigger`]).

/// Where a Kafka trigger reads lag, as its scaler reads the metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaSource {
    pub scaler: ScalerKind,
    /// `bootstrapServers` (empty when given through `bootstrapServersFromEnv`).
    pub bootstrap_servers: Vec<String>,
    /// `consumerGroup` (empty when given through `consumerGroupFromEnv`).
    pub consumer_group: String,
    /// `topic`: none (all the group's topics), one, or with `apache-kafka` several.
    pub topics: Vec<String>,
    /// The container variables named by `<key>FromEnv`.
    pub from_env: FromEnv,
    /// Whether `offsetResetPolicy` is written (else KEDA's default applies).
    pub offset_reset_given: bool,
    /// `tls: enable` (default disable).
    pub tls: bool,
    /// `sasl` (default none).
    pub sasl: SaslMode,
}

impl KafkaSource {
    pub fn new(scaler: ScalerKind) -> Self {
        Self {
            scaler,
            bootstrap_servers: Vec::new(),
            consumer_group: String::new(),
            topics: Vec::new(),
            from_env: FromEnv::default(),
            offset_reset_given: false,
            tls: false,
            sasl: SaslMode::None,
        }
    }

    /// Whether the trigger has a topic, written or from the environment.
    pub fn has_topic(&self) -> bool {
        !self.topics.is_empty() || self.from_env.topic.is_some()
    }
}

/// Which KEDA scaler reads the lag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalerKind {
    /// `type: kafka` (sarama).
    Kafka,
    /// `type: apache-kafka` (segmentio/kafka-go; experimental).
    ApacheKafka,
}

impl ScalerKind {
    pub fn trigger_type(self) -> &'static str {
        match self {
            ScalerKind::Kafka => "kafka",
            ScalerKind::ApacheKafka => "apache-kafka",
        }
    }
}

/// The container variables a trigger takes values from (`bootstrapServersFromEnv`, ...):
/// KEDA reads them from the scale target's container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FromEnv {
    pub bootstrap_servers: Option<String>,
    pub consumer_group: Option<String>,
    pub topic: Option<String>,
}

/// A trigger's `sasl` as KEDA's scalers name the mechanisms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslMode {
    None,
    Plaintext,
    ScramSha256,
    ScramSha512,
    OAuthBearer,
    Gssapi,
    AwsMskIam,
}

impl SaslMode {
    pub const ALL: [SaslMode; 7] = [
        SaslMode::None,
        SaslMode::Plaintext,
        SaslMode::ScramSha256,
        SaslMode::ScramSha512,
        SaslMode::OAuthBearer,
        SaslMode::Gssapi,
        SaslMode::AwsMskIam,
    ];

    /// The word in trigger metadata (`scram_sha512`).
    pub fn as_str(self) -> &'static str {
        match self {
            SaslMode::None => "none",
            SaslMode::Plaintext => "plaintext",
            SaslMode::ScramSha256 => "scram_sha256",
            SaslMode::ScramSha512 => "scram_sha512",
            SaslMode::OAuthBearer => "oauthbearer",
            SaslMode::Gssapi => "gssapi",
            SaslMode::AwsMskIam => "aws_msk_iam",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == word)
    }

    /// Whether KEDA needs a username and password for it (from a TriggerAuthentication).
    pub fn needs_credentials(self) -> bool {
        matches!(
            self,
            SaslMode::Plaintext | SaslMode::ScramSha256 | SaslMode::ScramSha512
        )
    }
}
