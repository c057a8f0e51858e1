//! # nova-trust-safety
//!
//! Trust & safety for Nova: what users report, what moderators do about it, how users
//! appeal, what may be published at all, and an audit log of every step.
//!
//! - **Reports** on posts, accounts, media and chat messages, with a fixed reason
//!   taxonomy ([`ReportReason`]) and free text (≤ 1,000 characters). For an end-to-end
//!   encrypted message only what the reporter shares is kept ([`Evidence`]). One report
//!   per reporter and target; reports are rate-limited per reporter (nova-kv's
//!   [`RateLimiter`](nova_kv::RateLimiter)); the reporter sees the outcome.
//! - **Queue**: open reports grouped by target, priority = reason severity × report
//!   count × mean reporter trust (reporters whose reports were actioned weigh more),
//!   assignment, escalation to admins, SLA age.
//! - **Actions** with reason, optional expiry, actor and note: label, reduce reach, hide,
//!   remove (content); silence, suspend, delete (accounts). Each is an outbox event
//!   (`trust_safety.action_taken` / `.action_reversed`) for the domains that enforce it,
//!   and [`TrustSafetyApi::actions_in_force`] answers "what holds on these targets" in
//!   one query.
//! - **Strikes and appeals**: a user sees the actions against them with reasons and may
//!   appeal each once; a different moderator decides; granting reverses the action.
//! - **Audit log**, append-only in the database itself (triggers refuse UPDATE and
//!   DELETE on both engines): every report, queue change, action, reversal, appeal and
//!   rule change with who, when, what and why.
//! - **Rules before publishing** ([`TrustSafetyApi::check`] → [`Verdict`]): keyword
//!   lists (Aho–Corasick, Unicode-normalized, confusable and leet folding), regexes
//!   (size-limited, linear time), link domain block/allow lists, new-account velocity,
//!   duplicate spam, and perceptual-hash matching of media (multi-index hashing). Rules
//!   are stored, versioned and audited; a `trust_safety.rules_changed` event makes every
//!   replica [reload](TrustSafetyService::reload_rules).
//!
//! Moderation calls need the `moderator` or `admin` scope of the caller's
//! [`Principal`](nova_core::Principal); anyone else gets `NotFound`, as for a missing
//! thing.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use nova_core::{Principal, SessionId, UserId};
//! use nova_trust_safety::{
//!     CheckInput, RuleBody, RuleDraft, RuleOutcome, TrustSafetyApi, TrustSafetyService,
//!     VerdictKind, store::SqlTrustSafetyStore,
//! };
//!
//! let db = nova_db::Db::connect("sqlite::memory:", &Default::default()).await?;
//! db.migrate().await?;
//! let limiter = Arc::new(nova_kv::InProcessRateLimiter::default());
//! let ts = TrustSafetyService::new(Arc::new(SqlTrustSafetyStore::new(db)), limiter);
//! ts.reload_rules().await?;
//!
//! let mut moderator = Principal::user(UserId::new(), SessionId::new());
//! moderator.scopes.push("moderator".into());
//! ts.save_rule(&moderator, RuleDraft {
//!     id: None,
//!     name: "spam words".into(),
//!     body: RuleBody::Keywords { phrases: vec!["buy followers".into()], fold: true },
//!     outcome: RuleOutcome::Reject,
//!     public_reason: "Selling followers is not allowed.".into(),
//!     enabled: true,
//! }).await?;
//!
//! let verdict = ts.check(CheckInput { text: "BUY F0LL0WERS now".into(), ..Default::default() }).await?;
//! assert_eq!(verdict.kind, VerdictKind::Reject);
//! assert_eq!(verdict.reason.as_deref(), Some("Selling followers is not allowed."));
//! # Ok::<(), nova_core::Error>(())
//! # }).unwrap();
//! ```

pub mod api;
pub mod consumer;
pub mod grpc;
pub mod http;
pub mod model;
pub mod rules;
mod service;
pub mod store;

pub use api::TrustSafetyApi;
pub use model::{
    Action, ActionId, ActionKind, Appeal, AppealId, AppealStatus, AuditEntry, AuditId, AuditQuery,
    CheckInput, ContentLabel, Evidence, NewAction, NewReport, QueueFilter, QueueItem, Report,
    ReportId, ReportReason, ReportStatus, Rule, RuleBody, RuleDraft, RuleId, RuleOutcome, Strike,
    Surface, Target, TargetKind, Verdict, VerdictKind,
};
pub use service::{
    ACTION_REVERSED, ACTION_TAKEN, REPORT_FILED, RULES_CHANGED, RoleChange, SYSTEM, TEXT_MAX,
    TrustSafetyConfig, TrustSafetyService, is_moderator,
};
