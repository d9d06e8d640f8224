//! The two real Kafka-protocol brokers tests run against.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc};

pub use lab_kafka::embedded_broker::MockBroker;
use std::sync::OnceLock;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::ClientConfig;

use crate::front::{self, Front};
use crate::sasl::Users;

/// A Tansu broker process for this test process, started on first use.
pub struct Tansu {
    bootstrap: String,
    /// librdkafka properties a client needs to talk to it (TLS, SASL).
    client: Vec<(String, String)>,
    /// The users of its front, if the front runs SASL logins.
    users: Option<Arc<Users>>,
}

/// How a Tansu broker guards its listener.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    /// PEM certificate and key: clients reach the broker over TLS, through a front
    /// ([`crate::front`]) that the broker advertises as its address.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Users (name, password) the front logs in with PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
    /// before it relays a connection ([`crate::sasl`]).
    pub users: Vec<(String, String)>,
    /// Tansu's own `--authentication`: it runs SCRAM-SHA-256 and SCRAM-SHA-512 itself, but
    /// has no users, so it refuses every login.
    pub authentication: bool,
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
        Self::start_guarded(&Guard::default(), Vec::new())
    }

    /// A new Tansu process behind `guard`; `client` holds the librdkafka properties that
    /// reach it (for [`Tansu::create_topic`]).
    pub fn start_guarded(guard: &Guard, client: Vec<(String, String)>) -> Tansu {
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        // With TLS or SASL users, clients reach the broker through the front, so it
        // advertises that.
        let front = (guard.tls.is_some() || !guard.users.is_empty())
            .then(|| TcpListener::bind("127.0.0.1:0").unwrap());
        let advertised = match &front {
            Some(l) => format!("tcp://{}", l.local_addr().unwrap()),
            None => url.clone(),
        };
        let binary = Self::binary();
        let mut guard_args: Vec<String> = Vec::new();
        if guard.authentication {
            guard_args.push("--authentication".into());
        }
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
                    &advertised,
                    "--storage-engine",
                    "memory://tansu/",
                ])
                .args(&guard_args)
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
        let users = (!guard.users.is_empty()).then(|| Arc::new(Users::new(&guard.users)));
        let bootstrap = match front {
            Some(listener) => {
                let bootstrap = listener.local_addr().unwrap().to_string();
                let front = Front {
                    tls: guard.tls.as_ref().map(|(cert, key)| front::tls(cert, key)),
                    users: users.clone(),
                };
                front::start(listener, front, address.parse().unwrap());
                bootstrap
            }
            None => address,
        };
        Tansu {
            bootstrap,
            client,
            users,
        }
    }

    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// The logins its front let in so far, as `user/MECHANISM` (empty without users).
    pub fn logins(&self) -> Vec<String> {
        self.users.as_ref().map(|u| u.logins()).unwrap_or_default()
    }

    /// Creates a topic over the wire (CreateTopics), waiting for the result.
    pub fn create_topic(&self, name: &str, partitions: i32) {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap);
        for (key, value) in &self.client {
            config.set(key, value);
        }
        let admin: AdminClient<DefaultClientContext> = config.create().expect("admin client");
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
