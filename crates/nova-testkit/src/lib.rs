//! nova-testkit
