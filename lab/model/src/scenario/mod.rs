//! Scenarios: what the producer does phase by phase, how the consumer behaves, and which
//! ScaledObject scales it. Built in: `published`, `quick`, `original` and `diurnal`
//! ([`builtin`]); or a TOML or YAML file ([`format`]), checked before it runs
//! ([`validate`]).
//!
//! - [`format`]: the file format, every field with its unit and default;
//! - [`validate`]: what a scenario may say, each refusal naming its field;
//! - [`builtin`]: the built-in scenarios;
//! - [`topic`]: the partition count from the repository's KafkaTopic manifest;
//! - [`shape`]: how each phase's producer spreads its events.

pub mod builtin;
pub mod format;
pub mod shape;
pub mod topic;
pub mod validate;

use std::path::{Path, PathBuf};

pub use builtin::{PUBLISHED_COMMIT_MS, PUBLISHED_PROCESSING_MS};
pub use format::{
    Assignment, ConsumerModel, ErrorWindow, Format, History, Phase, Scenario, Span, Usage, Window,
};
pub use topic::manifest_partitions;

use crate::emulator::{Millis, ScalerError};
use format::default_scaled_object;

/// The repository's manifests, which the built-in scenarios read.
pub fn repo_root() -> PathBuf {
    let compiled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if compiled.join("k8s").is_dir() {
        compiled
    } else {
        PathBuf::from(".")
    }
}

impl Scenario {
    /// A built-in scenario by name, or a scenario file; checked either way.
    pub fn load(name_or_path: &str) -> anyhow::Result<Self> {
        let builtin = match name_or_path {
            "published" => Self::published()?,
            "quick" => Self::quick()?,
            "original" => Self::original(),
            "diurnal" => Self::diurnal()?,
            path => return format::from_file(Path::new(path)),
        };
        builtin.validate()?;
        Ok(builtin)
    }

    /// When phase `i` starts, ms of scenario time.
    pub fn phase_start(&self, i: usize) -> Millis {
        self.phases[..i].iter().map(|p| p.seconds * 1000).sum()
    }

    /// When the broker is away, in time order.
    pub fn outages(&self) -> Vec<Span> {
        self.windows(|p| p.broker_outage.map(|w| (w, ())))
            .into_iter()
            .map(|(span, ())| span)
            .collect()
    }

    /// When KEDA's scaler fails while the broker serves the workload, and with what.
    pub fn scaler_errors(&self) -> Vec<(Span, ScalerError)> {
        self.windows(|p| {
            p.scaler_error.as_ref().map(|e| {
                (
                    Window {
                        after_s: e.after_s,
                        seconds: e.seconds,
                    },
                    e.error,
                )
            })
        })
    }

    fn windows<T>(&self, window: impl Fn(&Phase) -> Option<(Window, T)>) -> Vec<(Span, T)> {
        self.phases
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let (w, what) = window(p)?;
                let start = self.phase_start(i) + w.after_s * 1000;
                Some((
                    Span {
                        start,
                        end: start + w.seconds * 1000,
                    },
                    what,
                ))
            })
            .collect()
    }

    /// The ScaledObject path, resolved against the repository root.
    pub fn scaled_object_path(&self) -> PathBuf {
        if self.scaled_object.is_absolute() {
            self.scaled_object.clone()
        } else {
            repo_root().join(&self.scaled_object)
        }
    }

    /// The scenario's ScaledObject, checked; the repository's default is compiled in, so
    /// the built-in scenarios also run where the repository is not.
    pub fn load_scaled_object(&self) -> Result<crate::keda::Loaded, crate::keda::LoadError> {
        let path = self.scaled_object_path();
        if self.scaled_object == default_scaled_object() && !path.exists() {
            return crate::keda::load_text(
                crate::keda::REPOSITORY_SCALED_OBJECT,
                "k8s/keda/scaled-object.yaml (compiled in)",
            );
        }
        crate::keda::load(&path)
    }

    /// The scenario's ScaledObject or ScaledJob, checked.
    pub fn load_scalable(&self) -> Result<crate::keda::Scalable, crate::keda::LoadError> {
        if self.scaled_object == default_scaled_object() && !self.scaled_object_path().exists() {
            return self
                .load_scaled_object()
                .map(|l| crate::keda::Scalable::Object(Box::new(l)));
        }
        crate::keda::load_scalable(&self.scaled_object_path())
    }

    /// Total length, seconds.
    pub fn seconds(&self) -> u64 {
        self.phases.iter().map(|p| p.seconds).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_shapes_land_in_scenario_time() {
        let mut s = Scenario::published().unwrap();
        s.phases[2].broker_outage = Some(Window {
            after_s: 10,
            seconds: 25,
        });
        s.phases[3].scaler_error = Some(ErrorWindow {
            error: ScalerError::TopicNotFound,
            after_s: 0,
            seconds: 5,
        });
        s.phases[1].hot_partition_share = Some(0.5);
        assert_eq!(
            s.outages(),
            [Span {
                start: 280_000,
                end: 305_000
            }]
        );
        assert_eq!(
            s.scaler_errors(),
            [(
                Span {
                    start: 510_000,
                    end: 515_000
                },
                ScalerError::TopicNotFound
            )]
        );
        assert_eq!(s.shape(1).hot_share, 0.5);
        assert!(s.shape(0).is_keyed());
    }
}
