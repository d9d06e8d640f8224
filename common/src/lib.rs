//! Shared pieces of the keda-kafka-lab workload.
//!
//! The producer and the consumer are two small services with the same skeleton: read the
//! environment ([`config`]), talk to Kafka ([`kafka`]) with one event format ([`event`]),
//! serve health and metrics over HTTP ([`http`]), log ([`telemetry`]) and stop cleanly on
//! SIGTERM ([`shutdown`]). [`service`] wires these together for each binary's `main`, and
//! [`ledger`] lets tests account for every event.

pub mod config;
pub mod event;
pub mod http;
pub mod kafka;
pub mod ledger;
pub mod service;
pub mod shutdown;
pub mod telemetry;
