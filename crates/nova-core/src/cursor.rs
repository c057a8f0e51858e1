//! Opaque, tamper-evident pagination cursors.
//!
//! A cursor is the position after the last item of a page (e.g. `(created_at, id)`),
//! serialized, authenticated with HMAC-SHA256 and encoded base64url. Clients cannot read
//! or forge positions, so a cursor can never be bent into reading past a visibility
//! filter or into an expensive scan; a modified cursor is `InvalidArgument { field:
//! "cursor" }`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;

use crate::Error;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the MAC kept in each cursor: 128 bits is plenty against forgery and keeps
/// cursors short.
const TAG_LEN: usize = 16;
/// Format version, so the encoding can change without misreading old cursors.
const VERSION: u8 = 1;
/// Longest cursor accepted from a client, before any decoding work.
pub const MAX_CURSOR_LEN: usize = 1024;

/// Encodes and decodes cursors with one secret key.
#[derive(Clone)]
pub struct CursorCodec {
    key: Vec<u8>,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec { key: <redacted> }")
    }
}

impl CursorCodec {
    /// A codec keyed with `key` (use 32 random bytes in production: `NOVA_CURSOR_SECRET`).
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail.
        match HmacSha256::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        }
    }

    /// Encodes a position.
    pub fn encode<T: Serialize>(&self, position: &T) -> Result<String, Error> {
        let mut bytes = vec![VERSION];
        serde_json::to_writer(&mut bytes, position).map_err(Error::internal)?;
        let mut mac = self.mac();
        mac.update(&bytes);
        let tag = mac.finalize().into_bytes();
        bytes.extend_from_slice(&tag[..TAG_LEN]);
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Decodes a cursor received from a client. Anything not produced by
    /// [`encode`](Self::encode) with the same key is `InvalidArgument { field: "cursor" }`.
    pub fn decode<T: DeserializeOwned>(&self, cursor: &str) -> Result<T, Error> {
        let invalid = || Error::invalid("cursor", "is not a valid cursor");
        if cursor.len() > MAX_CURSOR_LEN {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        if bytes.len() < 1 + TAG_LEN || bytes[0] != VERSION {
            return Err(invalid());
        }
        let (body, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        let mut mac = self.mac();
        mac.update(body);
        // Constant-time comparison of the truncated tag.
        mac.verify_truncated_left(tag).map_err(|_| invalid())?;
        serde_json::from_slice(&body[1..]).map_err(|_| invalid())
    }

    /// Decodes an optional cursor (`None` = first page).
    pub fn decode_opt<T: DeserializeOwned>(
        &self,
        cursor: Option<&str>,
    ) -> Result<Option<T>, Error> {
        cursor
            .filter(|c| !c.is_empty())
            .map(|c| self.decode(c))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn codec() -> CursorCodec {
        CursorCodec::new(b"0123456789abcdef0123456789abcdef")
    }

    proptest! {
        #[test]
        fn round_trips(ts in any::<i64>(), id in any::<u128>(), s in ".{0,40}") {
            let pos = (ts, id.to_string(), s);
            let c = codec().encode(&pos).unwrap();
            let back: (i64, String, String) = codec().decode(&c).unwrap();
            prop_assert_eq!(back, pos);
        }

        #[test]
        fn any_single_byte_change_is_rejected(ts in any::<i64>(), flip in any::<prop::sample::Index>(), bit in 0u8..8) {
            let c = codec().encode(&ts).unwrap();
            let mut raw = URL_SAFE_NO_PAD.decode(&c).unwrap();
            let i = flip.index(raw.len());
            raw[i] ^= 1 << bit;
            let tampered = URL_SAFE_NO_PAD.encode(raw);
            prop_assert!(codec().decode::<i64>(&tampered).is_err());
        }

        #[test]
        fn arbitrary_input_never_panics(s in ".{0,200}") {
            let _ = codec().decode::<(i64, String)>(&s);
        }
    }

    #[test]
    fn another_key_cannot_read_it() {
        let c = codec().encode(&7).unwrap();
        let other = CursorCodec::new(b"another key entirely, 32 bytes!!");
        let err = other.decode::<i32>(&c).unwrap_err();
        assert_eq!(err.field(), Some("cursor"));
    }
}
