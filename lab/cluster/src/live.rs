//! The objects a recording follows, kept current by watches: the ScaledObject, its HPA,
//! the scale target (a Deployment), and the events about the first two. Each holds its
//! latest version and whether its watch is failing now: a failing watch makes its cells
//! empty until it recovers (kube's watcher re-lists after a backoff).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Event;

use crate::api::Cluster;
use crate::error::ReadError;
use crate::objects::EventLine;

/// One watched object: its latest version, and the error its watch is failing with.
#[derive(Debug, Clone)]
pub struct Watched<T> {
    pub value: Option<T>,
    pub failing: Option<ReadError>,
    /// Whether the watch has answered at all yet.
    pub answered: bool,
}

impl<T> Default for Watched<T> {
    fn default() -> Self {
        Self {
            value: None,
            failing: None,
            answered: false,
        }
    }
}

impl<T: Clone> Watched<T> {
    /// The latest version (`None`: the object is gone), unless the watch is failing now or
    /// has not answered yet (an empty cell).
    pub fn current(&self) -> Result<Option<T>, ReadError> {
        match (&self.failing, self.answered) {
            (Some(e), _) => Err(e.clone()),
            (None, false) => Err(ReadError::Unreachable(
                "the watch has not answered yet".into(),
            )),
            (None, true) => Ok(self.value.clone()),
        }
    }
}

impl Live {
    /// Whether every object's watch has answered (its first list, or an error).
    pub fn answered(&self) -> bool {
        self.scaled_object.answered && self.hpa.answered && self.target.answered
    }
}

/// What the watches have seen so far.
#[derive(Debug, Default)]
pub struct Live {
    pub scaled_object: Watched<serde_json::Value>,
    pub hpa: Watched<HorizontalPodAutoscaler>,
    pub target: Watched<Deployment>,
    /// Events not yet written, in the order they came.
    pub events: Vec<EventLine>,
    /// Errors of the events watch not yet reported.
    pub event_errors: Vec<ReadError>,
    /// Each event seen (by uid) with the count it had.
    seen: HashMap<String, i32>,
}

/// Starts the watches; they run until the returned handles are dropped (aborted).
pub fn follow(
    cluster: &Cluster,
    scaled_object: &str,
    hpa: &str,
    target: &str,
    started: Instant,
) -> (Arc<Mutex<Live>>, Vec<tokio::task::JoinHandle<()>>) {
    let live = Arc::new(Mutex::new(Live::default()));
    let mut tasks = vec![
        keep(
            live.clone(),
            cluster.watch_scaled_object(scaled_object),
            |l| &mut l.scaled_object,
        ),
        keep(live.clone(), cluster.watch_hpa(hpa), |l| &mut l.hpa),
        keep(live.clone(), cluster.watch_deployment(target), |l| {
            &mut l.target
        }),
    ];
    let about: Vec<String> = vec![scaled_object.to_owned(), hpa.to_owned()];
    let events = cluster.watch_events();
    let shared = live.clone();
    tasks.push(tokio::spawn(async move {
        futures::pin_mut!(events);
        while let Some(item) = events.next().await {
            let mut live = shared.lock().unwrap_or_else(|e| e.into_inner());
            match item {
                Ok(event) => live.saw(&event, &about, started),
                Err(e) => live.event_errors.push(e),
            }
        }
    }));
    (live, tasks)
}

/// Keeps `field` of `live` up to date from `stream`.
fn keep<T: Send + 'static>(
    live: Arc<Mutex<Live>>,
    stream: impl Stream<Item = Result<Option<T>, ReadError>> + Send + 'static,
    field: fn(&mut Live) -> &mut Watched<T>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        futures::pin_mut!(stream);
        while let Some(item) = stream.next().await {
            let mut live = live.lock().unwrap_or_else(|e| e.into_inner());
            let watched = field(&mut live);
            watched.answered = true;
            match item {
                Ok(value) => {
                    watched.value = value;
                    watched.failing = None;
                }
                Err(e) => watched.failing = Some(e),
            }
        }
    })
}

impl Live {
    /// An event, kept when it is about one of `about` and new (or counted again).
    fn saw(&mut self, event: &Event, about: &[String], started: Instant) {
        let name = event.involved_object.name.as_deref().unwrap_or_default();
        if !about.iter().any(|a| a == name) {
            return;
        }
        let line = EventLine::of(event, started.elapsed().as_secs_f64());
        let uid = event.metadata.uid.clone().unwrap_or_else(|| {
            format!(
                "{}/{}",
                line.object,
                event.metadata.name.clone().unwrap_or_default()
            )
        });
        if self.seen.get(&uid) == Some(&line.count) {
            return;
        }
        self.seen.insert(uid, line.count);
        self.events.push(line);
    }
}
