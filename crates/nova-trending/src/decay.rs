//! Exponential decay in log space.
//!
//! A window with half-life `h` has rate `λ = ln 2 / h`. An entity's score is
//! `L = ln Σ wᵢ·exp(λ·tᵢ)`: adding an event never rescans the past, and the decayed value at
//! `now` is `L − λ·now`, so every entity decays by the same amount and their order
//! only changes when events arrive.
//!
//! Storing `L` directly costs an `exp` and a `ln1p` per update ([`log_add_exp`]). The engine
//! instead keeps `L` as `λ·T + ln m`: an **epoch** start `T` shared by everyone plus a
//! mantissa `m = Σ wᵢ·exp(λ·(tᵢ − T))`. Epochs are long enough that `m` stays below
//! `e^64`; `exp(λ·(t − T))` is the same for every event in the same second, so an update
//! is one multiply-add. When the epoch moves on, a mantissa is rescaled once, lazily.

/// `ln 2`.
const LN_2: f64 = std::f64::consts::LN_2;

/// How far (in units of `λ·t`) one epoch reaches for the fastest window.
pub(crate) const EPOCH_SPAN: f64 = 64.0;

/// `λ` for a half-life in seconds.
pub fn lambda(half_life_secs: f64) -> f64 {
    LN_2 / half_life_secs
}

/// `ln(eᵃ + eᵇ)` without overflow: `max + ln1p(exp(min − max))`.
#[inline]
pub fn log_add_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

/// The absolute log score `ln Σ wᵢ·exp(λ·tᵢ)` of a mantissa kept relative to `epoch_start`.
#[inline]
pub fn absolute(mantissa: f64, lambda: f64, epoch_start: f64) -> f64 {
    mantissa.ln() + lambda * epoch_start
}

/// The decayed log score at `now` of an absolute log score.
#[inline]
pub fn at(absolute: f64, lambda: f64, now: f64) -> f64 {
    absolute - lambda * now
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_add_exp_matches_direct() {
        for (a, b) in [(0.0f64, 0.0f64), (1.0, -3.0), (700.0, 699.0), (-50.0, 10.0)] {
            let direct = f64::exp(a) + f64::exp(b);
            if direct.is_finite() {
                assert!((log_add_exp(a, b) - direct.ln()).abs() < 1e-12);
            }
        }
        assert!((log_add_exp(1000.0, 1000.0) - (1000.0 + LN_2)).abs() < 1e-12);
        assert_eq!(log_add_exp(f64::NEG_INFINITY, 3.0), 3.0);
    }

    #[test]
    fn half_life_halves() {
        let l = lambda(3600.0);
        let abs = absolute(8.0, l, 0.0);
        assert!((at(abs, l, 3600.0).exp() - 4.0).abs() < 1e-12);
    }
}
