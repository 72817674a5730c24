//! Compiles and drops 20,000 kernels and checks that resident memory stays
//! flat: each kernel really frees its executable memory. Alone in its own
//! test binary so that no other test allocates meanwhile.

use exprjit_codegen::{Kernel, Layout, Options};
use exprjit_ir::{DType, Func, Inst, InstKind, Op, Param, Value};
use exprjit_syntax::Span;
use std::time::Instant;

/// Resident set size in bytes, from `/proc/self/statm` (Linux).
fn rss() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn mul_add() -> Func {
    let span = Span::new(0, 0);
    let p = |i: u32| Inst {
        kind: InstKind::Param(i),
        dtype: DType::F64,
        span,
    };
    Func {
        params: ["a", "b", "c"]
            .map(|n| Param {
                name: n.into(),
                dtype: DType::F64,
                rolls: Vec::new(),
            })
            .to_vec(),
        insts: vec![
            p(0),
            p(1),
            p(2),
            Inst {
                kind: InstKind::Apply(Op::Mul, vec![Value(0), Value(1)]),
                dtype: DType::F64,
                span,
            },
            Inst {
                kind: InstKind::Apply(Op::Add, vec![Value(3), Value(2)]),
                dtype: DType::F64,
                span,
            },
        ],
        result: Value(4),
    }
}

#[test]
fn dropping_kernels_frees_their_code() {
    let Some(_) = rss() else {
        eprintln!("no /proc/self/statm: skipped");
        return;
    };
    let func = mul_add();
    let compile =
        || Kernel::compile(&func, &[Layout::Contiguous; 3], &Options::default()).expect("compile");
    // Warm up: the host ISA, the symbol table, the allocator's pools.
    for _ in 0..2_000 {
        drop(compile());
    }
    let before = rss().unwrap_or(0);
    let start = Instant::now();
    for _ in 0..20_000 {
        drop(compile());
    }
    let elapsed = start.elapsed();
    let after = rss().unwrap_or(0);
    let grown = after.saturating_sub(before);
    eprintln!(
        "20,000 kernels in {elapsed:?}: rss {} KiB -> {} KiB (+{} KiB)",
        before / 1024,
        after / 1024,
        grown / 1024
    );
    // A leak is at least one 4 KiB code page per kernel: 80 MB here.
    assert!(grown < 8 << 20, "resident memory grew by {grown} bytes");
}
