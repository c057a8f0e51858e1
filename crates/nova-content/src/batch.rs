//! Group commit for post creation: posts created at the same time share one write
//! transaction.
//!
//! Each post's row, hashtags, mentions and events still commit together (nothing is
//! acknowledged before its transaction commits); what is shared is the transaction's
//! fixed cost — `BEGIN`/`COMMIT`, the fsync, the single SQLite writer's turn, one
//! multi-row statement per table instead of one per row. A caller enqueues its post;
//! if no flush is running it starts one, which drains the queue batch by batch until it
//! is empty. A lone post is written at once (no waiting for company); batches form only
//! while an earlier transaction is in flight.
//!
//! If a batch fails (one post's reused idempotency key, an author deleted meanwhile),
//! its posts are retried one by one, so each caller gets the answer for its own post.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use nova_core::{Error, Result};
use tokio::sync::oneshot;

use crate::store::{ContentStore, PostInsert};

/// Most posts in one transaction.
const MAX_BATCH: usize = 256;

type Waiter = oneshot::Sender<Result<()>>;

#[derive(Default)]
struct Queue {
    pending: Vec<(PostInsert, Waiter)>,
    flushing: bool,
}

/// The group-commit writer in front of [`ContentStore::insert_posts`].
pub(crate) struct PostWriter {
    store: Arc<dyn ContentStore>,
    queue: Arc<Mutex<Queue>>,
}

fn lock(queue: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    queue.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PostWriter {
    pub(crate) fn new(store: Arc<dyn ContentStore>) -> Self {
        Self {
            store,
            queue: Arc::default(),
        }
    }

    /// Inserts `post`, returning once the transaction holding it has committed.
    pub(crate) async fn insert(&self, post: PostInsert) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut queue = lock(&self.queue);
            queue.pending.push((post, tx));
            !std::mem::replace(&mut queue.flushing, true)
        };
        if start {
            // A task of its own: a caller that goes away must not strand the others.
            tokio::spawn(flush(self.store.clone(), self.queue.clone()));
        }
        rx.await
            .map_err(|_| Error::internal("the post writer stopped before committing"))?
    }
}

/// After a panic in a flush, clears the `flushing` flag and fails the waiting callers
/// instead of leaving them waiting forever (a normal end clears it under the lock).
struct Flushing(Arc<Mutex<Queue>>);

impl Drop for Flushing {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut queue = lock(&self.0);
            queue.flushing = false;
            queue.pending.clear();
        }
    }
}

async fn flush(store: Arc<dyn ContentStore>, queue: Arc<Mutex<Queue>>) {
    let _flushing = Flushing(queue.clone());
    loop {
        let batch: Vec<(PostInsert, Waiter)> = {
            let mut q = lock(&queue);
            if q.pending.is_empty() {
                q.flushing = false;
                return;
            }
            let n = q.pending.len().min(MAX_BATCH);
            q.pending.drain(..n).collect()
        };
        let (posts, waiters): (Vec<PostInsert>, Vec<Waiter>) = batch.into_iter().unzip();
        match store.insert_posts(&posts).await {
            Ok(()) => {
                for waiter in waiters {
                    let _ = waiter.send(Ok(()));
                }
            }
            Err(e) if posts.len() == 1 => {
                if let Some(waiter) = waiters.into_iter().next() {
                    let _ = waiter.send(Err(e));
                }
            }
            Err(_) => {
                for (post, waiter) in posts.iter().zip(waiters) {
                    let one = store.insert_posts(std::slice::from_ref(post)).await;
                    let _ = waiter.send(one);
                }
            }
        }
    }
}
