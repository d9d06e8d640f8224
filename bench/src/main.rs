//! `bench`: wiring only. See the library for what is measured and how.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let options = bench::Options::parse();
    match bench::run(&options).and_then(|results| bench::publish(&results, &options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench: {err:#}");
            ExitCode::FAILURE
        }
    }
}
