//! A deterministic synthetic engagement stream shared by the trending bench and its
//! Redis peer (`cargo run -p nova-benches --bin stream > events.txt`).

/// One event: Zipf-like entity, uniform account, a kind index and a second of event time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSpec {
    /// Entity index (0..10,000), Zipf-like.
    pub entity: u32,
    /// Account (0..100,000).
    pub account: u64,
    /// Kind index (0..4).
    pub kind: u8,
    /// Seconds since the stream's start (1,000 events per second).
    pub second: u32,
}

/// `n` events from a fixed seed.
pub fn stream(n: usize) -> Vec<EventSpec> {
    let mut state: u64 = 0x853c_49e6_748f_ea9b;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|i| {
            // Zipf-like: u^3 concentrates mass on small indices.
            let u = (next() >> 11) as f64 / (1u64 << 53) as f64;
            EventSpec {
                entity: ((u * u * u) * 10_000.0) as u32,
                account: next() % 100_000,
                kind: (next() % 4) as u8,
                second: (i / 1_000) as u32,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    /// `benches/peers/redis_peer.py` regenerates this stream; these are its first events.
    #[test]
    fn matches_the_python_peer() {
        let first: Vec<(u32, u64, u8)> = super::stream(4)
            .iter()
            .map(|e| (e.entity, e.account, e.kind))
            .collect();
        assert_eq!(
            first,
            [
                (0, 18_985, 1),
                (5_956, 16_094, 1),
                (2_124, 92_106, 2),
                (777, 7_082, 1)
            ]
        );
    }
}
