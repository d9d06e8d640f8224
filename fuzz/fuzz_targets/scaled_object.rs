//! A ScaledObject (YAML): never a panic; what cannot be read is refused in one line, and
//! each problem KEDA's rules find is one line naming its field.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match lab_model::keda::check_text(text, "fuzz.yaml") {
        Err(e) => {
            let message = e.to_string();
            assert!(!message.contains('\n'), "a multi-line error: {message}");
        }
        Ok(checked) => {
            for problem in checked.problems.iter().chain(&checked.not_emulated) {
                let line = problem.to_string();
                assert!(!line.contains('\n'), "a multi-line problem: {line}");
            }
            let _ = lab_model::advice::advise(&checked, Some(10));
            let _ = checked.into_spec();
        }
    }
});
