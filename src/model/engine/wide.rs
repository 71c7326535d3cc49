//! The engine's one loop compiled for wider registers: finding the agents due today.
//!
//! Most agents present are waiting out a clock (a New Yorker's next reconsideration is
//! weeks away), so each day's scan of the chunks ([`find_due`](super::step)) is a stream
//! of comparisons on 16-byte records. With AVX-512 (F and BW) and BMI2, four agents are
//! compared per instruction and sixteen indices written at once. The result is the same
//! list of indices in the same order as the scalar loop's, which runs where the CPU lacks
//! the features (tests run both and compare them), or with `NORTHBOUND_SIMD=off`. Only
//! on x86-64; elsewhere the scalar loop is the only one.

use crate::model::agent::{Agent, State};

/// Whether this CPU runs [`find_due`]: checked once. `NORTHBOUND_SIMD=off` turns it off (to
/// compare, or to benchmark the scalar loop).
pub(super) fn available() -> bool {
    use std::sync::OnceLock;
    static WIDE: OnceLock<bool> = OnceLock::new();
    *WIDE.get_or_init(|| {
        std::env::var_os("NORTHBOUND_SIMD").is_none_or(|v| v != "off")
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::engine::step::find_due_from;
    use crate::util::rng::{self, Purpose};

    #[test]
    fn the_wide_scan_finds_the_agents_the_scalar_loop_finds() {
        if !available() {
            eprintln!("this CPU lacks AVX-512 F/BW, BMI2 or POPCNT: only the scalar loop runs");
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
}
