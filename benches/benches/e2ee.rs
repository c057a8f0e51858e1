//! End-to-end encryption hot paths (vodozemac underneath; the SDK adds framing, identity
//! binding and replay checks): every chat message is one Olm or Megolm encryption on the
//! sender and one decryption per receiving device.
//!
//! Targets (per message, 256-byte plaintext, on the 2-vCPU dev box): Olm encrypt ≤ 20 µs,
//! Megolm decrypt ≤ 40 µs. X25519 agreement and the other directions are reported.
//! Measured figures are in the README's benchmark table.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benches: a failed unwrap is a failed run
#![allow(missing_docs)] // criterion_group! generates an undocumented fn

use std::hint::black_box;

use chrono::Utc;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use nova_core::UserId;
use nova_e2ee::{ClaimedKey, DeviceAddress, DeviceId, EncryptedMessage, KeyKind, OutgoingMessage};
use nova_e2ee_client::Device;
use vodozemac::megolm::{GroupSession, InboundGroupSession, SessionConfig as MegolmConfig};
use vodozemac::olm::{Account, OlmMessage, Session, SessionConfig};
use vodozemac::{Curve25519PublicKey, Curve25519SecretKey};

const PLAINTEXT: [u8; 256] = [b'x'; 256];

/// X25519: one Diffie-Hellman agreement (Olm's session setup does three or four).
fn x25519(c: &mut Criterion) {
    let ours = Curve25519SecretKey::new();
    let theirs = Curve25519PublicKey::from(&Curve25519SecretKey::new());
    let mut group = c.benchmark_group("e2ee_x25519");
    group.throughput(Throughput::Elements(1));
    group.bench_function("agreement", |b| {
        b.iter(|| black_box(ours.diffie_hellman(black_box(&theirs))))
    });
    group.finish();
}

/// An established Olm session pair past the pre-key phase (both sides have spoken).
fn olm_pair() -> (Session, Session) {
    let alice = Account::new();
    let mut bob = Account::new();
    bob.generate_one_time_keys(1);
    let otk = *bob.one_time_keys().values().next().unwrap();
    let mut a = alice
        .create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk)
        .unwrap();
    let OlmMessage::PreKey(first) = a.encrypt("hello").unwrap() else {
        unreachable!()
    };
    let mut b = bob
        .create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &first)
        .unwrap()
        .session;
    a.decrypt(&b.encrypt("hi").unwrap()).unwrap();
    (a, b)
}

/// Olm (1:1 double ratchet): encrypt target ≤ 20 µs per message.
fn olm(c: &mut Criterion) {
    let mut group = c.benchmark_group("e2ee_olm");
    group.throughput(Throughput::Elements(1));
    let (mut a, _) = olm_pair();
    group.bench_function("encrypt_256b", |bench| {
        bench.iter(|| black_box(a.encrypt(black_box(PLAINTEXT)).unwrap()))
    });
    // A fresh pair: the receiver must stay within Olm's 2,000-message gap.
    let (mut a, mut b) = olm_pair();
    group.bench_function("decrypt_256b", |bench| {
        bench.iter_batched(
            || a.encrypt(PLAINTEXT).unwrap(),
            |m| black_box(b.decrypt(&m).unwrap()),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// Megolm (group ratchet): decrypt target ≤ 40 µs per message.
fn megolm(c: &mut Criterion) {
    let mut group = c.benchmark_group("e2ee_megolm");
    group.throughput(Throughput::Elements(1));
    let mut outbound = GroupSession::new(MegolmConfig::version_1());
    group.bench_function("encrypt_256b", |bench| {
        bench.iter(|| black_box(outbound.encrypt(black_box(PLAINTEXT))))
    });
    let mut outbound = GroupSession::new(MegolmConfig::version_1());
    let mut inbound = InboundGroupSession::new(&outbound.session_key(), MegolmConfig::version_1());
    group.bench_function("decrypt_256b", |bench| {
        bench.iter_batched(
            || outbound.encrypt(PLAINTEXT),
            |m| black_box(inbound.decrypt(&m).unwrap()),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn delivered(from: &DeviceAddress, m: OutgoingMessage) -> EncryptedMessage {
    EncryptedMessage {
        id: 0,
        sender: from.clone(),
        algorithm: m.algorithm,
        session_id: m.session_id,
        ciphertext: m.ciphertext,
        created_at: Utc::now(),
    }
}

/// Two SDK devices with an Olm session both ways and a shared group session.
fn sdk_pair() -> (Device, Device, DeviceAddress, DeviceAddress) {
    let ann = DeviceAddress::new(UserId::new(), DeviceId::new("ann").unwrap());
    let bob = DeviceAddress::new(UserId::new(), DeviceId::new("bob").unwrap());
    let (mut a, mut b) = (Device::new(ann.clone()), Device::new(bob.clone()));
    let upload = b.key_upload(1, false);
    b.mark_published();
    let claimed = ClaimedKey {
        device: b.device_keys(),
        key: upload.one_time_keys[0].clone(),
        kind: KeyKind::OneTime,
    };
    a.start_session(&claimed).unwrap();
    b.add_peer(a.device_keys()).unwrap();
    b.decrypt(&delivered(&ann, a.encrypt_to_device(&bob, b"hi").unwrap()))
        .unwrap();
    a.decrypt(&delivered(
        &bob,
        b.encrypt_to_device(&ann, b"hello").unwrap(),
    ))
    .unwrap();
    let members = [bob.clone()].into_iter().collect();
    for to in a.prepare_group("room", &members) {
        let share = a.share_group_key("room", &to).unwrap();
        b.decrypt(&delivered(&ann, share)).unwrap();
    }
    (a, b, ann, bob)
}

/// The same through the SDK's `Device` (JSON envelope, sender/recipient binding, replay
/// bookkeeping): what an app actually pays per message.
fn sdk(c: &mut Criterion) {
    let mut group = c.benchmark_group("e2ee_sdk");
    group.throughput(Throughput::Elements(1));
    let (mut a, _, _, bob) = sdk_pair();
    group.bench_function("olm_encrypt_256b", |bench| {
        bench.iter(|| black_box(a.encrypt_to_device(&bob, &PLAINTEXT).unwrap()))
    });
    let (mut a, mut b, ann, bob) = sdk_pair();
    group.bench_function("olm_decrypt_256b", |bench| {
        bench.iter_batched(
            || delivered(&ann, a.encrypt_to_device(&bob, &PLAINTEXT).unwrap()),
            |m| black_box(b.decrypt(&m).unwrap()),
            BatchSize::SmallInput,
        )
    });
    let (mut a, _, _, _) = sdk_pair();
    group.bench_function("megolm_encrypt_256b", |bench| {
        bench.iter(|| black_box(a.encrypt_group("room", &PLAINTEXT).unwrap()))
    });
    let (mut a, mut b, ann, _) = sdk_pair();
    group.bench_function("megolm_decrypt_256b", |bench| {
        bench.iter_batched(
            || delivered(&ann, a.encrypt_group("room", &PLAINTEXT).unwrap()),
            |m| black_box(b.decrypt(&m).unwrap()),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, x25519, olm, megolm, sdk);
criterion_main!(benches);
