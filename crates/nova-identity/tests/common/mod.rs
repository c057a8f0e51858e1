//! Shared test setup: a real IdentityService on a real database.

#![allow(dead_code)]

use std::sync::{Arc, LazyLock};

use nova_core::{ManualClock, SharedClock};
use nova_db::Db;
use nova_identity::store::SqlIdentityStore;
use nova_identity::{
    IdentityConfig, IdentityService, KeySet, MemoryMailer, OAuthProviders, Passwords, SecretBox,
};
use nova_kv::InProcessRateLimiter;

/// One RSA key for the whole test binary (generation is slow).
pub static KEYS: LazyLock<Arc<KeySet>> =
    LazyLock::new(|| Arc::new(KeySet::generate("test-key").expect("key generation")));

pub struct Harness {
    pub service: Arc<IdentityService>,
    pub mailer: MemoryMailer,
    pub clock: ManualClock,
    pub db: Db,
}

pub fn harness_with(db: Db, config: IdentityConfig, oauth: OAuthProviders) -> Harness {
    harness_full(db, config, oauth, None)
}

/// With other password hashing (cheap parameters, a tight concurrency limit).
pub fn harness_full(
    db: Db,
    config: IdentityConfig,
    oauth: OAuthProviders,
    passwords: Option<Passwords>,
) -> Harness {
    let clock = ManualClock::new(chrono::Utc::now());
    let shared: SharedClock = clock.shared();
    let mailer = MemoryMailer::default();
    let mut builder =
        IdentityService::builder(Arc::new(SqlIdentityStore::new(db.clone())), KEYS.clone());
    if let Some(passwords) = passwords {
        builder = builder.passwords(passwords);
    }
    let service = builder
        .clock(shared.clone())
        .rate_limiter(Arc::new(InProcessRateLimiter::new(shared)))
        .mailer(Arc::new(mailer.clone()))
        .secrets(SecretBox::generate("test"))
        .config(config)
        .oauth(oauth)
        .build();
    Harness {
        service: Arc::new(service),
        mailer,
        clock,
        db,
    }
}

pub fn harness(db: Db) -> Harness {
    harness_with(db, IdentityConfig::default(), OAuthProviders::default())
}

pub const PASSWORD: &str = "correct horse battery staple";
