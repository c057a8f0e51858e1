//! # nova-identity
//!
//! Crypto core of Nova's identity domain.
pub mod password;
