//! nova-db
