//! nova-events
