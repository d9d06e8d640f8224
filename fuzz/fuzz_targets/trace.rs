//! A trace (JSON lines, `lab plan --trace`, `lab tune --trace`): never a panic, and a
//! malformed one is refused in one line; an accepted one replays through the emulator as
//! `lab plan` does (its first hour).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match lab_model::trace::parse_trace(text) {
        Err(e) => {
            let message = format!("{e:#}");
            assert!(!message.contains('\n'), "a multi-line error: {message}");
        }
        Ok(samples) => {
            let spec = lab_model::keda::load_text(lab_model::keda::REPOSITORY_SCALED_OBJECT, "so")
                .expect("the repository's ScaledObject loads")
                .spec;
            let until = samples.last().map_or(0.0, |s| s.t).min(3600.0);
            let _ = lab_model::plan::run(spec, &samples, 1, Some(until), &mut std::io::sink());
        }
    }
});
