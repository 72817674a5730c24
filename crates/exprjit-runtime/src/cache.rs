//! The compile-cost cache: checked IR and compiled kernels, keyed by
//! expression text, operand dtypes, layouts and options, with LRU eviction
//! of kernels and statistics of what compiling and running cost.

use exprjit_codegen::{Kernel, Layout};
use exprjit_ir::{DType, Func};
use rustc_hash::FxHashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// The default number of kernels kept.
pub const DEFAULT_CAPACITY: usize = 256;

/// The dtype each identifier of an expression has in the caller's
/// variables (`None`: unbound, e.g. the constant `pi`).
pub(crate) type Signature = Vec<Option<DType>>;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FuncKey {
    pub text: Box<str>,
    pub signature: Signature,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct KernelKey {
    pub func: FuncKey,
    pub layouts: Vec<Layout>,
    /// The dtype written (the result's, or the `out` buffer's).
    pub out: DType,
    pub fma: bool,
}

/// A checked expression and how often it was asked for.
pub(crate) struct FuncEntry {
    pub func: Arc<Func>,
    pub sightings: u32,
}

struct KernelEntry {
    kernel: Arc<Kernel>,
    last_used: u64,
    runs: u64,
}

/// What the cache has seen; see [`stats`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub capacity: usize,
    /// Kernels held now.
    pub entries: usize,
    /// Compile time of every kernel compiled so far (evicted ones too).
    pub total_compile_time: Duration,
    /// Time spent running cached kernels through `evaluate`.
    pub total_run_time: Duration,
    /// Evaluations that ran on the multi-pass executor instead of a fused
    /// kernel (cold calls on small arrays).
    pub multipass_runs: u64,
    /// The kernels held now, most recently used first.
    pub kernels: Vec<KernelStats>,
}

/// One cached kernel.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelStats {
    pub expr: String,
    pub params: Vec<DType>,
    pub layouts: Vec<String>,
    pub out: DType,
    pub compile_time: Duration,
    pub code_size: usize,
    pub runs: u64,
}

#[derive(Default)]
pub(crate) struct Inner {
    /// Identifiers of each expression text in order of first appearance.
    identifiers: FxHashMap<Box<str>, Arc<[Box<str>]>>,
    funcs: FxHashMap<FuncKey, FuncEntry>,
    kernels: FxHashMap<KernelKey, KernelEntry>,
    tick: u64,
    capacity: usize,
    stats: CacheStats,
}

static CACHE: OnceLock<Mutex<Inner>> = OnceLock::new();

pub(crate) fn lock() -> MutexGuard<'static, Inner> {
    let m = CACHE.get_or_init(|| {
        Mutex::new(Inner {
            capacity: DEFAULT_CAPACITY,
            ..Inner::default()
        })
    });
    // A panic while the lock was held cannot leave the maps inconsistent
    // (every update is a single insert or remove), so poisoning is ignored.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inner {
    pub(crate) fn identifiers(&self, text: &str) -> Option<Arc<[Box<str>]>> {
        self.identifiers.get(text).cloned()
    }

    pub(crate) fn insert_identifiers(&mut self, text: &str, idents: Arc<[Box<str>]>) {
        if self.identifiers.len() >= self.capacity.max(16) * 4 {
            self.identifiers.clear();
        }
        self.identifiers.insert(text.into(), idents);
    }

    /// The checked function for `key`, counting the sighting.
    pub(crate) fn func(&mut self, key: &FuncKey) -> Option<(Arc<Func>, u32)> {
        let e = self.funcs.get_mut(key)?;
        e.sightings = e.sightings.saturating_add(1);
        Some((e.func.clone(), e.sightings))
    }

    pub(crate) fn insert_func(&mut self, key: FuncKey, func: Arc<Func>) {
        if self.funcs.len() >= self.capacity.max(16) * 4 {
            self.funcs.clear();
        }
        self.funcs.insert(key, FuncEntry { func, sightings: 1 });
    }

    /// The kernel for `key`; counts a hit or (when absent) a miss.
    pub(crate) fn kernel(&mut self, key: &KernelKey) -> Option<Arc<Kernel>> {
        self.tick += 1;
        let tick = self.tick;
        match self.kernels.get_mut(key) {
            Some(e) => {
                e.last_used = tick;
                e.runs += 1;
                self.stats.hits += 1;
                Some(e.kernel.clone())
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    /// Whether a kernel for `key` is cached (no statistics change).
    pub(crate) fn has_kernel(&self, key: &KernelKey) -> bool {
        self.kernels.contains_key(key)
    }

    /// Caches `kernel`, evicting the least recently used kernels beyond
    /// capacity. An evicted kernel's code is freed when the last running
    /// call that holds it returns.
    pub(crate) fn insert_kernel(&mut self, key: KernelKey, kernel: Arc<Kernel>) {
        self.stats.total_compile_time += kernel.compile_time();
        self.tick += 1;
        self.kernels.insert(
            key,
            KernelEntry {
                kernel,
                last_used: self.tick,
                runs: 1,
            },
        );
        self.evict_to(self.capacity);
    }

    fn evict_to(&mut self, capacity: usize) {
        while self.kernels.len() > capacity {
            let oldest = self
                .kernels
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    self.kernels.remove(&k);
                    self.stats.evictions += 1;
                }
                None => break,
            }
        }
    }

    pub(crate) fn add_run_time(&mut self, t: Duration) {
        self.stats.total_run_time += t;
    }

    pub(crate) fn count_multipass(&mut self) {
        self.stats.multipass_runs += 1;
    }
}

/// A snapshot of the cache statistics.
pub fn stats() -> CacheStats {
    let inner = lock();
    let mut s = inner.stats.clone();
    s.capacity = inner.capacity;
    s.entries = inner.kernels.len();
    let mut kernels: Vec<(&KernelKey, &KernelEntry)> = inner.kernels.iter().collect();
    kernels.sort_by_key(|(_, e)| std::cmp::Reverse(e.last_used));
    s.kernels = kernels
        .into_iter()
        .map(|(k, e)| KernelStats {
            expr: k.func.text.to_string(),
            params: e.kernel.params().to_vec(),
            layouts: k
                .layouts
                .iter()
                .map(|l| format!("{l:?}").to_lowercase())
                .collect(),
            out: k.out,
            compile_time: e.kernel.compile_time(),
            code_size: e.kernel.code_size(),
            runs: e.runs,
        })
        .collect();
    s
}

/// Sets how many kernels the cache keeps (at least 1), evicting at once.
pub fn set_capacity(capacity: usize) {
    let mut inner = lock();
    inner.capacity = capacity.max(1);
    let cap = inner.capacity;
    inner.evict_to(cap);
}

/// Drops every cached kernel and function and zeroes the statistics.
pub fn clear() {
    let mut inner = lock();
    let capacity = inner.capacity;
    *inner = Inner {
        capacity,
        ..Inner::default()
    };
}
