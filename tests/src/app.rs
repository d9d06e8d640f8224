//! A built binary of the workspace running as a child process.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

/// Whether apps echo their log lines to stderr (tests: yes, shown with `--nocapture`).
static ECHO_LOGS: AtomicBool = AtomicBool::new(true);

/// Stops (or restarts) echoing apps' log lines; they are still kept for [`App::logs`].
pub fn echo_logs(on: bool) {
    ECHO_LOGS.store(on, Ordering::Relaxed);
}

/// The workspace's binaries.
#[derive(Debug, Clone, Copy)]
pub enum Binary {
    Producer,
    Consumer,
}

impl Binary {
    pub fn name(self) -> &'static str {
        match self {
            Binary::Producer => "kafka-producer-callback",
            Binary::Consumer => "kafka-consumer",
        }
    }

    /// `target/<profile>/<name>` (see [`binary_dir`]). Cargo builds it for the tests
    /// because the binary's own package has an integration test.
    pub fn path(self) -> PathBuf {
        let path = binary_dir().join(self.name());
        assert!(
            path.exists(),
            "{} is not built: run `cargo test --workspace` or `cargo build --bins`",
            path.display()
        );
        path
    }
}

/// `target/<profile>/`: the parent of the `deps/` folder a test runs from, or the folder
/// of the running binary itself (the benchmark, `target/release/bench`).
pub fn binary_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().expect("the executable's folder");
    let dir = if dir.ends_with("deps") {
        dir.parent().expect("target/<profile>/deps")
    } else {
        dir
    };
    dir.to_path_buf()
}

/// A running binary. Killed on drop if still running.
pub struct App {
    pub name: String,
    child: Child,
    logs: Arc<Mutex<Vec<Value>>>,
    pub address: Option<SocketAddr>,
    pub http: reqwest::blocking::Client,
}

impl App {
    /// Starts `binary` with `env` (on top of JSON logs and an HTTP port on 127.0.0.1:0)
    /// and waits until it listens. `name` prefixes its log lines in the test output.
    pub fn start(binary: Binary, name: &str, env: &[(&str, String)]) -> App {
        let mut app = Self::spawn(binary, name, env);
        let logs = app.logs.clone();
        let address = crate::wait_for(
            &format!("{name} to listen"),
            Duration::from_secs(15),
            || {
                logs.lock().unwrap().iter().find_map(|line| {
                    (line["message"] == "listening")
                        .then(|| line["address"].as_str().and_then(|a| a.parse().ok()))
                        .flatten()
                })
            },
        );
        app.address = Some(address);
        app
    }

    /// Starts `binary` without waiting for anything (for start-up failures).
    pub fn spawn(binary: Binary, name: &str, env: &[(&str, String)]) -> App {
        let mut child = Command::new(binary.path())
            .env_clear()
            .env("LOG_FORMAT", "json")
            .env(
                "RUST_LOG",
                std::env::var("TEST_RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .env("HTTP_ADDRESS", "127.0.0.1")
            .env("HTTP_PORT", "0")
            .env("HOSTNAME", name)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.name()));
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let (sink, prefix) = (logs.clone(), name.to_owned());
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if ECHO_LOGS.load(Ordering::Relaxed) {
                    eprintln!("[{prefix}] {line}");
                }
                let value = serde_json::from_str(&line).unwrap_or(Value::String(line));
                sink.lock().unwrap().push(value);
            }
        });
        let stderr = child.stderr.take().unwrap();
        let (sink, prefix) = (logs.clone(), name.to_owned());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if ECHO_LOGS.load(Ordering::Relaxed) {
                    eprintln!("[{prefix} stderr] {line}");
                }
                sink.lock().unwrap().push(Value::String(line));
            }
        });
        App {
            name: name.to_owned(),
            child,
            logs,
            address: None,
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address.expect("the app listens"))
    }

    /// `GET path` -> (status, JSON body or Null).
    pub fn get(&self, path: &str) -> (u16, Value) {
        let res = self.http.get(self.url(path)).send().expect("HTTP request");
        let status = res.status().as_u16();
        (status, res.json().unwrap_or(Value::Null))
    }

    pub fn get_text(&self, path: &str) -> String {
        self.http
            .get(self.url(path))
            .send()
            .expect("HTTP request")
            .text()
            .unwrap()
    }

    /// `method path` with a JSON body -> (status, JSON body or Null).
    pub fn send_json(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let res = self
            .http
            .request(method, self.url(path))
            .json(body)
            .send()
            .expect("HTTP request");
        let status = res.status().as_u16();
        (status, res.json().unwrap_or(Value::Null))
    }

    /// Log lines (JSON objects; non-JSON lines as strings) printed so far.
    pub fn logs(&self) -> Vec<Value> {
        self.logs.lock().unwrap().clone()
    }

    /// Log lines whose `message` equals `message`.
    pub fn logged(&self, message: &str) -> Vec<Value> {
        self.logs()
            .into_iter()
            .filter(|l| l["message"] == message)
            .collect()
    }

    /// Waits for a log line whose `message` is `message` and returns it.
    pub fn wait_for_log(&self, message: &str, timeout: Duration) -> Value {
        crate::wait_for(&format!("{}: log {message:?}", self.name), timeout, || {
            self.logged(message).pop()
        })
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    pub fn signal(&self, signal: Signal) {
        let _ = kill(self.pid(), signal);
    }

    /// Waits for the process to exit, returning its status and how long it took.
    pub fn wait_exit(&mut self, timeout: Duration) -> (ExitStatus, Duration) {
        let started = Instant::now();
        let status = crate::wait_for(&format!("{} to exit", self.name), timeout, || {
            self.child.try_wait().unwrap()
        });
        // Let the reader threads take the last lines.
        std::thread::sleep(Duration::from_millis(100));
        (status, started.elapsed())
    }

    /// SIGTERM, then wait for the exit.
    pub fn terminate(&mut self, timeout: Duration) -> (ExitStatus, Duration) {
        self.signal(Signal::SIGTERM);
        self.wait_exit(timeout)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The partitions a consumer holds now, as its `GET /stats` reports them (empty when it
/// does not answer).
pub fn assignment(consumer: &App) -> std::collections::BTreeSet<i32> {
    let Ok(response) = consumer.http.get(consumer.url("/stats")).send() else {
        return Default::default();
    };
    let stats: Value = response.json().unwrap_or_default();
    stats["assignment"]
        .as_array()
        .map(|partitions| {
            partitions
                .iter()
                .filter_map(|p| p["partition"].as_i64())
                .map(|p| p as i32)
                .collect()
        })
        .unwrap_or_default()
}

/// A consumer replica as the tests run it: in `group`, on `topic`, writing its ledger to
/// `ledger`, with a 6 s session timeout (the shortest both test brokers accept; Tansu
/// holds a first JoinGroup for half of it).
pub fn start_consumer(
    name: &str,
    brokers: &str,
    topic: &str,
    group: &str,
    ledger: &std::path::Path,
) -> App {
    App::start(
        Binary::Consumer,
        name,
        &[
            ("kafka.brokers", brokers.to_owned()),
            ("kafka.topics", topic.to_owned()),
            ("kafka.groupId", group.to_owned()),
            ("kafka.session.timeout", "6000".into()),
            ("ledger.file", ledger.display().to_string()),
        ],
    )
}
