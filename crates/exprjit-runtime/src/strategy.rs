//! The one place where execution strategy is decided: fused kernel or
//! multi-pass executor, one thread or the pool, and the tile size.
//!
//! Every decision is a function of numbers the caller can see (elements,
//! operations, bytes, cache state), so the REPL and the benchmark can show
//! why a call ran the way it did.

use exprjit_ir::{Func, InstKind, ops::Exactness};

/// Which executor runs an evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// One fused kernel for the whole expression.
    Fused,
    /// One pass per operation, with temporaries or reusing them.
    MultiPass(crate::multipass::Mode),
    /// The reference interpreter (slow; for tests and checks).
    Interpreter,
}

/// What the caller asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EngineChoice {
    /// Let [`choose_engine`] decide.
    #[default]
    Auto,
    Force(Engine),
}

/// Relative cost of one element of `func`: [`ops_per_element`] plus a unit
/// per 4 bytes it moves.
pub fn work_per_element(func: &Func) -> usize {
    ops_per_element(func) + bytes_per_element(func) / 4
}

/// Compute cost of one element of `func`: one unit per cheap operation,
/// more for division-like and libm operations.
pub fn ops_per_element(func: &Func) -> usize {
    func.insts
        .iter()
        .map(|i| match &i.kind {
            InstKind::Apply(op, _) => match op.info().exactness {
                Exactness::Libm => 20,
                Exactness::Exact => match op.name() {
                    "div" | "sqrt" | "floordiv" | "mod" | "fmod" => 4,
                    _ => 1,
                },
            },
            _ => 0,
        })
        .sum()
}

/// Bytes read and written per result element by a fused kernel.
pub fn bytes_per_element(func: &Func) -> usize {
    func.params.iter().map(|p| p.dtype.size()).sum::<usize>() + func.result_dtype().size()
}

/// Below this many operation-elements (elements x [`ops_per_element`]) a
/// compile does not pay for itself on the first call: the multi-pass
/// executor (whose one-operation kernels are shared by all expressions)
/// runs instead, until the expression is seen again.
// PERF: measured with the benchmark's compile-cost table on the dev VM
// (AMD EPYC, 2 vCPUs), release: a cold compile of `a*b+c` costs ~130 us
// (parse + check + Cranelift); fusion saves ~0.3 ns per operation-element
// over multi-pass (a*b+c at 1e5: 62 us multi-pass, 33 us fused), so one
// call breaks even near 5e5 operation-elements.
pub const COMPILE_BREAK_EVEN: usize = 500_000;

/// Chooses the executor for a call.
pub fn choose_engine(
    choice: EngineChoice,
    elements: usize,
    ops_per_element: usize,
    kernel_cached: bool,
    sightings: u32,
) -> Engine {
    match choice {
        EngineChoice::Force(e) => e,
        EngineChoice::Auto => {
            if kernel_cached
                || sightings >= 2
                || elements.saturating_mul(ops_per_element) >= COMPILE_BREAK_EVEN
            {
                Engine::Fused
            } else {
                Engine::MultiPass(crate::multipass::Mode::InPlace)
            }
        }
    }
}

/// Below this many work units the pool's wake-up and join (a few tens of
/// microseconds on a 2-core VM) cost more than a second thread saves.
// PERF: from the benchmark at 102fea4 (dev VM, 2 vCPUs): handing work to
// the pool and joining costs ~20-25 us, and a work unit of a cheap kernel
// ~0.03 ns (0.07 for the libm-heavy ones). At 1 << 17 the polynomial at 1e4
// elements (170K units) ran 1.30 ns/elem on 2 threads against 0.52 on one,
// and the 128^2 and 256^2 diffusion steps (0.4M, 1.6M) 3x and 1.5x slower;
// at 1e6 units `a*b+c` (1e5 elements) breaks even. Not calibrated per
// machine: one constant for all kernels costs the libm-heavy ones between
// 0.5M and 1M units (trig at 1e4: 34 us on 2 threads, 49 on one).
pub const PARALLEL_MIN_WORK: usize = 1 << 20;

/// The thread count for a call of `elements` elements.
pub fn threads_for(elements: usize, work_per_element: usize, max_threads: usize) -> usize {
    let work = elements.saturating_mul(work_per_element.max(1));
    if max_threads <= 1 || work < PARALLEL_MIN_WORK {
        1
    } else {
        // At least PARALLEL_MIN_WORK / 2 units per thread.
        (work / (PARALLEL_MIN_WORK / 2)).clamp(1, max_threads)
    }
}

/// Whether a call of `elements` elements is small enough to run as one
/// kernel call with no plan, no tiles and no interrupt check (the warm
/// paths of `evaluate` and `Prepared`): below [`PARALLEL_MIN_WORK`] work
/// units, well under a millisecond. Larger calls go through tiles, between
/// which [`crate::interrupt`] is checked, whatever the thread count.
pub fn is_small_call(elements: usize, work_per_element: usize) -> bool {
    elements.saturating_mul(work_per_element.max(1)) < PARALLEL_MIN_WORK
}

/// The tile size for a call: the setting if fixed, else from the caches,
/// shrunk so that every thread gets several tiles.
pub fn tile_for(
    elements: usize,
    bytes_per_element: usize,
    threads: usize,
    setting: usize,
) -> usize {
    if setting > 0 {
        return setting;
    }
    let cache_tile = crate::pool::default_tile(bytes_per_element);
    if threads <= 1 {
        return cache_tile;
    }
    cache_tile.min(elements.div_ceil(threads * 4)).max(1024)
}

/// The tile of a fused kernel over a plan of `dims` (the automatic
/// `tile` from [`tile_for`], or the fixed `setting` when nonzero, which is
/// kept as set: tests choose 1, 7 and 1024 on purpose).
///
/// A fused kernel reads each element once, so its tiles need not fit a
/// cache: they only spread the work over threads. With rows (2-D and
/// larger plans: stencils, broadcast columns), each tile is whole rows,
/// run as one block per column segment ([`crate::plan::Plan::blocks`]);
/// short blocks made the wrapped border columns of a stencil cost ~25% of
/// a 2048 x 2048 diffusion step at one thread (4-row tiles 5.3 ms, 32-row
/// 4.3, 512-row 4.15). So those tiles are a quarter of each thread's share
/// (as many as [`tile_for`] aims at), at most 2^20 elements, and never
/// smaller than `tile`.
pub fn fused_tile(
    tile: usize,
    len: usize,
    dims: &[usize],
    threads: usize,
    setting: usize,
) -> usize {
    let inner = dims.last().copied().unwrap_or(1);
    if setting > 0 || dims.len() < 2 || inner == 0 {
        return tile;
    }
    let share = len.div_ceil(threads.max(1) * 4).min(1 << 20);
    let tile = tile.max(share);
    if inner > tile {
        return tile;
    }
    tile - tile % inner
}

/// Relative cost of one input element of a reduction whose input is
/// `func`: its operations, the bytes it reads (its result goes to a
/// scratch buffer in L1, not to memory), and one unit for the fold.
pub fn reduction_work_per_element(func: &Func) -> usize {
    let read: usize = func.params.iter().map(|p| p.dtype.size()).sum();
    ops_per_element(func) + read / 4 + 1
}

/// For a reduction over `elements` input values: the values per parallel
/// task, and the most values one kernel call writes. Results never depend
/// on either (blocks of [`exprjit_ir::semantics::REDUCE_BLOCK`] values are
/// folded in a fixed order); a fixed tile `setting` (tests use 1 and 7)
/// also caps the kernel calls, to exercise their remainder loops.
pub fn reduction_tiles(elements: usize, threads: usize, setting: usize) -> (usize, usize) {
    let block = exprjit_ir::semantics::REDUCE_BLOCK;
    if setting > 0 {
        return (setting, setting.min(block));
    }
    if threads <= 1 {
        return (elements.max(1), block);
    }
    // Several tasks per thread, each of whole blocks, for balance.
    (elements.div_ceil(threads * 4).max(4 * block), block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_tiles_are_whole_rows_and_spread_over_threads() {
        let grid = [2048usize, 2048];
        let len = 2048 * 2048;
        // One thread: a quarter of the grid, capped at 2^20 elements.
        assert_eq!(fused_tile(8192, len, &grid, 1, 0), 1 << 20);
        // Two threads: 8 tiles, whole rows.
        assert_eq!(fused_tile(8192, len, &grid, 2, 0), len / 8);
        let odd = [1000usize, 1000];
        let t = fused_tile(8192, 1_000_000, &odd, 2, 0);
        assert_eq!(t % 1000, 0);
        assert!((8192..=125_000).contains(&t), "{t}");
        // Rows longer than the tile: the tile as it is.
        assert_eq!(fused_tile(8192, 3 * 100_000, &[3, 100_000], 4, 0), 18_750);
        // A fixed tile and one-dimensional plans are left alone.
        assert_eq!(fused_tile(7, len, &grid, 1, 7), 7);
        assert_eq!(fused_tile(8192, len, &[len], 1, 0), 8192);
    }

    #[test]
    fn small_work_stays_on_one_thread() {
        assert_eq!(threads_for(10, 5, 8), 1);
        assert_eq!(threads_for(10_000, 5, 8), 1);
        assert_eq!(threads_for(10_000_000, 5, 2), 2);
        assert_eq!(threads_for(10_000_000, 5, 1), 1);
    }

    #[test]
    fn cached_kernels_always_run_fused() {
        assert_eq!(
            choose_engine(EngineChoice::Auto, 10, 3, true, 1),
            Engine::Fused
        );
        assert_ne!(
            choose_engine(EngineChoice::Auto, 10, 3, false, 1),
            Engine::Fused
        );
        assert_eq!(
            choose_engine(EngineChoice::Auto, 10, 3, false, 2),
            Engine::Fused
        );
        assert_eq!(
            choose_engine(EngineChoice::Auto, 10_000_000, 3, false, 1),
            Engine::Fused
        );
    }
}
