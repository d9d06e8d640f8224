//! The producer binary: wiring only; see the library for what it does.

fn main() -> std::process::ExitCode {
    common::service::main::<producer::Producer>()
}
