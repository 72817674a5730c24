//! A first tour: evaluate expressions from Rust, see errors, see the cache,
//! and compare the fused kernel with multi-pass evaluation and a plain loop.
//!
//! Run with `cargo run --release --example quickstart`.

use exprjit::{Engine, EngineChoice, Mode, Options, Vars, evaluate};
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tour()?;
    println!();
    timings()?;
    Ok(())
}

fn tour() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<f64> = (0..8).map(|i| i as f64 * 0.5).collect();
    let b: Vec<f64> = (0..8).map(|i| 1.0 + i as f64).collect();
    let c = 2.5f64;
    let flags = [true, false, true, true, false, false, true, false];
    let n: Vec<i32> = (-4..4).collect();

    let vars = exprjit::vars! {a, b, c, flags, n};
    for expr in [
        "a*b + c",
        "where(flags, sqrt(a), -b)",
        "n // 3 + n % 3",
        "(a > 1) & (b < 7)",
        "float32(n) * 0.5",
        "sin(a)**2 + cos(a)**2",
    ] {
        let r = evaluate(expr, &vars)?;
        println!("{expr:<28} -> {} {:?}", r.dtype(), r.data());
    }

    // Errors point at the part of the expression they are about.
    for bad in ["a + d", "a & b", "sqrt(a, b)", "0 < a < 1"] {
        match evaluate(bad, &Vars::new().with("a", &a).with("b", &b)) {
            Ok(r) => println!("{bad}: unexpectedly gave {:?}", r.data()),
            Err(e) => println!("\n{e}"),
        }
    }

    let s = exprjit::cache::stats();
    println!(
        "\ncache: {} kernels, {} hits, {} misses, {} multi-pass runs, {:?} compiling",
        s.entries, s.hits, s.misses, s.multipass_runs, s.total_compile_time
    );
    Ok(())
}

/// Median of `reps` timed calls of `f`, after one warm-up call.
fn median(reps: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut t: Vec<Duration> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    t[t.len() / 2]
}

fn timings() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "a*b+c over f64 on {} cores (median of repeated runs; this machine, now):",
        exprjit::detect_number_of_cores()
    );
    println!(
        "{:>10} {:>8} {:>12} {:>12} {:>12} {:>12}",
        "n", "threads", "fused", "multi-pass", "plain loop", "fused GB/s"
    );
    for n in [1_000usize, 100_000, 10_000_000] {
        let a: Vec<f64> = (0..n).map(|i| (i % 1000) as f64 * 1e-3).collect();
        let b: Vec<f64> = (0..n).map(|i| (i % 777) as f64 * 1e-3).collect();
        let c: Vec<f64> = (0..n).map(|i| (i % 555) as f64 * 1e-3).collect();
        let vars = exprjit::vars! {a, b, c};
        let reps = (2e8 as usize / n / 8).clamp(5, 2000);
        let mut out = vec![0.0f64; n];
        for threads in [1usize, 2] {
            let mut run = |engine: Engine| -> Result<Duration, exprjit::Error> {
                let opts = Options {
                    engine: EngineChoice::Force(engine),
                    threads: Some(threads),
                    ..Options::default()
                };
                exprjit::evaluate_into_with("a*b+c", &vars, &mut out, &opts)?;
                Ok(median(reps, || {
                    let _ = exprjit::evaluate_into_with("a*b+c", &vars, &mut out, &opts);
                }))
            };
            let fused = run(Engine::Fused)?;
            let multi = run(Engine::MultiPass(Mode::Temporaries))?;
            let plain = median(reps, || {
                for (o, ((x, y), z)) in out.iter_mut().zip(a.iter().zip(&b).zip(&c)) {
                    *o = x * y + z;
                }
                std::hint::black_box(&mut out);
            });
            let gbps = (32 * n) as f64 / fused.as_secs_f64() / 1e9;
            println!(
                "{n:>10} {threads:>8} {:>12} {:>12} {:>12} {gbps:>12.2}",
                fmt(fused),
                fmt(multi),
                if threads == 1 { fmt(plain) } else { "-".into() },
            );
        }
    }
    println!("(into a preallocated output; GB/s counts 32 bytes per element: three reads,");
    println!(" one write. The plain loop is one thread of idiomatic Rust.)");
    Ok(())
}

fn fmt(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} us")
    } else {
        format!("{:.2} ms", us / 1000.0)
    }
}
