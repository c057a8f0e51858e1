//! Integration tests of nova-runtime: one test binary, one module per concern.

// `cfg(test)` lets clippy treat the helpers as test code (unwrap allowed).
#[cfg(test)]
mod runtime {
    pub mod common;
    mod grpc;
    mod http;
    mod shutdown;
}
