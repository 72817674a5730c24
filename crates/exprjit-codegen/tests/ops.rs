//! Runs a kernel for every (operation, accepted dtype) pair of the operator
//! table against the reference interpreter, in every layout, plus the
//! integer corner cases the issue names.

mod common;

use common::*;
use exprjit_codegen::{Accuracy, Kernel, Layout, Operand, Options, Output, lowering};
use exprjit_ir::{DType, Func, Inst, InstKind, Op, Param, Value};

/// The completeness test: every entry of the table compiles and agrees
/// with `eval` (through the interpreter), at lengths that exercise the
/// vector and the remainder loop, contiguous, strided and broadcast.
#[test]
fn every_op_and_dtype_matches_the_interpreter() {
    let mut failures = Vec::new();
    let mut count = 0;
    for (oi, op) in Op::ALL.into_iter().enumerate() {
        for dt in op.info().accepts.iter() {
            let func = op_func(op, dt);
            let n = func.params.len();
            let layout_sets: Vec<Vec<Layout>> = vec![
                vec![Layout::Contiguous; n],
                vec![Layout::Strided; n],
                (0..n)
                    .map(|i| {
                        if i == 0 {
                            Layout::Broadcast
                        } else {
                            Layout::Contiguous
                        }
                    })
                    .collect(),
                (0..n)
                    .map(|i| {
                        if i + 1 == n {
                            Layout::Broadcast
                        } else {
                            Layout::Strided
                        }
                    })
                    .collect(),
            ];
            for (k, layouts) in layout_sets.iter().enumerate() {
                count += 1;
                let seed = (oi * 31 + dt as usize) as u64 * 7 + k as u64;
                if let Err(e) = check_func(&func, layouts, &[0, 1, 3, 8, 9, 67], seed) {
                    failures.push(format!("{op:?} on {dt} ({:?}): {e}", lowering(op, dt)));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn binary_i64(op: Op, a: &[i64], b: &[i64]) -> Vec<i64> {
    let func = op_func(op, DType::I64);
    let k = Kernel::compile(&func, &[Layout::Contiguous; 2], &Options::default()).expect("compile");
    let mut out = vec![0i64; a.len()];
    k.run(
        &[Operand::contiguous(a), Operand::contiguous(b)],
        Output::separate(&mut out),
    )
    .expect("run");
    out
}

#[test]
fn integer_division_by_zero_gives_zero_and_min_by_minus_one_wraps() {
    // Long enough for the vector loop and the remainder (lanes of i64: 2).
    let a = [7, -7, i64::MIN, i64::MIN, 5, i64::MIN, -8, 9, 0];
    let b = [0, 0, -1, 0, -1, 1, 3, -2, 0];
    assert_eq!(
        binary_i64(Op::FloorDiv, &a, &b),
        [0, 0, i64::MIN, 0, -5, i64::MIN, -3, -5, 0]
    );
    assert_eq!(binary_i64(Op::Mod, &a, &b), [0, 0, 0, 0, 0, 0, 1, -1, 0]);
    assert_eq!(binary_i64(Op::Fmod, &a, &b), [0, 0, 0, 0, 0, 0, -2, 1, 0]);

    let func = op_func(Op::FloorDiv, DType::I32);
    let k = Kernel::compile(&func, &[Layout::Contiguous; 2], &Options::default()).expect("compile");
    let a = [i32::MIN, 1, -1, i32::MIN, 7];
    let b = [-1, 0, 0, 2, -2];
    let mut out = [0i32; 5];
    k.run(
        &[Operand::contiguous(&a), Operand::contiguous(&b)],
        Output::separate(&mut out),
    )
    .expect("run");
    assert_eq!(out, [i32::MIN, 0, 0, i32::MIN / 2, -4]);
}

#[test]
fn maximum_minimum_follow_numpy_on_zeros_and_nans() {
    let a = [-0.0, 0.0, f64::NAN, 1.0, 2.0];
    let b = [0.0, -0.0, 1.0, f64::NAN, 1.0];
    for (op, want) in [
        (Op::Maximum, [-0.0, 0.0, f64::NAN, f64::NAN, 2.0]),
        (Op::Minimum, [-0.0, 0.0, f64::NAN, f64::NAN, 1.0]),
    ] {
        let k = Kernel::compile(
            &op_func(op, DType::F64),
            &[Layout::Contiguous; 2],
            &Options::default(),
        )
        .expect("compile");
        let mut out = [0.0f64; 5];
        k.run(
            &[Operand::contiguous(&a), Operand::contiguous(&b)],
            Output::separate(&mut out),
        )
        .expect("run");
        for (g, w) in out.iter().zip(want) {
            assert!(
                g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                "{op:?}: {out:?}"
            );
        }
    }
}

/// `a * b + c` over f64.
fn mul_add() -> Func {
    let s = span();
    let p = |i: u32| Inst {
        kind: InstKind::Param(i),
        dtype: DType::F64,
        span: s,
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
                span: s,
            },
            Inst {
                kind: InstKind::Apply(Op::Add, vec![Value(3), Value(2)]),
                dtype: DType::F64,
                span: s,
            },
        ],
        result: Value(4),
    }
}

#[test]
fn fma_is_opt_in() {
    let plain = Kernel::compile(&mul_add(), &[Layout::Contiguous; 3], &Options::default())
        .expect("compile");
    assert!(!plain.clif().contains("fma"), "{}", plain.clif());
    // 0.1 * 10 + -1: one rounding gives 5.55e-17, two give 0.
    let (a, b, c) = ([0.1f64; 5], [10.0f64; 5], [-1.0f64; 5]);
    let mut out = [1.0f64; 5];
    let ops = [
        Operand::contiguous(&a),
        Operand::contiguous(&b),
        Operand::contiguous(&c),
    ];
    plain.run(&ops, Output::separate(&mut out)).expect("run");
    assert_eq!(out, [0.0; 5]);
    let fused = Kernel::compile(
        &mul_add(),
        &[Layout::Contiguous; 3],
        &Options {
            fma: true,
            ..Options::default()
        },
    )
    .expect("compile");
    if fused.clif().contains("fma") {
        fused.run(&ops, Output::separate(&mut out)).expect("run");
        assert_eq!(out, [0.1f64.mul_add(10.0, -1.0); 5]);
    }
}

#[test]
fn in_place_reads_before_writing() {
    let k = Kernel::compile(&mul_add(), &[Layout::Contiguous; 3], &Options::default())
        .expect("compile");
    let a: Vec<f64> = (0..37).map(f64::from).collect();
    let b = vec![2.0f64; 37];
    let mut c: Vec<f64> = (0..37).map(|i| f64::from(i) * 0.5).collect();
    let want: Vec<f64> = (0..37).map(|i| a[i] * b[i] + c[i]).collect();
    let ops = [
        Operand::contiguous(&a),
        Operand::contiguous(&b),
        Operand::in_place(DType::F64),
    ];
    k.run(
        &ops,
        Output::InPlace {
            input: 2,
            buffer: exprjit_codegen::as_bytes_mut(&mut c),
        },
    )
    .expect("run");
    assert_eq!(c, want);
}

#[test]
fn run_rejects_mismatched_operands() {
    let k = Kernel::compile(
        &mul_add(),
        &[Layout::Contiguous, Layout::Strided, Layout::Broadcast],
        &Options::default(),
    )
    .expect("compile");
    let x = [1.0f64; 8];
    let xi = [1i64; 8];
    let mut out = [0.0f64; 8];
    let ok = [
        Operand::contiguous(&x),
        Operand::strided(&x, 0, 1),
        Operand::broadcast(&x, 3),
    ];
    k.run(&ok, Output::separate(&mut out)).expect("valid call");
    assert_eq!(out, [2.0; 8]);
    let bad: Vec<(Vec<Operand<'_>>, &str)> = vec![
        (ok[..2].to_vec(), "2 operands for 3"),
        (vec![Operand::contiguous(&xi), ok[1], ok[2]], "is int64"),
        (vec![Operand::strided(&x, 0, 2), ok[1], ok[2]], "stride 2"),
        (vec![ok[0], ok[1], Operand::contiguous(&x)], "stride 1"),
        (vec![ok[0], Operand::strided(&x, 1, 1), ok[2]], "outside"),
        (vec![ok[0], Operand::strided(&x, 7, -1), ok[2]], "valid"),
        (vec![ok[0], Operand::strided(&x, 6, -1), ok[2]], "outside"),
        (vec![ok[0], ok[1], Operand::broadcast(&x, 8)], "outside"),
        (vec![Operand::contiguous(&x[..7]), ok[1], ok[2]], "outside"),
        (
            vec![Operand::in_place(DType::F64), ok[1], ok[2]],
            "in_place",
        ),
    ];
    for (ops, want) in bad {
        let r = k.run(&ops, Output::separate(&mut out));
        match r {
            Ok(()) => assert_eq!(want, "valid"),
            Err(e) => {
                assert!(!e.is_bug());
                assert!(e.to_string().contains(want), "{e} should mention {want}");
            }
        }
    }
    let bytes = exprjit_codegen::as_bytes(&x);
    let misaligned = Operand::new(&bytes[1..], DType::F64, 0, 1);
    let e = k
        .run(&[misaligned, ok[1], ok[2]], Output::separate(&mut out))
        .expect_err("misaligned");
    assert!(e.to_string().contains("aligned"), "{e}");
    // The output's length is the call's length: 9 results need 9 inputs.
    let mut long = [0.0f64; 9];
    let e = k
        .run(&ok, Output::separate(&mut long))
        .expect_err("long output");
    assert!(e.to_string().contains("outside"), "{e}");
}

#[test]
fn empty_range_touches_nothing() {
    let k =
        Kernel::compile(&mul_add(), &[Layout::Broadcast; 3], &Options::default()).expect("compile");
    let none: [f64; 0] = [];
    let mut out: [f64; 0] = [];
    // Broadcast operands with no element are fine when nothing is computed.
    let ops = [
        Operand::broadcast(&none, 0),
        Operand::broadcast(&none, 0),
        Operand::broadcast(&none, 0),
    ];
    k.run(&ops, Output::separate(&mut out)).expect("empty run");
}

#[test]
fn views_show_clif_and_assembly() {
    let k = Kernel::compile(&mul_add(), &[Layout::Contiguous; 3], &Options::default())
        .expect("compile");
    assert!(
        k.clif().contains("load.f64x2") && k.clif().contains("fmul"),
        "{}",
        k.clif()
    );
    let asm = k.disassembly();
    assert!(asm.contains("mulpd") || asm.contains("vmulpd"), "{asm}");
    assert!(k.code_size() > 0);
    assert!(k.compile_time().as_nanos() > 0);
    assert_eq!(k.lanes(), 2);
    assert_eq!(k.params(), [DType::F64; 3]);
    assert_eq!(k.result_dtype(), DType::F64);
    // Libm calls (Strict) are annotated with the helper's name.
    let strict = Options {
        accuracy: Accuracy::Strict,
        ..Options::default()
    };
    let exp = Kernel::compile(
        &op_func(Op::Exp, DType::F32),
        &[Layout::Contiguous],
        &strict,
    )
    .expect("compile");
    assert!(
        exp.disassembly().contains("exprjit_call1_f32"),
        "{}",
        exp.disassembly()
    );
    // Fast: inline vector code, no call at all.
    let exp = Kernel::compile(
        &op_func(Op::Exp, DType::F32),
        &[Layout::Contiguous],
        &Options::default(),
    )
    .expect("compile");
    let asm = exp.disassembly();
    assert!(!asm.contains("call"), "{asm}");
    assert!(asm.contains("roundpd"), "{asm}");
    // sin calls out only on its cold path for huge arguments (Payne-Hanek's
    // reduction, through a `preserve_all` trampoline), never to libm.
    let sin = Kernel::compile(
        &op_func(Op::Sin, DType::F64),
        &[Layout::Contiguous],
        &Options::default(),
    )
    .expect("compile");
    assert!(!sin.disassembly().contains("exprjit_call1_f64"));
    assert!(sin.clif().contains("preserve_all"), "{}", sin.clif());
    assert!(sin.clif().contains("vany_true"), "{}", sin.clif());
}

#[test]
fn bool_results_are_bytes_zero_or_one() {
    let k = Kernel::compile(
        &op_func(Op::Lt, DType::I32),
        &[Layout::Contiguous; 2],
        &Options::default(),
    )
    .expect("compile");
    let a: Vec<i32> = (0..21).collect();
    let b = vec![10i32; 21];
    let mut out = vec![7u8; 21];
    k.run(
        &[Operand::contiguous(&a), Operand::contiguous(&b)],
        Output::Separate(&mut out),
    )
    .expect("run");
    let want: Vec<u8> = (0..21).map(|i| u8::from(i < 10)).collect();
    assert_eq!(out, want);
}

#[test]
fn results_that_are_a_parameter_or_a_constant() {
    let s = span();
    let copy = Func {
        params: vec![Param {
            name: "a".into(),
            dtype: DType::Bool,
            rolls: Vec::new(),
        }],
        insts: vec![Inst {
            kind: InstKind::Param(0),
            dtype: DType::Bool,
            span: s,
        }],
        result: Value(0),
    };
    let konst = Func {
        params: vec![],
        insts: vec![Inst {
            kind: InstKind::Const(exprjit_ir::Scalar::F32(-0.0)),
            dtype: DType::F32,
            span: s,
        }],
        result: Value(0),
    };
    for layout in [Layout::Contiguous, Layout::Strided, Layout::Broadcast] {
        check_func(&copy, &[layout], &LENS, 5).unwrap_or_else(|m| panic!("{m}"));
    }
    check_func(&konst, &[], &LENS, 6).unwrap_or_else(|m| panic!("{m}"));
}

#[test]
fn one_kernel_runs_on_many_threads() {
    let k = Kernel::compile(&mul_add(), &[Layout::Contiguous; 3], &Options::default())
        .expect("compile");
    std::thread::scope(|scope| {
        for t in 0..4 {
            let k = &k;
            scope.spawn(move || {
                let a = vec![f64::from(t); 1001];
                let mut out = vec![0.0f64; 1001];
                let ops = [
                    Operand::contiguous(&a),
                    Operand::contiguous(&a),
                    Operand::contiguous(&a),
                ];
                for _ in 0..50 {
                    k.run(&ops, Output::separate(&mut out)).expect("run");
                }
                assert!(out.iter().all(|x| *x == f64::from(t * t + t)));
            });
        }
    });
}
