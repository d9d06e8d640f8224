//! What a read of the cluster can meet, each said in one line that names what was asked:
//! the verb and resource a Role lacks, the object that does not exist (and the ones that
//! do), the external metrics API that is not served, the API server that cannot be reached.

use std::fmt;

/// One request to the API: what the lab asked for, as RBAC names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `get`, `list` or `watch` (a GET of a collection is `list` to the authorizer).
    pub verb: &'static str,
    /// The resource (`scaledobjects`, `deployments/scale`, a metric's name).
    pub resource: String,
    /// Its API group (`keda.sh`, `apps`; empty for the core group).
    pub group: &'static str,
    /// The object's name, when one object was asked for.
    pub name: Option<String>,
}

impl Request {
    pub fn get(group: &'static str, resource: impl Into<String>, name: &str) -> Self {
        Self {
            verb: "get",
            resource: resource.into(),
            group,
            name: Some(name.to_owned()),
        }
    }

    pub fn list(group: &'static str, resource: impl Into<String>) -> Self {
        Self {
            verb: "list",
            resource: resource.into(),
            group,
            name: None,
        }
    }

    pub fn watch(group: &'static str, resource: impl Into<String>) -> Self {
        Self {
            verb: "watch",
            ..Self::list(group, resource)
        }
    }

    /// `scaledobjects.keda.sh`, or `events` for the core group.
    pub fn qualified(&self) -> String {
        match self.group {
            "" => self.resource.clone(),
            group => format!("{}.{group}", self.resource),
        }
    }
}

/// A read of the cluster that did not give what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// 403: the Role (or ClusterRole) lacks the verb on the resource.
    #[error("forbidden: {who} may not {verb} {resource} in namespace {namespace}: the Role needs verb \"{verb}\" on resource \"{plain}\" in API group \"{group}\" (k8s/lab-record grants what lab needs)", verb = .request.verb, resource = .request.qualified(), plain = .request.resource, group = .request.group)]
    Forbidden {
        request: Box<Request>,
        namespace: String,
        /// The user the API server named (`system:serviceaccount:lab:lab-record`).
        who: String,
    },
    /// 404 for one object; `others` lists what the namespace has of that kind, when known.
    #[error("{kind} {name} not found in namespace {namespace}{}", others_text(.others))]
    NotFound {
        kind: &'static str,
        name: String,
        namespace: String,
        others: Option<Vec<String>>,
    },
    /// The external metrics API answered 404 or 503: KEDA's metrics server is not
    /// registered (KEDA not installed) or not running.
    #[error("the external metrics API is not served ({code}: {message}): is KEDA installed, and is keda-operator-metrics-apiserver running? (kubectl get apiservice v1beta1.external.metrics.k8s.io)")]
    MetricsNotServed { code: u16, message: String },
    /// Any other answer of the API server (a 500, a 422).
    #[error("{request} answered {code}{}: {message}", reason_text(.reason))]
    Api {
        request: Box<Request>,
        code: u16,
        reason: String,
        message: String,
    },
    /// Something the lab does not read (another kind of scale target).
    #[error("{0}")]
    Unsupported(String),
    /// No answer: the API server or the connection is gone.
    #[error("cannot reach the API server: {0}")]
    Unreachable(String),
}

fn others_text(others: &Option<Vec<String>>) -> String {
    match others.as_deref() {
        None => String::new(),
        Some([]) => " (it has none)".into(),
        Some(names) => format!(" (it has: {})", names.join(", ")),
    }
}

fn reason_text(reason: &str) -> String {
    match reason {
        "" => String::new(),
        reason => format!(" {reason}"),
    }
}

impl ReadError {
    /// The error a kube client call for `request` in `namespace` ended with.
    pub fn from_kube(error: kube::Error, request: Request, namespace: &str) -> Self {
        match error {
            kube::Error::Api(status) => {
                let code = status.code;
                let message = lab_model::line::one_line(&status.message);
                match code {
                    403 => ReadError::Forbidden {
                        who: user_in(&message).unwrap_or_else(|| "this user".into()),
                        request: Box::new(request),
                        namespace: namespace.to_owned(),
                    },
                    404 => ReadError::NotFound {
                        kind: kind_of(&request.resource),
                        name: request.name.clone().unwrap_or_default(),
                        namespace: namespace.to_owned(),
                        others: None,
                    },
                    _ => ReadError::Api {
                        request: Box::new(request),
                        code,
                        reason: status.reason.clone(),
                        message,
                    },
                }
            }
            other => ReadError::Unreachable(lab_model::line::one_line(&other.to_string())),
        }
    }

    /// Whether the API server could not be reached at all (as opposed to an answer).
    pub fn unreachable(&self) -> bool {
        matches!(self, ReadError::Unreachable(_))
    }
}

/// The user a Forbidden message names: `User "system:serviceaccount:ns:sa" cannot ...`.
fn user_in(message: &str) -> Option<String> {
    let rest = message.split("User \"").nth(1)?;
    Some(format!("User \"{}\"", rest.split('"').next()?))
}

/// The kind a resource's objects are, for messages.
fn kind_of(resource: &str) -> &'static str {
    match resource.split('/').next().unwrap_or(resource) {
        "scaledobjects" => "ScaledObject",
        "triggerauthentications" => "TriggerAuthentication",
        "clustertriggerauthentications" => "ClusterTriggerAuthentication",
        "horizontalpodautoscalers" => "HorizontalPodAutoscaler",
        "deployments" => "Deployment",
        "statefulsets" => "StatefulSet",
        "secrets" => "Secret",
        "events" => "Event",
        _ => "object",
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.verb, self.qualified())?;
        if let Some(name) = &self.name {
            write!(f, " {name}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_is_one_line_naming_what_was_asked() {
        let forbidden = ReadError::Forbidden {
            request: Box::new(Request::list("keda.sh", "scaledobjects")),
            namespace: "lab".into(),
            who: "User \"system:serviceaccount:lab:lab-record\"".into(),
        };
        assert_eq!(
            forbidden.to_string(),
            "forbidden: User \"system:serviceaccount:lab:lab-record\" may not list scaledobjects.keda.sh in namespace lab: the Role needs verb \"list\" on resource \"scaledobjects\" in API group \"keda.sh\" (k8s/lab-record grants what lab needs)"
        );
        let missing = ReadError::NotFound {
            kind: "ScaledObject",
            name: "orders".into(),
            namespace: "lab".into(),
            others: Some(vec!["kafka-consumer".into(), "payments".into()]),
        };
        assert_eq!(
            missing.to_string(),
            "ScaledObject orders not found in namespace lab (it has: kafka-consumer, payments)"
        );
        assert_eq!(
            user_in("scaledobjects.keda.sh is forbidden: User \"u\" cannot list resource"),
            Some("User \"u\"".into())
        );
    }
}
