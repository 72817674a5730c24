//! The textbook's 2-D diffusion, `next = u + D*dt*laplacian(u)` on an N x N
//! grid with periodic boundaries and a 5-point laplacian, written as ONE
//! expression and run as one pass per step:
//!
//! ```text
//! u + D*dt*(roll(u,1,0) + roll(u,-1,0) + roll(u,1,1) + roll(u,-1,1) - 4*u)
//! ```
//!
//! It times the fused kernel, the multi-pass executor (numpy's way: a
//! shifted copy per `roll`, a temporary per operation; and reusing dead
//! temporaries) and a hand-written Rust stencil, checks that all of them
//! give the same bits, and writes a heat map of the final field.
//!
//! ```text
//! cargo run --release --example diffusion -- --size 2048 --steps 200
//! cargo run --release --example diffusion -- --sizes 64,128,256,512,1024,2048,4096
//! ```
//!
//! One run of `--size 2048 --steps 200` (AMD EPYC, 2 vCPUs of a shared KVM
//! guest, load average 2.4 from other builds, 2026-11-26):
//!
//! ```text
//!      N engine                 threads    ms/step     GB/s   compile ms
//!   2048 fused                        1      4.992    13.44        0.797
//!   2048 hand-written loop            1      4.612    14.55            -
//!   2048 multi-pass                   1    242.339     0.28            -
//!   2048 multi-pass in-place          1    206.915     0.32            -
//!   2048 fused                        2      5.964    11.25        0.797
//!   2048 hand-written loop            2      6.160    10.89            -
//!   2048 all engines agree bit for bit after 200 steps: yes
//! ```
//!
//! The fused step is ~40x faster than the multi-pass executor and within
//! ~10% of the hand-written stencil (ahead of it at 2 threads in this run,
//! behind at 1); each row is three kernel calls (the wrapped first and last
//! columns and the interior), and that per-call overhead is the gap.

#[path = "../benches/stencil.rs"]
mod stencil;

use exprjit::{Engine, EngineChoice, Mode, Options};
use std::time::{Duration, Instant};

use stencil::{EXPR, initial};

const D: f64 = 1.0;
const DT: f64 = 0.1;
/// Rounds the engines take turns in (see `run`).
const ROUNDS: usize = 9;

/// What runs a step.
enum Kind {
    Engine(Engine, Options),
    Hand(rayon::ThreadPool),
}

/// One engine at one thread count, with its own double buffer, so that
/// the engines can take turns.
struct Run {
    name: String,
    threads: usize,
    kind: Kind,
    n: usize,
    u: Vec<f64>,
    next: Vec<f64>,
    /// Per-step time of each round.
    rounds: Vec<Duration>,
    compile: Option<Duration>,
}

impl Run {
    fn new(name: &str, threads: usize, kind: Kind, n: usize) -> Run {
        Run {
            name: name.to_string(),
            threads,
            kind,
            n,
            u: initial(n),
            next: vec![0.0; n * n],
            rounds: Vec::new(),
            compile: None,
        }
    }

    fn engine(engine: Engine, threads: usize, n: usize) -> Run {
        let name = match engine {
            Engine::Fused => "fused",
            Engine::MultiPass(Mode::Temporaries) => "multi-pass",
            Engine::MultiPass(Mode::InPlace) => "multi-pass in-place",
            Engine::Interpreter => "interpreter",
        };
        let opts = Options {
            engine: EngineChoice::Force(engine),
            threads: Some(threads),
            ..Options::default()
        };
        Run::new(name, threads, Kind::Engine(engine, opts), n)
    }

    fn hand(threads: usize, n: usize) -> Result<Run, rayon::ThreadPoolBuildError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        Ok(Run::new("hand-written loop", threads, Kind::Hand(pool), n))
    }

    /// One step, `u` -> `next`, then the buffers swap.
    fn step(&mut self) -> Result<(), exprjit::Error> {
        let n = self.n;
        match &self.kind {
            Kind::Hand(pool) => stencil::hand_step(pool, &self.u, &mut self.next, n, D * DT),
            Kind::Engine(engine, opts) => {
                let dims = [n, n];
                let view = exprjit::View::with_shape(&self.u, &dims).map_err(|e| {
                    exprjit::Error::new(exprjit::ErrorKind::Internal(e.to_string()), None, EXPR)
                })?;
                let vars = exprjit::Vars::new()
                    .with("u", view)
                    .with("D", D)
                    .with("dt", DT);
                let trace = exprjit::evaluate_into_with(EXPR, &vars, &mut self.next, opts)?;
                if *engine == Engine::Fused && self.compile.is_none() {
                    self.compile = Some(trace.compile_time);
                }
            }
        }
        std::mem::swap(&mut self.u, &mut self.next);
        Ok(())
    }

    /// Times `steps` steps as one round.
    fn round(&mut self, steps: usize) -> Result<(), exprjit::Error> {
        let start = Instant::now();
        for _ in 0..steps {
            self.step()?;
        }
        self.rounds.push(start.elapsed() / steps.max(1) as u32);
        Ok(())
    }

    /// The median round.
    fn per_step(&self) -> Duration {
        let mut r = self.rounds.clone();
        r.sort();
        r.get(r.len() / 2).copied().unwrap_or_default()
    }
}

/// Writes the field as a PNG heat map (at most 1024 pixels a side).
fn write_png(
    path: &std::path::Path,
    field: &[f64],
    n: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let side = n.min(1024);
    let max = field.iter().cloned().fold(f64::MIN_POSITIVE, f64::max);
    let mut pixels = Vec::with_capacity(side * side * 3);
    for y in 0..side {
        for x in 0..side {
            let v = (field[(y * n / side) * n + x * n / side] / max).clamp(0.0, 1.0);
            // A blue -> cyan -> yellow -> red ramp.
            let (r, g, b) = if v < 0.33 {
                let t = v / 0.33;
                (0.0, t, 0.5 + 0.5 * t)
            } else if v < 0.66 {
                let t = (v - 0.33) / 0.33;
                (t, 1.0, 1.0 - t)
            } else {
                let t = (v - 0.66) / 0.34;
                (1.0, 1.0 - t, 0.0)
            };
            pixels.extend([(r * 255.0) as u8, (g * 255.0) as u8, (b * 255.0) as u8]);
        }
    }
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut enc = png::Encoder::new(file, side as u32, side as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header()?.write_image_data(&pixels)?;
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let steps: usize = arg("--steps")
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(200);
    let sizes: Vec<usize> = match (arg("--sizes"), arg("--size")) {
        (Some(list), _) => list
            .split(',')
            .map(|s| s.trim().parse())
            .collect::<Result<_, _>>()?,
        (None, Some(s)) => vec![s.parse()?],
        (None, None) => vec![2048],
    };
    let cores = exprjit::detect_number_of_cores();
    println!(
        "2-D diffusion, periodic 5-point laplacian, D = {D}, dt = {DT}; {steps} steps per size \
         and engine: one untimed, the rest in {ROUNDS} rounds that the engines take in turn; \
         ms/step is the median round"
    );
    println!("expression: {EXPR}");
    println!("GB/s counts 16 bytes per cell per step (one read, one write)\n");
    println!(
        "{:>6} {:<22} {:>7} {:>10} {:>8} {:>12}",
        "N", "engine", "threads", "ms/step", "GB/s", "compile ms"
    );
    let mut last_field = None;
    for &n in &sizes {
        let mut runs: Vec<Run> = Vec::new();
        for threads in [1, cores] {
            runs.push(Run::engine(Engine::Fused, threads, n));
            runs.push(Run::hand(threads, n)?);
            if threads == 1 {
                runs.push(Run::engine(Engine::MultiPass(Mode::Temporaries), 1, n));
                runs.push(Run::engine(Engine::MultiPass(Mode::InPlace), 1, n));
            }
            if cores == 1 {
                break;
            }
        }
        // The first step compiles (fused) or warms the one-operation
        // kernels and the pages; it is not timed. Then the engines take
        // turns, ROUNDS rounds of an equal share of the steps each, so that
        // a burst of load from elsewhere on the machine falls on all of
        // them; each reports its median round.
        let share = (steps.saturating_sub(1) / ROUNDS).max(1);
        for r in &mut runs {
            r.step()?;
        }
        for _ in 0..ROUNDS {
            for r in &mut runs {
                r.round(share)?;
            }
        }
        let done = 1 + share * ROUNDS;
        // The expression's compile time, from the cache (later sizes reuse
        // the kernel compiled for the first).
        let compiled = exprjit::cache::stats()
            .kernels
            .iter()
            .find(|k| k.expr == EXPR)
            .map(|k| k.compile_time);
        for r in &mut runs {
            if r.compile.is_some() {
                r.compile = compiled;
            }
        }
        for r in &runs {
            let per_step = r.per_step();
            let gbps = 16.0 * (n * n) as f64 / per_step.as_secs_f64() / 1e9;
            println!(
                "{n:>6} {:<22} {:>7} {:>10} {:>8.2} {:>12}",
                r.name,
                r.threads,
                ms(per_step),
                gbps,
                r.compile.map_or("-".to_string(), ms)
            );
        }
        let reference = &runs[0].u;
        let agree = runs.iter().all(|r| {
            r.u.len() == reference.len()
                && r.u
                    .iter()
                    .zip(reference)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
        });
        println!(
            "{n:>6} all engines agree bit for bit after {done} steps: {}\n",
            if agree { "yes" } else { "NO" }
        );
        if !agree {
            return Err("engines disagree".into());
        }
        last_field = Some((n, runs.swap_remove(0).u));
    }
    if let Some((n, field)) = last_field {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/exprjit-bench");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("diffusion.png");
        write_png(&path, &field, n)?;
        let total: f64 = field.iter().sum();
        println!(
            "final field of the {n} x {n} run: {} (total mass {total:.6})",
            path.display()
        );
    }
    Ok(())
}
