//! The consumer binary: wiring only; see the library for what it does.

/// mimalloc for every allocation of the process, librdkafka's too (`override`). The
/// consume thread frees the records librdkafka's broker thread allocated; with glibc's
/// malloc each free waits on the broker thread's arena lock (the benchmark's drain:
/// 153 ms median against 112 ms). mimalloc 2 (`v2`) without transparent huge pages
/// (`no_thp`): mimalloc 3, or huge pages, held two to three times the memory while a
/// replica drained a backlog (tests/tests/backlog.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    common::service::main::<consumer::Consumer>()
}
