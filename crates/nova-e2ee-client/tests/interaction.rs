//! Interaction test in the spirit of libsignal's fuzzer: four devices of three users talk
//! 1:1 (Olm) and in a group whose membership changes (Megolm, rotated), over a network
//! that drops, delays, reorders, replays and tampers with messages. Keys come from the
//! real key directory (SQLite).
//!
//! Key shares travel like Matrix to-device messages: delayed and reordered, never
//! dropped. Application messages may be dropped. Checked: every delivered message
//! decrypts exactly once to what was sent, from whom it was sent; every replayed or
//! tampered copy is refused; no group message stays undecryptable once its key arrived.
//!
//! `NOVA_E2EE_FUZZ_SEED=<n>` replays one seed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use nova_core::{Principal, SessionId, UserId};
use nova_e2ee::{
    Algorithm, DeviceAddress, DeviceId, EncryptedMessage, KeyDirectory, KeyDirectoryService,
};
use nova_e2ee_client::{Client, ClientError};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const STEPS: usize = 3000;
const MAX_DELAY: u64 = 6;
const DROP: f64 = 0.10;
const REPLAY: f64 = 0.05;
const TAMPER: f64 = 0.03;
const ROOM: &str = "room";

#[derive(Clone)]
struct Flight {
    at: u64,
    to: usize,
    msg: EncryptedMessage,
    /// `Some(token)` for application messages, `None` for key shares.
    token: Option<u64>,
    tampered: bool,
}

struct Expected {
    plaintext: Vec<u8>,
    sender: DeviceAddress,
    group: bool,
}

#[derive(Default)]
struct Tally {
    sent: usize,
    dropped: usize,
    decrypted: usize,
    replays_refused: usize,
    tampered_refused: usize,
    key_shares: usize,
    rotations: usize,
}

struct World {
    rng: StdRng,
    seed: u64,
    clients: Vec<Client>,
    index: HashMap<DeviceAddress, usize>,
    in_flight: Vec<Flight>,
    pending: Vec<Vec<Flight>>,
    expected: HashMap<u64, Expected>,
    decrypted: HashSet<u64>,
    dropped: HashSet<u64>,
    next_token: u64,
    next_id: i64,
    tally: Tally,
}

impl World {
    fn schedule(&mut self, now: u64, to: usize, msg: EncryptedMessage, token: Option<u64>) {
        let at = now + self.rng.random_range(0..=MAX_DELAY);
        if token.is_some() && self.rng.random_bool(DROP) {
            self.tally.dropped += 1;
            self.dropped.insert(token.unwrap_or_default());
            return;
        }
        let flight = Flight {
            at,
            to,
            msg,
            token,
            tampered: false,
        };
        if token.is_some() && self.rng.random_bool(REPLAY) {
            let mut copy = flight.clone();
            copy.at = at + self.rng.random_range(1..=MAX_DELAY);
            self.in_flight.push(copy);
        }
        if self.rng.random_bool(TAMPER) {
            let mut copy = flight.clone();
            copy.tampered = true;
            copy.at = now + self.rng.random_range(0..=MAX_DELAY);
            let i = self.rng.random_range(0..copy.msg.ciphertext.len());
            copy.msg.ciphertext[i] ^= 1 << self.rng.random_range(0..8);
            self.in_flight.push(copy);
        }
        self.in_flight.push(flight);
    }

    /// Delivers one flight; `true` when it taught the device a group key.
    async fn deliver(&mut self, f: Flight) -> bool {
        let seed = self.seed;
        let genuine = !f.tampered && f.token.is_none_or(|t| !self.decrypted.contains(&t));
        let result = self.clients[f.to].receive(&f.msg).await;
        match result {
            Ok(Some(d)) => {
                assert!(!f.tampered, "seed {seed}: a tampered message decrypted");
                let token = f.token.expect("application message");
                assert!(
                    self.decrypted.insert(token),
                    "seed {seed}: message {token} decrypted twice (replay accepted)"
                );
                let e = &self.expected[&token];
                assert_eq!(d.plaintext, e.plaintext, "seed {seed}: wrong plaintext");
                assert_eq!(d.sender, e.sender, "seed {seed}: wrong sender");
                assert_eq!(d.conversation.is_some(), e.group);
                self.tally.decrypted += 1;
                false
            }
            Ok(None) => {
                assert!(
                    f.token.is_none() && !f.tampered,
                    "seed {seed}: message absorbed as a key share"
                );
                self.tally.key_shares += 1;
                true
            }
            Err(ClientError::UnknownGroupSession(_)) if f.msg.algorithm == Algorithm::Megolm => {
                self.pending[f.to].push(f);
                false
            }
            Err(e) => {
                assert!(!genuine, "seed {seed}: a genuine message failed: {e}");
                if f.tampered {
                    self.tally.tampered_refused += 1;
                } else {
                    self.tally.replays_refused += 1;
                }
                false
            }
        }
    }

    async fn retry_pending(&mut self, to: usize) {
        let parked = std::mem::take(&mut self.pending[to]);
        for f in parked {
            Box::pin(self.deliver(f)).await;
        }
    }

    async fn tick(&mut self, now: u64) {
        let (mut due, rest): (Vec<_>, Vec<_>) = self.in_flight.drain(..).partition(|f| f.at <= now);
        self.in_flight = rest;
        due.shuffle(&mut self.rng);
        for f in due {
            let to = f.to;
            if self.deliver(f).await {
                self.retry_pending(to).await;
            }
        }
    }

    async fn step(&mut self, now: u64, users: &[UserId], in_room: &[bool]) {
        let s = self.rng.random_range(0..self.clients.len());
        let me = self.clients[s].address().clone();
        let my_user = users.iter().position(|u| *u == me.user_id).unwrap_or(0);
        let token = self.next_token;
        self.next_token += 1;
        let plaintext = format!("#{token} from {} at {now}", me.device_id).into_bytes();
        let group = in_room[my_user] && self.rng.random_bool(0.5);
        let outs = if group {
            let members: Vec<UserId> = users
                .iter()
                .zip(in_room)
                .filter(|(u, inside)| **inside && **u != me.user_id)
                .map(|(u, _)| *u)
                .collect();
            let before = self.clients[s].device().group_session_id(ROOM);
            let outs = self.clients[s]
                .encrypt_for_group(ROOM, &members, &plaintext)
                .await
                .unwrap();
            if before.is_some() && before != self.clients[s].device().group_session_id(ROOM) {
                self.tally.rotations += 1;
            }
            outs
        } else {
            let others: Vec<UserId> = users.iter().copied().filter(|u| *u != me.user_id).collect();
            let to = others[self.rng.random_range(0..others.len())];
            self.clients[s]
                .encrypt_for_user(to, &plaintext)
                .await
                .unwrap()
        };
        let last = outs.len() - 1;
        for (i, out) in outs.into_iter().enumerate() {
            let is_message = !group || i == last;
            for recipient in &out.recipients {
                let to = self.index[recipient];
                self.next_id += 1;
                let msg = EncryptedMessage {
                    id: self.next_id,
                    sender: me.clone(),
                    algorithm: out.algorithm,
                    session_id: out.session_id.clone(),
                    ciphertext: out.ciphertext.clone(),
                    created_at: chrono::Utc::now(),
                };
                let t = if is_message {
                    let t = self.next_token;
                    self.next_token += 1;
                    self.expected.insert(
                        t,
                        Expected {
                            plaintext: plaintext.clone(),
                            sender: me.clone(),
                            group,
                        },
                    );
                    self.tally.sent += 1;
                    Some(t)
                } else {
                    None
                };
                self.schedule(now, to, msg, t);
            }
        }
    }
}

async fn run(seed: u64) {
    let backend = nova_testkit::sqlite().await;
    let dir: Arc<dyn KeyDirectory> = Arc::new(KeyDirectoryService::sql(backend.db().clone()));
    let users = [UserId::new(), UserId::new(), UserId::new()];
    let mut clients = Vec::new();
    for (user, device) in [(0, "ann-phone"), (0, "ann-laptop"), (1, "bob"), (2, "cat")] {
        let principal = Principal::user(users[user], SessionId::new());
        clients.push(
            Client::register(dir.clone(), principal, DeviceId::new(device).unwrap())
                .await
                .unwrap(),
        );
    }
    let index = clients
        .iter()
        .enumerate()
        .map(|(i, c)| (c.address().clone(), i))
        .collect();
    let n = clients.len();
    let mut w = World {
        rng: StdRng::seed_from_u64(seed),
        seed,
        clients,
        index,
        in_flight: Vec::new(),
        pending: vec![Vec::new(); n],
        expected: HashMap::new(),
        decrypted: HashSet::new(),
        dropped: HashSet::new(),
        next_token: 0,
        next_id: 0,
        tally: Tally::default(),
    };
    let mut in_room = [true, true, true];
    for now in 0..STEPS as u64 {
        // Cat leaves and rejoins the room now and then: senders must rotate.
        if now % 300 == 150 {
            in_room[2] = !in_room[2];
        }
        w.step(now, &users, &in_room).await;
        w.tick(now).await;
        if now % 100 == 0 {
            for c in &mut w.clients {
                c.replenish().await.unwrap();
            }
        }
    }
    for now in STEPS as u64..STEPS as u64 + MAX_DELAY * 3 {
        w.tick(now).await;
    }
    for to in 0..n {
        w.retry_pending(to).await;
        assert!(
            w.pending[to]
                .iter()
                .all(|f| f.tampered || f.token.is_some_and(|t| w.decrypted.contains(&t))),
            "seed {seed}: group messages left undecryptable"
        );
    }
    let undelivered: Vec<_> = w
        .expected
        .keys()
        .filter(|t| !w.dropped.contains(t) && !w.decrypted.contains(t))
        .collect();
    assert!(
        undelivered.is_empty(),
        "seed {seed}: {} delivered messages never decrypted",
        undelivered.len()
    );
    let t = &w.tally;
    assert_eq!(t.decrypted + t.dropped, t.sent);
    assert!(
        t.sent > STEPS && t.decrypted > STEPS,
        "seed {seed}: too little traffic"
    );
    assert!(t.replays_refused > 0 && t.tampered_refused > 0 && t.rotations > 0);
    eprintln!(
        "seed {seed}: {} sent, {} dropped, {} decrypted, {} key shares, {} replays and {} tampered refused, {} rotations",
        t.sent,
        t.dropped,
        t.decrypted,
        t.key_shares,
        t.replays_refused,
        t.tampered_refused,
        t.rotations
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_survive_a_hostile_network() {
    let seeds: Vec<u64> = match std::env::var("NOVA_E2EE_FUZZ_SEED") {
        Ok(s) => vec![s.parse().expect("NOVA_E2EE_FUZZ_SEED is a number")],
        Err(_) => vec![1, 2, 0x5eed],
    };
    for seed in seeds {
        run(seed).await;
    }
}
