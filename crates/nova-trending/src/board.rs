//! A leaderboard of the `M` largest mantissas in one scope and window.
//!
//! Within an epoch, mantissas only grow and all decay alike, so "enter when larger than
//! the smallest leader, evicting it" keeps exactly the top `M`. The smallest leader is
//! found lazily: an update can only make the cached minimum stale-low, never wrong-high.

/// No position on a board.
pub(crate) const OFF_BOARD: u16 = u16::MAX;

#[derive(Debug, Clone)]
pub(crate) struct Board {
    /// (mantissa, entry slot).
    pub(crate) items: Vec<(f64, u32)>,
    cap: usize,
    min_val: f64,
    min_pos: usize,
    min_dirty: bool,
}

/// What an offer did.
pub(crate) enum Offer {
    /// Not a leader.
    Rejected,
    /// Now at this position (and, if some, `evicted` lost its place).
    Placed { pos: u16, evicted: Option<u32> },
}

impl Board {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            items: Vec::with_capacity(cap),
            cap,
            min_val: 0.0,
            min_pos: 0,
            min_dirty: true,
        }
    }

    /// Updates a leader's value in place (it only grew).
    #[inline]
    pub(crate) fn raise(&mut self, pos: u16, value: f64) {
        if let Some(item) = self.items.get_mut(pos as usize) {
            item.0 = value;
            if pos as usize == self.min_pos {
                self.min_dirty = true;
            }
        }
    }

    /// Offers a non-leader.
    #[inline]
    pub(crate) fn offer(&mut self, slot: u32, value: f64) -> Offer {
        if self.items.len() < self.cap {
            self.items.push((value, slot));
            self.min_dirty = true;
            return Offer::Placed {
                pos: (self.items.len() - 1) as u16,
                evicted: None,
            };
        }
        if value <= self.min_val {
            return Offer::Rejected;
        }
        if self.min_dirty {
            self.find_min();
            if value <= self.min_val {
                return Offer::Rejected;
            }
        }
        let pos = self.min_pos;
        let evicted = self.items[pos].1;
        self.items[pos] = (value, slot);
        self.min_dirty = true;
        Offer::Placed {
            pos: pos as u16,
            evicted: Some(evicted),
        }
    }

    fn find_min(&mut self) {
        let mut best = (f64::INFINITY, 0);
        for (i, &(v, _)) in self.items.iter().enumerate() {
            if v < best.0 {
                best = (v, i);
            }
        }
        self.min_val = best.0;
        self.min_pos = best.1;
        self.min_dirty = false;
    }

    /// Multiplies every value (an epoch change); order is unchanged.
    pub(crate) fn rescale(&mut self, factor: f64) {
        for item in &mut self.items {
            item.0 *= factor;
        }
        self.min_val *= factor;
    }

    /// Leaders, largest first.
    pub(crate) fn sorted(&self) -> Vec<(f64, u32)> {
        let mut out = self.items.clone();
        out.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        out
    }
}
