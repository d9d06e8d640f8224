//! Reading the project's binaries from outside, the way an operator would: `/stats` and
//! `/health/live`.

use std::time::{Duration, Instant};

use harness::App;

/// `GET path` without panicking: `None` while the app does not answer.
pub fn get(app: &App, path: &str) -> Option<(u16, String)> {
    let response = app.http.get(app.url(path)).send().ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().unwrap_or_default()))
}

/// Field `field` of `GET /stats` (both binaries have one: the consumer's counts what it
/// processed, the producer's what it sent and what was delivered).
pub fn stat(app: &App, field: &str) -> Option<u64> {
    let (status, text) = get(app, "/stats")?;
    let body: serde_json::Value = serde_json::from_str(&text).ok()?;
    (status == 200).then(|| body[field].as_u64()).flatten()
}

/// Polls `check` every `every` until it is true; returns when that was first seen.
pub fn poll_until(
    what: &str,
    every: Duration,
    timeout: Duration,
    mut check: impl FnMut() -> bool,
) -> anyhow::Result<Instant> {
    harness::try_wait_for(what, every, timeout, || check().then(Instant::now))
        .map_err(anyhow::Error::msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_until_reports_what_it_waited_for() {
        let err = poll_until(
            "the moon",
            Duration::from_millis(1),
            Duration::from_millis(20),
            || false,
        )
        .unwrap_err();
        assert!(err.to_string().contains("the moon"), "{err}");
        let mut n = 0;
        poll_until(
            "three calls",
            Duration::from_millis(1),
            Duration::from_secs(1),
            || {
                n += 1;
                n == 3
            },
        )
        .unwrap();
        assert_eq!(n, 3);
    }
}
