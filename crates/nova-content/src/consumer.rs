//! [`BlockedPairs`]: content's part of a block. The graph records the block and ends the
//! follows in its own transaction; the reposts between the pair live here, so content
//! ends them when `block.created` arrives (idempotent: a redelivered event finds none).

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Result, UserId};
use nova_events::{EventEnvelope, EventHandler, types};
use nova_proto::nova::graph::v1::BlockCreated;
use prost::Message;

use crate::ContentService;

/// The consumer group of [`BlockedPairs`].
pub const CONSUMER: &str = "content-blocks";

/// Ends the reposts between two accounts once one blocks the other.
pub struct BlockedPairs {
    content: Arc<ContentService>,
}

impl std::fmt::Debug for BlockedPairs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockedPairs").finish_non_exhaustive()
    }
}

impl BlockedPairs {
    /// Acts on `content`.
    pub fn new(content: Arc<ContentService>) -> Self {
        Self { content }
    }
}

#[async_trait]
impl EventHandler for BlockedPairs {
    async fn handle(&self, event: &EventEnvelope) -> Result<()> {
        if event.event_type != types::BLOCK_CREATED {
            return Ok(());
        }
        // A payload that does not decode never will: retrying would stall the log.
        let pair = BlockCreated::decode(event.payload.as_slice())
            .ok()
            .and_then(|b| {
                Some((
                    b.blocker_id.parse::<UserId>().ok()?,
                    b.blocked_id.parse::<UserId>().ok()?,
                ))
            });
        let Some((blocker, blocked)) = pair else {
            tracing::error!(event = %event.id, "block.created without its two accounts; skipped");
            return Ok(());
        };
        self.content
            .end_reposts_between(blocker, blocked)
            .await
            .map(|_| ())
    }
}
