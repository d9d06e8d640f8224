//! A scenario file (TOML or YAML): never a panic, and a malformed one is refused in one
//! line; an accepted one runs through `lab simulate` when it is short.
#![no_main]

use lab_model::scenario::{Format, Scenario};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for format in [Format::Toml, Format::Yaml] {
        match Scenario::parse(text, format) {
            Err(e) => {
                let message = format!("{e:#}");
                assert!(!message.contains('\n'), "a multi-line error: {message}");
            }
            Ok(scenario) => {
                let _ = scenario.outages();
                let _ = scenario.scaler_errors();
                if scenario.seconds() <= 600 {
                    if let Ok(loaded) = scenario.load_scaled_object() {
                        let _ = lab_model::simulate::run(&scenario, &loaded.spec, 1);
                    }
                }
            }
        }
    }
});
