//! Times the transcendental workloads at 1e6 f64 elements on one
//! thread, `Accuracy::Fast` (inline vector math) against `Accuracy::Strict`
//! (one libm call per element), median of several runs, side by side; and
//! every math function alone. `--asm [EXPR]` prints the Fast kernel of
//! `EXPR` (default: workload 3); other arguments keep only the rows whose
//! name contains one of them; `--expr EXPR...` times those expressions
//! instead of the table.
//!
//! `cargo run --release -p exprjit-codegen --example vmath_speed [-- --asm]`

use exprjit_codegen::{Accuracy, Kernel, Layout, Operand, Options, Output};
use exprjit_ir::DType;
use std::time::Instant;

const N: usize = 1_000_000;
const RUNS: usize = 15;

/// Median wall time per element (ns) of `k` over the inputs.
fn time(k: &Kernel, inputs: &[&[f64]], out: &mut [f64]) -> f64 {
    let ops: Vec<Operand<'_>> = inputs.iter().map(|x| Operand::contiguous(x)).collect();
    let mut t: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            k.run(&ops, Output::separate(out)).expect("run");
            start.elapsed().as_secs_f64() * 1e9 / N as f64
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[RUNS / 2]
}

fn kernel(expr: &str, accuracy: Accuracy) -> Kernel {
    let env = [("a", DType::F64), ("b", DType::F64), ("c", DType::F64)];
    let func = exprjit_ir::compile(expr, &env).expect("compile expression");
    let n = func.params.len();
    let opts = Options {
        accuracy,
        ..Options::default()
    };
    Kernel::compile(&func, &vec![Layout::Contiguous; n], &opts).expect("compile kernel")
}

fn main() {
    // Inputs like the benchmark's: uniform in [0, 1) from a fixed seed.
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let a: Vec<f64> = (0..N).map(|_| next()).collect();
    let b: Vec<f64> = (0..N).map(|_| next()).collect();
    let c: Vec<f64> = (0..N).map(|_| next()).collect();
    let mut out = vec![0.0f64; N];
    let workloads = [
        ("3", "sin(a)**2 + cos(b)*exp(-c)"),
        ("4", "log1p(abs(a)) + sqrt(b*b + c*c) + tanh(a*b)"),
    ];
    if std::env::args().any(|a| a == "--asm") {
        let e = std::env::args()
            .nth(2)
            .unwrap_or_else(|| workloads[0].1.to_owned());
        println!("{}", kernel(&e, Accuracy::Fast).disassembly());
        return;
    }
    println!("1e6 f64 elements, one thread, median of {RUNS} runs (ns per element):");
    println!(
        "{:<48} {:>8} {:>8} {:>7}",
        "expression", "strict", "fast", "ratio"
    );
    let mut rows: Vec<(String, String)> = workloads
        .iter()
        .map(|(n, e)| (format!("workload {n}: {e}"), (*e).to_owned()))
        .collect();
    for f in [
        "exp", "expm1", "log", "log1p", "log2", "log10", "sin", "cos", "tan", "arcsin", "arccos",
        "arctan", "sinh", "cosh", "tanh", "arcsinh", "arctanh",
    ] {
        rows.push((format!("{f}(a)"), format!("{f}(a)")));
    }
    rows.push(("arccosh(a + 1)".into(), "arccosh(a + 1)".into()));
    for f in ["arctan2", "hypot"] {
        rows.push((format!("{f}(a, b)"), format!("{f}(a, b)")));
    }
    rows.push(("a ** b".into(), "a ** b".into()));
    rows.push(("a ** 3".into(), "a ** 3".into()));
    // The memory floor of the workloads (no libm function): reference rows.
    for e in ["a + b + c", "sqrt(b*b + c*c)"] {
        rows.push((e.into(), e.into()));
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `--expr E1 E2 ...`: time these expressions instead of the table.
    if args.first().map(String::as_str) == Some("--expr") {
        rows = args[1..].iter().map(|e| (e.clone(), e.clone())).collect();
    }
    let filters: Vec<String> = if args.first().map(String::as_str) == Some("--expr") {
        Vec::new()
    } else {
        args
    };
    for (name, expr) in rows {
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let strict = kernel(&expr, Accuracy::Strict);
        let fast = kernel(&expr, Accuracy::Fast);
        let n = strict.params().len();
        let inputs: Vec<&[f64]> = [&a[..], &b[..], &c[..]][..n].to_vec();
        let ts = time(&strict, &inputs, &mut out);
        let tf = time(&fast, &inputs, &mut out);
        println!("{name:<48} {ts:>8.2} {tf:>8.2} {:>6.1}x", ts / tf);
    }
}
