//! A test device: a vodozemac account that signs its uploads like the SDK does.

#![allow(dead_code)]

use nova_core::{Principal, SessionId, UserId};
use nova_e2ee::model::{
    DeviceId, DeviceKeys, KeyKind, KeyUpload, SignedKey, device_keys_message, signed_key_message,
};
use vodozemac::olm::Account;

pub struct TestDevice {
    pub principal: Principal,
    pub device_id: DeviceId,
    pub account: Account,
}

impl TestDevice {
    pub fn new(user: UserId, device: &str) -> Self {
        Self {
            principal: Principal::user(user, SessionId::new()),
            device_id: DeviceId::new(device).unwrap(),
            account: Account::new(),
        }
    }

    pub fn user(&self) -> UserId {
        self.principal.user_id
    }

    pub fn device_keys(&self) -> DeviceKeys {
        let ids = self.account.identity_keys();
        let (curve, ed) = (ids.curve25519.to_base64(), ids.ed25519.to_base64());
        let msg = device_keys_message(self.user(), &self.device_id, &curve, &ed);
        DeviceKeys {
            user_id: self.user(),
            device_id: self.device_id.clone(),
            curve25519: curve,
            ed25519: ed,
            signature: self.account.sign(&msg).to_base64(),
        }
    }

    pub fn sign_key(&self, kind: KeyKind, key_id: String, public_key: String) -> SignedKey {
        let msg = signed_key_message(self.user(), &self.device_id, kind, &key_id, &public_key);
        SignedKey {
            key_id,
            public_key,
            signature: self.account.sign(&msg).to_base64(),
        }
    }

    /// Identity keys plus `n` fresh one-time keys and a fallback key, all signed.
    pub fn upload(&mut self, n: usize) -> KeyUpload {
        self.account.generate_one_time_keys(n);
        self.account.generate_fallback_key();
        let otks: Vec<_> = self.account.one_time_keys().into_iter().collect();
        let fallback: Vec<_> = self.account.fallback_key().into_iter().collect();
        self.account.mark_keys_as_published();
        KeyUpload {
            device_keys: Some(self.device_keys()),
            one_time_keys: otks
                .into_iter()
                .map(|(id, k)| self.sign_key(KeyKind::OneTime, id.to_base64(), k.to_base64()))
                .collect(),
            fallback_key: fallback
                .into_iter()
                .next()
                .map(|(id, k)| self.sign_key(KeyKind::Fallback, id.to_base64(), k.to_base64())),
        }
    }
}
