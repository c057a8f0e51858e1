//! One scope's entities: bounded, with leaderboards per window.

mod index;
pub(crate) mod prefetch;

use crate::board::{Board, OFF_BOARD, Offer};
use crate::config::MAX_WINDOWS;
use crate::hash::mix64;
use crate::model::{EntityKey, Scope};
use crate::sketch::{CountMin, Distinct};
use index::Index;
use prefetch::prefetch;
/// What every event touches, in one cache line.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
pub(crate) struct Hot {
    /// Σ w·exp(λ·(t − epoch start)) per window.
    pub(crate) mass: [f64; MAX_WINDOWS],
    /// The epoch `mass` is relative to.
    pub(crate) epoch: u32,
    /// The period `cur` counts.
    pub(crate) period: u32,
    pub(crate) board_pos: [u16; MAX_WINDOWS],
    /// The key's id, checked on index hits without touching another line.
    pub(crate) id: u128,
}

/// One tracked entity in one scope; `repr(C)` keeps the current period's distinct counter
/// (its length and first words) right after the hot line, so an update touches two
/// adjacent lines while the counter is small.
#[derive(Debug, Clone)]
#[repr(C)]
pub(crate) struct Entry {
    pub(crate) hot: Hot,
    pub(crate) cur: Distinct,
    pub(crate) prev: Distinct,
    /// After both counters: a 16-byte-aligned key there keeps the entry at 384 bytes.
    pub(crate) key: EntityKey,
    pub(crate) trending: bool,
    /// Whether it ever had `min_accounts` distinct accounts (in a period and the one
    /// before) while tracked: only such entities appear in public lists. Sticky, so a
    /// 7 d leader does not drop out of the list once its activity moves on.
    pub(crate) qualified: bool,
    /// Seconds since the Unix epoch before which it may not trend.
    pub(crate) cooldown_until: i64,
}

impl Entry {
    pub(crate) fn new(key: EntityKey, epoch: u32, period: u32) -> Self {
        Self {
            hot: Hot {
                mass: [0.0; MAX_WINDOWS],
                epoch,
                period,
                board_pos: [OFF_BOARD; MAX_WINDOWS],
                id: key.id,
            },
            cur: Distinct::default(),
            key,
            prev: Distinct::default(),
            trending: false,
            qualified: false,
            cooldown_until: i64::MIN,
        }
    }

    fn pinned(&self) -> bool {
        self.trending || self.hot.board_pos.iter().any(|&p| p != OFF_BOARD)
    }

    /// Distinct accounts in this period and the previous one, as of `period`.
    pub(crate) fn accounts(&self, period: u32) -> u64 {
        match period.saturating_sub(self.hot.period) {
            0 => self.cur.union_count(&self.prev),
            1 => self.cur.count(),
            _ => 0,
        }
    }

    #[inline]
    fn roll_period(&mut self, period: u32) {
        if self.hot.period < period {
            self.prev = if period - self.hot.period == 1 {
                std::mem::take(&mut self.cur)
            } else {
                self.cur = Distinct::default();
                Distinct::default()
            };
            self.hot.period = period;
        }
    }
}

/// The engine-wide state a table update needs.
pub(crate) struct Tick<'a> {
    pub(crate) epoch: u32,
    pub(crate) period: u32,
    /// exp(λₖ·(t − epoch start)) · weight.
    pub(crate) add: &'a [f64; MAX_WINDOWS],
    /// exp(−λₖ·epoch length), to rescale one epoch.
    pub(crate) epoch_decay: &'a [f64; MAX_WINDOWS],
    pub(crate) windows: usize,
    /// Distinct accounts an entity needs before it may be listed.
    pub(crate) min_accounts: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct ScopeTable {
    pub(crate) scope: Scope,
    /// By [`EntityKey::hash64`]; the entry's id is checked on every hit.
    index: Index,
    pub(crate) entries: Vec<Entry>,
    pub(crate) boards: Vec<Board>,
    pub(crate) trending: Vec<u32>,
    newcomers: CountMin,
    misses: u64,
    capacity: usize,
    rng: u64,
}

impl ScopeTable {
    pub(crate) fn new(scope: Scope, capacity: usize, board: usize, windows: usize) -> Self {
        Self {
            scope,
            index: Index::with_capacity(capacity.min(4096)),
            entries: Vec::new(),
            boards: (0..windows).map(|_| Board::new(board)).collect(),
            trending: Vec::new(),
            newcomers: CountMin::new((capacity * 2).min(1 << 20)),
            misses: 0,
            capacity,
            rng: 0x2545_f491_4f6c_dd1d,
        }
    }

    /// Rescales every leaderboard after the epoch moved forward by `steps`.
    pub(crate) fn advance_epoch(&mut self, decay_per_epoch: &[f64; MAX_WINDOWS], steps: u32) {
        for (k, board) in self.boards.iter_mut().enumerate() {
            board.rescale(decay_per_epoch[k].powi(steps as i32));
        }
    }

    /// Prefetches the index line an update of the entity with `hash` starts at.
    #[inline]
    pub(crate) fn prefetch_index(&self, hash: u64) {
        self.index.prefetch(hash);
    }

    /// Prefetches the lines an update of the entity with `hash` by the account with
    /// `account_hash` writes, if it is tracked (once [`Self::prefetch_index`]'s line has
    /// arrived).
    #[inline]
    pub(crate) fn prefetch_entry(&self, hash: u64, account_hash: u64) {
        if let Some(slot) = self.index.get(hash) {
            prefetch(&self.entries, slot as usize);
            if let Some(e) = self.entries.get(slot as usize) {
                e.cur.prefetch(account_hash);
            }
        }
    }

    /// Adds one event for `key` (whose [`EntityKey::hash64`] is `hash`); `false` if the
    /// entity was not admitted (scope full).
    #[inline]
    pub(crate) fn update(
        &mut self,
        key: EntityKey,
        hash: u64,
        account_hash: u64,
        tick: &Tick<'_>,
        admit_after: u32,
    ) -> bool {
        let slot = match self.index.get(hash) {
            Some(slot) if self.entries[slot as usize].hot.id == key.id => slot,
            // A 64-bit hash collision: too rare to be worth a second table.
            Some(_) => return false,
            None => match self.admit(key, hash, tick, admit_after) {
                Some(slot) => slot,
                None => {
                    // Long tail: only the sketch remembers it.
                    self.newcomers.add(hash, 1);
                    return false;
                }
            },
        };
        let entry = &mut self.entries[slot as usize];
        if entry.hot.epoch != tick.epoch {
            rebase(entry, tick);
        }
        entry.roll_period(tick.period);
        entry.cur.insert(account_hash);
        // Counting is cheap while the counter is exact (below 17 accounts), and stops
        // once the entity qualified.
        if !entry.qualified && entry.accounts(tick.period) >= tick.min_accounts {
            entry.qualified = true;
        }
        // Leaderboards hold only listable entities: an entity too few accounts pushed
        // neither shows in `top` nor takes a leader's place (nor gets shared).
        let listable = entry.qualified;
        for k in 0..tick.windows {
            let entry = &mut self.entries[slot as usize];
            let m = entry.hot.mass[k] + tick.add[k];
            entry.hot.mass[k] = m;
            let pos = entry.hot.board_pos[k];
            if pos != OFF_BOARD {
                self.boards[k].raise(pos, m);
            } else if !listable {
                continue;
            } else if let Offer::Placed { pos, evicted } = self.boards[k].offer(slot, m) {
                self.entries[slot as usize].hot.board_pos[k] = pos;
                if let Some(e) = evicted {
                    self.entries[e as usize].hot.board_pos[k] = OFF_BOARD;
                }
            }
        }
        true
    }

    /// The slot of `key`, if tracked.
    pub(crate) fn slot(&self, key: &EntityKey) -> Option<u32> {
        self.index
            .get(key.hash64())
            .filter(|&s| self.entries[s as usize].key == *key)
    }

    /// Finds a slot for a new entity: a free one, or (when full) a cold entry's, if the
    /// newcomer has been seen often enough.
    fn admit(
        &mut self,
        key: EntityKey,
        hash: u64,
        tick: &Tick<'_>,
        admit_after: u32,
    ) -> Option<u32> {
        if self.entries.len() < self.capacity {
            let slot = self.entries.len() as u32;
            self.entries.push(Entry::new(key, tick.epoch, tick.period));
            self.index.insert(hash, slot);
            return Some(slot);
        }
        self.misses += 1;
        if self.misses.is_multiple_of(self.capacity as u64 * 10) {
            self.newcomers.halve();
        }
        let seen = self.newcomers.estimate(hash);
        let victim = self.coldest(tick)?;
        let victim_mass = self.entries[victim as usize].hot.mass[0];
        // `seen` events outside vs the victim's decayed activity (fastest window).
        if seen < admit_after || f64::from(seen) <= victim_mass {
            return None;
        }
        let old = self.entries[victim as usize].key;
        self.index.remove(old.hash64());
        self.entries[victim as usize] = Entry::new(key, tick.epoch, tick.period);
        self.index.insert(hash, victim);
        Some(victim)
    }

    /// The coldest of 8 sampled entries that are neither leaders nor trending.
    fn coldest(&mut self, tick: &Tick<'_>) -> Option<u32> {
        let mut best: Option<(f64, u32)> = None;
        for _ in 0..8 {
            self.rng = mix64(self.rng);
            let slot = (self.rng % self.entries.len() as u64) as u32;
            let entry = &mut self.entries[slot as usize];
            if entry.pinned() {
                continue;
            }
            if entry.hot.epoch != tick.epoch {
                rebase(entry, tick);
            }
            if best.is_none_or(|(m, _)| entry.hot.mass[0] < m) {
                best = Some((entry.hot.mass[0], slot));
            }
        }
        best.map(|(_, slot)| slot)
    }

    /// Inserts restored state (snapshot restore); leaders are recomputed.
    pub(crate) fn restore(&mut self, entry: Entry) -> bool {
        let hash = entry.key.hash64();
        if self.entries.len() >= self.capacity || self.index.contains(hash) {
            return false;
        }
        let slot = self.entries.len() as u32;
        self.index.insert(hash, slot);
        let masses = entry.hot.mass;
        let trending = entry.trending;
        let listable = entry.qualified;
        self.entries.push(entry);
        if trending {
            self.trending.push(slot);
        }
        for (k, board) in self.boards.iter_mut().enumerate() {
            if masses[k] <= 0.0 || !listable {
                continue;
            }
            if let Offer::Placed { pos, evicted } = board.offer(slot, masses[k]) {
                self.entries[slot as usize].hot.board_pos[k] = pos;
                if let Some(e) = evicted {
                    self.entries[e as usize].hot.board_pos[k] = OFF_BOARD;
                }
            }
        }
        true
    }
}

/// Brings an entry's mantissas to the current epoch.
#[cold]
fn rebase(entry: &mut Entry, tick: &Tick<'_>) {
    let steps = tick.epoch.saturating_sub(entry.hot.epoch);
    for k in 0..tick.windows {
        entry.hot.mass[k] *= tick.epoch_decay[k].powi(steps.min(i32::MAX as u32) as i32);
    }
    entry.hot.epoch = tick.epoch;
}

#[cfg(test)]
mod layout {
    #[test]
    fn entry_is_six_lines_with_the_counter_after_the_hot_line() {
        assert_eq!(std::mem::size_of::<super::Hot>(), 64);
        assert_eq!(std::mem::size_of::<super::Entry>(), 384);
        assert_eq!(std::mem::offset_of!(super::Entry, cur), 64);
    }
}
