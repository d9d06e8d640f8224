//! The two real Kafka-protocol brokers tests run against.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::mocking::MockCluster;
use rdkafka::ClientConfig;

enum Command_ {
    CreateTopic(String, i32, mpsc::Sender<Result<(), String>>),
    BrokerDown(mpsc::Sender<Result<(), String>>),
    BrokerUp(mpsc::Sender<Result<(), String>>),
}

/// librdkafka's mock cluster (one broker), owned by a dedicated thread.
pub struct MockBroker {
    bootstrap: String,
    commands: mpsc::Sender<Command_>,
}

impl MockBroker {
    pub fn start() -> Self {
        let (commands, inbox) = mpsc::channel::<Command_>();
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("mock-broker".into())
            .spawn(move || {
                let cluster = MockCluster::new(1).expect("mock cluster starts");
                ready_tx.send(cluster.bootstrap_servers()).unwrap();
                // Ends when the MockBroker (the only sender) is dropped.
                for command in inbox {
                    match command {
                        Command_::CreateTopic(name, partitions, reply) => {
                            let _ = reply.send(
                                cluster
                                    .create_topic(&name, partitions, 1)
                                    .map_err(|e| e.to_string()),
                            );
                        }
                        Command_::BrokerDown(reply) => {
                            let _ = reply.send(cluster.broker_down(1).map_err(|e| e.to_string()));
                        }
                        Command_::BrokerUp(reply) => {
                            let _ = reply.send(cluster.broker_up(1).map_err(|e| e.to_string()));
                        }
                    }
                }
            })
            .expect("spawn mock broker thread");
        let bootstrap = ready_rx.recv().expect("mock cluster reports its address");
        Self {
            bootstrap,
            commands,
        }
    }

    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    fn ask(&self, make: impl FnOnce(mpsc::Sender<Result<(), String>>) -> Command_) {
        let (tx, rx) = mpsc::channel();
        self.commands
            .send(make(tx))
            .expect("mock broker thread alive");
        rx.recv()
            .expect("mock broker replies")
            .expect("mock broker command succeeds");
    }

    pub fn create_topic(&self, name: &str, partitions: i32) {
        self.ask(|tx| Command_::CreateTopic(name.to_owned(), partitions, tx));
    }

    /// Takes the broker away: connections are closed and refused until [`Self::broker_up`].
    pub fn broker_down(&self) {
        self.ask(Command_::BrokerDown);
    }

    pub fn broker_up(&self) {
        self.ask(Command_::BrokerUp);
    }
}

/// A Tansu broker process for this test process, started on first use.
pub struct Tansu {
    bootstrap: String,
}

impl Tansu {
    /// The shared instance (started once per test process).
    pub fn shared() -> &'static Tansu {
        static TANSU: OnceLock<Tansu> = OnceLock::new();
        TANSU.get_or_init(Tansu::start)
    }

    fn binary() -> PathBuf {
        if let Some(path) = std::env::var_os("TANSU_BIN") {
            return path.into();
        }
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let path = root.join(".tools/tansu/bin/tansu");
        assert!(
            path.exists(),
            "Tansu is not installed: run scripts/install-tansu (or set TANSU_BIN)"
        );
        path
    }

    fn start() -> Tansu {
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let binary = Self::binary();
        // The child must die with this test process. PR_SET_PDEATHSIG fires when the
        // spawning *thread* exits, so spawn from a thread that lives as long as the process.
        let (tx, rx) = mpsc::channel::<std::io::Result<()>>();
        std::thread::Builder::new()
            .name("tansu-owner".into())
            .spawn(move || {
                let mut cmd = Command::new(binary);
                cmd.args([
                    "broker",
                    "--listener-url",
                    &url,
                    "--advertised-listener-url",
                    &url,
                    "--storage-engine",
                    "memory://tansu/",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .env("RUST_LOG", "warn");
                unsafe {
                    use std::os::unix::process::CommandExt;
                    cmd.pre_exec(|| {
                        nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                            .map_err(std::io::Error::from)
                    });
                }
                match cmd.spawn() {
                    Ok(mut child) => {
                        let _ = tx.send(Ok(()));
                        // Owns the child for the life of the process; reaps it if it dies.
                        let _ = child.wait();
                        loop {
                            std::thread::park();
                        }
                    }
                    Err(err) => {
                        let _ = tx.send(Err(err));
                    }
                }
            })
            .expect("spawn tansu owner thread");
        rx.recv().unwrap().expect("tansu starts");
        let address = format!("127.0.0.1:{port}");
        crate::wait_for(
            "tansu to accept connections",
            Duration::from_secs(10),
            || TcpStream::connect(&address).ok(),
        );
        Tansu { bootstrap: address }
    }

    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// Creates a topic over the wire (CreateTopics), waiting for the result.
    pub fn create_topic(&self, name: &str, partitions: i32) {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .create()
            .expect("admin client");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let results = runtime
            .block_on(admin.create_topics(
                &[NewTopic::new(name, partitions, TopicReplication::Fixed(1))],
                &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
            ))
            .expect("CreateTopics answers");
        for result in results {
            result.unwrap_or_else(|(topic, err)| panic!("creating topic {topic}: {err}"));
        }
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
