//! A front for a plaintext broker, as a TLS-terminating load balancer or a SASL gateway in
//! front of Kafka is: it terminates TLS with a certificate a test made, runs the SASL login
//! with users a test made ([`crate::sasl`]), then relays the bytes to the broker. The
//! broker advertises the front's address, so every connection a client makes (bootstrap,
//! then each broker) goes through it.
//!
//! Why not Tansu's own TLS: the pinned build declares `--cert` and `--key` in one clap
//! group, so the two exclude each other and TLS cannot be switched on from its command line
//! (tansu-cli `cli/broker.rs`, `#[arg(group = "tls", long)]` on both). Why not its own
//! SASL: see [`crate::sasl`].

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::sasl::Users;

/// What the front asks of a client before it relays the connection.
#[derive(Clone, Default)]
pub struct Front {
    /// TLS with this certificate.
    pub tls: Option<TlsAcceptor>,
    /// A SASL login by one of these users.
    pub users: Option<Arc<Users>>,
}

/// TLS with the PEM certificate and key in these files.
pub fn tls(cert: &Path, key: &Path) -> TlsAcceptor {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .expect("certificate file")
        .collect::<Result<_, _>>()
        .expect("PEM certificates");
    let key = PrivateKeyDer::from_pem_file(key).expect("PEM private key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("certificate and key match");
    TlsAcceptor::from(Arc::new(config))
}

/// Serves `front` on `listener` for `upstream`, on a thread of its own, for the life of
/// the test process. A client that does not speak TLS, or does not log in, gets its
/// connection closed.
pub fn start(listener: StdListener, front: Front, upstream: SocketAddr) {
    listener.set_nonblocking(true).unwrap();
    std::thread::Builder::new()
        .name("broker-front".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                while let Ok((client, _)) = listener.accept().await {
                    let front = front.clone();
                    tokio::spawn(async move {
                        let Ok(broker) = TcpStream::connect(upstream).await else {
                            return;
                        };
                        match &front.tls {
                            Some(acceptor) => {
                                if let Ok(tls) = acceptor.accept(client).await {
                                    relay(tls, broker, front.users).await;
                                }
                            }
                            None => relay(client, broker, front.users).await,
                        }
                    });
                }
            });
        })
        .expect("spawn the broker front");
}

async fn relay<C>(mut client: C, mut broker: TcpStream, users: Option<Arc<Users>>)
where
    C: AsyncRead + AsyncWrite + Unpin,
{
    if let Some(users) = users {
        if !matches!(
            crate::sasl::login(&mut client, &mut broker, &users).await,
            Ok(true)
        ) {
            return;
        }
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut broker).await;
}
