//! # nova-identity
//!
//! Crypto core of Nova's identity domain.
pub mod keys;
pub mod password;
pub mod token_cache;
pub mod tokens;
pub mod totp;

#[cfg(test)]
mod test_keys;
