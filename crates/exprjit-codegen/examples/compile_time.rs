//! Measures the compile time of `a*b+c` (f64, contiguous): the cold first
//! kernel of the process (which also builds the host ISA) and the median of
//! later ones; prints the kernel's assembly with `--asm`.
//!
//! `cargo run --release -p exprjit-codegen --example compile_time [-- --asm]`

use exprjit_codegen::{Kernel, Layout, Operand, Options, Output};
use exprjit_ir::DType;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = [("a", DType::F64), ("b", DType::F64), ("c", DType::F64)];
    let func = exprjit_ir::compile("a*b+c", &env)?;
    let layouts = [Layout::Contiguous; 3];
    let start = Instant::now();
    let cold = Kernel::compile(&func, &layouts, &Options::default())?;
    let cold_wall = start.elapsed();
    let mut warm: Vec<_> = (0..1000)
        .map(|_| Kernel::compile(&func, &layouts, &Options::default()).map(|k| k.compile_time()))
        .collect::<Result<_, _>>()?;
    warm.sort();
    println!(
        "a*b+c (f64): cold compile {:?} (compile_time(), wall {:?}); warm median {:?}, p90 {:?}; {} bytes of code",
        cold.compile_time(),
        cold_wall,
        warm[warm.len() / 2],
        warm[warm.len() * 9 / 10],
        cold.code_size()
    );
    let n = 1 << 20;
    let (a, b, c) = (vec![1.5f64; n], vec![2.0f64; n], vec![0.25f64; n]);
    let mut out = vec![0.0f64; n];
    let ops = [
        Operand::contiguous(&a),
        Operand::contiguous(&b),
        Operand::contiguous(&c),
    ];
    let mut best = f64::MAX;
    for _ in 0..20 {
        let t = Instant::now();
        cold.run(&ops, Output::separate(&mut out))?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "run over {n} elements: best {:.3} ms ({:.2} ns/element)",
        best * 1e3,
        best * 1e9 / n as f64
    );
    if std::env::args().any(|a| a == "--asm") {
        println!("{}", cold.disassembly());
    }
    Ok(())
}
