//! The long accuracy run: turns each vector math routine (`Accuracy::Fast`,
//! f64 and f32) into a measured maximum error in ULPs, over 10,000,000
//! random inputs per function and dtype spread over the whole domain plus
//! the special values, against MPFR (correctly rounded, through `rug`); and
//! exhaustively over all 2^32 `f32` inputs for `exp`, `log`, `sin` and
//! `cos`, against the `f64` libm function rounded to `f32`.
//!
//! ```text
//! cargo run -p exprjit-accuracy --release --features mpfr            # everything
//! cargo run -p exprjit-accuracy --release --features mpfr -- 1000000 # fewer inputs
//! cargo run -p exprjit-accuracy --release --features mpfr -- 10000000 noexhaustive
//! cargo run -p exprjit-accuracy --release --features mpfr -- 1000000 tanh log1p
//! ```
//!
//! Function names among the arguments keep only those functions.
//!
//! Without `--features mpfr` the random inputs are measured against the
//! platform libm instead (as the short run in `cargo test -p
//! exprjit-codegen` does). Prints a markdown table (the one in
//! `crates/exprjit-codegen/ACCURACY.md`); exits non-zero if any function is
//! beyond 2 ULP or a special value is not exact. With MPFR it first checks
//! the short run's table of correctly rounded `sin`/`cos`/`tan` of huge
//! arguments (`KNOWN` in the shared harness, computed with mpmath).

#[path = "../../exprjit-codegen/tests/common/accuracy.rs"]
mod harness;

use exprjit_codegen::{Accuracy, Kernel};
use exprjit_ir::{DType, Op};
use harness::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// One function's measurement.
#[derive(Clone, Debug)]
struct Row {
    op: Op,
    dt: DType,
    inputs: usize,
    /// Largest error in ULPs of the result (fractional with MPFR).
    max_ulp: f64,
    worst: (f64, f64, f64),
    /// Special inputs or results that were not exact.
    special_misses: usize,
}

#[cfg(feature = "mpfr")]
mod reference {
    use exprjit_ir::{DType, Op};
    use rug::Float;
    use rug::float::Special;
    use rug::ops::Pow;

    const PREC: u32 = 192;

    fn apply(op: Op, x: f64, y: f64) -> Float {
        let fx = Float::with_val(PREC, x);
        let fy = Float::with_val(PREC, y);
        match op {
            Op::Exp => fx.exp(),
            Op::Expm1 => fx.exp_m1(),
            Op::Log => fx.ln(),
            Op::Log1p => fx.ln_1p(),
            Op::Log2 => fx.log2(),
            Op::Log10 => fx.log10(),
            Op::Sin => fx.sin(),
            Op::Cos => fx.cos(),
            Op::Tan => fx.tan(),
            Op::Arcsin => fx.asin(),
            Op::Arccos => fx.acos(),
            Op::Arctan => fx.atan(),
            Op::Arctan2 => fx.atan2(&fy),
            Op::Sinh => fx.sinh(),
            Op::Cosh => fx.cosh(),
            Op::Tanh => fx.tanh(),
            Op::Arcsinh => fx.asinh(),
            Op::Arccosh => fx.acosh(),
            Op::Arctanh => fx.atanh(),
            Op::Hypot => fx.hypot(&fy),
            Op::Pow => fx.pow(&fy),
            _ => Float::with_val(PREC, Special::Nan),
        }
    }

    /// The entries of the short run's table of correctly rounded results
    /// (`harness::KNOWN`, from mpmath) that MPFR rounds differently.
    pub(crate) fn known_mismatches() -> Vec<String> {
        super::harness::KNOWN
            .iter()
            .filter(|(op, x, want)| apply(*op, *x, 0.0).to_f64().to_bits() != want.to_bits())
            .map(|(op, x, want)| format!("{}({x:e}): table has {want:e}", op.name()))
            .collect()
    }

    /// The correctly rounded result and the error of `got` in ULPs of it.
    pub(crate) fn error(op: Op, dt: DType, x: f64, y: f64, got: f64) -> (f64, f64) {
        let exact = apply(op, x, y);
        let want = match dt {
            DType::F32 => f64::from(exact.to_f32()),
            _ => exact.to_f64(),
        };
        if exact.is_nan() || got.is_nan() || want.is_infinite() || got.is_infinite() {
            let same = (exact.is_nan() && got.is_nan()) || want == got;
            return (want, if same { 0.0 } else { f64::INFINITY });
        }
        // ulp of the correctly rounded result (subnormal spacing below).
        let (bits, min_exp) = match dt {
            DType::F32 => (24, -149),
            _ => (53, -1074),
        };
        let e = if want == 0.0 {
            min_exp
        } else {
            ((want.abs().log2().floor() as i32) - (bits - 1)).max(min_exp)
        };
        let ulp = f64::from(e).exp2();
        let diff = Float::with_val(PREC, got) - &exact;
        let err = (diff.to_f64() / ulp).abs();
        // Signed zeros count: -0.0 for +0.0 is wrong.
        let err = if got == 0.0 && want == 0.0 && got.to_bits() != want.to_bits() {
            1.0
        } else {
            err
        };
        (want, err)
    }
}

#[cfg(not(feature = "mpfr"))]
mod reference {
    use super::harness::{std_f64, ulps};
    use exprjit_ir::{DType, Op};

    /// The platform libm's result and the distance to it in ULPs.
    pub(crate) fn error(op: Op, dt: DType, x: f64, y: f64, got: f64) -> (f64, f64) {
        let r = std_f64(op, x, y);
        let want = match dt {
            DType::F32 => f64::from(r as f32),
            _ => r,
        };
        let u = ulps(dt, got, want);
        (
            want,
            if u == u64::MAX {
                f64::INFINITY
            } else {
                u as f64
            },
        )
    }
}

fn is_special(x: f64, y: f64, want: f64, arity: usize) -> bool {
    let s = |v: f64| !v.is_finite() || v == 0.0;
    s(x) || (arity == 2 && s(y)) || s(want)
}

fn measure(op: Op, arity: usize, dt: DType, n: usize, seed: u64) -> Row {
    let k = kernel(op, dt, arity, None, Accuracy::Fast);
    let mut g = Gen::new(seed);
    let mut row = Row {
        op,
        dt,
        inputs: 0,
        max_ulp: 0.0,
        worst: (0.0, 0.0, 0.0),
        special_misses: 0,
    };
    const BATCH: usize = 1 << 16;
    let mut first = true;
    while row.inputs < n {
        let m = BATCH.min(n - row.inputs);
        let (xs, ys) = batch(&mut g, op, dt, arity, m, first);
        first = false;
        let got = run(&k, dt, &xs, (arity == 2).then_some(&ys[..]));
        for i in 0..xs.len() {
            let (want, err) = reference::error(op, dt, xs[i], ys[i], got[i]);
            let exact = got[i].to_bits() == want.to_bits() || (got[i].is_nan() && want.is_nan());
            if is_special(xs[i], ys[i], want, arity) && !exact {
                row.special_misses += 1;
                if row.special_misses <= 5 {
                    eprintln!(
                        "  special miss: {}({:e}, {:e}) {}: got {:e}, want {:e}",
                        op.name(),
                        xs[i],
                        ys[i],
                        dt,
                        got[i],
                        want
                    );
                }
            }
            if err > row.max_ulp {
                row.max_ulp = err;
                row.worst = (xs[i], ys[i], got[i]);
            }
        }
        row.inputs += xs.len();
    }
    row
}

/// Every f32 input of `op`, against the f64 libm function rounded to f32.
fn exhaustive(op: Op) -> (u64, u64, f32) {
    let k: Kernel = kernel(op, DType::F32, 1, None, Accuracy::Fast);
    let mut max = 0u64;
    let mut misses = 0u64;
    let mut worst = 0f32;
    let chunk = 1u64 << 22;
    let mut xs = vec![0f32; chunk as usize];
    let mut out = vec![0f32; chunk as usize];
    let mut start = 0u64;
    while start < 1 << 32 {
        for (i, x) in xs.iter_mut().enumerate() {
            *x = f32::from_bits((start + i as u64) as u32);
        }
        k.run(
            &[exprjit_codegen::Operand::contiguous(&xs)],
            exprjit_codegen::Output::separate(&mut out),
        )
        .expect("run");
        for (x, got) in xs.iter().zip(&out) {
            let want = std_f64(op, f64::from(*x), 0.0) as f32;
            let u = ulps(DType::F32, f64::from(*got), f64::from(want));
            let special = !want.is_finite() || want == 0.0 || !x.is_finite() || *x == 0.0;
            if special && u != 0 {
                misses += 1;
            }
            if u > max {
                max = u;
                worst = *x;
            }
        }
        start += chunk;
    }
    (max, misses, worst)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let do_exhaustive = !args.iter().any(|a| a == "noexhaustive");
    let reference = if cfg!(feature = "mpfr") {
        "MPFR (correctly rounded)"
    } else {
        "the platform libm (build with --features mpfr for MPFR)"
    };
    eprintln!("{n} inputs per function and dtype, against {reference}");
    #[cfg(feature = "mpfr")]
    let known_ok = {
        let bad = reference::known_mismatches();
        for b in &bad {
            eprintln!("  KNOWN table entry disagrees with MPFR: {b}");
        }
        eprintln!(
            "{} KNOWN huge-argument values checked against MPFR, {} mismatches",
            KNOWN.len(),
            bad.len()
        );
        bad.is_empty()
    };
    #[cfg(not(feature = "mpfr"))]
    let known_ok = true;
    let start = Instant::now();
    let only: Vec<&String> = args
        .iter()
        .skip(1)
        .filter(|a| FUNCS.iter().any(|(op, _)| op.name() == a.as_str()))
        .collect();
    let jobs: Vec<(Op, usize, DType)> = FUNCS
        .iter()
        .filter(|(op, _)| only.is_empty() || only.iter().any(|a| op.name() == a.as_str()))
        .flat_map(|(op, a)| [(*op, *a, DType::F64), (*op, *a, DType::F32)])
        .collect();
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut rows: Vec<Row> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let j = next.fetch_add(1, Ordering::Relaxed);
                        let Some((op, arity, dt)) = jobs.get(j).copied() else {
                            break;
                        };
                        let row = measure(op, arity, dt, n, j as u64 + 1);
                        eprintln!(
                            "{:<8} {:<8} max {:.3} ulp ({:.0?} so far)",
                            op.name(),
                            dt.to_string(),
                            row.max_ulp,
                            start.elapsed()
                        );
                        mine.push(row);
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    rows.sort_by_key(|r| {
        (
            FUNCS.iter().position(|(op, _)| *op == r.op),
            r.dt != DType::F64,
        )
    });
    let mut ok = known_ok;
    println!("| function | dtype | inputs | max error (ULP) | worst input | special misses |");
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        ok &= r.max_ulp <= 2.0 && r.special_misses == 0;
        let input = if FUNCS.iter().any(|(op, a)| *op == r.op && *a == 2) {
            format!("({:e}, {:e})", r.worst.0, r.worst.1)
        } else {
            format!("{:e}", r.worst.0)
        };
        println!(
            "| {} | {} | {} | {:.3} | {} | {} |",
            r.op.name(),
            r.dt,
            r.inputs,
            r.max_ulp,
            input,
            r.special_misses
        );
    }
    eprintln!("random inputs: {:.0?}", start.elapsed());
    if do_exhaustive {
        let t = Instant::now();
        let ops = [Op::Exp, Op::Log, Op::Sin, Op::Cos];
        let results: Vec<(Op, (u64, u64, f32))> = std::thread::scope(|s| {
            let hs: Vec<_> = ops
                .iter()
                .map(|op| s.spawn(move || (*op, exhaustive(*op))))
                .collect();
            hs.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        println!();
        println!(
            "| function | dtype | inputs | max error (ULP vs f64 libm rounded) | worst input | special misses |"
        );
        println!("|---|---|---|---|---|---|");
        for (op, (max, misses, worst)) in results {
            ok &= max <= 1 && misses == 0;
            println!(
                "| {} | float32 | all 2^32 | {max} | {worst:e} | {misses} |",
                op.name()
            );
        }
        eprintln!("exhaustive f32: {:.0?}", t.elapsed());
    }
    eprintln!("total: {:.0?}", start.elapsed());
    if !ok {
        eprintln!("FAILED: some function is beyond its bound or misses a special value");
        std::process::exit(1);
    }
}
