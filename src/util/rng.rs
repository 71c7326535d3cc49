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
    /// ABC-SMC with fresh seeds: a proposal's own replicate seeds, keyed by the proposal.
    Proposal = 19,
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
    uniform_from(prefix(seed, subject), day, purpose)
}

/// [`uniform`]`(seed, subject, day, purpose)` from [`prefix`]`(seed, subject)`.
#[inline(always)]
pub fn uniform_from(prefix: u64, day: u32, purpose: Purpose) -> f64 {
    (key_from(prefix, day, purpose) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A standard exponential number, `-ln u` with `u` in (0, 1].
#[inline]
pub fn exponential(seed: u64, subject: u64, slot: u32, purpose: Purpose) -> f64 {
    exponential_of(key(seed, subject, slot, purpose))
}

/// The `u` in (0, 1] behind the exponential number of a key (1 when the key's top 53 bits
/// are all set: `2^53 - 0.5` rounds to `2^53`).
#[inline(always)]
fn exponential_u(key: u64) -> f64 {
    ((key >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// [`exponential`] from its key ([`key`] or [`key_from`]).
#[inline]
pub fn exponential_of(key: u64) -> f64 {
    -ln(exponential_u(key))
}

/// `ln(1 + f)` for `f` in `[0, 1]` by the polynomial of degree 4 that interpolates it at
/// the five Chebyshev nodes (coefficients of `f^0..f^4`, fitted in f64): see
/// [`LN1P_MARGIN`].
pub(crate) const LN1P: [f64; 5] = [
    7.942077648755808e-05,
    0.9959657831345089,
    -0.46502043744559324,
    0.2164487077843509,
    -0.05437093355557315,
];

/// How far [`LN1P`]'s polynomial, and with it [`exponential_bounds`]' midpoint, may be from
/// the logarithm, with room to spare: interpolation at the Chebyshev nodes of `[0, 1]` errs
/// by at most `max |(d/df)^5 ln(1 + f)| / (2^9 5!) = 24 / 61440 < 3.91e-4` (7.94e-5 in
/// fact, measured on a grid); the coefficients' and the evaluation's roundings are of the
/// order of 1e-15, and [`ln`]'s own error below 2e-11.
pub(crate) const LN1P_MARGIN: f64 = 4e-4;

/// Bounds `(low, high)` with `low <= exponential_of(key) <= high`, from the exponent and
/// the mantissa of the uniform behind it: a polynomial instead of a logarithm, within
/// 0.0008 of each other. What lets a race of clocks skip the logarithms of the clocks that
/// cannot win (see `model::choice::pick_keyed`). `engine::wide` computes the same in
/// vector lanes, with the same operations in the same order.
#[inline]
pub fn exponential_bounds(key: u64) -> (f64, f64) {
    let bits = exponential_u(key).to_bits();
    // u in (0, 1] is a positive normal number: u = 2^e (1 + f), 0 <= f < 1, and
    // ln u = e ln 2 + ln(1 + f).
    let e = ((bits >> 52) & 0x7ff) as f64 - 1023.0;
    let f = f64::from_bits((bits & MANTISSA) | ONE) - 1.0;
    let mid = -e * std::f64::consts::LN_2 - ln1p_poly(f);
    (mid - LN1P_MARGIN, mid + LN1P_MARGIN)
}

/// [`LN1P`]'s polynomial at `f`, by Horner's rule (a multiplication then an addition, not
/// fused: `engine::wide` does the same in vector lanes).
#[inline(always)]
fn ln1p_poly(f: f64) -> f64 {
    let [c0, c1, c2, c3, c4] = LN1P;
    (((c4 * f + c3) * f + c2) * f + c1) * f + c0
}

/// The mantissa bits of an f64, and the exponent bits of 1.0.
pub(crate) const MANTISSA: u64 = 0x000f_ffff_ffff_ffff;
pub(crate) const ONE: u64 = 0x3ff0_0000_0000_0000;

/// The natural logarithm of a positive normal `x`, to about 1e-9 relative: a few plain
/// arithmetic operations instead of the C library's call, which dominated the cost of
/// choosing (a taste per end per decision). Plain IEEE arithmetic, so the same on every
/// machine.
#[inline]
pub fn ln(x: f64) -> f64 {
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & MANTISSA) | ONE);
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
    normal_from(prefix(seed, subject), day, purpose)
}

/// [`normal`]`(seed, subject, day, purpose)` from [`prefix`]`(seed, subject)`.
#[inline]
pub fn normal_from(prefix: u64, day: u32, purpose: Purpose) -> f64 {
    let k = key_from(prefix, day, purpose);
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
    fn the_polynomial_is_the_logarithm_within_its_margin() {
        let mut worst: f64 = 0.0;
        for k in 0..=1_000_000 {
            let f = f64::from(k) / 1e6;
            worst = worst.max((ln1p_poly(f) - f.ln_1p()).abs());
        }
        // The interpolation error measured (7.94e-5), well inside the proved bound.
        assert!(worst < 8e-5 && worst > 7e-5, "{worst}");
    }

    #[test]
    fn exponential_bounds_hold_the_exponential() {
        let mut keys: Vec<u64> = vec![0, u64::MAX, 1 << 11, (1 << 11) - 1, 1 << 63, 3 << 62];
        let mut x = 11_u64;
        for _ in 0..200_000 {
            x = key(x, 1, 2, Purpose::Taste);
            keys.push(x);
            // Mantissas at the ends of [1, 2), and at the nodes' neighbourhoods.
            keys.push(x & !(((1 << 44) - 1) << 11));
            keys.push(x | (((1 << 44) - 1) << 11));
            keys.push(x & !(((1 << 52) - 1) << 11));
            keys.push(x | (((1 << 52) - 1) << 11));
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
        assert!(widest <= 2.0 * LN1P_MARGIN + 1e-12, "{widest}");
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
