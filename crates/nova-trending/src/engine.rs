//! The trending engine: pure computation, no I/O, one `&mut` owner (wrap it in a lock
//! to share it).

use std::collections::HashMap;

use nova_core::{Error, Timestamp};

use crate::config::{MAX_WINDOWS, TrendingConfig};
use crate::decay::{self, EPOCH_SPAN};
use crate::hash::{FastBuild, mix64};
use crate::model::{Engagement, EntityKey, Ranked, ReviewState, Scope, Trend};
use crate::sketch::CapSketch;
use crate::table::{ScopeTable, Tick};

/// How many events apart [`TrendingEngine::ingest_batch`]'s pipeline stages run: enough
/// prefetches in flight to hide memory latency, few enough that the lines stay in L1.
pub const AHEAD: usize = 8;

/// The pipeline's ring (a power of two above `2 * AHEAD`).
const RING: usize = 32;

/// A scope table not looked up yet.
const UNRESOLVED: usize = usize::MAX;

/// An event of a batch waiting for its group to be loaded.
#[derive(Debug, Clone, Copy, Default)]
struct Queued {
    event: usize,
    secs: i64,
    entity_hash: u64,
    account_hash: u64,
    /// The language and region tables, once looked up.
    scopes: [usize; 2],
}

/// The entity's [`EntityKey::hash64`] and the account's hash.
#[inline]
fn hashes(event: &Engagement) -> (u64, u64) {
    let account = event.account;
    (
        event.entity.hash64(),
        mix64(account as u64 ^ mix64((account >> 64) as u64)),
    )
}

/// The contribution-cap sketch's key of an (entity, account) pair.
#[inline]
fn cap_hash(entity_hash: u64, account_hash: u64) -> u64 {
    entity_hash ^ account_hash.rotate_left(17)
}

/// The event's scopes besides global: language, region.
#[inline]
fn event_scopes(event: &Engagement) -> [Option<Scope>; 2] {
    [event.lang.map(Scope::Lang), event.region.map(Scope::Region)]
}

/// Counters of what the engine did with events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events accepted.
    pub ingested: u64,
    /// Events ignored because their account reached its contribution cap.
    pub capped: u64,
    /// Scope updates refused because the scope was full and the entity still cold.
    pub not_admitted: u64,
    /// Scope updates dropped because `max_scopes` was reached.
    pub scope_overflow: u64,
}

/// The engine. See the [crate docs](crate) for the model.
#[derive(Debug, Clone)]
pub struct TrendingEngine {
    pub(crate) config: TrendingConfig,
    pub(crate) lambdas: [f64; MAX_WINDOWS],
    weights: [f64; crate::model::EngagementKind::COUNT],
    pub(crate) windows: usize,
    pub(crate) epoch_secs: f64,
    pub(crate) epoch: u32,
    epoch_decay: [f64; MAX_WINDOWS],
    /// (second, epoch) → exp(λₖ·(t − epoch start)).
    factor_at: (i64, u32),
    factors: [f64; MAX_WINDOWS],
    /// The last event time seen and its Unix seconds: consecutive events mostly share a
    /// second, and `timestamp()` is a calendar computation.
    last_at: (Timestamp, i64),
    period_secs: i64,
    pub(crate) period: u32,
    /// The earliest event second seen (how long the engine has been observing).
    pub(crate) since: i64,
    caps: CapSketch,
    pub(crate) tables: Vec<ScopeTable>,
    scope_index: HashMap<Scope, usize, FastBuild>,
    pub(crate) reviews: HashMap<EntityKey, ReviewState, FastBuild>,
    stats: Stats,
}

impl TrendingEngine {
    /// A new engine; fails on an invalid configuration.
    pub fn new(config: TrendingConfig) -> Result<Self, Error> {
        config.validate()?;
        let windows = config.windows.len();
        let mut lambdas = [0.0; MAX_WINDOWS];
        for (k, w) in config.windows.iter().enumerate() {
            lambdas[k] = decay::lambda(w.half_life.as_secs_f64());
        }
        let fastest = lambdas.iter().copied().fold(0.0, f64::max);
        let epoch_secs = (EPOCH_SPAN / fastest).floor().max(1.0);
        let mut epoch_decay = [1.0; MAX_WINDOWS];
        for k in 0..windows {
            epoch_decay[k] = (-lambdas[k] * epoch_secs).exp();
        }
        let mut weights = config.weights;
        weights
            .iter_mut()
            .for_each(|w| *w = w.max(f64::MIN_POSITIVE));
        let global = ScopeTable::new(Scope::Global, config.capacity, config.board_size, windows);
        let mut scope_index = HashMap::default();
        scope_index.insert(Scope::Global, 0);
        Ok(Self {
            period_secs: config.period.as_secs().min(i64::MAX as u64) as i64,
            caps: CapSketch::new(config.cap_sketch_bytes),
            lambdas,
            weights,
            windows,
            epoch_secs,
            epoch: 0,
            epoch_decay,
            factor_at: (i64::MIN, 0),
            factors: [0.0; MAX_WINDOWS],
            last_at: (Timestamp::default(), 0),
            period: 0,
            since: i64::MAX,
            tables: vec![global],
            scope_index,
            reviews: HashMap::default(),
            stats: Stats::default(),
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TrendingConfig {
        &self.config
    }

    /// What happened to the events so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Moves the clock forward to `secs` (epochs, periods); never backwards.
    #[inline]
    pub(crate) fn advance(&mut self, secs: i64) {
        let epoch = (secs.max(0) as f64 / self.epoch_secs) as u32;
        if epoch > self.epoch {
            let steps = epoch - self.epoch;
            for table in &mut self.tables {
                table.advance_epoch(&self.epoch_decay, steps);
            }
            self.epoch = epoch;
        }
        let period = (secs.max(0) / self.period_secs).min(u32::MAX as i64) as u32;
        if period > self.period {
            self.period = period;
            self.caps.clear();
        }
    }

    #[inline]
    fn factors(&mut self, secs: i64) -> [f64; MAX_WINDOWS] {
        if self.factor_at != (secs, self.epoch) {
            let dt = secs as f64 - f64::from(self.epoch) * self.epoch_secs;
            for k in 0..self.windows {
                self.factors[k] = (self.lambdas[k] * dt).exp();
            }
            self.factor_at = (secs, self.epoch);
        }
        self.factors
    }

    /// Ingests one event in O(1); `false` if it was ignored (contribution cap).
    #[inline]
    pub fn ingest(&mut self, event: &Engagement) -> bool {
        let secs = self.event_secs(event);
        self.advance(secs);
        self.since = self.since.min(secs);
        let (entity_hash, account_hash) = hashes(event);
        if self.capped(entity_hash, account_hash) {
            return false;
        }
        self.apply(event, secs, entity_hash, account_hash, [UNRESOLVED; 2]);
        true
    }

    /// Ingests events in order (what the service does with a consumer's or an Ingest
    /// call's events under one lock); returns how many counted.
    ///
    /// Same result as [`Self::ingest`] on each event in turn, but pipelined so that
    /// memory latency overlaps instead of adding up: an event's cap-sketch and index
    /// lines are prefetched 2·[`AHEAD`] events before it is applied, its entry's lines
    /// (found through the then cached index) [`AHEAD`] events before. Events are applied
    /// in order, and the clock (epochs, periods) only moves on with the pipeline empty.
    pub fn ingest_batch(&mut self, events: &[Engagement]) -> usize {
        let mut ring = [Queued::default(); RING];
        // Queued events: [applied, located) located, [located, queued) prefetched.
        let (mut applied, mut located, mut queued) = (0usize, 0usize, 0usize);
        let mut counted = 0;
        for (i, event) in events.iter().enumerate() {
            let new_second = event.at != self.last_at.0;
            let secs = self.event_secs(event);
            if new_second && self.would_advance(secs) {
                counted += self.drain(events, &mut ring, &mut located, &mut applied, queued);
                self.advance(secs);
            }
            self.since = self.since.min(secs);
            let (entity_hash, account_hash) = hashes(event);
            let mut q = Queued {
                event: i,
                secs,
                entity_hash,
                account_hash,
                scopes: [UNRESOLVED; 2],
            };
            self.prefetch_index(event, &mut q);
            ring[queued % RING] = q;
            queued += 1;
            if queued - located > AHEAD {
                self.locate(&mut ring[located % RING]);
                located += 1;
            }
            if located - applied > AHEAD {
                counted += usize::from(self.apply_queued(events, &ring[applied % RING]));
                applied += 1;
            }
        }
        counted += self.drain(events, &mut ring, &mut located, &mut applied, queued);
        counted
    }

    /// Pipeline stage 1: prefetches the cap-sketch line and the scope tables' index lines
    /// of a queued event (and looks its language and region tables up).
    #[inline]
    fn prefetch_index(&self, event: &Engagement, q: &mut Queued) {
        self.caps.prefetch(cap_hash(q.entity_hash, q.account_hash));
        self.tables[0].prefetch_index(q.entity_hash);
        for (n, scope) in event_scopes(event).into_iter().enumerate() {
            if let Some(&t) = scope.and_then(|s| self.scope_index.get(&s)) {
                q.scopes[n] = t;
                self.tables[t].prefetch_index(q.entity_hash);
            }
        }
    }

    /// Pipeline stage 2: prefetches the entry lines of a queued event.
    #[inline]
    fn locate(&self, q: &mut Queued) {
        self.tables[0].prefetch_entry(q.entity_hash, q.account_hash);
        for &t in &q.scopes {
            if t != UNRESOLVED {
                self.tables[t].prefetch_entry(q.entity_hash, q.account_hash);
            }
        }
    }

    /// Empties the pipeline: locates and applies every queued event, in order; how many
    /// counted (were not capped).
    fn drain(
        &mut self,
        events: &[Engagement],
        ring: &mut [Queued; RING],
        located: &mut usize,
        applied: &mut usize,
        queued: usize,
    ) -> usize {
        while *located < queued {
            self.locate(&mut ring[*located % RING]);
            *located += 1;
        }
        let mut counted = 0;
        while *applied < queued {
            counted += usize::from(self.apply_queued(events, &ring[*applied % RING]));
            *applied += 1;
        }
        counted
    }

    /// Pipeline stage 3: applies a queued event; `false` if capped.
    #[inline]
    fn apply_queued(&mut self, events: &[Engagement], q: &Queued) -> bool {
        if self.capped(q.entity_hash, q.account_hash) {
            return false;
        }
        self.apply(
            &events[q.event],
            q.secs,
            q.entity_hash,
            q.account_hash,
            q.scopes,
        );
        true
    }

    /// The event's Unix seconds (cached: consecutive events mostly share a second).
    #[inline]
    fn event_secs(&mut self, event: &Engagement) -> i64 {
        if event.at != self.last_at.0 {
            self.last_at = (event.at, event.at.timestamp());
        }
        self.last_at.1
    }

    /// Whether [`Self::advance`] to `secs` would start a new epoch or period.
    #[inline]
    fn would_advance(&self, secs: i64) -> bool {
        let epoch = (secs.max(0) as f64 / self.epoch_secs) as u32;
        let period = (secs.max(0) / self.period_secs).min(u32::MAX as i64) as u32;
        epoch > self.epoch || period > self.period
    }

    /// Counts the event against its account's cap for the entity; `true` (and counted
    /// as capped) if over it.
    #[inline]
    fn capped(&mut self, entity_hash: u64, account_hash: u64) -> bool {
        if u32::from(self.caps.add(cap_hash(entity_hash, account_hash))) > self.config.account_cap {
            self.stats.capped += 1;
            return true;
        }
        false
    }

    /// Adds an accepted event to its scopes' tables. `scopes` are the language and
    /// region tables if already looked up ([`UNRESOLVED`] otherwise).
    #[inline]
    fn apply(
        &mut self,
        event: &Engagement,
        secs: i64,
        entity_hash: u64,
        account_hash: u64,
        scopes: [usize; 2],
    ) {
        let w = self.weights[event.kind as usize];
        let mut add = self.factors(secs);
        add.iter_mut().for_each(|f| *f *= w);
        let epoch_decay = self.epoch_decay;
        let tick = Tick {
            epoch: self.epoch,
            period: self.period,
            add: &add,
            epoch_decay: &epoch_decay,
            windows: self.windows,
            min_accounts: self.config.min_accounts,
        };
        let admit = self.config.admit_after;
        let mut not_admitted = 0;
        if !self.tables[0].update(event.entity, entity_hash, account_hash, &tick, admit) {
            not_admitted += 1;
        }
        for (scope, known) in event_scopes(event).into_iter().zip(scopes) {
            let Some(scope) = scope else {
                continue;
            };
            let idx = if known != UNRESOLVED {
                known
            } else if let Some(idx) = self.scope_slot(scope) {
                idx
            } else {
                self.stats.scope_overflow += 1;
                continue;
            };
            if !self.tables[idx].update(event.entity, entity_hash, account_hash, &tick, admit) {
                not_admitted += 1;
            }
        }
        self.stats.not_admitted += not_admitted;
        self.stats.ingested += 1;
    }

    /// Sets an entity's review state.
    pub fn set_review(&mut self, entity: EntityKey, state: ReviewState) {
        if state == ReviewState::Pending {
            self.reviews.remove(&entity);
        } else {
            self.reviews.insert(entity, state);
        }
    }

    /// An entity's review state.
    pub fn review(&self, entity: &EntityKey) -> ReviewState {
        self.reviews.get(entity).copied().unwrap_or_default()
    }

    fn visible(&self, entity: &EntityKey) -> bool {
        match self.review(entity) {
            ReviewState::Hidden => false,
            ReviewState::Approved => true,
            ReviewState::Pending => !self.config.require_review,
        }
    }

    /// The table of `scope`, created if there is room.
    pub(crate) fn table_mut(&mut self, scope: Scope) -> Option<&mut ScopeTable> {
        let idx = self.scope_slot(scope)?;
        Some(&mut self.tables[idx])
    }

    /// The index of `scope`'s table, created if `max_scopes` allows.
    #[inline]
    fn scope_slot(&mut self, scope: Scope) -> Option<usize> {
        if let Some(&i) = self.scope_index.get(&scope) {
            return Some(i);
        }
        if self.tables.len() >= self.config.max_scopes {
            return None;
        }
        let table = ScopeTable::new(
            scope,
            self.config.capacity,
            self.config.board_size,
            self.windows,
        );
        self.tables.push(table);
        self.scope_index.insert(scope, self.tables.len() - 1);
        Some(self.tables.len() - 1)
    }

    fn table(&self, scope: &Scope) -> Option<&ScopeTable> {
        self.scope_index.get(scope).map(|&i| &self.tables[i])
    }

    /// Scopes with a table, global first.
    pub fn scopes(&self) -> Vec<Scope> {
        self.tables.iter().map(|t| t.scope).collect()
    }

    fn window(&self, name: &str) -> Result<usize, Error> {
        self.config
            .window(name)
            .ok_or_else(|| Error::invalid("window", format!("unknown window {name:?}")))
    }

    pub(crate) fn epoch_start(&self, epoch: u32) -> f64 {
        f64::from(epoch) * self.epoch_secs
    }

    /// `ln` of an entity's decayed score in `window` at `now`, if it is tracked.
    pub fn log_score(
        &self,
        scope: &Scope,
        entity: &EntityKey,
        window: &str,
        now: Timestamp,
    ) -> Result<Option<f64>, Error> {
        let k = self.window(window)?;
        let Some(table) = self.table(scope) else {
            return Ok(None);
        };
        Ok(table.slot(entity).map(|slot| {
            let e = &table.entries[slot as usize];
            self.log_at(e.hot.mass[k], e.hot.epoch, k, now.timestamp() as f64)
        }))
    }

    #[inline]
    fn log_at(&self, mass: f64, epoch: u32, k: usize, now: f64) -> f64 {
        let abs = decay::absolute(mass, self.lambdas[k], self.epoch_start(epoch));
        decay::at(abs, self.lambdas[k], now)
    }

    /// Weighted events per hour in the trend window (decayed), for ranking features.
    pub fn velocity(&self, entity: &EntityKey, now: Timestamp) -> f64 {
        let k = self.config.trend_window;
        let Some(table) = self.table(&Scope::Global) else {
            return 0.0;
        };
        table.slot(entity).map_or(0.0, |slot| {
            let e = &table.entries[slot as usize];
            self.log_at(e.hot.mass[k], e.hot.epoch, k, now.timestamp() as f64)
                .exp()
                * self.lambdas[k]
                * 3600.0
        })
    }

    /// The `k` most engaged-with visible entities in `scope` and `window` at `now`
    /// (popularity, not growth), at most `board_size`. Only entities that have had
    /// `min_accounts` distinct accounts in the scope are listed.
    pub fn top(
        &self,
        scope: &Scope,
        window: &str,
        k: usize,
        now: Timestamp,
    ) -> Result<Vec<Ranked>, Error> {
        let w = self.window(window)?;
        let Some(table) = self.table(scope) else {
            return Ok(Vec::new());
        };
        let now = now.timestamp() as f64;
        Ok(table.boards[w]
            .sorted()
            .into_iter()
            .map(|(mass, slot)| (mass, &table.entries[slot as usize]))
            // Boards hold only qualified entities; checked again as the rule of every
            // public list.
            .filter(|(_, e)| e.qualified && self.visible(&e.key))
            .map(|(mass, e)| (mass, e.key))
            .take(k)
            .map(|(mass, entity)| {
                let log_score = self.log_at(mass, self.epoch, w, now);
                Ranked {
                    entity,
                    log_score,
                    score: log_score.exp(),
                }
            })
            .collect())
    }

    /// What is trending in `scope` at `now`: leaders of the trend window whose activity
    /// is unusually above their baseline, with enough distinct accounts, visible, and
    /// not cooling down. Updates trending/cool-down state (hence `&mut`).
    pub fn trends(&mut self, scope: &Scope, k: usize, now: Timestamp) -> Vec<Trend> {
        let secs = now.timestamp();
        self.advance(secs);
        let Some(&idx) = self.scope_index.get(scope) else {
            return Vec::new();
        };
        let (tw, bw) = (self.config.trend_window, self.config.baseline_window);
        let (lt, lb) = (self.lambdas[tw], self.lambdas[bw]);
        let now_f = secs as f64;
        // A decayed sum over an observation of `age` seconds holds only
        // (1 − exp(−λ·age)) of the steady state: divide it out, so a young engine does not
        // mistake its own start for growth.
        let age = (secs.saturating_sub(self.since)).max(1) as f64;
        let per_hour = |lambda: f64| lambda * 3600.0 / (1.0 - (-lambda * age).exp());
        let (rt, rb) = (per_hour(lt), per_hour(lb));
        let table = &self.tables[idx];
        let mut qualified = Vec::new();
        for &(_, slot) in &table.boards[tw].items {
            let e = &table.entries[slot as usize];
            let observed = self.log_at(e.hot.mass[tw], e.hot.epoch, tw, now_f).exp() * rt;
            let expected = (self.log_at(e.hot.mass[bw], e.hot.epoch, bw, now_f).exp() * rb)
                .max(self.config.baseline_floor_per_hour);
            if observed < expected * self.config.min_growth
                || e.cooldown_until > secs
                || !self.visible(&e.key)
            {
                continue;
            }
            let accounts = e.accounts(self.period);
            if accounts < self.config.min_accounts {
                continue;
            }
            let score = (observed - expected).powi(2) / expected;
            qualified.push((
                slot,
                Trend {
                    entity: e.key,
                    score,
                    observed_per_hour: observed,
                    expected_per_hour: expected,
                    accounts,
                },
            ));
        }
        let cooldown = self.config.cooldown.as_secs().min(i64::MAX as u64 / 2) as i64;
        let table = &mut self.tables[idx];
        for slot in std::mem::take(&mut table.trending) {
            if !qualified.iter().any(|(s, _)| *s == slot) {
                let e = &mut table.entries[slot as usize];
                e.trending = false;
                e.cooldown_until = secs.saturating_add(cooldown);
            }
        }
        for (slot, _) in &qualified {
            table.entries[*slot as usize].trending = true;
            table.trending.push(*slot);
        }
        let mut out: Vec<Trend> = qualified.into_iter().map(|(_, t)| t).collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.entity.cmp(&b.entity)));
        out.truncate(k);
        out
    }
}
