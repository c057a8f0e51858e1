//! Moderation through the chat port: an account the port says may not write (suspended
//! or deleted, answered by trust & safety in nova-app) cannot open a conversation,
//! create or grow a group, or send, whatever token it holds; others cannot open a
//! conversation with an account the port reports as gone; lifting it restores both.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use nova_chat::store::SqlChatStore;
use nova_chat::{ChatApi, ChatRelations, ChatService, Envelope, MessageKind, NewMessage, Reach};
use nova_core::{ErrorKind, Principal, SessionId, UserId};
use nova_e2ee::{Algorithm, DeviceAddress, DeviceId};

/// Everyone may talk, but the suspended neither write nor are written to.
#[derive(Default)]
struct Moderated {
    suspended: Mutex<HashSet<UserId>>,
}

impl Moderated {
    fn set(&self, user: UserId, suspended: bool) {
        let mut set = self.suspended.lock().unwrap();
        match suspended {
            true => set.insert(user),
            false => set.remove(&user),
        };
    }

    fn is(&self, user: UserId) -> bool {
        self.suspended.lock().unwrap().contains(&user)
    }
}

#[async_trait]
impl ChatRelations for Moderated {
    async fn reach(&self, _: UserId, others: &[UserId]) -> nova_core::Result<Vec<Reach>> {
        Ok(others
            .iter()
            .map(|o| Reach {
                exists: !self.is(*o),
                can_interact: true,
                follows_actor: false,
            })
            .collect())
    }

    async fn may_write(&self, actor: UserId) -> nova_core::Result<bool> {
        Ok(!self.is(actor))
    }
}

fn principal(id: UserId) -> Principal {
    Principal::user(id, SessionId::from(id.as_uuid()))
}

#[tokio::test]
async fn a_suspended_account_neither_writes_nor_is_written_to_until_lifted() {
    let backend = nova_testkit::sqlite().await;
    let db = backend.db().clone();
    let moderation = Arc::new(Moderated::default());
    let chat = ChatService::new(Arc::new(SqlChatStore::new(db.clone())), moderation.clone());
    let mut users = Vec::new();
    for name in ["ann", "ben", "cal"] {
        let id = nova_identity::fixtures::account(&db, name)
            .await
            .unwrap()
            .user_id;
        users.push((id, principal(id)));
    }
    let [(ann_id, ann), (ben_id, ben), (cal_id, _)] = users.try_into().unwrap();
    let direct = chat.open_direct(&ann, ben_id).await.unwrap();
    let group = chat.create_group(&ann, "crew", &[ben_id]).await.unwrap();

    moderation.set(ann_id, true);
    let refused = |e: nova_core::Error| assert_eq!(e.kind(), &ErrorKind::PermissionDenied);
    refused(chat.open_direct(&ann, cal_id).await.unwrap_err());
    refused(chat.open_direct(&ann, ben_id).await.unwrap_err());
    refused(chat.create_group(&ann, "new", &[cal_id]).await.unwrap_err());
    refused(chat.invite(&ann, group.id, &[cal_id]).await.unwrap_err());
    let message = NewMessage {
        sender_device: DeviceId::new("phone").unwrap(),
        idempotency_key: "k1".into(),
        kind: MessageKind::Message,
        envelopes: vec![Envelope {
            algorithm: Algorithm::Megolm,
            session_id: "s".into(),
            ciphertext: vec![1, 2, 3],
            recipients: vec![DeviceAddress {
                user_id: ben_id,
                device_id: DeviceId::new("laptop").unwrap(),
            }],
        }],
    };
    refused(chat.send(&ann, direct.id, message).await.unwrap_err());
    // Nobody opens a conversation with a suspended account: like a missing one.
    let gone = chat.open_direct(&ben, ann_id).await.unwrap_err();
    assert_eq!(gone.kind(), &ErrorKind::NotFound);

    moderation.set(ann_id, false);
    assert_eq!(chat.open_direct(&ann, ben_id).await.unwrap().id, direct.id);
    assert_eq!(chat.open_direct(&ben, ann_id).await.unwrap().id, direct.id);
    chat.create_group(&ann, "new", &[cal_id]).await.unwrap();
    chat.invite(&ann, group.id, &[cal_id]).await.unwrap();
}
