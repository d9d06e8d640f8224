//! Where a bootstrap address leads, as a pod's DNS resolves it in a cluster.
//!
//! A pod's resolver searches `<its namespace>.svc.cluster.local`, `svc.cluster.local` and
//! `cluster.local` (with `ndots: 5`), so a bare Service name resolves in the namespace of
//! the pod that asks. keda-operator asks from its own namespace (`keda`): a trigger's
//! bare `my-cluster-kafka-bootstrap:9092` finds nothing there (a KEDA maintainer on
//! kedacore/keda#5442: without the namespace KEDA looks inside its own namespace), while
//! the consumer, in the demo's namespace, resolves the same string fine.

/// A `host:port` as a pod in some namespace reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A Service of the cluster. `namespace` is `None` when the asking pod's namespace is
    /// unknown (a manifest without one lands wherever kubectl applies it).
    Service {
        name: String,
        namespace: Option<String>,
        port: u16,
        /// Written as a bare name (resolved in the asking pod's namespace).
        bare: bool,
    },
    /// Outside the cluster's Service DNS (a managed Kafka, an IP address).
    External { host: String, port: u16 },
}

impl Target {
    /// The same destination, whatever the spelling.
    pub fn same_as(&self, other: &Target) -> bool {
        match (self, other) {
            (
                Target::Service {
                    name: a,
                    namespace: na,
                    port: pa,
                    ..
                },
                Target::Service {
                    name: b,
                    namespace: nb,
                    port: pb,
                    ..
                },
            ) => a == b && pa == pb && (na == nb || na.is_none() || nb.is_none()),
            (Target::External { host: a, port: pa }, Target::External { host: b, port: pb }) => {
                a.eq_ignore_ascii_case(b) && pa == pb
            }
            _ => false,
        }
    }
}

/// Resolves `address` (`host:port`, optionally `scheme://`) for a pod in `from`;
/// `namespaces` are the namespaces these manifests use (a two-label name `a.b` is a
/// Service only when `b` is one of them, else an outside domain).
pub fn resolve(address: &str, from: Option<&str>, namespaces: &[&str]) -> Result<Target, String> {
    let address = address.trim();
    let bare_address = address.split_once("://").map_or(address, |(_, rest)| rest);
    let (host, port) = bare_address
        .rsplit_once(':')
        .ok_or_else(|| format!("{address:?} has no :port"))?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("{address:?}: port {port:?} is not 1..=65535"))?;
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return Err(format!("{address:?} has no host"));
    }
    let ip = host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[');
    if ip || host == "localhost" {
        return Ok(Target::External { host, port });
    }
    let labels: Vec<&str> = host.split('.').collect();
    let service = |namespace: Option<&str>, bare: bool| Target::Service {
        name: labels[0].to_owned(),
        namespace: namespace.map(str::to_owned),
        port,
        bare,
    };
    Ok(match labels.as_slice() {
        [_] => service(from, true),
        [_, ns] if namespaces.contains(ns) => service(Some(ns), false),
        [_, ns, "svc", ..] => service(Some(ns), false),
        _ => Target::External { host, port },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(name: &str, ns: Option<&str>, port: u16, bare: bool) -> Target {
        Target::Service {
            name: name.into(),
            namespace: ns.map(Into::into),
            port,
            bare,
        }
    }

    #[test]
    fn names_resolve_from_the_asking_pod_s_namespace() {
        let ns = ["demo"];
        assert_eq!(
            resolve("k:9092", Some("keda"), &ns),
            Ok(svc("k", Some("keda"), 9092, true))
        );
        assert_eq!(
            resolve("k.demo:9092", Some("keda"), &ns),
            Ok(svc("k", Some("demo"), 9092, false))
        );
        assert_eq!(
            resolve("k.demo.svc:9092", None, &ns),
            Ok(svc("k", Some("demo"), 9092, false))
        );
        assert_eq!(
            resolve("PLAINTEXT://k.other.svc.cluster.local:9093", None, &ns),
            Ok(svc("k", Some("other"), 9093, false))
        );
        assert_eq!(
            resolve(
                "pkc-1.eu-west-1.aws.confluent.cloud:9092",
                Some("keda"),
                &ns
            ),
            Ok(Target::External {
                host: "pkc-1.eu-west-1.aws.confluent.cloud".into(),
                port: 9092
            })
        );
        assert!(matches!(
            resolve("example.com:9092", None, &ns),
            Ok(Target::External { .. })
        ));
        assert!(matches!(
            resolve("10.0.0.1:9092", None, &ns),
            Ok(Target::External { .. })
        ));
        assert!(resolve("k", None, &ns).unwrap_err().contains("no :port"));
        assert!(resolve("k:0", None, &ns).is_err());
    }

    #[test]
    fn the_same_service_spelled_two_ways_is_the_same_destination() {
        let ns = ["demo"];
        let from_consumer = resolve("k:9092", Some("demo"), &ns).unwrap();
        let from_keda = resolve("k.demo.svc:9092", Some("keda"), &ns).unwrap();
        assert!(from_consumer.same_as(&from_keda));
        let bare_from_keda = resolve("k:9092", Some("keda"), &ns).unwrap();
        assert!(!bare_from_keda.same_as(&from_consumer));
    }
}
