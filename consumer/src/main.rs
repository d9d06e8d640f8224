//! The consumer binary: wiring only; see the library for what it does.

fn main() -> std::process::ExitCode {
    common::service::main::<consumer::Consumer>()
}
