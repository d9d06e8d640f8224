//! A TLS front for a plaintext broker: it terminates TLS with a certificate a test made
//! and forwards the bytes to the broker, as a TLS-terminating load balancer in front of
//! Kafka does. The broker advertises the front's address, so every connection a client
//! makes (bootstrap and then each broker) is TLS from the client's side.
//!
//! Why not Tansu's own TLS: the pinned build declares `--cert` and `--key` in one clap
//! group, so the two exclude each other and TLS cannot be switched on from its command line
//! (tansu-cli `cli/broker.rs`, `#[arg(group = "tls", long)]` on both).

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// Serves TLS on `listener` for `upstream`, on a thread of its own, for the life of the
/// test process. A client that does not speak TLS gets its connection closed.
pub fn start(listener: StdListener, cert: &Path, key: &Path, upstream: SocketAddr) {
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
    let acceptor = TlsAcceptor::from(Arc::new(config));
    listener.set_nonblocking(true).unwrap();
    std::thread::Builder::new()
        .name("tls-front".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                while let Ok((client, _)) = listener.accept().await {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        let Ok(mut tls) = acceptor.accept(client).await else {
                            return;
                        };
                        let Ok(mut broker) = TcpStream::connect(upstream).await else {
                            return;
                        };
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut broker).await;
                    });
                }
            });
        })
        .expect("spawn the TLS front");
}
