//! The short accuracy run: every math routine of `Accuracy::Fast`, in
//! `f64` and `f32`, with and without FMA, on 100,000 inputs each (special
//! values included) against the platform libm through Rust `std`; plus
//! `Accuracy::Strict` bit for bit, and the remainder loop against the
//! vector loop. The long run against MPFR is `crates/exprjit-accuracy`.
//!
//! Bounds checked here: `f64` within 2 ULP of glibc (glibc is itself
//! within 1 ULP of the correctly rounded result, and the routines measure
//! within 1 ULP of it: see ACCURACY.md); `f32` within 1 ULP of the `f64`
//! std function rounded to `f32` (nearly correctly rounded); results that
//! are special (NaN, infinite, zero) or come from special inputs exactly,
//! sign of zero included.

#[path = "common/accuracy.rs"]
mod harness;

use exprjit_codegen::{Accuracy, without_fma};
use exprjit_ir::ops::Libm;
use exprjit_ir::{DType, Op};
use harness::*;

const N: usize = 100_000;

fn reference(op: Op, dt: DType, x: f64, y: f64) -> f64 {
    // glibc's sin/cos/tan are up to 14 ULP off at some huge arguments.
    let r = known(op, x).unwrap_or_else(|| std_f64(op, x, y));
    match dt {
        DType::F32 => f64::from(r as f32),
        _ => r,
    }
}

/// Whether `got` must equal `want` exactly: a special input or result.
fn must_be_exact(x: f64, y: f64, want: f64, arity: usize) -> bool {
    let special = |v: f64| !v.is_finite() || v == 0.0;
    special(x) || (arity == 2 && special(y)) || special(want)
}

fn measure(op: Op, arity: usize, dt: DType, seed: u64) -> (Worst, Vec<String>) {
    let k = kernel(op, dt, arity, None, Accuracy::Fast);
    let mut g = Gen::new(seed);
    let (xs, ys) = batch(&mut g, op, dt, arity, N, true);
    let got = run(&k, dt, &xs, (arity == 2).then_some(&ys[..]));
    let mut w = Worst::default();
    let mut bad = Vec::new();
    for i in 0..xs.len() {
        let want = reference(op, dt, xs[i], ys[i]);
        let u = ulps(dt, got[i], want);
        w.add(u, xs[i], ys[i], got[i], want);
        let exact = must_be_exact(xs[i], ys[i], want, arity);
        let limit = match dt {
            DType::F32 => 1,
            _ => 2,
        };
        if (exact && (got[i].to_bits() != want.to_bits()) && !(got[i].is_nan() && want.is_nan()))
            || u > limit
        {
            // -0.0 vs 0.0 counts: `to_bits` differs.
            if bad.len() < 10 {
                bad.push(format!(
                    "{op:?} {dt}: x={:e} y={:e}: got {:e}, want {:e} ({u} ulp)",
                    xs[i], ys[i], got[i], want
                ));
            }
        }
    }
    (w, bad)
}

fn all(fma: bool) {
    let mut failures = Vec::new();
    for (i, (op, arity)) in FUNCS.into_iter().enumerate() {
        for dt in [DType::F64, DType::F32] {
            let (w, bad) = if fma {
                measure(op, arity, dt, i as u64 + 1)
            } else {
                without_fma(|| measure(op, arity, dt, i as u64 + 1))
            };
            eprintln!(
                "{:<8} {dt} fma={fma}: max {} ulp vs libm (x={:e}, y={:e}: got {:e}, want {:e})",
                op.name(),
                w.ulps,
                w.x,
                w.y,
                w.got,
                w.want
            );
            failures.extend(bad);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fast_is_within_bounds_with_fma() {
    all(true);
}

#[test]
fn fast_is_within_bounds_without_fma() {
    all(false);
}

/// `sin`, `cos`, `tan` of huge arguments (Payne-Hanek's reduction in the
/// slow path) against correctly rounded values computed beforehand.
#[test]
fn huge_trig_arguments_are_within_one_ulp() {
    let mut failures = Vec::new();
    for fma in [true, false] {
        for op in [Op::Sin, Op::Cos, Op::Tan] {
            let xs: Vec<f64> = KNOWN
                .iter()
                .filter(|(o, _, _)| *o == op)
                .map(|(_, x, _)| *x)
                .collect();
            let compile = || kernel(op, DType::F64, 1, None, Accuracy::Fast);
            let k = if fma { compile() } else { without_fma(compile) };
            let got = run(&k, DType::F64, &xs, None);
            for (x, got) in xs.iter().zip(got) {
                let want = known(op, *x).unwrap_or(f64::NAN);
                if ulps(DType::F64, got, want) > 1 {
                    failures.push(format!(
                        "{op:?}({x:e}) fma={fma}: got {got:e}, want {want:e}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn integer_powers_are_within_bounds() {
    let mut failures = Vec::new();
    for dt in [DType::F64, DType::F32] {
        for k in -16..=16 {
            let kern = kernel(Op::Pow, dt, 2, Some(f64::from(k)), Accuracy::Fast);
            let mut g = Gen::new((k + 100) as u64);
            let (xs, _) = batch(&mut g, Op::Exp, dt, 1, 20_000, false);
            let mut xs: Vec<f64> = xs.iter().map(|x| round_to(dt, x / 700.0 * 3.0)).collect();
            xs.extend(specials(Op::Exp, dt));
            for _ in 0..20_000 {
                xs.push(round_to(dt, g.bits(dt)));
            }
            let got = run(&kern, dt, &xs, None);
            for (x, got) in xs.iter().zip(got) {
                let want = reference(Op::Pow, dt, *x, f64::from(k));
                let u = ulps(dt, got, want);
                let limit = if dt == DType::F32 { 1 } else { 2 };
                let exact = must_be_exact(*x, 1.0, want, 1);
                if u > limit || (exact && u != 0) {
                    failures.push(format!("{dt} {x:e} ** {k}: got {got:e}, want {want:e}"));
                }
            }
        }
    }
    failures.truncate(20);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn strict_is_bit_identical_to_std() {
    for (i, (op, arity)) in FUNCS.into_iter().enumerate() {
        for dt in [DType::F64, DType::F32] {
            let k = kernel(op, dt, arity, None, Accuracy::Strict);
            let mut g = Gen::new(i as u64 + 77);
            let (xs, ys) = batch(&mut g, op, dt, arity, 5_000, true);
            let got = run(&k, dt, &xs, (arity == 2).then_some(&ys[..]));
            for j in 0..xs.len() {
                // The operator table's functions, as the interpreter calls.
                let (x, y) = (xs[j], ys[j]);
                let (xf, yf) = (x as f32, y as f32);
                let want = match (op.info().libm, dt) {
                    (Some(Libm::Unary { f32, .. }), DType::F32) => f64::from(f32(xf)),
                    (Some(Libm::Binary { f32, .. }), DType::F32) => f64::from(f32(xf, yf)),
                    (Some(Libm::Unary { f64, .. }), _) => f64(x),
                    (Some(Libm::Binary { f64, .. }), _) => f64(x, y),
                    (None, _) => f64::NAN,
                };
                assert!(
                    got[j].to_bits() == want.to_bits() || (got[j].is_nan() && want.is_nan()),
                    "{op:?} {dt} strict: x={:e} y={:e}: got {:e}, want {:e}",
                    xs[j],
                    ys[j],
                    got[j],
                    want
                );
            }
        }
    }
}

/// Every element gets the same function: the remainder loop (arrays of
/// one element) agrees bit for bit with the vector loop.
#[test]
fn remainder_loop_matches_vector_loop() {
    for (i, (op, arity)) in FUNCS.into_iter().enumerate() {
        for dt in [DType::F64, DType::F32] {
            let k = kernel(op, dt, arity, None, Accuracy::Fast);
            let mut g = Gen::new(i as u64 + 5);
            let (xs, ys) = batch(&mut g, op, dt, arity, 1_000, true);
            let all = run(&k, dt, &xs, (arity == 2).then_some(&ys[..]));
            for j in 0..xs.len() {
                let one = run(&k, dt, &xs[j..=j], (arity == 2).then_some(&ys[j..=j]));
                assert!(
                    one[0].to_bits() == all[j].to_bits(),
                    "{op:?} {dt}: x={:e} y={:e}: vector {:e}, remainder {:e}",
                    xs[j],
                    ys[j],
                    all[j],
                    one[0]
                );
            }
        }
    }
}
