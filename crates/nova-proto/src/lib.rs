//! nova-proto
