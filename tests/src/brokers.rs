//! The two real Kafka-protocol brokers tests run against.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;

pub use common::embedded_broker::MockBroker;
use std::sync::OnceLock;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::ClientConfig;

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

    /// A new Tansu process (lives as long as this test process).
    pub fn start() -> Tansu {
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
