//! Measures what fusion buys: fused JIT kernels against multi-pass
//! evaluation (numpy style, with temporaries and in place) and hand-written
//! Rust loops, across sizes, next to the machine's own memory bandwidth
//! measured in the same run; plus what compiling costs and when it pays.
//!
//! `cargo bench --bench fused_vs_multipass` (about 5-10 minutes on 2 cores)
//! or `-- --quick` (about a minute). Writes `target/exprjit-bench/`
//! `report.md`, `results.json` and SVG charts.

#[path = "inputs.rs"]
mod inputs;
#[path = "report.rs"]
mod report;
#[path = "stencil.rs"]
mod stencil;

use exprjit::{DType, Engine, EngineChoice, Mode, Options, Vars};
use inputs::uniform;
use report::Record;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// How long and how often to sample.
#[derive(Clone, Copy)]
struct Budget {
    samples: usize,
    min_sample: Duration,
}

/// Median, min and spread of `samples` timings of `f`, each sample long
/// enough (repeating `f`) to reach `min_sample`; after a warm-up call.
fn measure(b: Budget, mut f: impl FnMut()) -> (f64, f64, f64) {
    f();
    let t = Instant::now();
    f();
    let one = t.elapsed().max(Duration::from_nanos(20));
    let reps = (b.min_sample.as_secs_f64() / one.as_secs_f64())
        .ceil()
        .max(1.0) as usize;
    let mut per_call: Vec<f64> = (0..b.samples)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..reps {
                f();
            }
            t.elapsed().as_secs_f64() / reps as f64
        })
        .collect();
    per_call.sort_by(|a, b| a.total_cmp(b));
    let median = per_call[per_call.len() / 2];
    let spread = (per_call[per_call.len() - 1] - per_call[0]) / median;
    (median, per_call[0], spread)
}

/// A hand-written Rust loop computing a workload over `(a, b, c)` into `o`.
type HandLoop = fn(&[f64], &[f64], &[f64], &mut [f64]);

/// A bandwidth kernel over a range of the inputs, writing its output chunk.
type RangeKernel<'k> = &'k (dyn Fn(std::ops::Range<usize>, &mut [f64]) + Sync);

struct Workload {
    name: &'static str,
    expr: &'static str,
    dtype: DType,
    hand: Option<HandLoop>,
}

fn hand_abc(a: &[f64], b: &[f64], c: &[f64], o: &mut [f64]) {
    for (o, ((x, y), z)) in o.iter_mut().zip(a.iter().zip(b).zip(c)) {
        *o = x * y + z;
    }
}

fn hand_poly(a: &[f64], b: &[f64], c: &[f64], o: &mut [f64]) {
    for (o, ((x, y), z)) in o.iter_mut().zip(a.iter().zip(b).zip(c)) {
        *o = 2.0 * x + 3.0 * y * z - x / (y + 1.5) + z * z;
    }
}

const WORKLOADS: [Workload; 5] = [
    Workload {
        name: "1 a*b+c",
        expr: "a*b+c",
        dtype: DType::F64,
        hand: Some(hand_abc),
    },
    Workload {
        name: "2 polynomial",
        expr: "2*a + 3*b*c - a/(b+1.5) + c*c",
        dtype: DType::F64,
        hand: Some(hand_poly),
    },
    Workload {
        name: "3 trig",
        expr: "sin(a)**2 + cos(b)*exp(-c)",
        dtype: DType::F64,
        hand: None,
    },
    Workload {
        name: "4 log/sqrt/tanh",
        expr: "log1p(abs(a)) + sqrt(b*b + c*c) + tanh(a*b)",
        dtype: DType::F64,
        hand: None,
    },
    Workload {
        name: "5 a*b+c f32",
        expr: "a*b+c",
        dtype: DType::F32,
        hand: None,
    },
];

/// The machine's streaming limits, measured with small Rust kernels on
/// arrays far larger than the last-level cache.
mod bandwidth {
    use rayon::prelude::*;

    pub(crate) fn copy(a: &[f64], o: &mut [f64]) {
        o.copy_from_slice(a);
    }

    pub(crate) fn triad(a: &[f64], b: &[f64], o: &mut [f64]) {
        for (o, (x, y)) in o.iter_mut().zip(a.iter().zip(b)) {
            *o = x + 3.0 * y;
        }
    }

    pub(crate) fn abc(a: &[f64], b: &[f64], c: &[f64], o: &mut [f64]) {
        super::hand_abc(a, b, c, o);
    }

    /// `o = a*b+c` with non-temporal (streaming) stores, which skip the
    /// read-for-ownership of every output line.
    pub(crate) fn abc_nt(a: &[f64], b: &[f64], c: &[f64], o: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{
                _mm_add_pd, _mm_loadu_pd, _mm_mul_pd, _mm_sfence, _mm_stream_pd,
            };
            let n = o.len().min(a.len()).min(b.len()).min(c.len());
            // Streaming stores need 16-byte alignment: do a scalar head.
            let head = o.as_ptr().align_offset(16).min(n);
            for i in 0..head {
                o[i] = a[i] * b[i] + c[i];
            }
            let mut i = head;
            while i + 2 <= n {
                // SAFETY: i + 2 <= n keeps both lanes in bounds of all four
                // slices; `o[i..]` is 16-byte aligned (head skipped to the
                // alignment and i advances by 2 f64 = 16 bytes); SSE2 is
                // part of the x86_64 baseline.
                unsafe {
                    let v = _mm_add_pd(
                        _mm_mul_pd(
                            _mm_loadu_pd(a.as_ptr().add(i)),
                            _mm_loadu_pd(b.as_ptr().add(i)),
                        ),
                        _mm_loadu_pd(c.as_ptr().add(i)),
                    );
                    _mm_stream_pd(o.as_mut_ptr().add(i), v);
                }
                i += 2;
            }
            for j in i..n {
                o[j] = a[j] * b[j] + c[j];
            }
            // SAFETY: a store fence has no preconditions.
            unsafe { _mm_sfence() };
        }
        #[cfg(not(target_arch = "x86_64"))]
        abc(a, b, c, o);
    }

    /// Runs a kernel over chunks on `threads` threads of a dedicated pool.
    pub(crate) fn parallel(
        pool: &rayon::ThreadPool,
        n: usize,
        f: super::RangeKernel<'_>,
        o: &mut [f64],
    ) {
        let chunk = n.div_ceil(pool.current_num_threads() * 8).max(1 << 14);
        pool.install(|| {
            o.par_chunks_mut(chunk).enumerate().for_each(|(k, out)| {
                let start = k * chunk;
                f(start..start + out.len(), out);
            })
        });
    }
}

fn machine() -> Vec<(String, String)> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cache = |i: usize| {
        std::fs::read_to_string(format!("/sys/devices/system/cpu/cpu0/cache/index{i}/size"))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "?".into())
    };
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    vec![
        ("cpu".into(), cpu),
        (
            "cores".into(),
            exprjit::detect_number_of_cores().to_string(),
        ),
        ("l1d".into(), cache(0)),
        ("l2".into(), cache(2)),
        ("l3".into(), cache(3)),
        ("exprjit".into(), env!("CARGO_PKG_VERSION").into()),
        ("commit".into(), commit),
        ("date".into(), date),
    ]
}

struct Bench {
    budget: Budget,
    records: Vec<Record>,
    notes: Vec<String>,
    cores: usize,
}

impl Bench {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        workload: &str,
        dtype: DType,
        n: usize,
        engine: &str,
        threads: usize,
        bytes: f64,
        m: (f64, f64, f64),
    ) {
        let gbps = if m.0 > 0.0 {
            bytes * n as f64 / m.0 / 1e9
        } else {
            0.0
        };
        self.records.push(Record {
            workload: workload.into(),
            dtype: dtype.short_name().into(),
            n,
            engine: engine.into(),
            threads,
            median_s: m.0,
            min_s: m.1,
            spread: m.2,
            samples: self.budget.samples,
            bytes_per_elem: bytes,
            gbps,
            fraction_of_bandwidth: None,
        });
    }

    fn bandwidth(&mut self, n: usize) {
        let a = uniform(n, 1);
        let b = uniform(n, 2);
        let c = uniform(n, 3);
        let mut o = vec![0.0f64; n];
        for threads in [1, self.cores] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            let kernels: [(&str, f64, RangeKernel<'_>); 4] = [
                ("bw copy", 16.0, &|r, o| bandwidth::copy(&a[r], o)),
                ("bw triad", 24.0, &|r: std::ops::Range<usize>, o| {
                    bandwidth::triad(&a[r.clone()], &b[r], o)
                }),
                ("bw o=a*b+c", 32.0, &|r: std::ops::Range<usize>, o| {
                    bandwidth::abc(&a[r.clone()], &b[r.clone()], &c[r], o)
                }),
                ("bw o=a*b+c nt", 32.0, &|r: std::ops::Range<usize>, o| {
                    bandwidth::abc_nt(&a[r.clone()], &b[r.clone()], &c[r], o)
                }),
            ];
            // Read-only bandwidth: the sum of one array.
            let m = if threads == 1 {
                measure(self.budget, || {
                    std::hint::black_box(a.iter().sum::<f64>());
                })
            } else {
                measure(self.budget, || {
                    use rayon::prelude::*;
                    let s: f64 =
                        pool.install(|| a.par_chunks(1 << 16).map(|c| c.iter().sum::<f64>()).sum());
                    std::hint::black_box(s);
                })
            };
            self.push("bandwidth", DType::F64, n, "bw read (sum)", threads, 8.0, m);
            for (name, bytes, k) in kernels {
                let m = if threads == 1 {
                    measure(self.budget, || k(0..n, &mut o))
                } else {
                    measure(self.budget, || bandwidth::parallel(&pool, n, k, &mut o))
                };
                self.push("bandwidth", DType::F64, n, name, threads, bytes, m);
            }
        }
    }

    fn best_bandwidth(&self, threads: usize) -> Option<f64> {
        self.records
            .iter()
            .filter(|r| r.workload == "bandwidth" && r.threads == threads)
            .map(|r| r.gbps)
            .max_by(|a, b| a.total_cmp(b))
    }

    fn workload(&mut self, w: &Workload, sizes: &[usize]) {
        for &n in sizes {
            let (a, b, c) = (uniform(n, 11), uniform(n, 12), uniform(n, 13));
            let bytes = 4.0 * w.dtype.size() as f64;
            match w.dtype {
                DType::F32 => {
                    let f = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
                    let (a, b, c) = (f(&a), f(&b), f(&c));
                    let vars = exprjit::vars! {a, b, c};
                    let mut out = vec![0.0f32; n];
                    self.engines(w, n, bytes, &vars, &mut out);
                }
                _ => {
                    let vars = exprjit::vars! {a, b, c};
                    let mut out = vec![0.0f64; n];
                    self.engines(w, n, bytes, &vars, &mut out);
                    if let Some(hand) = w.hand {
                        let m = measure(self.budget, || hand(&a, &b, &c, &mut out));
                        self.push(w.name, w.dtype, n, "rust loop", 1, bytes, m);
                    }
                }
            }
        }
    }

    fn engines<T: exprjit::Elem>(
        &mut self,
        w: &Workload,
        n: usize,
        bytes: f64,
        vars: &Vars<'_>,
        out: &mut [T],
    ) {
        let runs = self.runs(true);
        self.measure_engines(w.name, w.dtype, n, bytes, &runs, |opts| {
            exprjit::evaluate_into_with(w.expr, vars, out, opts).map(|_| ())
        });
    }

    /// The engine runs of a workload: fused at 1 thread and all cores,
    /// multi-pass with temporaries and (`in_place`) reusing them, at 1.
    fn runs(&self, in_place: bool) -> Vec<(&'static str, Engine, usize, bool)> {
        let mut runs = vec![
            ("fused", Engine::Fused, 1, false),
            ("fused", Engine::Fused, self.cores, false),
            ("multipass", Engine::MultiPass(Mode::Temporaries), 1, true),
        ];
        if in_place {
            runs.push((
                "multipass in-place",
                Engine::MultiPass(Mode::InPlace),
                1,
                true,
            ));
        }
        runs
    }

    /// Measures `call` under each run's options (a failing first call is
    /// noted and skipped) and records it.
    #[allow(clippy::too_many_arguments)]
    fn measure_engines(
        &mut self,
        workload: &str,
        dtype: DType,
        n: usize,
        bytes: f64,
        runs: &[(&str, Engine, usize, bool)],
        mut call: impl FnMut(&Options) -> Result<(), exprjit::Error>,
    ) {
        for &(name, engine, threads, exact) in runs {
            let opts = Options {
                engine: EngineChoice::Force(engine),
                threads: Some(threads),
                exact_threads: exact,
                ..Options::default()
            };
            if let Err(e) = call(&opts) {
                self.notes.push(format!("{workload} {name}: {e}"));
                continue;
            }
            let m = measure(self.budget, || {
                let _ = call(&opts);
            });
            self.push(workload, dtype, n, name, threads, bytes, m);
        }
    }

    /// Workload 7: the squared norm `sum(v*v)` (8 bytes read per element).
    fn norm(&mut self, sizes: &[usize]) {
        const NAME: &str = "7 sum(v*v)";
        for &n in sizes {
            let v = uniform(n, 31);
            let vars = exprjit::vars! {v};
            let runs = self.runs(false);
            self.measure_engines(NAME, DType::F64, n, 8.0, &runs, |opts| {
                exprjit::evaluate_with("sum(v*v)", &vars, opts).map(|_| ())
            });
            let m = measure(self.budget, || {
                std::hint::black_box(v.iter().map(|x| x * x).sum::<f64>());
            });
            self.push(NAME, DType::F64, n, "rust loop", 1, 8.0, m);
        }
    }

    /// Workload 6: one diffusion step on an n x n grid (n*n cells; 16 bytes
    /// per cell: one read, one write).
    fn diffusion(&mut self, grids: &[usize]) {
        const NAME: &str = "6 diffusion";
        for &n in grids {
            let u = stencil::initial(n);
            let mut next = vec![0.0f64; n * n];
            let Ok(view) = exprjit::View::with_shape(&u, &[n, n]) else {
                continue;
            };
            let vars = Vars::new()
                .with("u", view)
                .with("D", 1.0f64)
                .with("dt", 0.1f64);
            let runs = self.runs(true);
            self.measure_engines(NAME, DType::F64, n * n, 16.0, &runs, |opts| {
                exprjit::evaluate_into_with(stencil::EXPR, &vars, &mut next, opts).map(|_| ())
            });
            for threads in [1, self.cores] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("pool");
                let m = measure(self.budget, || {
                    stencil::hand_step(&pool, &u, &mut next, n, 0.1)
                });
                self.push(NAME, DType::F64, n * n, "rust loop", threads, 16.0, m);
            }
        }
    }

    /// Cold, warm and prepared call costs, and the size above which a cold
    /// fused call beats the multi-pass executor.
    fn compile_cost(&mut self, sizes: &[usize]) -> String {
        let mut s = String::new();
        let fused = Options {
            engine: EngineChoice::Force(Engine::Fused),
            threads: Some(1),
            ..Options::default()
        };
        let multi = Options {
            engine: EngineChoice::Force(Engine::MultiPass(Mode::InPlace)),
            threads: Some(1),
            ..Options::default()
        };
        let auto = Options {
            threads: Some(1),
            ..Options::default()
        };
        let mut fresh = 0usize;
        let _ = writeln!(
            s,
            "| expression | n | cold fused (parse+compile+run) | cold auto | warm evaluate | prepared run | multi-pass |"
        );
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|");
        let mut crossover_rows = Vec::new();
        for expr in ["a*b+c", "sin(a)**2 + cos(b)*exp(-c)"] {
            for &n in sizes {
                let (a, b, c) = (uniform(n, 21), uniform(n, 22), uniform(n, 23));
                let vars = exprjit::vars! {a, b, c};
                let mut out = vec![0.0f64; n];
                // A fresh text each call (trailing spaces) defeats the cache.
                let mut cold = |opts: &Options| {
                    let mut t: Vec<f64> = (0..5)
                        .map(|_| {
                            fresh += 1;
                            let text = format!("{expr}{}", " ".repeat(fresh % 4096 + 1));
                            let start = Instant::now();
                            let _ = exprjit::evaluate_into_with(&text, &vars, &mut out, opts);
                            start.elapsed().as_secs_f64()
                        })
                        .collect();
                    t.sort_by(|x, y| x.total_cmp(y));
                    t[t.len() / 2]
                };
                let cold_fused = cold(&fused);
                let cold_auto = cold(&auto);
                let warm = measure(self.budget, || {
                    let _ = exprjit::evaluate_into_with(expr, &vars, &mut out, &fused);
                })
                .0;
                let prepared = exprjit::compile(
                    expr,
                    &[("a", DType::F64), ("b", DType::F64), ("c", DType::F64)],
                )
                .expect("compiles");
                let ops: Vec<exprjit::Operand<'_>> =
                    [&a, &b, &c].iter().map(|v| v.as_slice().into()).collect();
                let prep = measure(self.budget, || {
                    let _ = prepared.run(&ops);
                })
                .0;
                let mp = measure(self.budget, || {
                    let _ = exprjit::evaluate_into_with(expr, &vars, &mut out, &multi);
                })
                .0;
                let _ = writeln!(
                    s,
                    "| `{expr}` | {} | {} | {} | {} | {} | {} |",
                    report::fmt_n(n),
                    us(cold_fused),
                    us(cold_auto),
                    us(warm),
                    us(prep),
                    us(mp)
                );
                crossover_rows.push((expr, n, cold_fused, mp));
                self.push(
                    "call cost",
                    DType::F64,
                    n,
                    &format!("cold fused {expr}"),
                    1,
                    32.0,
                    (cold_fused, cold_fused, 0.0),
                );
                self.push(
                    "call cost",
                    DType::F64,
                    n,
                    &format!("warm evaluate {expr}"),
                    1,
                    32.0,
                    (warm, warm, 0.0),
                );
                self.push(
                    "call cost",
                    DType::F64,
                    n,
                    &format!("prepared {expr}"),
                    1,
                    32.0,
                    (prep, prep, 0.0),
                );
                self.push(
                    "call cost",
                    DType::F64,
                    n,
                    &format!("multipass {expr}"),
                    1,
                    32.0,
                    (mp, mp, 0.0),
                );
            }
        }
        for expr in ["a*b+c", "sin(a)**2 + cos(b)*exp(-c)"] {
            let rows: Vec<_> = crossover_rows.iter().filter(|r| r.0 == expr).collect();
            let first_win = rows.iter().find(|r| r.2 < r.3).map(|r| report::fmt_n(r.1));
            let _ = writeln!(
                s,
                "\nCold fused beats multi-pass for `{expr}` from n = {} on (first measured size where it does).",
                first_win.unwrap_or_else(|| "never in the sizes measured".into())
            );
        }
        s
    }
}

fn us(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.2} us", s * 1e6)
    } else {
        format!("{:.2} ms", s * 1e3)
    }
}

/// Hardware counters where the host allows them.
fn counters_note() -> String {
    let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    match perf_event::Builder::new(perf_event::events::Hardware::INSTRUCTIONS).build() {
        Ok(_) => format!(
            "Hardware counters open (perf_event_paranoid = {paranoid}); counter tables are a follow-up."
        ),
        Err(e) => format!(
            "Hardware counters are not available on this host (perf_event_paranoid = {paranoid}; opening INSTRUCTIONS failed: {e}). \
             No cache-miss or instruction counts are reported; see the cachegrind study for simulated ones."
        ),
    }
}

mod charts {
    use super::report::Record;
    use plotters::prelude::*;

    /// Time per element vs size, one line per engine, the bandwidth limit
    /// as a dashed line.
    pub(crate) fn workload(
        path: &std::path::Path,
        title: &str,
        records: &[Record],
        limit_ns: Option<f64>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let rows: Vec<&Record> = records
            .iter()
            .filter(|r| r.workload == title && r.n > 0)
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        let xmax = rows.iter().map(|r| r.n).max().unwrap_or(10) as f64;
        let ymax = rows.iter().map(|r| r.ns_per_elem()).fold(1.0, f64::max) * 2.0;
        let ymin = rows
            .iter()
            .map(|r| r.ns_per_elem())
            .fold(f64::MAX, f64::min)
            .min(limit_ns.unwrap_or(f64::MAX))
            / 2.0;
        let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{title}: ns per element (lower is better)"),
                ("sans-serif", 20),
            )
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(
                (5f64..xmax * 2.0).log_scale(),
                (ymin.max(1e-3)..ymax).log_scale(),
            )?;
        chart
            .configure_mesh()
            .x_desc("elements")
            .y_desc("ns / element")
            .draw()?;
        let mut engines: Vec<String> = rows
            .iter()
            .map(|r| super::report::engine_label(r))
            .collect();
        engines.dedup();
        engines.sort();
        engines.dedup();
        for (i, e) in engines.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let mut pts: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| super::report::engine_label(r) == *e)
                .map(|r| (r.n as f64, r.ns_per_elem()))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
                .label(e.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
            chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))?;
        }
        if let Some(l) = limit_ns {
            let style = BLACK.stroke_width(1);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(5.0, l), (xmax * 2.0, l)],
                    6,
                    4,
                    style,
                ))?
                .label("bandwidth limit (1 thread)")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let cores = exprjit::detect_number_of_cores();
    let (budget, sizes, bw_n): (Budget, Vec<usize>, usize) = if quick {
        (
            Budget {
                samples: 5,
                min_sample: Duration::from_millis(10),
            },
            vec![1_000, 100_000, 10_000_000],
            1 << 24,
        )
    } else {
        (
            Budget {
                samples: 7,
                min_sample: Duration::from_millis(50),
            },
            vec![
                10, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 30_000_000,
            ],
            30_000_000,
        )
    };
    let mut bench = Bench {
        budget,
        records: Vec::new(),
        notes: Vec::new(),
        cores,
    };
    let started = Instant::now();
    eprintln!("bandwidth kernels on {bw_n} f64 ...");
    bench.bandwidth(bw_n);
    for w in &WORKLOADS {
        eprintln!("{} ...", w.name);
        let sizes: Vec<usize> = sizes.clone();
        bench.workload(w, &sizes);
    }
    eprintln!("6 diffusion ...");
    let grids: Vec<usize> = if quick {
        vec![256, 2048]
    } else {
        vec![256, 1024, 2048, 4096]
    };
    bench.diffusion(&grids);
    eprintln!("7 sum(v*v) ...");
    let norm_sizes: Vec<usize> = if quick {
        vec![1_000_000, 10_000_000]
    } else {
        vec![1_000, 100_000, 1_000_000, 10_000_000]
    };
    bench.norm(&norm_sizes);
    eprintln!("compile cost ...");
    let cost_sizes: Vec<usize> = if quick {
        vec![10, 1_000, 100_000]
    } else {
        vec![10, 100, 1_000, 10_000, 100_000, 1_000_000]
    };
    let cost_table = bench.compile_cost(&cost_sizes);

    // Fractions of the best bandwidth kernel at the same thread count.
    let best: Vec<(usize, f64)> = [1, cores]
        .iter()
        .filter_map(|&t| bench.best_bandwidth(t).map(|b| (t, b)))
        .collect();
    for r in &mut bench.records {
        if r.workload != "bandwidth" && r.workload != "call cost" {
            r.fraction_of_bandwidth = best
                .iter()
                .find(|(t, _)| *t == r.threads)
                .map(|(_, b)| r.gbps / b);
        }
    }

    let machine = machine();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/exprjit-bench");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("results.json"),
        report::to_json(&machine, &bench.records),
    )?;

    let mut md = String::new();
    let _ = writeln!(
        md,
        "# exprjit: fused vs. multi-pass{}\n",
        if quick { " (quick run)" } else { "" }
    );
    for (k, v) in &machine {
        let _ = writeln!(md, "- {k}: {v}");
    }
    let _ = writeln!(
        md,
        "- timing: median of {} samples, each at least {:?} of repeated calls, after a warm-up; `~` marks samples spreading over 25%",
        budget.samples, budget.min_sample
    );
    let _ = writeln!(md, "- run took {:.0} s\n", started.elapsed().as_secs_f64());
    let _ = writeln!(
        md,
        "## The machine's limits ({} f64 per array)\n",
        report::fmt_n(bw_n)
    );
    let _ = writeln!(
        md,
        "| kernel | threads | GB/s | ns/elem | spread |\n|---|---:|---:|---:|---:|"
    );
    for r in bench.records.iter().filter(|r| r.workload == "bandwidth") {
        let _ = writeln!(
            md,
            "| {} | {} | {:.1} | {:.3} | {:.0}% |",
            r.engine,
            r.threads,
            r.gbps,
            r.ns_per_elem(),
            r.spread * 100.0
        );
    }
    let _ = writeln!(md, "\n## Workloads: ns per element (median)\n");
    let _ = writeln!(
        md,
        "Engines: `fused` = one JIT kernel (1 thread, and all cores as the cost model uses them); `multipass` = one pass per operation with temporaries (numpy style); `multipass in-place` = reusing dead temporaries; `rust loop` = hand-written, one thread. All write into a preallocated output.\n"
    );
    for w in &WORKLOADS {
        let _ = writeln!(
            md,
            "### {} — `{}` ({})\n",
            w.name,
            w.expr,
            w.dtype.short_name()
        );
        md.push_str(&report::workload_table(&bench.records, w.name));
        md.push('\n');
    }
    let _ = writeln!(
        md,
        "### 6 diffusion — `{}` (f64, n = cells of an N x N grid, 16 bytes per cell)\n",
        stencil::EXPR
    );
    md.push_str(&report::workload_table(&bench.records, "6 diffusion"));
    md.push('\n');
    let _ = writeln!(
        md,
        "### 7 sum(v*v) — the squared norm (f64, 8 bytes read per element; compare with `bw read (sum)`)\n"
    );
    md.push_str(&report::workload_table(&bench.records, "7 sum(v*v)"));
    md.push('\n');
    let _ = writeln!(md, "## Compile cost and call overhead (1 thread)\n");
    md.push_str(&cost_table);
    let s = exprjit::cache::stats();
    let _ = writeln!(
        md,
        "\nCache at the end: {} kernels, {} hits, {} misses, {} evictions, {} multi-pass runs, {:.1} ms compiling in total.\n",
        s.entries,
        s.hits,
        s.misses,
        s.evictions,
        s.multipass_runs,
        s.total_compile_time.as_secs_f64() * 1e3
    );
    let _ = writeln!(md, "## Hardware counters\n\n{}\n", counters_note());
    if !bench.notes.is_empty() {
        let _ = writeln!(md, "## Notes\n");
        for n in &bench.notes {
            let _ = writeln!(md, "- {n}");
        }
    }
    std::fs::write(dir.join("report.md"), &md)?;

    let limit = best.iter().find(|(t, _)| *t == 1).map(|(_, b)| 32.0 / b);
    for w in &WORKLOADS {
        let file = format!(
            "workload-{}.svg",
            w.name.split_whitespace().next().unwrap_or("x")
        );
        let l = if w.name.starts_with('1') || w.name.starts_with('2') {
            limit
        } else if w.name.starts_with('5') {
            limit.map(|l| l / 2.0)
        } else {
            None
        };
        if let Err(e) = charts::workload(&dir.join(file), w.name, &bench.records, l) {
            eprintln!("chart for {}: {e}", w.name);
        }
    }
    if let Err(e) = charts::workload(
        &dir.join("workload-6.svg"),
        "6 diffusion",
        &bench.records,
        limit.map(|l| l / 2.0),
    ) {
        eprintln!("chart for diffusion: {e}");
    }
    let cost: Vec<Record> = bench
        .records
        .iter()
        .filter(|r| r.workload == "call cost" && r.engine.ends_with("a*b+c"))
        .cloned()
        .map(|mut r| {
            r.workload = "call cost a*b+c".into();
            r
        })
        .collect();
    if let Err(e) = charts::workload(&dir.join("call-cost.svg"), "call cost a*b+c", &cost, None) {
        eprintln!("chart for call cost: {e}");
    }
    println!("{md}");
    eprintln!("wrote {}", dir.display());
    Ok(())
}
