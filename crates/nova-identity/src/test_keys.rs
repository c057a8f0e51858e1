//! RSA keys shared by the unit tests: generated once per test binary.

use std::sync::LazyLock;

use crate::keys::SigningKey;

/// The identity service's key in tests.
pub(crate) static KEY_A: LazyLock<SigningKey> =
    LazyLock::new(|| SigningKey::generate("key-a").unwrap());

/// A second key: the next key in rotation tests, the attacker's key in forgery tests.
pub(crate) static KEY_B: LazyLock<SigningKey> =
    LazyLock::new(|| SigningKey::generate("key-b").unwrap());
