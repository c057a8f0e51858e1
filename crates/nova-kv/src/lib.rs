//! nova-kv
