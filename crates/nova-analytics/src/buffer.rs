//! [`Buffer`]: a bounded in-memory queue in front of the store. Events are
//! acknowledged once queued; one flusher task writes them in batches, when a batch is
//! full or the oldest queued event has waited `interval`, and on shutdown drains what
//! is queued before it returns — so an acknowledged event is lost only if the process
//! dies without a shutdown (SIGKILL, power loss).
//!
//! Memory is bounded: at most `capacity` events are queued; a producer waits for room
//! (back-pressure) rather than growing the queue. A failing store is retried with
//! back-off and the events stay queued (nothing acknowledged is dropped).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use nova_core::{Error, Result};
use nova_events::CancellationToken;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::model::Event;
use crate::store::AnalyticsStore;

/// How the buffer flushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferConfig {
    /// Most events queued at once (producers wait beyond it).
    pub capacity: usize,
    /// Events per store write.
    pub batch: usize,
    /// Longest an event waits for its batch to fill.
    pub interval: Duration,
}

impl Default for BufferConfig {
    fn default() -> Self {
        Self {
            capacity: 100_000,
            batch: 10_000,
            interval: Duration::from_millis(500),
        }
    }
}

enum Msg {
    Events(Vec<Event>),
    Flush(oneshot::Sender<()>),
}

/// Counters of a buffer (exported as metrics by the service).
#[derive(Debug, Default)]
pub struct BufferStats {
    /// Events queued, not yet written.
    pub depth: AtomicUsize,
    /// Events written that were new.
    pub stored: AtomicU64,
    /// Store writes that failed (and were retried).
    pub failures: AtomicU64,
}

/// The bounded write-behind queue of a store.
pub struct Buffer {
    tx: mpsc::UnboundedSender<Msg>,
    room: Arc<Semaphore>,
    capacity: usize,
    stats: Arc<BufferStats>,
    stop: CancellationToken,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Buffer")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl Buffer {
    /// Starts the flusher over `store` (on the current Tokio runtime).
    pub fn start(store: Arc<dyn AnalyticsStore>, config: BufferConfig) -> Self {
        let capacity = config.capacity.max(1);
        let (tx, rx) = mpsc::unbounded_channel();
        let room = Arc::new(Semaphore::new(capacity));
        let stats = Arc::new(BufferStats::default());
        let stop = CancellationToken::new();
        let flusher = Flusher {
            store,
            config,
            room: room.clone(),
            stats: stats.clone(),
        };
        let task = tokio::spawn(flusher.run(rx, stop.clone()));
        Self {
            tx,
            room,
            capacity,
            stats,
            stop,
            task: std::sync::Mutex::new(Some(task)),
        }
    }

    /// Queues `events` (waiting for room while the queue is full); once this returns
    /// `Ok` they will be written, shutdown included. `Unavailable` after shutdown
    /// began; `InvalidArgument` for more events than the whole capacity.
    pub async fn push(&self, events: Vec<Event>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let n = u32::try_from(events.len())
            .ok()
            .filter(|_| events.len() <= self.capacity)
            .ok_or_else(|| Error::invalid("events", "more events than the buffer holds"))?;
        if self.stop.is_cancelled() {
            return Err(Error::unavailable("analytics is shutting down"));
        }
        let permit = self
            .room
            .acquire_many(n)
            .await
            .map_err(|_| Error::unavailable("analytics is shutting down"))?;
        // The flusher gives the room back once the events are written.
        permit.forget();
        self.stats.depth.fetch_add(events.len(), Ordering::Relaxed);
        self.tx.send(Msg::Events(events)).map_err(|_| {
            self.room.add_permits(n as usize);
            Error::unavailable("analytics is shutting down")
        })
    }

    /// Writes everything queued so far and waits until it is written.
    pub async fn flush(&self) -> Result<()> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Msg::Flush(done))
            .map_err(|_| Error::unavailable("analytics is shutting down"))?;
        wait.await
            .map_err(|_| Error::unavailable("analytics is shutting down"))
    }

    /// The counters.
    pub fn stats(&self) -> &BufferStats {
        &self.stats
    }

    /// Stops taking events, writes everything queued, and waits for the flusher.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task
            && let Err(error) = task.await
        {
            tracing::error!(%error, "analytics flusher failed");
        }
    }
}

struct Flusher {
    store: Arc<dyn AnalyticsStore>,
    config: BufferConfig,
    room: Arc<Semaphore>,
    stats: Arc<BufferStats>,
}

impl Flusher {
    async fn run(self, mut rx: mpsc::UnboundedReceiver<Msg>, stop: CancellationToken) {
        let mut pending: Vec<Event> = Vec::new();
        let mut deadline: Option<Instant> = None;
        loop {
            let msg = tokio::select! {
                biased;
                () = stop.cancelled() => break,
                () = sleep_until(deadline) => {
                    self.write(&mut pending, false).await;
                    deadline = None;
                    continue;
                }
                msg = rx.recv() => msg,
            };
            match msg {
                Some(Msg::Events(events)) => {
                    if pending.is_empty() {
                        deadline = Some(Instant::now() + self.config.interval);
                    }
                    pending.extend(events);
                    if pending.len() >= self.config.batch {
                        self.write(&mut pending, false).await;
                        deadline = None;
                    }
                }
                Some(Msg::Flush(done)) => {
                    self.write(&mut pending, false).await;
                    deadline = None;
                    let _ = done.send(());
                }
                None => break,
            }
        }
        // Shutdown: no new events (the channel is closed to producers by `stop`), drain
        // what is queued.
        rx.close();
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Events(events) => pending.extend(events),
                Msg::Flush(done) => {
                    let _ = done.send(());
                }
            }
        }
        self.write(&mut pending, true).await;
        self.room.close();
    }

    /// Writes `pending` in batches, retrying a failing store (with back-off; at
    /// shutdown a bounded number of times, then the loss is logged).
    async fn write(&self, pending: &mut Vec<Event>, shutting_down: bool) {
        let mut attempt = 0u32;
        while !pending.is_empty() {
            let n = pending.len().min(self.config.batch.max(1));
            match self.store.insert(&pending[..n]).await {
                Ok(stored) => {
                    pending.drain(..n);
                    attempt = 0;
                    self.room.add_permits(n);
                    self.stats.depth.fetch_sub(n, Ordering::Relaxed);
                    self.stats.stored.fetch_add(stored, Ordering::Relaxed);
                }
                Err(error) => {
                    attempt += 1;
                    self.stats.failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%error, attempt, queued = pending.len(), "analytics insert failed; retrying");
                    if shutting_down && attempt >= 20 {
                        tracing::error!(
                            lost = pending.len(),
                            "analytics store unavailable at shutdown; queued events lost"
                        );
                        pending.clear();
                        return;
                    }
                    let backoff = Duration::from_millis(100 * u64::from(attempt.min(50)));
                    tokio::time::sleep(backoff).await;
                }
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
