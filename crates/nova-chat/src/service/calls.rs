//! The rules of calls and location sharing ([`CallApi`] on [`ChatService`]).
//!
//! A call is a small state machine kept under a version: every change reads the call,
//! applies the rule, and writes it back only if nobody changed it meanwhile (else it
//! reads again). The ring timeout is the server's: [`ChatService::expire_calls`] (a
//! sweep) and every read of a call end what rang too long, by the injected clock.
//! Signaling and location updates are relayed on the users' live channels and never
//! stored.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{Duration, SubsecRound};
use nova_core::{Error, ErrorKind, Principal, Result, Timestamp, UserId};
use nova_e2ee::{DeviceAddress, DeviceId};

use super::{ChatService, Wire, not_found};
use crate::api::CallApi;
use crate::model::{
    Call, CallId, CallParticipant, CallStatus, ConversationId, ConversationKind, EndReason,
    LOCATION_SHARE_DURATIONS, LiveEvent, LocationDelivery, LocationShare, LocationShareId,
    LocationUpdate, MAX_LOCATION_CIPHERTEXT_BYTES, MAX_LOCATION_ENVELOPES, MAX_SIGNAL_BYTES,
    ParticipantState, Signal, SignalKind, TurnCredentials,
};

/// How often a change is retried when another change of the same call came first.
const ATTEMPTS: usize = 5;
/// Calls the ring-timeout sweep ends per pass.
const SWEEP_BATCH: u32 = 100;

fn conflict(message: &'static str) -> Error {
    Error::new(ErrorKind::Conflict, message)
}

/// Ends `call` for `reason`: whoever still rings missed it, whoever is in left.
fn end(call: &mut Call, reason: EndReason, now: Timestamp) {
    call.status = CallStatus::Ended;
    call.end_reason = Some(reason);
    call.ended_at = Some(now);
    for p in &mut call.participants {
        match p.state {
            ParticipantState::Ringing => {
                p.state = ParticipantState::Missed;
                p.left_at = Some(now);
            }
            ParticipantState::Joined => {
                p.state = ParticipantState::Left;
                p.left_at = Some(now);
            }
            _ => {}
        }
    }
}

/// Ends the call when too few are left in it: before an answer, when the caller left
/// (cancelled) or nobody rings any more (declined, busy or missed); once answered, when
/// at most one is in and nobody rings.
fn settle(call: &mut Call, now: Timestamp) {
    let joined = call.joined();
    let ringing = call
        .participants
        .iter()
        .filter(|p| p.state == ParticipantState::Ringing)
        .count();
    let any = |state: ParticipantState| call.participants.iter().any(|p| p.state == state);
    match call.status {
        CallStatus::Ended => {}
        CallStatus::Ringing if joined == 0 => end(call, EndReason::Cancelled, now),
        CallStatus::Ringing if ringing == 0 => {
            let reason = if any(ParticipantState::Declined) {
                EndReason::Declined
            } else if any(ParticipantState::Busy) {
                EndReason::Busy
            } else {
                EndReason::Missed
            };
            end(call, reason, now);
        }
        CallStatus::Ringing => {}
        CallStatus::Active if joined == 0 || (joined == 1 && ringing == 0) => {
            end(call, EndReason::Completed, now);
        }
        CallStatus::Active => {}
    }
}

/// Applies the ring timeout at `now`; `true` when that changed the call. An unanswered
/// call ends as missed; in an answered one, whoever still rings missed it.
fn time_out(call: &mut Call, now: Timestamp) -> bool {
    let ringing = call
        .participants
        .iter()
        .any(|p| p.state == ParticipantState::Ringing);
    if call.status == CallStatus::Ended || now < call.ring_until || !ringing {
        return false;
    }
    if call.status == CallStatus::Ringing {
        end(call, EndReason::Missed, now);
    } else {
        for p in &mut call.participants {
            if p.state == ParticipantState::Ringing {
                p.state = ParticipantState::Missed;
                p.left_at = Some(now);
            }
        }
        settle(call, now);
    }
    true
}

fn entry(call: &mut Call, user: UserId) -> Result<&mut CallParticipant> {
    call.participants
        .iter_mut()
        .find(|p| p.user_id == user)
        .ok_or_else(not_found)
}

impl ChatService {
    /// The clock's time at the store's precision (microseconds), so a call or share
    /// answered now equals the one read back.
    fn now(&self) -> Timestamp {
        self.clock.now().trunc_subsecs(6)
    }

    /// Ends every call whose ring timeout passed (unanswered: missed; answered: those
    /// still rung missed it). Answers how many calls changed. Run it every few seconds.
    pub async fn expire_calls(&self) -> Result<u64> {
        let mut changed = 0;
        loop {
            let due = self.store.due_calls(self.now(), SWEEP_BATCH).await?;
            let full = due.len() >= SWEEP_BATCH as usize;
            for id in due {
                if let Some(call) = self.store.call(id).await? {
                    let before = call.version;
                    if self.expire(call).await?.version != before {
                        changed += 1;
                    }
                }
            }
            if !full {
                return Ok(changed);
            }
        }
    }

    /// `call` with the ring timeout applied (and stored, and announced).
    async fn expire(&self, mut call: Call) -> Result<Call> {
        let before = call.version;
        if !time_out(&mut call, self.now()) {
            return Ok(call);
        }
        call.version = before + 1;
        if self.store.update_call(&call, before).await? {
            self.announce(&call).await;
            return Ok(call);
        }
        // Someone else changed it first: theirs is the call now.
        self.store.call(call.id).await?.ok_or_else(not_found)
    }

    /// The call, if the caller is one of its participants and still a member of its
    /// conversation; the ring timeout applied.
    async fn visible_call(&self, principal: &Principal, id: CallId) -> Result<Call> {
        let call = self.store.call(id).await?.ok_or_else(not_found)?;
        if call.participant(principal.user_id).is_none() {
            return Err(not_found());
        }
        self.member_of(principal, call.conversation_id).await?;
        self.expire(call).await
    }

    /// Tells every participant's devices how the call is now.
    async fn announce(&self, call: &Call) {
        for p in &call.participants {
            let wire = Wire {
                device: None,
                event: LiveEvent::Call { call: call.clone() },
            };
            self.publish(p.user_id, vec![wire]).await;
        }
    }

    /// Applies `change` to the caller's view of the call and stores it (retrying when
    /// another change came first). `change` answers `false` when there is nothing to do;
    /// it must check before it changes anything.
    async fn change_call(
        &self,
        principal: &Principal,
        id: CallId,
        change: impl Fn(&mut Call, Timestamp) -> Result<bool> + Send + Sync,
    ) -> Result<Call> {
        for _ in 0..ATTEMPTS {
            let mut call = self.visible_call(principal, id).await?;
            let before = call.version;
            let now = self.now();
            if !change(&mut call, now)? {
                return Ok(call);
            }
            settle(&mut call, now);
            call.version = before + 1;
            if self.store.update_call(&call, before).await? {
                self.announce(&call).await;
                return Ok(call);
            }
        }
        Err(conflict("the call changed meanwhile, try again"))
    }

    /// The members of `conversation` but `me` who may hear from `me`: `NotFound` when
    /// `me` is not a member, or the conversation is direct and the pair is blocked.
    async fn audience(&self, principal: &Principal, id: ConversationId) -> Result<Vec<UserId>> {
        let me = principal.user_id;
        let conversation = self.member_of(principal, id).await?;
        let members = self.store.members(id).await?.ok_or_else(not_found)?;
        let others: Vec<UserId> = members
            .members
            .iter()
            .map(|m| m.user_id)
            .filter(|u| *u != me)
            .collect();
        let reach = self.relations.reach(me, &others).await?;
        if reach.len() != others.len() {
            return Err(Error::internal("relations answered for other users"));
        }
        let open: Vec<UserId> = others
            .iter()
            .zip(&reach)
            .filter(|(_, r)| r.can_interact)
            .map(|(u, _)| *u)
            .collect();
        if conversation.kind == ConversationKind::Direct && open.len() != others.len() {
            return Err(not_found());
        }
        Ok(open)
    }

    fn validate_location(update: &LocationUpdate) -> Result<()> {
        super::validate_envelopes(
            &update.sender_device,
            &update.envelopes,
            MAX_LOCATION_ENVELOPES,
            MAX_LOCATION_CIPHERTEXT_BYTES,
        )
    }

    /// The caller's own share (`NotFound` for anyone else's).
    async fn own_share(&self, principal: &Principal, id: LocationShareId) -> Result<LocationShare> {
        self.store
            .share(id)
            .await?
            .filter(|s| s.user_id == principal.user_id)
            .ok_or_else(not_found)
    }

    async fn tell(&self, users: impl IntoIterator<Item = UserId>, event: LiveEvent) {
        for user in users {
            let wire = Wire {
                device: None,
                event: event.clone(),
            };
            self.publish(user, vec![wire]).await;
        }
    }
}

#[async_trait]
impl CallApi for ChatService {
    async fn start_call(
        &self,
        principal: &Principal,
        conversation: ConversationId,
        device: &DeviceId,
        video: bool,
    ) -> Result<Call> {
        principal.require_scope("write")?;
        let me = principal.user_id;
        let callees = self.audience(principal, conversation).await?;
        if callees.is_empty() {
            return Err(Error::invalid(
                "conversation_id",
                "nobody else to call here",
            ));
        }
        // A call open here (not just rung out) is joined, not started again.
        if let Some(open) = self.store.open_call(conversation).await?
            && self.expire(open).await?.status != CallStatus::Ended
        {
            return Err(conflict(
                "a call is already in progress in this conversation",
            ));
        }
        if !self.store.busy(&[me], None).await?.is_empty() {
            return Err(conflict("you are in another call: hang up first"));
        }
        let busy: BTreeSet<UserId> = self.store.busy(&callees, None).await?.into_iter().collect();
        let now = self.now();
        let mut participants = vec![CallParticipant {
            user_id: me,
            state: ParticipantState::Joined,
            device_id: Some(device.clone()),
            joined_at: Some(now),
            left_at: None,
        }];
        participants.extend(callees.iter().map(|u| {
            let is_busy = busy.contains(u);
            CallParticipant {
                user_id: *u,
                state: if is_busy {
                    ParticipantState::Busy
                } else {
                    ParticipantState::Ringing
                },
                device_id: None,
                joined_at: None,
                left_at: is_busy.then_some(now),
            }
        }));
        let mut call = Call {
            id: CallId::new(),
            conversation_id: conversation,
            started_by: me,
            video,
            status: CallStatus::Ringing,
            end_reason: None,
            version: 1,
            created_at: now,
            ring_until: now + self.calls.ring_timeout,
            answered_at: None,
            ended_at: None,
            participants,
        };
        settle(&mut call, now);
        if let Err(e) = self.store.insert_call(&call).await {
            if matches!(e.kind(), ErrorKind::Conflict) {
                // The open one may only be stale: end it if it rang out, then say so.
                if let Some(open) = self.store.open_call(conversation).await? {
                    self.expire(open).await?;
                }
                return Err(conflict(
                    "a call is already in progress in this conversation",
                ));
            }
            return Err(e);
        }
        self.announce(&call).await;
        Ok(call)
    }

    async fn call(&self, principal: &Principal, id: CallId) -> Result<Call> {
        principal.require_scope("read")?;
        self.visible_call(principal, id).await
    }

    async fn accept_call(
        &self,
        principal: &Principal,
        id: CallId,
        device: &DeviceId,
    ) -> Result<Call> {
        principal.require_scope("write")?;
        let me = principal.user_id;
        if !self.store.busy(&[me], Some(id)).await?.is_empty() {
            return Err(conflict("you are in another call: hang up first"));
        }
        let max = self.calls.max_participants;
        self.change_call(principal, id, |call, now| {
            if call.status == CallStatus::Ended {
                return Err(conflict("the call has ended"));
            }
            let full = call.joined() >= max;
            let p = entry(call, principal.user_id)?;
            if p.state == ParticipantState::Joined && p.device_id.as_ref() == Some(device) {
                return Ok(false);
            }
            if p.state != ParticipantState::Joined && full {
                return Err(conflict("the call is full"));
            }
            p.state = ParticipantState::Joined;
            p.device_id = Some(device.clone());
            p.joined_at = Some(now);
            p.left_at = None;
            if call.status == CallStatus::Ringing {
                call.status = CallStatus::Active;
                call.answered_at = Some(now);
            }
            Ok(true)
        })
        .await
    }

    async fn decline_call(&self, principal: &Principal, id: CallId) -> Result<Call> {
        principal.require_scope("write")?;
        self.change_call(principal, id, |call, now| {
            let p = entry(call, principal.user_id)?;
            match p.state {
                ParticipantState::Ringing => {
                    p.state = ParticipantState::Declined;
                    p.left_at = Some(now);
                    Ok(true)
                }
                ParticipantState::Declined => Ok(false),
                _ => Err(conflict("the call is not ringing for you")),
            }
        })
        .await
    }

    async fn hang_up(&self, principal: &Principal, id: CallId) -> Result<Call> {
        principal.require_scope("write")?;
        self.change_call(principal, id, |call, now| {
            let p = entry(call, principal.user_id)?;
            p.state = match p.state {
                ParticipantState::Joined => ParticipantState::Left,
                ParticipantState::Ringing => ParticipantState::Declined,
                _ => return Ok(false),
            };
            p.left_at = Some(now);
            Ok(true)
        })
        .await
    }

    async fn signal(
        &self,
        principal: &Principal,
        id: CallId,
        to: UserId,
        kind: SignalKind,
        payload: String,
    ) -> Result<()> {
        principal.require_scope("write")?;
        if payload.len() > MAX_SIGNAL_BYTES {
            return Err(Error::new(
                ErrorKind::PayloadTooLarge,
                format!("payload: at most {MAX_SIGNAL_BYTES} bytes"),
            ));
        }
        if payload.is_empty() {
            return Err(Error::invalid("payload", "must not be empty"));
        }
        let me = principal.user_id;
        if to == me {
            return Err(Error::invalid("to_user_id", "signal another participant"));
        }
        let call = self.visible_call(principal, id).await?;
        if call.status == CallStatus::Ended {
            return Err(conflict("the call has ended"));
        }
        let joined_device = |user: UserId| {
            call.participant(user)
                .filter(|p| p.state == ParticipantState::Joined)
                .and_then(|p| p.device_id.clone())
        };
        let Some(from) = joined_device(me) else {
            return Err(conflict("join the call before signaling"));
        };
        let Some(target) = joined_device(to) else {
            return Err(not_found());
        };
        let reach = self.relations.reach(me, &[to]).await?;
        if !reach.first().is_some_and(|r| r.can_interact) {
            return Err(not_found());
        }
        let wire = Wire {
            device: Some(target),
            event: LiveEvent::Signal(Signal {
                call_id: id,
                from: DeviceAddress::new(me, from),
                kind,
                payload,
            }),
        };
        self.publish(to, vec![wire]).await;
        Ok(())
    }

    async fn turn_credentials(&self, principal: &Principal) -> Result<TurnCredentials> {
        principal.require_scope("read")?;
        self.calls.turn_credentials(principal.user_id, self.now())
    }

    async fn start_location_share(
        &self,
        principal: &Principal,
        conversation: ConversationId,
        duration_secs: u32,
    ) -> Result<LocationShare> {
        principal.require_scope("write")?;
        if !LOCATION_SHARE_DURATIONS.contains(&duration_secs) {
            return Err(Error::invalid(
                "duration_secs",
                "must be 900 (15 min), 3600 (1 h) or 28800 (8 h)",
            ));
        }
        let audience = self.audience(principal, conversation).await?;
        let now = self.now();
        let share = LocationShare {
            id: LocationShareId::new(),
            conversation_id: conversation,
            user_id: principal.user_id,
            started_at: now,
            expires_at: now + Duration::seconds(i64::from(duration_secs)),
            stopped_at: None,
        };
        self.store.insert_share(&share).await?;
        let event = LiveEvent::LocationShare {
            share: share.clone(),
        };
        self.tell(audience.into_iter().chain([principal.user_id]), event)
            .await;
        Ok(share)
    }

    async fn location_shares(
        &self,
        principal: &Principal,
        conversation: ConversationId,
    ) -> Result<Vec<LocationShare>> {
        principal.require_scope("read")?;
        self.member_of(principal, conversation).await?;
        self.store.active_shares(conversation, self.now()).await
    }

    async fn stop_location_share(
        &self,
        principal: &Principal,
        id: LocationShareId,
    ) -> Result<LocationShare> {
        principal.require_scope("write")?;
        let share = self.own_share(principal, id).await?;
        let now = self.now();
        if !self.store.stop_share(id, now).await? {
            return Ok(share);
        }
        let share = LocationShare {
            stopped_at: Some(now),
            ..share
        };
        if let Ok(audience) = self.audience(principal, share.conversation_id).await {
            let event = LiveEvent::LocationShare {
                share: share.clone(),
            };
            self.tell(audience.into_iter().chain([principal.user_id]), event)
                .await;
        }
        Ok(share)
    }

    async fn update_location(
        &self,
        principal: &Principal,
        id: LocationShareId,
        update: LocationUpdate,
    ) -> Result<()> {
        principal.require_scope("write")?;
        Self::validate_location(&update)?;
        let share = self.own_share(principal, id).await?;
        let now = self.now();
        if !share.active_at(now) {
            return Err(conflict("the location share has ended"));
        }
        let audience: BTreeSet<UserId> = self
            .audience(principal, share.conversation_id)
            .await?
            .into_iter()
            .chain([principal.user_id])
            .collect();
        let decision = self
            .limiter
            .check(&format!("chat:location:{id}"), &self.calls.location_updates)
            .await?;
        if !decision.allowed {
            return Err(Error::new(
                ErrorKind::RateLimited,
                "one location update per 5 seconds per share",
            ));
        }
        let sender = DeviceAddress::new(principal.user_id, update.sender_device.clone());
        let mut per_user: std::collections::BTreeMap<UserId, Vec<Wire>> = Default::default();
        for env in update.envelopes {
            for d in env
                .recipients
                .iter()
                .filter(|d| audience.contains(&d.user_id))
            {
                if *d == sender {
                    continue;
                }
                per_user.entry(d.user_id).or_default().push(Wire {
                    device: Some(d.device_id.clone()),
                    event: LiveEvent::Location(LocationDelivery {
                        share_id: id,
                        conversation_id: share.conversation_id,
                        sender: sender.clone(),
                        algorithm: env.algorithm,
                        session_id: env.session_id.clone(),
                        ciphertext: env.ciphertext.clone(),
                        sent_at: now,
                    }),
                });
            }
        }
        for (user, events) in per_user {
            self.publish(user, events).await;
        }
        Ok(())
    }
}
