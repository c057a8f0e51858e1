//! The event envelope.

use chrono::SubsecRound;
use nova_core::{Error, EventId, Timestamp};

/// One domain event as stored in the outbox and carried by every bus.
///
/// The payload is the protobuf encoding of the event's message (see `proto/`), so
/// consumers in other services and languages can decode it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEnvelope {
    /// Unique, time-ordered id: consumers deduplicate by it.
    pub id: EventId,
    /// `family.action`, e.g. `user.registered`, `post.created`.
    pub event_type: String,
    /// The entity the event is about; buses keep per-aggregate order by it.
    pub aggregate_id: String,
    /// When it happened (the domain's clock).
    pub occurred_at: Timestamp,
    /// Protobuf-encoded payload.
    pub payload: Vec<u8>,
}

impl EventEnvelope {
    /// A new envelope with a fresh id.
    pub fn new(
        event_type: impl Into<String>,
        aggregate_id: impl Into<String>,
        occurred_at: Timestamp,
        payload: Vec<u8>,
    ) -> Self {
        Self {
            id: EventId::new(),
            event_type: event_type.into(),
            aggregate_id: aggregate_id.into(),
            // Microseconds: what PostgreSQL keeps, so envelopes round-trip exactly.
            occurred_at: occurred_at.trunc_subsecs(6),
            payload,
        }
    }

    /// Wraps a typed domain event.
    pub fn from_event<E: DomainEvent>(event: &E, occurred_at: Timestamp) -> Self {
        Self::new(
            E::EVENT_TYPE,
            event.aggregate_id(),
            occurred_at,
            event.encode_to_vec(),
        )
    }

    /// The event family (`user` for `user.registered`): buses map it to a topic.
    pub fn family(&self) -> &str {
        self.event_type
            .split_once('.')
            .map_or(self.event_type.as_str(), |(family, _)| family)
    }

    /// Decodes the payload as `E`, checking the type first.
    pub fn decode<E: DomainEvent>(&self) -> Result<E, Error> {
        if self.event_type != E::EVENT_TYPE {
            return Err(Error::internal(format!(
                "event {} is {}, not {}",
                self.id,
                self.event_type,
                E::EVENT_TYPE
            )));
        }
        E::decode(self.payload.as_slice()).map_err(Error::internal)
    }
}

/// A typed event: a protobuf message with a fixed type name.
pub trait DomainEvent: prost::Message + Default {
    /// `family.action`.
    const EVENT_TYPE: &'static str;
    /// The entity it is about.
    fn aggregate_id(&self) -> String;
}
