//! The `lab` command line: wiring only.
fn main() {}
