//! Criterion benches of Nova's hot paths live in `benches/`; run them with
//! `cargo bench -p nova-benches`. Each bench reports throughput (elements/second) and
//! states its target in a comment; the README lists measured figures beside the targets.

pub mod stream;
