//! nova-runtime
