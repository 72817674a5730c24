//! The compile-cost cache: checked programs and compiled kernels, keyed by
//! expression text, operand dtypes, layouts and options, with LRU eviction
//! of kernels and statistics of what compiling and running cost.
//!
//! Entries nest by what a call knows first: the text (a hash lookup with no
//! allocation), then the dtypes its identifiers have in the caller's
//! variables (compared in place), then the kernel variants for input
//! layouts, output dtype and options. A warm call costs one lock and these
//! comparisons.

use exprjit_codegen::{Kernel, Layout};
use exprjit_ir::{DType, Env, Program};
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// The default number of kernels kept.
pub const DEFAULT_CAPACITY: usize = 256;

/// What distinguishes kernels of one checked function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Variant {
    pub layouts: Vec<Layout>,
    /// The dtype written (the result's, or the `out` buffer's).
    pub out: DType,
    pub codegen: exprjit_codegen::Options,
}

struct KernelEntry {
    variant: Variant,
    kernel: Arc<Kernel>,
    last_used: u64,
    runs: u64,
}

/// A checked program for one assignment of dtypes to the identifiers.
struct SigEntry {
    signature: Box<[Option<DType>]>,
    program: Arc<Program>,
    sightings: u32,
    kernels: Vec<KernelEntry>,
}

/// Everything cached for one expression text.
struct TextEntry {
    /// Identifiers in order of first appearance.
    idents: Box<[Box<str>]>,
    sigs: Vec<SigEntry>,
}

impl TextEntry {
    fn sig_mut(&mut self, env: &dyn Env) -> Option<&mut SigEntry> {
        let idents = &self.idents;
        self.sigs.iter_mut().find(|s| {
            s.signature
                .iter()
                .zip(idents.iter())
                .all(|(d, n)| *d == env.dtype_of(n))
        })
    }
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
    /// Time spent running fused kernels through `evaluate*` calls.
    pub total_run_time: Duration,
    /// Evaluations that ran on the multi-pass executor instead of a fused
    /// kernel (cold calls on small arrays, or forced).
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
    texts: FxHashMap<Box<str>, TextEntry>,
    kernel_count: usize,
    tick: u64,
    capacity: usize,
    stats: CacheStats,
}

static CACHE: OnceLock<Mutex<Inner>> = OnceLock::new();
/// Run time in nanoseconds, kept outside the lock.
static RUN_NANOS: AtomicU64 = AtomicU64::new(0);

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

/// Adds to the total run time without taking the lock.
pub(crate) fn add_run_time(t: Duration) {
    RUN_NANOS.fetch_add(
        u64::try_from(t.as_nanos()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
}

/// A found program: the program, how often it was asked for, and the
/// kernel of its main function for the asked variant if one is cached.
pub(crate) struct Found {
    pub program: Arc<Program>,
    pub sightings: u32,
    pub kernel: Option<Arc<Kernel>>,
}

impl Inner {
    /// Looks up the program of `text` for the dtypes `env` gives, counting
    /// the sighting; then, if `variant` yields one for that program, the
    /// kernel for it (counting a hit, or a miss when absent).
    pub(crate) fn find(
        &mut self,
        text: &str,
        env: &dyn Env,
        variant: impl FnOnce(&Program) -> Option<Variant>,
    ) -> Option<Found> {
        self.tick += 1;
        let tick = self.tick;
        let sig = self.texts.get_mut(text)?.sig_mut(env)?;
        sig.sightings = sig.sightings.saturating_add(1);
        let mut found = Found {
            program: sig.program.clone(),
            sightings: sig.sightings,
            kernel: None,
        };
        if let Some(v) = variant(&sig.program) {
            match sig.kernels.iter_mut().find(|k| k.variant == v) {
                Some(k) => {
                    k.last_used = tick;
                    k.runs += 1;
                    self.stats.hits += 1;
                    found.kernel = Some(k.kernel.clone());
                }
                None => self.stats.misses += 1,
            }
        }
        Some(found)
    }

    /// The cached kernel for `variant` of an already cached program,
    /// counting a hit or a miss.
    pub(crate) fn kernel(
        &mut self,
        text: &str,
        env: &dyn Env,
        variant: &Variant,
    ) -> Option<Arc<Kernel>> {
        self.tick += 1;
        let tick = self.tick;
        let found = self
            .texts
            .get_mut(text)
            .and_then(|t| t.sig_mut(env))
            .and_then(|s| s.kernels.iter_mut().find(|k| k.variant == *variant));
        match found {
            Some(k) => {
                k.last_used = tick;
                k.runs += 1;
                self.stats.hits += 1;
                Some(k.kernel.clone())
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    /// Whether `variant` of the function is cached (no statistics change).
    pub(crate) fn has_kernel(&self, text: &str, env: &dyn Env, variant: &Variant) -> bool {
        self.texts.get(text).is_some_and(|t| {
            t.sigs.iter().any(|s| {
                s.signature
                    .iter()
                    .zip(t.idents.iter())
                    .all(|(d, n)| *d == env.dtype_of(n))
                    && s.kernels.iter().any(|k| k.variant == *variant)
            })
        })
    }

    /// Whether a program is cached under `text` (no statistics change).
    pub(crate) fn has_program(&self, text: &str) -> bool {
        self.texts.contains_key(text)
    }

    /// Caches a checked program (sighting 1).
    pub(crate) fn insert_program(
        &mut self,
        text: &str,
        idents: Box<[Box<str>]>,
        env: &dyn Env,
        program: Arc<Program>,
    ) {
        if self.texts.len() >= self.capacity.max(16) * 4 {
            // Drop the texts that hold no kernel.
            self.texts
                .retain(|_, t| t.sigs.iter().any(|s| !s.kernels.is_empty()));
        }
        let signature: Box<[Option<DType>]> = idents.iter().map(|n| env.dtype_of(n)).collect();
        let entry = self.texts.entry(text.into()).or_insert_with(|| TextEntry {
            idents,
            sigs: Vec::new(),
        });
        if entry.sig_mut(env).is_none() {
            entry.sigs.push(SigEntry {
                signature,
                program,
                sightings: 1,
                kernels: Vec::new(),
            });
        }
    }

    /// Caches `kernel` for `variant` of the program, evicting the least
    /// recently used kernels beyond capacity. An evicted kernel's code is
    /// freed when the last running call that holds it returns.
    pub(crate) fn insert_kernel(
        &mut self,
        text: &str,
        env: &dyn Env,
        variant: Variant,
        kernel: Arc<Kernel>,
    ) {
        self.stats.total_compile_time += kernel.compile_time();
        self.tick += 1;
        let tick = self.tick;
        let Some(sig) = self.texts.get_mut(text).and_then(|t| t.sig_mut(env)) else {
            return;
        };
        if let Some(k) = sig.kernels.iter_mut().find(|k| k.variant == variant) {
            k.kernel = kernel;
            k.last_used = tick;
            return;
        }
        sig.kernels.push(KernelEntry {
            variant,
            kernel,
            last_used: tick,
            runs: 1,
        });
        self.kernel_count += 1;
        self.evict_to(self.capacity);
    }

    fn evict_to(&mut self, capacity: usize) {
        while self.kernel_count > capacity {
            let mut oldest: Option<(u64, Box<str>, usize, usize)> = None;
            for (text, t) in &self.texts {
                for (si, s) in t.sigs.iter().enumerate() {
                    for (ki, k) in s.kernels.iter().enumerate() {
                        if oldest.as_ref().is_none_or(|o| k.last_used < o.0) {
                            oldest = Some((k.last_used, text.clone(), si, ki));
                        }
                    }
                }
            }
            let Some((_, text, si, ki)) = oldest else {
                break;
            };
            if let Some(t) = self.texts.get_mut(&text) {
                t.sigs[si].kernels.swap_remove(ki);
            }
            self.kernel_count -= 1;
            self.stats.evictions += 1;
        }
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
    s.entries = inner.kernel_count;
    s.total_run_time = Duration::from_nanos(RUN_NANOS.load(Ordering::Relaxed));
    let mut kernels: Vec<(&str, &KernelEntry)> = inner
        .texts
        .iter()
        .flat_map(|(text, t)| {
            t.sigs
                .iter()
                .flat_map(move |s| s.kernels.iter().map(move |k| (&**text, k)))
        })
        .collect();
    kernels.sort_by_key(|(_, e)| std::cmp::Reverse(e.last_used));
    s.kernels = kernels
        .into_iter()
        .map(|(text, e)| KernelStats {
            expr: match text.strip_prefix('\0') {
                // A reduction's input, keyed by its function's text form.
                Some(func) => format!(
                    "(reduction input) {}",
                    func.split_whitespace().collect::<Vec<_>>().join(" ")
                ),
                None => text.to_string(),
            },
            params: e.kernel.params().to_vec(),
            layouts: e
                .variant
                .layouts
                .iter()
                .map(|l| format!("{l:?}").to_lowercase())
                .collect(),
            out: e.variant.out,
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
    RUN_NANOS.store(0, Ordering::Relaxed);
}
