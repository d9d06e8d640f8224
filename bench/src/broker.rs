//! The brokers a benchmark runs on: the embedded mock cluster (in this process) and Tansu
//! (a child process). Every client of one run, the project's and the references', talks
//! to the same broker.

use anyhow::Context as _;
use std::fmt;

use harness::{MockBroker, Tansu};

/// Which broker(s) to measure on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BrokerChoice {
    /// librdkafka's mock cluster, embedded (the lab's default broker).
    Mock,
    /// Tansu, installed by `scripts/install-tansu`.
    Tansu,
    /// Both, one after the other.
    Both,
}

impl BrokerChoice {
    pub fn kinds(self) -> Vec<BrokerKind> {
        match self {
            BrokerChoice::Mock => vec![BrokerKind::Mock],
            BrokerChoice::Tansu => vec![BrokerKind::Tansu],
            BrokerChoice::Both => vec![BrokerKind::Mock, BrokerKind::Tansu],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerKind {
    Mock,
    Tansu,
}

impl fmt::Display for BrokerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BrokerKind::Mock => "mock",
            BrokerKind::Tansu => "tansu",
        })
    }
}

/// A running broker.
pub enum Broker {
    Mock(MockBroker),
    Tansu(Tansu),
}

impl Broker {
    pub fn start(kind: BrokerKind) -> anyhow::Result<Broker> {
        Ok(match kind {
            BrokerKind::Mock => {
                Broker::Mock(MockBroker::start().context("cannot start the mock cluster")?)
            }
            BrokerKind::Tansu => Broker::Tansu(Tansu::start()),
        })
    }

    pub fn kind(&self) -> BrokerKind {
        match self {
            Broker::Mock(_) => BrokerKind::Mock,
            Broker::Tansu(_) => BrokerKind::Tansu,
        }
    }

    pub fn bootstrap(&self) -> &str {
        match self {
            Broker::Mock(mock) => mock.bootstrap(),
            Broker::Tansu(tansu) => tansu.bootstrap(),
        }
    }

    pub fn create_topic(&self, name: &str, partitions: i32) -> anyhow::Result<()> {
        match self {
            Broker::Mock(mock) => mock
                .create_topic(name, partitions)
                .with_context(|| format!("cannot create topic {name}")),
            Broker::Tansu(tansu) => {
                tansu.create_topic(name, partitions);
                Ok(())
            }
        }
    }

    /// Whether Debian's kcat (librdkafka 2.0.2) can talk to this broker: not to Tansu
    /// (its ApiVersion answer fails to parse there).
    pub fn speaks_to_kcat(&self) -> bool {
        matches!(self, Broker::Mock(_))
    }

    /// Whether the broker's end offsets are exact (Tansu's are not for batches of
    /// several records), so a reference's deliveries can be counted from them.
    pub fn exact_end_offsets(&self) -> bool {
        matches!(self, Broker::Mock(_))
    }
}
