//! Owns exprjit's thread pool (a `rayon` pool of its own, workers pinned to
//! cores where the host allows) and the settings that shape execution:
//! thread count, tile size, pinning.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

/// The environment variable that sets the default thread count.
pub const NUM_THREADS_ENV: &str = "EXPRJIT_NUM_THREADS";

static THREADS: AtomicUsize = AtomicUsize::new(0);
static TILE: AtomicUsize = AtomicUsize::new(0);
static PIN: AtomicBool = AtomicBool::new(true);
static STRICT: AtomicBool = AtomicBool::new(false);
/// The current pool with the thread count and pinning it was built with,
/// and the process that built it.
type PoolSlot = Option<(usize, bool, u32, Arc<rayon::ThreadPool>)>;
static POOL: OnceLock<RwLock<PoolSlot>> = OnceLock::new();

/// The number of cores of this machine (at least 1).
pub fn detect_number_of_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The thread count used for new evaluations: set by [`set_num_threads`],
/// else `EXPRJIT_NUM_THREADS`, else all cores.
pub fn num_threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => {
            let n = std::env::var(NUM_THREADS_ENV)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|&n| n > 0)
                .unwrap_or_else(detect_number_of_cores);
            THREADS.store(n, Ordering::Relaxed);
            n
        }
        n => n,
    }
}

/// Sets the thread count (at least 1); returns the previous one.
pub fn set_num_threads(n: usize) -> usize {
    let old = num_threads();
    THREADS.store(n.max(1), Ordering::Relaxed);
    old
}

/// The accuracy of transcendental functions for calls whose options do not
/// set one (default [`Accuracy::Fast`](exprjit_codegen::Accuracy)).
pub fn accuracy() -> exprjit_codegen::Accuracy {
    if STRICT.load(Ordering::Relaxed) {
        exprjit_codegen::Accuracy::Strict
    } else {
        exprjit_codegen::Accuracy::Fast
    }
}

/// Sets the default accuracy; returns the previous one. It is part of every
/// kernel's cache key, so kernels of both settings can be cached at once.
pub fn set_accuracy(a: exprjit_codegen::Accuracy) -> exprjit_codegen::Accuracy {
    let old = accuracy();
    STRICT.store(a == exprjit_codegen::Accuracy::Strict, Ordering::Relaxed);
    old
}

/// Turns pinning of worker threads to cores on or off (on by default);
/// takes effect when the pool is next rebuilt.
pub fn set_pinning(on: bool) {
    PIN.store(on, Ordering::Relaxed);
}

/// The tile size in elements set by [`set_tile_size`], or 0 for automatic.
pub fn tile_size_setting() -> usize {
    TILE.load(Ordering::Relaxed)
}

/// Fixes the tile size in elements (0: derive it from the caches).
pub fn set_tile_size(n: usize) -> usize {
    TILE.swap(n, Ordering::Relaxed)
}

/// The pool with `threads` workers, built (and pinned) on first use and
/// rebuilt when the count or pinning changes.
///
/// Fork safety: a child made by `fork()` inherits the pool's memory but
/// none of its worker threads, so work handed to it would wait forever.
/// The pool remembers the process that built it; in any other process
/// (a forked child) it is abandoned, never touched again (leaked: its
/// threads do not exist to be told to stop) and a new pool is built.
pub(crate) fn pool(threads: usize) -> Arc<rayon::ThreadPool> {
    let cell = POOL.get_or_init(|| RwLock::new(None));
    let pin = PIN.load(Ordering::Relaxed);
    let pid = std::process::id();
    let fits = |slot: &PoolSlot| -> Option<Arc<rayon::ThreadPool>> {
        match slot {
            Some((n, p, owner, pool)) if *n == threads && *p == pin && *owner == pid => {
                Some(pool.clone())
            }
            _ => None,
        }
    };
    if let Ok(guard) = cell.read()
        && let Some(pool) = fits(&guard)
    {
        return pool;
    }
    let mut guard = match cell.write() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(pool) = fits(&guard) {
        return pool;
    }
    if let Some((_, _, owner, old)) = guard.take()
        && owner != pid
    {
        // Built by the parent of this forked process: dropping it would
        // signal threads that are not here; leak it instead.
        std::mem::forget(old);
    }
    let cores = if pin {
        core_affinity::get_core_ids().unwrap_or_default()
    } else {
        Vec::new()
    };
    let built = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("exprjit-{i}"))
        .start_handler(move |i| {
            if !cores.is_empty() {
                // Pinning is best effort: a host that refuses it still runs.
                let _ = core_affinity::set_for_current(cores[i % cores.len()]);
            }
        })
        .build();
    let pool = match built {
        Ok(p) => Arc::new(p),
        // Thread creation failed (resource limits): fall back to a pool of
        // one worker, which rayon builds without spawning beyond it.
        Err(_) => match rayon::ThreadPoolBuilder::new().num_threads(1).build() {
            Ok(p) => Arc::new(p),
            Err(_) => return fallback_pool(),
        },
    };
    *guard = Some((threads, pin, pid, pool.clone()));
    pool
}

#[cold]
fn fallback_pool() -> Arc<rayon::ThreadPool> {
    static ONE: OnceLock<Arc<rayon::ThreadPool>> = OnceLock::new();
    ONE.get_or_init(|| {
        let p = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .use_current_thread()
            .build();
        Arc::new(p.unwrap_or_else(|e| panic!("cannot create any thread pool: {e}")))
    })
    .clone()
}

/// Cache sizes of core 0 in bytes (L1 data, L2), from sysfs on Linux.
pub fn cache_sizes() -> (Option<usize>, Option<usize>) {
    let read = |index: usize| -> Option<(String, usize, usize)> {
        let dir = format!("/sys/devices/system/cpu/cpu0/cache/index{index}");
        let level: usize = std::fs::read_to_string(format!("{dir}/level"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let kind = std::fs::read_to_string(format!("{dir}/type"))
            .ok()?
            .trim()
            .to_string();
        let size = std::fs::read_to_string(format!("{dir}/size")).ok()?;
        let size = size.trim();
        let bytes = if let Some(k) = size.strip_suffix('K') {
            k.parse::<usize>().ok()? * 1024
        } else if let Some(m) = size.strip_suffix('M') {
            m.parse::<usize>().ok()? * 1024 * 1024
        } else {
            size.parse().ok()?
        };
        Some((kind, level, bytes))
    };
    let mut l1 = None;
    let mut l2 = None;
    for i in 0..8 {
        if let Some((kind, level, bytes)) = read(i) {
            match (level, kind.as_str()) {
                (1, "Data") => l1 = Some(bytes),
                (2, _) => l2 = Some(bytes),
                _ => {}
            }
        }
    }
    (l1, l2)
}

/// The default tile size in elements for a kernel that moves
/// `bytes_per_element` bytes per result element (all inputs plus output).
///
/// A tile is the unit of work one thread takes; the fused kernel keeps no
/// temporaries, so the tile only needs to be large enough to amortise the
/// per-call overhead (~20 ns) and small enough to balance threads. We aim
/// for the tile's working set to fill half of L2.
// PERF: not yet tuned by measurement; the clamp keeps calls long enough to
// hide their overhead. Fallback when sysfs is unreadable: 256 KiB of L2.
pub fn default_tile(bytes_per_element: usize) -> usize {
    static L2: OnceLock<usize> = OnceLock::new();
    let l2 = *L2.get_or_init(|| cache_sizes().1.unwrap_or(256 * 1024));
    (l2 / 2 / bytes_per_element.max(1)).clamp(2048, 1 << 16)
}
