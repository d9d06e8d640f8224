//! Figure 5, footprint: release binary sizes, runtime image sizes (when
//! `scripts/image-check` has built the images here), and idle resident memory of both
//! binaries (the under-load figures come from the drain and burst runs).

use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use harness::Binary;

use crate::broker::Broker;
use crate::figures::{consumer_env, producer_env, start};
use crate::process::resident;
use crate::scrape::{get, poll_until};
use crate::Options;

/// Idle resident memory, bytes.
#[derive(Debug, Clone, Copy)]
pub struct Idle {
    pub producer: u64,
    pub consumer: u64,
}

/// How long both binaries idle before their memory is read.
pub const IDLE: Duration = Duration::from_secs(10);

/// One binary on disk and as a runtime image.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// Size of the release binary, bytes.
    pub bytes: u64,
    /// The image `scripts/image-check` built here, if any.
    pub image: Option<Image>,
}

/// The producer's and the consumer's sizes, in that order, read once.
pub fn artifacts() -> anyhow::Result<Vec<Artifact>> {
    [Binary::Producer, Binary::Consumer]
        .into_iter()
        .map(|binary| {
            Ok(Artifact {
                bytes: binary_size(binary)?,
                image: image(binary),
            })
        })
        .collect()
}

/// Size of the binary file, bytes.
pub fn binary_size(binary: Binary) -> anyhow::Result<u64> {
    let path = binary.path();
    Ok(std::fs::metadata(&path)
        .with_context(|| path.display().to_string())?
        .len())
}

/// A runtime image `scripts/image-check` built here: its size and when it was built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub bytes: u64,
    /// podman's `Created`, to the minute: an image is only as new as its last build.
    pub created: String,
}

/// `localhost/<binary>:check` as podman reports it, if that image exists here.
pub fn image(binary: Binary) -> Option<Image> {
    let out = Command::new("podman")
        .args(["image", "inspect", "--format", "{{.Size}} {{.Created}}"])
        .arg(format!("localhost/{}:check", binary.name()))
        .output()
        .ok()?;
    out.status.success().then_some(())?;
    parse_inspect(&String::from_utf8_lossy(&out.stdout))
}

/// `"9409402 2026-11-28 07:33:05.123 +0000 UTC"` -> 9409402 bytes, built 2026-11-28 07:33.
fn parse_inspect(text: &str) -> Option<Image> {
    let mut parts = text.split_whitespace();
    let bytes = parts.next()?.parse().ok()?;
    let (date, time) = (parts.next()?, parts.next()?);
    Some(Image {
        bytes,
        created: format!("{date} {}", time.get(..5)?),
    })
}

/// Both binaries at the default period (1000 ms) on `topic`, after they are ready and
/// have idled for [`IDLE`].
pub fn idle(options: &Options, broker: &Broker, topic: &str) -> anyhow::Result<Idle> {
    let mut producer = start(
        options,
        Binary::Producer,
        "producer",
        &producer_env(broker, topic),
    );
    let mut consumer = start(
        options,
        Binary::Consumer,
        "consumer",
        &consumer_env(broker, topic, "bench-idle"),
    );
    for app in [&producer, &consumer] {
        poll_until(
            "readiness",
            Duration::from_millis(50),
            Duration::from_secs(60),
            || get(app, "/health/ready").is_some_and(|(status, _)| status == 200),
        )?;
    }
    std::thread::sleep(IDLE);
    let rss = |app: &harness::App| {
        resident(app.pid().as_raw() as u32)
            .map(|(rss, _)| rss)
            .with_context(|| format!("memory of {}", app.name))
    };
    let idle = Idle {
        producer: rss(&producer)?,
        consumer: rss(&consumer)?,
    };
    producer.terminate(Duration::from_secs(30));
    consumer.terminate(Duration::from_secs(30));
    Ok(idle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_size_and_build_time_from_podman_inspect() {
        let image = parse_inspect("9409402 2026-11-28 07:33:05.123456 +0000 UTC\n").unwrap();
        assert_eq!(image.bytes, 9409402);
        assert_eq!(image.created, "2026-11-28 07:33");
        assert_eq!(parse_inspect("no such image"), None);
    }
}
