//! The engine's hottest loops compiled for wider registers, where the CPU has them.
//!
//! * **Finding the agents due today.** Most agents present are waiting out a clock (a New
//!   Yorker's next reconsideration is weeks away), so each day's scan of the chunks
//!   ([`find_due`](super::step)) is a stream of comparisons on 16-byte records. With
//!   AVX-512 (F and BW), BMI2 and POPCNT, four agents are compared per instruction and sixteen
//!   indices written at once: the same indices in the same order as the scalar loop's.
//! * **The race of taste clocks** of the people who move on ([`contenders`]): the keyed
//!   taste draws of a row's options and their bounds, four options per 256-bit register,
//!   the slice's races one after another with nothing between them, so that the CPU
//!   overlaps them. The options kept are those the scalar bounds keep.
//! * **A waiting agent's next act** ([`first_below`], driven by
//!   [`HazardBook::next_acts`](super::hazards::HazardBook::next_acts)): sixteen days' keyed
//!   draws at a time against their thresholds, for all the slice's waiting agents in turn.
//!
//! Raced or drawn one agent at a time between other work, each would wait on its own chain
//! of multiplications; in a loop of independent agents with no branch on their outcome,
//! they overlap. The scalar code runs where the CPU lacks the features, and with
//! `NORTHBOUND_SIMD=off`; tests run both and compare them. Only on x86-64; elsewhere the
//! scalar code is the only one. (512-bit registers for the race were slower than 256-bit
//! ones; see BENCHMARKS.md.)

use crate::model::agent::{Agent, State};
use crate::model::choice::Choice;
use crate::util::rng::{self, Purpose};

/// Whether this CPU runs this module's loops: checked once. `NORTHBOUND_SIMD=off` turns it off (to
/// compare, or to benchmark the scalar loop).
pub(super) fn available() -> bool {
    use std::sync::OnceLock;
    static WIDE: OnceLock<bool> = OnceLock::new();
    *WIDE.get_or_init(|| {
        std::env::var_os("NORTHBOUND_SIMD").is_none_or(|v| v != "off")
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("bmi2")
            && std::arch::is_x86_feature_detected!("popcnt")
    })
}

/// The agents this many at a time: four 64-byte registers of four agents each.
const BLOCK: usize = 16;

/// Writes to `due` the indices of the agents of `agents` due on day `t` (the rule of the
/// scalar `find_due`: not terminal, and a clock run out, entering today, or evading), and
/// returns how many, for whole blocks of [`BLOCK`] agents; the caller does the rest. `due`
/// must be at least as long as `agents`, and `t` within 16 bits.
///
/// # Safety
///
/// The CPU must have AVX-512 F and BW, BMI2 and POPCNT ([`available`]).
#[target_feature(enable = "avx512f,avx512bw,bmi2,popcnt")]
pub(super) unsafe fn find_due(agents: &[Agent], t: u32, due: &mut [u32]) -> (usize, usize) {
    use std::arch::x86_64::*;
    // An agent is eight 16-bit words: id (two), entry, since, until, place, state and
    // flags, nationality and returns (`Agent` is `repr(C)`, 16 bytes).
    const _: () = assert!(std::mem::size_of::<Agent>() == 16);
    const _: () = assert!(std::mem::offset_of!(Agent, entry) == 4);
    const _: () = assert!(std::mem::offset_of!(Agent, until) == 8);
    const _: () = assert!(std::mem::offset_of!(Agent, state) == 12);
    assert!(due.len() >= agents.len() && t <= u32::from(u16::MAX));
    let day = _mm512_set1_epi16(t as u16 as i16);
    let low_byte = _mm512_set1_epi16(0xFF);
    let evading = _mm512_set1_epi16(State::Evading as i16);
    let terminal = _mm512_set1_epi16(State::ClaimedIrregular as i16);
    const _: () = assert!(State::ClaimedIrregular as u8 == 5 && State::Evading as u8 == 2);
    // Each agent's verdict lands on bit 4 of its eight (the `until` word's), then is
    // gathered into four bits per register.
    let four = |v: __m512i| -> u32 {
        let state = _mm512_and_si512(v, low_byte);
        let until = _mm512_cmple_epu16_mask(v, day); // word 4
        let entry = _mm512_cmpeq_epi16_mask(v, day); // word 2
        let evade = _mm512_cmpeq_epi16_mask(state, evading); // word 6
        let done = _mm512_cmpge_epu16_mask(state, terminal); // word 6
        let due = (until | (entry << 2) | (evade >> 2)) & !(done >> 2);
        _pext_u32(due, 0x1010_1010)
    };
    let mut n = 0;
    let whole = agents.len() / BLOCK * BLOCK;
    let mut index = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let step = _mm512_set1_epi32(BLOCK as i32);
    for start in (0..whole).step_by(BLOCK) {
        let block = &agents[start..start + BLOCK];
        let p = block.as_ptr().cast::<__m512i>();
        // SAFETY: `block` is 16 agents of 16 bytes: the four unaligned loads read within it.
        let [a, b, c, d] = unsafe { [0, 1, 2, 3].map(|k| _mm512_loadu_si512(p.add(k))) };
        let mask = four(a) | four(b) << 4 | four(c) << 8 | four(d) << 12;
        let picked = _mm512_maskz_compress_epi32(mask as u16, index);
        // SAFETY: at most `start` indices were written before this block, so the 16
        // written here end at `start + 16 <= agents.len() <= due.len()`.
        unsafe {
            debug_assert!(n + BLOCK <= due.len());
            _mm512_storeu_si512(due.as_mut_ptr().add(n).cast(), picked);
        }
        n += mask.count_ones() as usize;
        index = _mm512_add_epi32(index, step);
    }
    (n, whole)
}

/// A row of the day's choice table as the wide race reads it: at most [`ROW_LANES`] options,
/// lane by lane, each end's taste key without the journey and its pace.
#[derive(Debug, Clone, Copy)]
pub(super) struct Row {
    /// Lanes in use: a bit per option; none where the wide race does not run the row.
    pub(super) lanes: u8,
    /// `(end << 32) | Purpose::Taste`: an end's taste key is `key_from(prefix, slot,
    /// Taste)` with `slot = end | returns << 16`, so the journey's part is OR-ed in.
    tag: [u64; ROW_LANES],
    pace: [f64; ROW_LANES],
}

/// Options a [`Row`] holds.
pub(super) const ROW_LANES: usize = 8;

impl Row {
    /// The row's options, if there are one to [`ROW_LANES`] and every pace is positive and
    /// finite; otherwise no lanes (and `pick_keyed` races it, exactly).
    pub(super) fn new(row: &[Choice]) -> Row {
        let mut r = Row {
            lanes: 0,
            tag: [0; ROW_LANES],
            pace: [1.0; ROW_LANES],
        };
        if row.is_empty()
            || row.len() > ROW_LANES
            || !row.iter().all(|c| c.pace.is_finite() && c.pace > 0.0)
        {
            return r;
        }
        r.lanes = ((1u32 << row.len()) - 1) as u8;
        for (i, c) in row.iter().enumerate() {
            r.tag[i] = (u64::from(c.end) << 32) | Purpose::Taste as u64;
            r.pace[i] = c.pace;
        }
        r
    }
}

/// [`rng::key_from`] in four lanes: SplitMix64's finaliser of `prefix ^ tag`, `tag` being
/// each lane's `slot << 32 | purpose` (the slot a day, or an end and its journey).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2")]
#[inline]
fn keys(prefix: u64, tag: std::arch::x86_64::__m256i) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::*;
    let c = |x: u64| _mm256_set1_epi64x(x as i64);
    let mut z = _mm256_add_epi64(_mm256_xor_si256(c(prefix), tag), c(0x9E37_79B9_7F4A_7C15));
    z = _mm256_xor_si256(z, _mm256_srli_epi64::<30>(z));
    z = _mm256_mullo_epi64(z, c(0xBF58_476D_1CE4_E5B9));
    z = _mm256_xor_si256(z, _mm256_srli_epi64::<27>(z));
    z = _mm256_mullo_epi64(z, c(0x94D0_49BB_1331_11EB));
    _mm256_xor_si256(z, _mm256_srli_epi64::<31>(z))
}

/// Bounds on four taste clocks, scaled by their paces: `(low, high)` lane by lane, the
/// clocks' keys being `key_from(prefix, slot, Taste)` with `tag` each lane's `end << 32 |
/// Taste` and `returns` the journey. [`rng::exponential_bounds`] times the pace, with the
/// same operations in the same order (tested bit for bit).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2")]
#[inline]
fn bounds(
    tag: std::arch::x86_64::__m256i,
    pace: std::arch::x86_64::__m256d,
    prefix: u64,
    returns: u8,
) -> (std::arch::x86_64::__m256d, std::arch::x86_64::__m256d) {
    use std::arch::x86_64::*;
    let c = |x: u64| _mm256_set1_epi64x(x as i64);
    let z = keys(prefix, _mm256_or_si256(tag, c(u64::from(returns) << 48)));
    // rng::exponential_u: ((key >> 11) as f64 + 0.5) / 2^53, exact conversions.
    let x = _mm256_cvtepu64_pd(_mm256_srli_epi64::<11>(z));
    let u = _mm256_mul_pd(
        _mm256_add_pd(x, _mm256_set1_pd(0.5)),
        _mm256_set1_pd(1.0 / (1u64 << 53) as f64),
    );
    // rng::exponential_bounds: u = 2^e (1 + f), ln(1 + f) by the polynomial rng::LN1P.
    let bits = _mm256_castpd_si256(u);
    let e = _mm256_sub_pd(
        _mm256_cvtepi64_pd(_mm256_and_si256(_mm256_srli_epi64::<52>(bits), c(0x7ff))),
        _mm256_set1_pd(1023.0),
    );
    let f = _mm256_sub_pd(
        _mm256_castsi256_pd(_mm256_or_si256(
            _mm256_and_si256(bits, c(rng::MANTISSA)),
            c(rng::ONE),
        )),
        _mm256_set1_pd(1.0),
    );
    // Horner's rule, a multiplication then an addition (not fused), as the scalar code.
    let k = |x: f64| _mm256_set1_pd(x);
    let [c0, c1, c2, c3, c4] = rng::LN1P;
    let p = _mm256_add_pd(_mm256_mul_pd(k(c4), f), k(c3));
    let p = _mm256_add_pd(_mm256_mul_pd(p, f), k(c2));
    let p = _mm256_add_pd(_mm256_mul_pd(p, f), k(c1));
    let ln1p = _mm256_add_pd(_mm256_mul_pd(p, f), k(c0));
    // -e, by its sign bit, as the scalar negation.
    let minus_e = _mm256_castsi256_pd(_mm256_xor_si256(_mm256_castpd_si256(e), c(1 << 63)));
    let mid = _mm256_sub_pd(
        _mm256_mul_pd(minus_e, _mm256_set1_pd(std::f64::consts::LN_2)),
        ln1p,
    );
    let margin = _mm256_set1_pd(rng::LN1P_MARGIN);
    (
        _mm256_mul_pd(_mm256_sub_pd(mid, margin), pace),
        _mm256_mul_pd(_mm256_add_pd(mid, margin), pace),
    )
}

/// For each `(row, prefix, returns)` of `races`, `row` an index into `rows`, writes to
/// `out` the options of the row that might win the race of taste clocks: a bit per option,
/// set where the lower bound of its clock times its pace is not above the smallest upper
/// bound. The bounds are [`rng::exponential_bounds`]'s, computed lane by lane with the same
/// operations in the same order, so the set is the one
/// [`choice::contenders`](crate::model::choice::contenders) finds; usually one option. The
/// races are independent, so the CPU overlaps them: one at a time, each would wait on its
/// own chain.
///
/// # Safety
///
/// The CPU must have AVX-512 F, DQ and VL and AVX2 ([`available`] checks them).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2")]
pub(super) unsafe fn contenders(rows: &[Row], races: &[(u32, u64, u8)], out: &mut Vec<u32>) {
    use std::arch::x86_64::*;
    out.clear();
    for &(row, prefix, returns) in races {
        let row = &rows[row as usize];
        // SAFETY (the loads): arrays of eight 8-byte lanes, read in halves.
        let (t0, t1, p0, p1) = unsafe {
            (
                _mm256_loadu_si256(row.tag.as_ptr().cast()),
                _mm256_loadu_si256(row.tag.as_ptr().add(4).cast()),
                _mm256_loadu_pd(row.pace.as_ptr()),
                _mm256_loadu_pd(row.pace.as_ptr().add(4)),
            )
        };
        let (l0, h0) = bounds(t0, p0, prefix, returns);
        let (m0, m1) = (row.lanes & 0xf, row.lanes >> 4);
        let inf = _mm256_set1_pd(f64::INFINITY);
        let mut high = _mm256_mask_blend_pd(m0, inf, h0);
        let mut l1 = inf;
        if m1 != 0 {
            let (l, h) = bounds(t1, p1, prefix, returns);
            high = _mm256_min_pd(high, _mm256_mask_blend_pd(m1, inf, h));
            l1 = l;
        }
        // The smallest upper bound, across the lanes.
        let m = _mm256_min_pd(high, _mm256_permute4x64_pd::<0b01_00_11_10>(high));
        let m = _mm256_min_pd(m, _mm256_permute4x64_pd::<0b10_11_00_01>(m));
        let low0 = _mm256_mask_cmp_pd_mask::<_CMP_LE_OQ>(m0, l0, m);
        let low1 = _mm256_mask_cmp_pd_mask::<_CMP_LE_OQ>(m1, l1, m);
        out.push(u32::from(low0) | u32::from(low1) << 4);
    }
}

/// Of the days `day..day + DAYS`, with thresholds `thr`, the index of the first whose keyed
/// decision draw (`hazards::bits`: `rng::key_from(prefix, day, Decide) >> 11`) is below its
/// threshold, or `DAYS` if none is.
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2")]
#[inline]
pub(super) fn first_below<const DAYS: usize>(prefix: u64, day: u32, thr: &[u64; DAYS]) -> u32 {
    use std::arch::x86_64::*;
    const { assert!(DAYS.is_multiple_of(4) && DAYS <= 32) };
    let c = |x: u64| _mm256_set1_epi64x(x as i64);
    let mut below = 1u64 << DAYS;
    for (k, thr) in thr.chunks_exact(4).enumerate() {
        let first = day + 4 * k as u32;
        let days = _mm256_add_epi64(c(u64::from(first)), _mm256_setr_epi64x(0, 1, 2, 3));
        let z = keys(
            prefix,
            _mm256_or_si256(_mm256_slli_epi64::<32>(days), c(Purpose::Decide as u64)),
        );
        // SAFETY: `thr` is four u64: one 32-byte load reads exactly them.
        let thr = unsafe { _mm256_loadu_si256(thr.as_ptr().cast()) };
        let m = _mm256_cmplt_epu64_mask(_mm256_srli_epi64::<11>(z), thr);
        below |= u64::from(m) << (4 * k);
    }
    below.trailing_zeros()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Whether a test of the wide loops must be skipped: this CPU lacks them (or
    /// `NORTHBOUND_SIMD=off`). `NORTHBOUND_REQUIRE_SIMD=1` makes that a failure instead, for
    /// a machine that should run them.
    pub(in crate::model::engine) fn skip() -> bool {
        if available() {
            return false;
        }
        let why = "the wide loops do not run here (the CPU lacks AVX-512 F/BW/DQ/VL, AVX2, \
                   BMI2 or POPCNT, or NORTHBOUND_SIMD=off): only the scalar code is tested";
        assert!(
            std::env::var_os("NORTHBOUND_REQUIRE_SIMD").is_none_or(|v| v != "1"),
            "{why}"
        );
        eprintln!("{why}");
        true
    }
    use crate::model::engine::step::find_due_from;

    #[test]
    fn the_wide_scan_finds_the_agents_the_scalar_loop_finds() {
        if skip() {
            return;
        }
        let mut x = 7_u64;
        let mut draw = |k: u64| {
            x = rng::key(x, k, 3, Purpose::Sweep);
            x
        };
        let mut seen_due = 0;
        for round in 0..400 {
            // Lengths around the blocks of 16, days from the first to the last a window
            // may have, agents around them, every state.
            let len = (draw(1) % 70) as usize;
            let t = match round % 4 {
                0 => 0,
                1 => u32::from(u16::MAX),
                _ => (draw(2) % 200) as u32,
            };
            let near = |r: u64| (t as i64 + (r % 7) as i64 - 3).clamp(0, 65535) as u16;
            let agents: Vec<Agent> = (0..len)
                .map(|i| {
                    let r = draw(i as u64);
                    Agent {
                        id: r as u32,
                        entry: if r & 1 == 0 {
                            near(r >> 8)
                        } else {
                            (r >> 16) as u16
                        },
                        since: (r >> 24) as u16,
                        until: if r & 2 == 0 {
                            near(r >> 32)
                        } else {
                            (r >> 40) as u16
                        },
                        place: (r >> 48) as u16,
                        state: State::ALL[(r >> 56) as usize % State::COUNT],
                        flags: (r >> 20) as u8,
                        nationality: (r >> 28) as u8,
                        returns: (r >> 36) as u8,
                    }
                })
                .collect();
            let mut want = vec![0; len];
            let n = find_due_from(&agents, t, &mut want, 0, 0);
            let mut got = vec![u32::MAX; len];
            // SAFETY: `available` was checked above; `got` is as long as `agents`.
            let (k, from) = unsafe { find_due(&agents, t, &mut got) };
            assert_eq!(from, len / BLOCK * BLOCK);
            let k = find_due_from(&agents, t, &mut got, k, from);
            assert_eq!(got[..k], want[..n], "round {round}, {len} agents, day {t}");
            seen_due += n;
        }
        assert!(seen_due > 1000, "{seen_due}");
    }

    /// A keyed sequence of test inputs, from a start and two key parts.
    fn draws(mut x: u64, subject: u64, slot: u32) -> impl FnMut() -> u64 {
        move || {
            x = rng::key(x, subject, slot, Purpose::Sweep);
            x
        }
    }

    /// The wide bounds are the scalar bounds times the pace, bit for bit: every lane, over
    /// keys of every kind (a bound that differed but still held would race the same, so
    /// only this test keeps the code the same).
    #[test]
    fn the_wide_bounds_are_the_scalar_bounds_bit_for_bit() {
        use std::arch::x86_64::*;
        if skip() {
            return;
        }
        let mut draw = draws(5, 6, 9);
        for round in 0..50_000 {
            let (prefix, returns) = (draw(), (draw() % 4) as u8);
            let ends: [u64; 4] = std::array::from_fn(|_| draw() % 2000);
            let pace: [f64; 4] = std::array::from_fn(|k| match (round + k) % 4 {
                0 => 1.0,
                1 => (-((draw() >> 11) as f64 / (1u64 << 53) as f64) * 40.0).exp(),
                2 => ((draw() >> 11) as f64 / (1u64 << 53) as f64) * 1e3 + 1e-300,
                _ => f64::from_bits(draw() >> 12 | 0x3f00_0000_0000_0000),
            });
            let tags = ends.map(|e| (e << 32) | Purpose::Taste as u64);
            let (mut low, mut high) = ([0f64; 4], [0f64; 4]);
            // SAFETY: `available` was checked above; the stores write four f64 each.
            unsafe {
                let (l, h) = bounds(
                    _mm256_loadu_si256(tags.as_ptr().cast()),
                    _mm256_loadu_pd(pace.as_ptr()),
                    prefix,
                    returns,
                );
                _mm256_storeu_pd(low.as_mut_ptr(), l);
                _mm256_storeu_pd(high.as_mut_ptr(), h);
            }
            for k in 0..4 {
                let slot = crate::model::choice::taste_slot(ends[k] as u16, returns);
                let (l, h) = rng::exponential_bounds(rng::key_from(prefix, slot, Purpose::Taste));
                assert_eq!(
                    ((l * pace[k]).to_bits(), (h * pace[k]).to_bits()),
                    (low[k].to_bits(), high[k].to_bits()),
                    "round {round}, lane {k}"
                );
            }
        }
    }

    #[test]
    fn the_wide_race_keeps_the_options_the_scalar_bounds_keep() {
        use crate::model::choice::{self, Choice, WAIT};
        if skip() {
            return;
        }
        let mut draw = draws(11, 5, 8);
        let (mut several, mut waits) = (0, 0);
        for round in 0..20_000 {
            let n = 1 + (draw() % ROW_LANES as u64) as usize;
            // Utilities spread or bunched (ties in pace), as the table gives them.
            let spread = [0.01, 1.0, 5.0, 40.0][round % 4];
            let utilities: Vec<f64> = (0..n)
                .map(|_| {
                    let u = (draw() >> 11) as f64 / (1u64 << 53) as f64;
                    if round % 7 == 0 {
                        (u * 3.0).floor()
                    } else {
                        u * spread
                    }
                })
                .collect();
            let top = utilities.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let row: Vec<Choice> = utilities
                .iter()
                .enumerate()
                .map(|(i, &u)| Choice {
                    utility: u,
                    pace: (top - u).exp(),
                    end: (draw() % 40) as u16 + i as u16 * 40,
                    first: if i == n - 1 && round % 2 == 0 {
                        WAIT
                    } else {
                        i as u32
                    },
                })
                .collect();
            let wide = Row::new(&row);
            assert_eq!(wide.lanes.count_ones() as usize, n);
            let rows = [Row::new(&[]), wide];
            let races: Vec<(u32, u64, u8)> = (0..4)
                .map(|k| (1, draw(), (draw() % 3) as u8 * k))
                .collect();
            let mut got = Vec::new();
            // SAFETY: `available` was checked above.
            unsafe { contenders(&rows, &races, &mut got) };
            for (&(_, prefix, returns), &mask) in races.iter().zip(&got) {
                let key =
                    |end| rng::key_from(prefix, choice::taste_slot(end, returns), Purpose::Taste);
                assert_eq!(Some(mask), choice::contenders(&row, key), "round {round}");
                let exact = |end| rng::exponential_of(key(end));
                assert_eq!(
                    choice::pick_among(&row, mask, key),
                    choice::pick(&row, exact)
                );
                several += usize::from(mask.count_ones() > 1);
                waits += usize::from(choice::pick(&row, exact).is_none());
            }
        }
        assert!(several > 100 && waits > 1000, "{several} {waits}");
        // What the wide race leaves to the scalar one: rows too long, or with a pace that
        // is not positive and finite.
        let c = |pace| Choice {
            utility: 0.0,
            pace,
            end: 1,
            first: 1,
        };
        assert_eq!(Row::new(&[c(1.0); ROW_LANES + 1]).lanes, 0);
        for bad in [0.0, -1.0, f64::INFINITY, f64::NAN] {
            assert_eq!(Row::new(&[c(1.0), c(bad)]).lanes, 0);
        }
    }
}
