//! Randomness keyed by (seed, subject, day, purpose).
//!
//! Every draw the engine makes is a pure function of these four numbers, never of a
//! generator's position, so results do not depend on which thread handles an agent or in
//! what order. The mixer is SplitMix64's finaliser, applied twice; it is fixed here, so
//! outputs do not change when a dependency updates its generators.

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

/// What a draw is for: the same agent and day draw independent numbers per purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Purpose {
    Inflow = 1,
    Decide = 2,
    Route = 3,
    Travel = 4,
    TravelNormal = 5,
    Detect = 6,
    Evade = 7,
    Bus = 8,
    Lottery = 9,
    QuotaApply = 10,
    BeliefNoise = 11,
    Replicate = 12,
    /// A person's taste for an end of a journey: keyed by the end and the journey, not by
    /// a day (see `model::choice`).
    Taste = 13,
    /// Calibration by ABC-SMC (`experiment::abc`): the prior design (a Latin hypercube),
    /// a proposal's parent and its perturbation, keyed by the proposal and the generation.
    Design = 14,
    Parent = 15,
    Perturb = 16,
    /// Sweeps (`experiment::design`, `experiment::sensitivity`): the designs' draws and the
    /// bootstrap's resamples.
    Sweep = 17,
    Bootstrap = 18,
}

/// SplitMix64's finaliser, the one mixer behind every key.
#[inline(always)]
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 64-bit hash of the key.
#[inline(always)]
pub fn key(seed: u64, subject: u64, day: u32, purpose: Purpose) -> u64 {
    key_from(prefix(seed, subject), day, purpose)
}

/// The part of [`key`] that depends on the seed and the subject only: many keys of one
/// subject cost one mixing round each instead of three.
#[inline(always)]
pub fn prefix(seed: u64, subject: u64) -> u64 {
    mix(seed ^ mix(subject))
}

/// [`key`]`(seed, subject, day, purpose)` from [`prefix`]`(seed, subject)`.
#[inline(always)]
pub fn key_from(prefix: u64, day: u32, purpose: Purpose) -> u64 {
    mix(prefix ^ ((u64::from(day) << 32) | purpose as u64))
}

/// A uniform number in [0, 1).
#[inline(always)]
pub fn uniform(seed: u64, subject: u64, day: u32, purpose: Purpose) -> f64 {
    (key(seed, subject, day, purpose) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A standard exponential number, `-ln u` with `u` in (0, 1).
#[inline]
pub fn exponential(seed: u64, subject: u64, slot: u32, purpose: Purpose) -> f64 {
    exponential_of(key(seed, subject, slot, purpose))
}

/// The `u` in (0, 1) behind the exponential number of a key.
#[inline(always)]
fn exponential_u(key: u64) -> f64 {
    ((key >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// [`exponential`] from its key ([`key`] or [`key_from`]).
#[inline]
pub fn exponential_of(key: u64) -> f64 {
    -ln(exponential_u(key))
}

/// `ln(1 + j / 256)` for `j` in `0..=256`, within 1e-15: `2 atanh(x / (2 + x))` summed at
/// compile time until the terms vanish (x / (2 + x) < 1/5, so 25 terms leave less than
/// 1e-35).
pub(crate) static LN_STEPS: [f64; 257] = {
    let mut t = [0.0; 257];
    let mut j = 0;
    while j <= 256 {
        let x = j as f64 / 256.0;
        let y = x / (2.0 + x);
        let y2 = y * y;
        let (mut sum, mut power, mut k) = (0.0, y, 0);
        while k < 25 {
            sum += power / (2 * k + 1) as f64;
            power *= y2;
            k += 1;
        }
        t[j] = 2.0 * sum;
        j += 1;
    }
    t
};

/// How far [`ln`] may be from the logarithm, with room to spare: its series is cut after
/// the t^11 term (at most 2e-11 with |t| < 0.172) and its roundings, like those of the
/// bounds below and of `LN_STEPS`, are of the order of 1e-14 for results up to 37 in
/// magnitude.
pub(crate) const LN_SLACK: f64 = 1e-9;

/// Bounds `(low, high)` with `low <= exponential_of(key) <= high`, from the exponent and
/// the leading 8 bits of the mantissa of the uniform behind it: no logarithm, and within
/// 0.004 of each other. What lets a race of clocks skip the logarithms of the clocks that
/// cannot win (see `model::choice::pick_keyed`).
#[inline]
pub fn exponential_bounds(key: u64) -> (f64, f64) {
    let bits = exponential_u(key).to_bits();
    // u in (0, 1] is a positive normal number: u = 2^e (1 + f), 0 <= f < 1, and
    // ln u = e ln 2 + ln(1 + f) with ln(1 + f) in [ln(1 + j/256), ln(1 + (j+1)/256)].
    let e = ((bits >> 52) & 0x7ff) as f64 - 1023.0;
    let j = ((bits >> 44) & 0xff) as usize;
    let base = -e * std::f64::consts::LN_2;
    (
        base - LN_STEPS[j + 1] - LN_SLACK,
        base - LN_STEPS[j] + LN_SLACK,
    )
}

/// The natural logarithm of a positive normal `x`, to about 1e-9 relative: a few plain
/// arithmetic operations instead of the C library's call, which dominated the cost of
/// choosing (a taste per end per decision). Plain IEEE arithmetic, so the same on every
/// machine.
#[inline]
pub fn ln(x: f64) -> f64 {
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    // ln m = 2 atanh(t) with t = (m - 1) / (m + 1), |t| < 0.172.
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let s = t
        * (2.0
            + t2 * (2.0 / 3.0
                + t2 * (0.4 + t2 * (2.0 / 7.0 + t2 * (2.0 / 9.0 + t2 * (2.0 / 11.0))))));
    e as f64 * std::f64::consts::LN_2 + s
}

/// A standard normal number (Box-Muller on two keyed uniforms).
pub fn normal(seed: u64, subject: u64, day: u32, purpose: Purpose) -> f64 {
    let k = key(seed, subject, day, purpose);
    let u1 = ((k >> 11) as f64 + 1.0) * (1.0 / ((1u64 << 53) as f64 + 1.0));
    let u2 = (mix(k) >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A generator for a longer sequence of draws under one key (for rand_distr samplers).
pub fn stream(seed: u64, subject: u64, day: u32, purpose: Purpose) -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(key(seed, subject, day, purpose))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_is_uniform_and_keys_differ() {
        let n = 200_000;
        let mean: f64 = (0..n)
            .map(|i| uniform(7, i, 3, Purpose::Decide))
            .sum::<f64>()
            / n as f64;
        assert!((mean - 0.5).abs() < 0.005, "{mean}");
        assert_ne!(key(7, 1, 3, Purpose::Decide), key(7, 1, 3, Purpose::Route));
        assert_ne!(key(7, 1, 3, Purpose::Decide), key(7, 1, 4, Purpose::Decide));
        assert_ne!(key(7, 1, 3, Purpose::Decide), key(8, 1, 3, Purpose::Decide));
        let sd = ((0..n)
            .map(|i| normal(1, i, 0, Purpose::TravelNormal).powi(2))
            .sum::<f64>()
            / n as f64)
            .sqrt();
        assert!((sd - 1.0).abs() < 0.01, "{sd}");
    }

    #[test]
    fn keys_are_the_keyed_stream_every_output_was_made_with() {
        // Pinned: a change to the mixer, the prefix or the way a key is put together would
        // change every output and every calibration.
        let got = [
            key(0, 0, 0, Purpose::Decide),
            key(20170128, 12345, 2922, Purpose::Decide),
            key(20170128, 12345, 7 | (1 << 16), Purpose::Taste),
            key_from(prefix(1, 2), 3, Purpose::Inflow),
        ];
        assert_eq!(
            got,
            [
                0xb28c4c30d302532e,
                0x6709a7f083d52ae2,
                0x53c337f8adb40ccc,
                0x5a044efc2ba7258b,
            ]
        );
    }

    #[test]
    fn the_logarithm_steps_are_the_logarithms() {
        for (j, &v) in LN_STEPS.iter().enumerate() {
            let want = (1.0 + j as f64 / 256.0).ln();
            assert!((v - want).abs() <= 1e-15, "{j}: {v} vs {want}");
        }
    }

    #[test]
    fn exponential_bounds_hold_the_exponential() {
        let mut keys: Vec<u64> = vec![0, u64::MAX, 1 << 11, (1 << 11) - 1, 1 << 63, 3 << 62];
        let mut x = 11_u64;
        for _ in 0..200_000 {
            x = key(x, 1, 2, Purpose::Taste);
            keys.push(x);
            // Mantissas at the edges of the table's steps.
            keys.push(x & !(((1 << 44) - 1) << 11));
            keys.push(x | (((1 << 44) - 1) << 11));
            keys.push(x >> (x % 60));
        }
        let mut widest: f64 = 0.0;
        for k in keys {
            let e = exponential_of(k);
            let (low, high) = exponential_bounds(k);
            assert!(low <= e && e <= high, "{k}: {low} <= {e} <= {high}");
            assert!(e >= 0.0 && e.is_finite(), "{k}: {e}");
            widest = widest.max(high - low);
        }
        assert!(widest < 0.004, "{widest}");
    }

    #[test]
    fn the_fast_logarithm_is_the_logarithm() {
        let mut worst: f64 = 0.0;
        for k in 1..200_000u64 {
            let x = k as f64 / 200_000.0;
            let (a, b) = (ln(x), x.ln());
            worst = worst.max(((a - b) / b.abs().max(1e-300)).abs().min((a - b).abs()));
        }
        for x in [1e-16, 1e-9, 0.5, 1.0, 2.0, 1e9] {
            assert!(
                (ln(x) - x.ln()).abs() <= 1e-9 * x.ln().abs().max(1.0),
                "{x}"
            );
        }
        assert!(worst < 1e-9, "{worst}");
    }
}
