//! An embedded Kafka-protocol broker: librdkafka's mock cluster on a thread of its own.
//!
//! `rdkafka::mocking::MockCluster` listens on a real loopback TCP port, so any Kafka
//! client (ours, kcat, confluent-kafka) talks to it over the wire; lag computed from it
//! is exact. It must stay on the thread that created it, so a dedicated thread owns it
//! and serves requests (create a topic, take the broker down or up) over a channel.
//! Topics are created through its own API: CreateTopics over the wire times out.

use std::sync::mpsc;

use rdkafka::mocking::MockCluster;

/// What the mock cluster (or its thread) answered instead of doing what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BrokerError(String);

type Reply = mpsc::Sender<Result<(), BrokerError>>;

enum Request {
    CreateTopic(String, i32, Reply),
    BrokerDown(Reply),
    BrokerUp(Reply),
}

/// librdkafka's mock cluster (one broker), owned by a dedicated thread. Dropping the
/// handle stops it.
pub struct MockBroker {
    bootstrap: String,
    commands: mpsc::Sender<Request>,
}

impl MockBroker {
    pub fn start() -> Result<Self, BrokerError> {
        let (commands, inbox) = mpsc::channel::<Request>();
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("mock-broker".into())
            .spawn(move || {
                let cluster = match MockCluster::new(1) {
                    Ok(cluster) => cluster,
                    Err(err) => {
                        let _ = ready_tx.send(Err(BrokerError(err.to_string())));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(cluster.bootstrap_servers()));
                // Ends when the MockBroker (the only sender) is dropped.
                for command in inbox {
                    match command {
                        Request::CreateTopic(name, partitions, reply) => {
                            let _ = reply.send(
                                cluster
                                    .create_topic(&name, partitions, 1)
                                    .map_err(|e| BrokerError(e.to_string())),
                            );
                        }
                        Request::BrokerDown(reply) => {
                            let _ = reply.send(
                                cluster
                                    .broker_down(1)
                                    .map_err(|e| BrokerError(e.to_string())),
                            );
                        }
                        Request::BrokerUp(reply) => {
                            let _ = reply
                                .send(cluster.broker_up(1).map_err(|e| BrokerError(e.to_string())));
                        }
                    }
                }
            })
            .map_err(|e| BrokerError(format!("cannot start the mock broker thread: {e}")))?;
        let bootstrap = ready_rx
            .recv()
            .map_err(|_| BrokerError("the mock broker thread died".into()))??;
        Ok(Self {
            bootstrap,
            commands,
        })
    }

    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    fn ask(&self, make: impl FnOnce(Reply) -> Request) -> Result<(), BrokerError> {
        let (tx, rx) = mpsc::channel();
        self.commands
            .send(make(tx))
            .map_err(|_| BrokerError("the mock broker is gone".into()))?;
        rx.recv()
            .map_err(|_| BrokerError("the mock broker is gone".into()))?
    }

    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<(), BrokerError> {
        self.ask(|tx| Request::CreateTopic(name.to_owned(), partitions, tx))
    }

    /// Takes the broker away: connections are closed and refused until [`Self::broker_up`].
    pub fn broker_down(&self) -> Result<(), BrokerError> {
        self.ask(Request::BrokerDown)
    }

    pub fn broker_up(&self) -> Result<(), BrokerError> {
        self.ask(Request::BrokerUp)
    }
}
