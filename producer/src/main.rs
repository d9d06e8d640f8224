//! The producer binary: wiring only; see the library for what it does.

/// mimalloc, as in the consumer (consumer/src/main.rs says why): librdkafka's threads
/// free the records the sending task allocated.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    common::service::main::<producer::Producer>()
}
