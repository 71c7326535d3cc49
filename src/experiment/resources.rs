//! Memory: what a command needs at its peak, estimated from the scenario before anything
//! runs, and refused if the machine does not have it (unless the user allows more).
//!
//! The estimate is an upper bound built from the engine's structures
//! ([`engine::run_bytes`]) and what each command keeps besides (the rows of its tables and
//! of the figures drawn from them). Before the work starts the estimated bytes are also
//! reserved and released at once (address space only, no page is touched), so that a run
//! the system cannot hold fails with a message instead of aborting on an allocation.

use crate::model::engine;
use crate::scenario::{Scenario, metrics_for};
use crate::util::error::{Error, Result};

/// What a command runs.
#[derive(Debug, Clone, Copy)]
pub enum Work {
    Run,
    Validate {
        replicates: u32,
    },
    Calibrate {
        replicates: u32,
    },
    Compare {
        variants: usize,
        replicates: u32,
    },
    /// A sweep: one run per worker side by side, each point's runs kept until it is done,
    /// each worker's kept beginnings of runs (`sweep::trunks_kept`), and the scenarios they
    /// begin from (`stems`, `sweep::Plan::stems`).
    Sweep {
        replicates: u32,
        stems: usize,
    },
}

/// The program itself: code, the bundled font and data, thread stacks, a figure's bitmap.
const BASE: u64 = 48 << 20;

/// Bytes of a table row held in memory (strings and their headers), beyond the place name.
const ROW: u64 = 128;

/// The cells of the monthly tables: months x (place, metric), and their name bytes.
fn monthly_cells(sc: &Scenario) -> (u64, u64) {
    let months = (sc.end.month().0 - sc.start.month().0 + 1) as u64;
    let (mut cells, mut names) = (0, 0);
    for p in &sc.places {
        let m = metrics_for(p.kind).len() as u64;
        cells += m;
        names += m * p.name.len() as u64;
    }
    (months * cells, months * names)
}

/// An upper bound on the bytes `work` on `sc` holds at its peak with `threads` workers.
pub fn estimate(sc: &Scenario, work: Work, threads: usize) -> u64 {
    let threads = threads.max(1);
    let run = engine::run_bytes(sc, threads);
    let (cells, names) = monthly_cells(sc);
    let rows = cells * ROW + names;
    let total = match work {
        // The run, then its monthly rows written and read back for the figures.
        Work::Run => run + 3 * rows,
        Work::Sweep { replicates, stems } => {
            let trunks = crate::experiment::sweep::trunks_kept(replicates) as u64;
            // A scenario in memory: about 60 KiB for the default's 27 KB of text (measured;
            // the data files are shared, not copied), so four times its text and 64 KiB
            // bound it.
            let scenario = 4 * sc.source.len() as u64 + (64 << 10);
            threads as u64 * ((1 + trunks) * run + u64::from(replicates) * cells * 8)
                + 2 * rows
                + stems as u64 * scenario
        }
        Work::Validate { replicates } | Work::Calibrate { replicates } => {
            run * u64::from(replicates).min(threads as u64) + rows
        }
        Work::Compare {
            variants,
            replicates,
        } => {
            // Per worker a run, the beginning it went on from and the run's monthly values;
            // every replicate's values, for the quantiles and series.csv.
            let kept = variants as u64 * cells * (24 + u64::from(replicates) * 8);
            threads as u64 * (2 * run + cells * 8 + rows) + kept + 3 * variants as u64 * rows
        }
    };
    // The data files' bytes, kept by the scenario for the whole command.
    let data: u64 = sc.data.values().map(|b| b.len() as u64).sum();
    BASE + total + data
}

/// Bytes this process may still take: the least of the memory available
/// (`/proc/meminfo`), the room left under a cgroup's limit, and the address-space limit.
/// `None` where none of these can be read.
pub fn available() -> Option<u64> {
    let mut limits = Vec::new();
    if let Ok(text) = std::fs::read_to_string("/proc/meminfo")
        && let Some(kb) = text
            .lines()
            .find(|l| l.starts_with("MemAvailable:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    {
        limits.push(kb * 1024);
    }
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
    };
    if let (Some(max), Some(now)) = (
        read("/sys/fs/cgroup/memory.max"),
        read("/sys/fs/cgroup/memory.current"),
    ) {
        limits.push(max.saturating_sub(now));
    }
    if let Ok(text) = std::fs::read_to_string("/proc/self/limits")
        && let Some(soft) = text
            .lines()
            .find(|l| l.starts_with("Max address space"))
            .and_then(|l| l.split_whitespace().nth(3))
            .and_then(|v| v.parse::<u64>().ok())
    {
        limits.push(soft);
    }
    limits.into_iter().min()
}

/// Bytes as a reader would say them: `45 MiB`, `2.3 GiB`.
pub fn human(bytes: u64) -> String {
    let mib = bytes as f64 / f64::from(1 << 20);
    if mib < 1024.0 {
        format!("{mib:.0} MiB")
    } else {
        format!("{:.1} GiB", mib / 1024.0)
    }
}

fn refuse(sc: &Scenario, message: String) -> Error {
    Error::Invalid {
        path: sc.path.clone(),
        problems: vec![message],
    }
}

/// Refuses `work` on `sc` if its estimate exceeds `allowed` bytes (by default what is
/// [`available`]) or the system will not reserve it. Returns the estimate.
pub fn ensure(sc: &Scenario, work: Work, threads: usize, allowed: Option<u64>) -> Result<u64> {
    let need = estimate(sc, work, threads);
    let (limit, whose) = match allowed {
        Some(a) => (Some(a), "allowed by --memory"),
        None => (available(), "available"),
    };
    if let Some(limit) = limit
        && need > limit
    {
        return Err(refuse(
            sc,
            format!(
                "memory: this needs about {} at its peak, more than the {} {whose}; shorten the window, raise `scale` (people per agent), use fewer places, replicates or threads, or pass --memory GIB to allow more",
                human(need),
                human(limit)
            ),
        ));
    }
    let mut probe: Vec<u8> = Vec::new();
    if let Err(e) = probe.try_reserve_exact(usize::try_from(need).unwrap_or(usize::MAX)) {
        return Err(refuse(
            sc,
            format!(
                "memory: this needs about {}, and the system will not reserve that much ({e})",
                human(need)
            ),
        ));
    }
    Ok(need)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn minimal() -> Scenario {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        Scenario::load(&p).unwrap()
    }

    #[test]
    fn the_estimate_grows_with_the_work_and_refusals_say_why() {
        let sc = minimal();
        let run = estimate(&sc, Work::Run, 2);
        assert!(run > BASE && run < BASE + (16 << 20), "{run}");
        let cmp = estimate(
            &sc,
            Work::Compare {
                variants: 4,
                replicates: 20,
            },
            2,
        );
        assert!(cmp > run, "{cmp} vs {run}");
        assert!(ensure(&sc, Work::Run, 2, None).is_ok());
        let e = ensure(&sc, Work::Run, 2, Some(1 << 20))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("memory: this needs about")
                && e.contains("more than the 1 MiB allowed by --memory"),
            "{e}"
        );
    }
}
