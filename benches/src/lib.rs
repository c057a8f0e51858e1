//! Criterion benches of Nova hot paths.
