//! The cache study: what fusion and contiguity do to cache misses, measured
//! with valgrind's cachegrind (a cache simulator: hardware counters are not
//! available in every VM).
//!
//! `cargo bench --bench cache_study` runs each (workload, layout/engine) in a
//! child process under cachegrind twice, with the measured region repeated
//! once and three times, and takes half the difference: set-up, compilation
//! and the first (warm-up) run cancel out. It adds a table to
//! `target/exprjit-bench/report.md`, records to `results.json` and a chart
//! `cache-misses.svg`. It needs valgrind (`apt-get install valgrind`) and
//! says so, exiting non-zero, when it is missing.

#[path = "inputs.rs"]
mod inputs;
#[path = "report.rs"]
mod report;
#[path = "stencil.rs"]
mod stencil;

use exprjit::{Engine, EngineChoice, Mode, Options, Vars};
use inputs::uniform;
use std::process::Command;

/// The simulated caches: 32 KiB 8-way D1, 2 MiB 16-way LL, 64-byte lines.
/// Arrays of `N` f64 (8 MiB each) are far larger than the LL.
const D1: &str = "32768,8,64";
const LL: &str = "2097152,16,64";
const N: usize = 1 << 20;
/// The diffusion grid: 1024 x 1024 = N cells.
const GRID: usize = 1024;

const WORKLOADS: [&str; 3] = ["sum(v*v)", "a*b+c", "diffusion"];
const ENGINES: [&str; 4] = ["scattered", "multipass", "multipass in-place", "fused"];

/// Each element boxed on the heap, allocated in shuffled order: the
/// analogue of a Python list of floats.
// Boxing each element is the point: it models a list of pointers.
#[allow(clippy::vec_box)]
fn scattered(v: &[f64], seed: u64) -> Vec<Box<f64>> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    let mut s = seed | 1;
    for i in (1..order.len()).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        order.swap(i, (s % (i as u64 + 1)) as usize);
    }
    let mut boxes: Vec<Option<Box<f64>>> = (0..v.len()).map(|_| None).collect();
    for &i in &order {
        boxes[i] = Some(Box::new(v[i]));
    }
    boxes
        .into_iter()
        .map(|b| b.unwrap_or_else(|| Box::new(0.0)))
        .collect()
}

fn engine_opts(engine: &str) -> Options {
    let e = match engine {
        "multipass" => Engine::MultiPass(Mode::Temporaries),
        "multipass in-place" => Engine::MultiPass(Mode::InPlace),
        _ => Engine::Fused,
    };
    Options {
        engine: EngineChoice::Force(e),
        threads: Some(1),
        exact_threads: true,
        ..Options::default()
    }
}

/// The child: sets up, warms up once, then runs the region `reps` times.
fn child(workload: &str, engine: &str, reps: usize) -> Result<(), String> {
    let opts = engine_opts(engine);
    let mut sink = 0.0f64;
    match (workload, engine) {
        ("sum(v*v)", "scattered") => {
            let v = scattered(&uniform(N, 1), 7);
            for _ in 0..=reps {
                sink += v.iter().map(|x| **x * **x).sum::<f64>();
            }
        }
        ("a*b+c", "scattered") => {
            let (a, b, c) = (
                scattered(&uniform(N, 1), 7),
                scattered(&uniform(N, 2), 8),
                scattered(&uniform(N, 3), 9),
            );
            let mut o: Vec<Box<f64>> = scattered(&vec![0.0; N], 10);
            for _ in 0..=reps {
                for (o, ((x, y), z)) in o.iter_mut().zip(a.iter().zip(&b).zip(&c)) {
                    **o = **x * **y + **z;
                }
            }
            sink += *o[N / 2];
        }
        ("diffusion", "scattered") => {
            let u = scattered(&stencil::initial(GRID), 7);
            let mut next: Vec<Box<f64>> = scattered(&vec![0.0; GRID * GRID], 8);
            let n = GRID;
            for _ in 0..=reps {
                for i in 0..n {
                    for j in 0..n {
                        let at = |r: usize, c: usize| *u[(r % n) * n + c % n];
                        let cell = at(i, j);
                        *next[i * n + j] = cell
                            + 0.1
                                * ((((at(i + n - 1, j) + at(i + 1, j)) + at(i, j + n - 1))
                                    + at(i, j + 1))
                                    - 4.0 * cell);
                    }
                }
            }
            sink += *next[n * n / 2];
        }
        ("sum(v*v)", _) => {
            let v = uniform(N, 1);
            let vars = exprjit::vars! {v};
            for _ in 0..=reps {
                let (r, _) =
                    exprjit::evaluate_with("sum(v*v)", &vars, &opts).map_err(|e| e.to_string())?;
                sink += r.to_vec::<f64>().map_or(0.0, |x| x[0]);
            }
        }
        ("a*b+c", _) => {
            let (a, b, c) = (uniform(N, 1), uniform(N, 2), uniform(N, 3));
            let vars = exprjit::vars! {a, b, c};
            let mut out = vec![0.0f64; N];
            for _ in 0..=reps {
                exprjit::evaluate_into_with("a*b+c", &vars, &mut out, &opts)
                    .map_err(|e| e.to_string())?;
            }
            sink += out[N / 2];
        }
        ("diffusion", _) => {
            let u = stencil::initial(GRID);
            let view = exprjit::View::with_shape(&u, &[GRID, GRID]).map_err(|e| e.to_string())?;
            let vars = Vars::new()
                .with("u", view)
                .with("D", 1.0f64)
                .with("dt", 0.1f64);
            let mut next = vec![0.0f64; GRID * GRID];
            for _ in 0..=reps {
                exprjit::evaluate_into_with(stencil::EXPR, &vars, &mut next, &opts)
                    .map_err(|e| e.to_string())?;
            }
            sink += next[GRID * GRID / 2];
        }
        _ => return Err(format!("unknown workload {workload}")),
    }
    std::hint::black_box(sink);
    Ok(())
}

/// cachegrind's totals: Ir, Dr, D1mr, DLmr, Dw, D1mw, DLmw.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    ir: f64,
    dr: f64,
    d1mr: f64,
    dlmr: f64,
    dw: f64,
    d1mw: f64,
    dlmw: f64,
}

fn run_child(exe: &str, workload: &str, engine: &str, reps: usize) -> Result<Counts, String> {
    let out_file =
        std::env::temp_dir().join(format!("exprjit-cg-{}-{reps}.out", std::process::id()));
    let status = Command::new("valgrind")
        .args([
            "--tool=cachegrind",
            "--cache-sim=yes",
            "--smc-check=all",
            &format!("--D1={D1}"),
            &format!("--LL={LL}"),
            &format!("--cachegrind-out-file={}", out_file.display()),
            "--log-file=/dev/null",
            exe,
            "--child",
            workload,
            engine,
            &reps.to_string(),
        ])
        .status()
        .map_err(|e| format!("valgrind: {e}"))?;
    if !status.success() {
        return Err(format!("{workload} / {engine}: child failed ({status})"));
    }
    let text = std::fs::read_to_string(&out_file).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&out_file);
    let events: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("events:"))
        .ok_or("no events line")?
        .split_whitespace()
        .collect();
    let totals: Vec<f64> = text
        .lines()
        .find_map(|l| l.strip_prefix("summary:"))
        .ok_or("no summary line")?
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    let get = |name: &str| {
        events
            .iter()
            .position(|e| *e == name)
            .and_then(|i| totals.get(i).copied())
            .unwrap_or(0.0)
    };
    Ok(Counts {
        ir: get("Ir"),
        dr: get("Dr"),
        d1mr: get("D1mr"),
        dlmr: get("DLmr"),
        dw: get("Dw"),
        d1mw: get("D1mw"),
        dlmw: get("DLmw"),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        let reps: usize = args.get(4).and_then(|r| r.parse().ok()).unwrap_or(1);
        return child(&args[2], &args[3], reps).map_err(Into::into);
    }
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!(
            "the cache study needs valgrind's cachegrind; install it with `apt-get install valgrind`"
        );
        std::process::exit(2);
    }
    let exe = std::env::current_exe()?.display().to_string();
    let mut records = Vec::new();
    let mut table = String::new();
    table.push_str(&format!(
        "## Cache study (cachegrind: D1 {D1}, LL {LL}; size,assoc,line)\n\n\
         Per element of {N} (2^20) f64 elements (diffusion: a {GRID} x {GRID} grid), one thread; \
         the measured region only (half the difference of 3 and 1 repetitions).\n\n\
         | workload | layout / engine | instr/elem | reads/elem | writes/elem | D1 miss rate | LL miss rate | D1 misses/elem | LL misses/elem |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n"
    ));
    for workload in WORKLOADS {
        for engine in ENGINES {
            eprintln!("{workload} / {engine} ...");
            let once = run_child(&exe, workload, engine, 1);
            let thrice = run_child(&exe, workload, engine, 3);
            let (once, thrice) = match (once, thrice) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) | (_, Err(e)) => {
                    table.push_str(&format!(
                        "| {workload} | {engine} | not measured: {e} | | | | | | |\n"
                    ));
                    continue;
                }
            };
            let per = |f: fn(&Counts) -> f64| (f(&thrice) - f(&once)).max(0.0) / 2.0 / N as f64;
            let ir = per(|c| c.ir);
            let dr = per(|c| c.dr);
            let dw = per(|c| c.dw);
            let d1 = per(|c| c.d1mr + c.d1mw);
            let ll = per(|c| c.dlmr + c.dlmw);
            let acc = (dr + dw).max(f64::MIN_POSITIVE);
            table.push_str(&format!(
                "| {workload} | {engine} | {ir:.2} | {dr:.2} | {dw:.2} | {:.1}% | {:.1}% | {d1:.3} | {ll:.3} |\n",
                100.0 * d1 / acc,
                100.0 * ll / acc
            ));
            for (metric, value) in [
                ("instructions", ir),
                ("D1 misses", d1),
                ("LL misses", ll),
                ("reads", dr),
                ("writes", dw),
            ] {
                records.push(report::Record {
                    workload: format!("cache {workload}"),
                    dtype: "f64".into(),
                    n: N,
                    engine: format!("{engine}: {metric} per element"),
                    threads: 1,
                    median_s: value,
                    min_s: value,
                    spread: 0.0,
                    samples: 2,
                    bytes_per_elem: 0.0,
                    gbps: 0.0,
                    fraction_of_bandwidth: None,
                });
            }
        }
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/exprjit-bench");
    std::fs::create_dir_all(&dir)?;
    // The report: replace an earlier cache section, keep the rest.
    let report_path = dir.join("report.md");
    let old = std::fs::read_to_string(&report_path).unwrap_or_default();
    let kept = match old.find("## Cache study") {
        Some(i) => old[..i].to_string(),
        None => old,
    };
    std::fs::write(&report_path, format!("{kept}{table}"))?;
    // The JSON: keep the other records, replace the cache ones.
    let json_path = dir.join("results.json");
    let mut all: Vec<report::Record> = Vec::new();
    let mut machine = vec![(
        "cache study".to_string(),
        format!("cachegrind D1 {D1}, LL {LL}"),
    )];
    if let Ok(text) = std::fs::read_to_string(&json_path)
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
    {
        if let Some(m) = v["machine"].as_object() {
            for (k, val) in m {
                if k != "cache study" {
                    machine.push((k.clone(), val.as_str().unwrap_or_default().to_string()));
                }
            }
        }
        for r in v["records"].as_array().into_iter().flatten() {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            if s("workload").starts_with("cache ") {
                continue;
            }
            let f = |k: &str| r[k].as_f64().unwrap_or(0.0);
            all.push(report::Record {
                workload: s("workload"),
                dtype: s("dtype"),
                n: r["n"].as_u64().unwrap_or(0) as usize,
                engine: s("engine"),
                threads: r["threads"].as_u64().unwrap_or(1) as usize,
                median_s: f("median_s"),
                min_s: f("min_s"),
                spread: f("spread"),
                samples: r["samples"].as_u64().unwrap_or(0) as usize,
                bytes_per_elem: f("bytes_per_elem"),
                gbps: f("gbps"),
                fraction_of_bandwidth: r["fraction_of_bandwidth"].as_f64(),
            });
        }
    }
    all.extend(records.iter().cloned());
    std::fs::write(&json_path, report::to_json(&machine, &all))?;
    chart(&dir.join("cache-misses.svg"), &records)?;
    println!("{table}");
    eprintln!("wrote {}", dir.display());
    Ok(())
}

/// Bars of LL misses per element by workload and engine.
fn chart(
    path: &std::path::Path,
    records: &[report::Record],
) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    let rows: Vec<(String, f64)> = records
        .iter()
        .filter(|r| r.engine.ends_with("LL misses per element"))
        .map(|r| {
            let engine = r.engine.split(':').next().unwrap_or("").to_string();
            (
                format!("{} / {engine}", r.workload.trim_start_matches("cache ")),
                r.median_s,
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let ymax = rows.iter().map(|r| r.1).fold(0.01, f64::max) * 1.15;
    let root = SVGBackend::new(path, (900, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Last-level cache misses per element (cachegrind)",
            ("sans-serif", 20),
        )
        .margin(10)
        .x_label_area_size(150)
        .y_label_area_size(60)
        .build_cartesian_2d(0..rows.len(), 0f64..ymax)?;
    let labels: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    chart
        .configure_mesh()
        .x_labels(rows.len())
        .x_label_formatter(&|i| labels.get(*i).cloned().unwrap_or_default())
        .x_label_style(
            ("sans-serif", 11)
                .into_font()
                .transform(FontTransform::Rotate90),
        )
        .y_desc("LL misses / element")
        .draw()?;
    chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
        let color = Palette99::pick(i % 4).to_rgba();
        Rectangle::new([(i, 0.0), (i + 1, r.1)], color.filled())
    }))?;
    root.present()?;
    Ok(())
}
