//! The `main` of both binaries: telemetry, configuration, runtime, listener, signals.
//!
//! A binary implements [`Service`] and its `main.rs` is one call to [`main`]. The
//! library's `run(config, listener, shutdown)` stays what tests drive directly.
//! Exit codes: 0 after a clean drain, 2 for invalid configuration (one line on stderr
//! naming the key and value), 1 for any other failure, 130 after a second signal.

use anyhow::Context as _;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::{ConfigError, Env, Kind, Preset, Setting, EXIT_CONFIG};
use crate::kafka::security;

pub const HTTP_PORT: Setting = Setting {
    key: "http.port",
    kind: Kind::Port,
    default: Preset::Value("8080"),
    meaning: "HTTP port (0: any free port)",
};
pub const HTTP_ADDRESS: Setting = Setting {
    key: "http.address",
    kind: Kind::Address,
    default: Preset::Value("0.0.0.0"),
    meaning: "HTTP bind address",
};
pub const LEDGER_FILE: Setting = Setting {
    key: "ledger.file",
    kind: Kind::Path,
    default: Preset::Unset("none"),
    meaning: "append one JSON line per delivered (producer) or processed (consumer) event, for accounting",
};

/// The settings both binaries read: HTTP, the ledger, and the connection's security.
pub const SHARED_SETTINGS: &[&Setting] = &[
    &HTTP_PORT,
    &HTTP_ADDRESS,
    &LEDGER_FILE,
    &security::SECURITY_PROTOCOL,
    &security::SASL_MECHANISM,
    &security::SASL_USERNAME,
    &security::SASL_PASSWORD,
    &security::SSL_CA_LOCATION,
];

/// Where the HTTP server listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpSettings {
    /// Address to bind (`http.address` / `HTTP_ADDRESS`, default `0.0.0.0` so the pod's
    /// probes and Prometheus reach it).
    pub address: IpAddr,
    /// Port (`http.port` / `HTTP_PORT`, default 8080; 0 picks a free port).
    pub port: u16,
}

impl HttpSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            address: env.address(&HTTP_ADDRESS)?,
            port: env.port(&HTTP_PORT)?,
        })
    }

    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.port)
    }
}

/// This instance's id: the pod name (`HOSTNAME`) when set, otherwise a random one.
pub fn instance_id(env: &Env) -> String {
    match env.get("HOSTNAME").map(str::trim) {
        Some(host) if !host.is_empty() => host.to_owned(),
        _ => format!("local-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
    }
}

/// A long-running service with an HTTP side.
pub trait Service {
    /// The binary's name, as in the published demo's images.
    const NAME: &'static str;
    /// Every setting the service reads, for the shadowing warning.
    fn settings() -> Vec<&'static Setting>;
    type Config: Send + 'static;

    /// Reads and validates the configuration.
    fn load(env: &Env) -> Result<Self::Config, ConfigError>;
    fn http(config: &Self::Config) -> HttpSettings;
    /// Runs until `shutdown` is cancelled and the drain is over.
    fn run(
        config: Self::Config,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// Runs `S` as a process and returns its exit code.
pub fn main<S: Service>() -> ExitCode {
    crate::telemetry::init();
    let env = Env::from_process();
    let config = match S::load(&env) {
        Ok(config) => config,
        Err(err) => return config_exit(S::NAME, &err),
    };
    for shadowed in env.shadowed(&S::settings()) {
        tracing::warn!(used = %shadowed.used, ignored = %shadowed.ignored, "setting given twice with different values: the first spelling wins");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("{}: cannot start the runtime: {err}", S::NAME);
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let shutdown = crate::shutdown::on_signal()?;
        let address = S::http(&config).socket_addr();
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        tracing::info!(address = %listener.local_addr()?, "listening");
        S::run(config, listener, shutdown).await
    });
    // Blocking work that outlived its bound (a client close against a dead broker) must
    // not hold the process: give it a moment, then leave.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => match err.downcast_ref::<ConfigError>() {
            Some(config_err) => config_exit(S::NAME, config_err),
            None => {
                tracing::error!(error = format!("{err:#}"), "stopped with an error");
                ExitCode::FAILURE
            }
        },
    }
}

fn config_exit(name: &str, err: &ConfigError) -> ExitCode {
    eprintln!("{name}: {err}");
    ExitCode::from(EXIT_CONFIG as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_settings() {
        let s = HttpSettings::from_env(&Env::default()).unwrap();
        assert_eq!(s.socket_addr().to_string(), "0.0.0.0:8080");
        let env = Env::from_pairs([("HTTP_ADDRESS", "127.0.0.1"), ("http.port", "0")]);
        assert_eq!(
            HttpSettings::from_env(&env)
                .unwrap()
                .socket_addr()
                .to_string(),
            "127.0.0.1:0"
        );
        let err =
            HttpSettings::from_env(&Env::from_pairs([("HTTP_ADDRESS", "localhost")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid http.address=\"localhost\": expected an IP address such as 0.0.0.0"
        );
    }

    #[test]
    fn instance_id_prefers_hostname() {
        assert_eq!(
            instance_id(&Env::from_pairs([("HOSTNAME", "pod-1")])),
            "pod-1"
        );
        assert!(instance_id(&Env::default()).starts_with("local-"));
    }
}
