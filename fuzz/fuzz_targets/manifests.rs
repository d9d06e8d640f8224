//! A whole manifest set (multi-document YAML, as `lab check-manifests` reads it): never a
//! panic; what is not YAML is refused in one line, and every check runs on the rest.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match lab_manifests::documents(text, "fuzz.yaml", Path::new(".")) {
        Err(message) => assert!(!message.contains('\n'), "a multi-line error: {message}"),
        Ok(documents) => {
            let _ = lab_manifests::check(&documents, &lab_manifests::Context::default());
        }
    }
});
