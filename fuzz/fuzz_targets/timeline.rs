//! A `timeline.csv` (a replay's, or one recorded on a cluster): never a panic; a malformed
//! one is refused in one line, and an accepted one gets each phase's outcome.
#![no_main]

use lab_model::timeline::Timeline;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match Timeline::parse_csv(text, "timeline.csv", "fuzz", None) {
        Err(e) => {
            let message = format!("{e:#}");
            assert!(!message.contains('\n'), "a multi-line error: {message}");
        }
        Ok(timeline) => {
            for phase in 0..timeline.scenario.phases.len() {
                let _ = timeline.outcome(phase);
            }
        }
    }
});
