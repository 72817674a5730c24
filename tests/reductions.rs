//! Reductions (`sum prod min max mean any all`): every engine, tile size,
//! thread count and input layout against the reference interpreter, bit
//! for bit, on inputs long enough to span several blocks; numpy's result
//! dtypes; empty inputs; NaN; summation accuracy against an exact sum;
//! determinism; `evaluate_into` and in place; the errors' rendered text.

mod common;

use common::layouts::{Laid, Layout, lay_out, view};
use common::tables::compare;
use exprjit::{Array, DType, Data, Engine, EngineChoice, ErrorKind, Mode, Options, Scalar, Vars};

const ENGINES: [Engine; 3] = [
    Engine::Fused,
    Engine::MultiPass(Mode::Temporaries),
    Engine::MultiPass(Mode::InPlace),
];
const TILES: [usize; 4] = [1, 7, 1024, 1 << 20];

fn opts(engine: Engine, tile: usize, threads: usize) -> Options {
    Options {
        engine: EngineChoice::Force(engine),
        threads: Some(threads),
        tile: Some(tile),
        exact_threads: true,
        ..Options::default()
    }
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` floats of mixed sign and magnitude (1e-3 .. 1e3), with a few
/// signed zeros.
fn floats(n: usize, seed: u64) -> Vec<f64> {
    let mut r = Rng(seed);
    (0..n)
        .map(|i| match i % 97 {
            13 => -0.0,
            14 => 0.0,
            _ => {
                let mag = 10f64.powf(r.unit() * 6.0 - 3.0);
                if r.next() & 1 == 0 { mag } else { -mag }
            }
        })
        .collect()
}

fn f64s(shape: &[usize], seed: u64) -> Array {
    let n = shape.iter().product();
    Array::from_vec(shape.to_vec(), floats(n, seed)).expect("shape")
}

fn f32s(shape: &[usize], seed: u64) -> Array {
    let n = shape.iter().product();
    let v: Vec<f32> = floats(n, seed).into_iter().map(|x| x as f32).collect();
    Array::from_vec(shape.to_vec(), v).expect("shape")
}

fn i32s(shape: &[usize], seed: u64) -> Array {
    let n = shape.iter().product();
    let mut r = Rng(seed);
    let v: Vec<i32> = (0..n).map(|_| (r.next() % 2001) as i32 - 1000).collect();
    Array::from_vec(shape.to_vec(), v).expect("shape")
}

fn bools(shape: &[usize], seed: u64) -> Array {
    let n = shape.iter().product();
    let mut r = Rng(seed);
    let v: Vec<bool> = (0..n).map(|_| r.next().is_multiple_of(3)).collect();
    Array::from_vec(shape.to_vec(), v).expect("shape")
}

/// `a` with NaN at the flat indices `at`.
fn with_nans(mut a: Array, at: &[usize]) -> Array {
    for &i in at {
        a.data_mut().set(i, Scalar::F64(f64::NAN));
    }
    a
}

const LAYOUTS: [Layout; 4] = [
    Layout::Contiguous,
    Layout::Strided(3),
    Layout::Reversed,
    Layout::Broadcast,
];

fn run(
    expr: &str,
    inputs: &[(&str, Array)],
    layout: Layout,
    o: &Options,
) -> Result<Array, exprjit::Error> {
    let ndim = inputs.iter().map(|(_, a)| a.ndim()).max().unwrap_or(0);
    let laid: Vec<Laid> = inputs
        .iter()
        .map(|(_, a)| lay_out(a, layout, ndim))
        .collect();
    let mut vars = Vars::new();
    for ((name, _), l) in inputs.iter().zip(&laid) {
        vars.set(*name, view(l));
    }
    exprjit::evaluate_with(expr, &vars, o).map(|(a, _)| a)
}

/// The expressions of the differential test, with their inputs: 1-d
/// inputs longer than a block (2048 values) and not a multiple of it,
/// lines along and across memory, rolls inside and around reductions,
/// broadcasting, NaN.
fn differential_cases() -> Vec<(&'static str, Vec<(&'static str, Array)>)> {
    let v = || ("v", f64s(&[5000], 1));
    let x = || ("x", f32s(&[4099], 2));
    let i = || ("i", i32s(&[3000], 3));
    let m = || ("m", bools(&[2500], 4));
    let m2 = || ("m2", f64s(&[37, 300], 5));
    let w = || ("w", f64s(&[3, 5000], 6));
    let t = || ("t", f64s(&[4, 50, 30], 7));
    let vn = || ("vn", with_nans(f64s(&[5000], 8), &[3001]));
    let wn = || ("wn", with_nans(f64s(&[3, 2100], 9), &[2100 + 2099]));
    let c = || ("c", f64s(&[300, 1], 10));
    let r = || ("r", f64s(&[200], 11));
    vec![
        ("sum(v)", vec![v()]),
        ("sqrt(sum(v*v))", vec![v()]),
        ("v - mean(v)", vec![v()]),
        ("v / max(abs(v))", vec![v()]),
        ("sum(v - mean(v))", vec![v()]),
        ("prod(v*0.001 + 1)", vec![v()]),
        ("min(v) + max(v)", vec![v()]),
        ("any(v > 999.9)", vec![v()]),
        ("all(v > -999.9)", vec![v()]),
        ("sum(x)", vec![x()]),
        ("mean(x*x)", vec![x()]),
        ("max(x, keepdims=True)", vec![x()]),
        ("sum(i)", vec![i()]),
        ("prod(i % 3 + 1)", vec![i()]),
        ("mean(i)", vec![i()]),
        ("max(i) - min(i, axis=0)", vec![i()]),
        ("sum(m)", vec![m()]),
        ("any(m) & ~all(m)", vec![m()]),
        ("mean(m)", vec![m()]),
        ("sum(m2, axis=0)", vec![m2()]),
        ("sum(m2, axis=1)", vec![m2()]),
        ("mean(m2, -1, keepdims=True)", vec![m2()]),
        ("m2 - mean(m2, axis=0)", vec![m2()]),
        ("max(m2, -2)", vec![m2()]),
        ("sum(w, axis=1)", vec![w()]),
        ("sum(w, 0)", vec![w()]),
        ("w - mean(w, axis=1, keepdims=True)", vec![w()]),
        ("sum(t, axis=1)", vec![t()]),
        ("sum(t, -1)", vec![t()]),
        ("sum(t, 0)", vec![t()]),
        ("min(t, axis=1, keepdims=True)", vec![t()]),
        ("sum(t)", vec![t()]),
        ("sum(roll(m2, 3, 1) * m2, axis=1)", vec![m2()]),
        (
            "roll(m2 - mean(m2, axis=1, keepdims=True), -2, 0)",
            vec![m2()],
        ),
        ("roll(sum(t, axis=2), 1, -1)", vec![t()]),
        ("sum(roll(t, 7, 1) - t, axis=1)", vec![t()]),
        ("sum(c + r)", vec![c(), r()]),
        ("sum(c * r, axis=0)", vec![c(), r()]),
        ("max(vn) + min(vn) + sum(vn)", vec![vn()]),
        ("max(wn, axis=1)", vec![wn()]),
        ("min(wn, axis=0)", vec![wn()]),
    ]
}

#[test]
fn every_engine_tile_thread_and_layout_matches_the_interpreter_bit_for_bit() {
    let mut misses = Vec::new();
    let mut runs = 0;
    for (expr, inputs) in differential_cases() {
        for layout in LAYOUTS {
            let want = match run(expr, &inputs, layout, &opts(Engine::Interpreter, 1, 1)) {
                Ok(w) => w,
                Err(e) => {
                    misses.push(format!("{expr} [interpreter, {layout:?}]: {e}"));
                    continue;
                }
            };
            for engine in ENGINES {
                for tile in TILES {
                    for threads in [1, 2] {
                        if threads == 2 && tile > 7 && layout != Layout::Contiguous {
                            continue;
                        }
                        runs += 1;
                        let got = run(expr, &inputs, layout, &opts(engine, tile, threads));
                        if let Err(m) = got
                            .map_err(|e| e.to_string())
                            .and_then(|g| compare(&g, &want, 0))
                        {
                            misses.push(format!(
                                "{expr} [{engine:?}, tile {tile}, {threads} threads, {layout:?}]: {m}"
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(runs > 2000, "only {runs} runs");
    assert!(
        misses.is_empty(),
        "{} of {runs} runs failed; first 30:\n{}",
        misses.len(),
        misses[..misses.len().min(30)].join("\n")
    );
}

#[test]
fn result_dtypes_follow_numpy() {
    use DType::*;
    let input = |d: DType| -> Array {
        let a = Array::from_slice(&[1.0f64, 2.0, 3.0]);
        let mut data = Data::zeros(d, 3);
        for k in 0..3 {
            data.set(k, a.get(k));
        }
        Array::new(vec![3], data).expect("shape")
    };
    // (reduction, [result for bool, i32, i64, f32, f64])
    let table: [(&str, [DType; 5]); 7] = [
        ("sum", [I64, I64, I64, F32, F64]),
        ("prod", [I64, I64, I64, F32, F64]),
        ("min", [Bool, I32, I64, F32, F64]),
        ("max", [Bool, I32, I64, F32, F64]),
        ("mean", [F64, F64, F64, F32, F64]),
        ("any", [Bool; 5]),
        ("all", [Bool; 5]),
    ];
    for (op, results) in table {
        for (d, want) in DType::ALL.into_iter().zip(results) {
            let a = input(d);
            let vars = Vars::new().with("a", &a);
            for engine in [
                Engine::Fused,
                Engine::MultiPass(Mode::InPlace),
                Engine::Interpreter,
            ] {
                let (r, _) =
                    exprjit::evaluate_with(&format!("{op}(a)"), &vars, &opts(engine, 7, 1))
                        .unwrap_or_else(|e| panic!("{op}({d}): {e}"));
                assert_eq!(r.dtype(), want, "{op}({d}) on {engine:?}");
                assert_eq!(r.shape(), &[] as &[usize]);
            }
        }
    }
    // The values, in those dtypes.
    let i = Array::from_slice(&[i32::MAX, i32::MAX, 7]);
    let vars = Vars::new().with("i", &i);
    let sum = exprjit::evaluate("sum(i)", &vars).expect("sum");
    assert_eq!(sum.to_scalar(), Some(Scalar::I64(2 * i32::MAX as i64 + 7)));
    let mean = exprjit::evaluate("mean(i)", &vars).expect("mean");
    let want = (2.0 * i32::MAX as f64 + 7.0) / 3.0;
    assert_eq!(mean.to_scalar(), Some(Scalar::F64(want)));
}

#[test]
fn empty_inputs_give_the_identity_or_numpys_error() {
    for engine in [
        Engine::Fused,
        Engine::MultiPass(Mode::Temporaries),
        Engine::Interpreter,
    ] {
        let o = opts(engine, 7, 2);
        let e: Vec<f64> = Vec::new();
        let ei: Vec<i32> = Vec::new();
        let z = Array::from_vec(vec![2, 0], Vec::<f64>::new()).expect("shape");
        let vars = Vars::new().with("e", &e).with("ei", &ei).with("z", &z);
        let value = |expr: &str| {
            exprjit::evaluate_with(expr, &vars, &o)
                .unwrap_or_else(|err| panic!("{expr} [{engine:?}]: {err}"))
                .0
        };
        assert_eq!(value("sum(e)").to_scalar(), Some(Scalar::F64(0.0)));
        assert_eq!(value("sum(ei)").to_scalar(), Some(Scalar::I64(0)));
        assert_eq!(value("prod(ei)").to_scalar(), Some(Scalar::I64(1)));
        assert_eq!(value("prod(e)").to_scalar(), Some(Scalar::F64(1.0)));
        assert_eq!(value("any(e)").to_scalar(), Some(Scalar::Bool(false)));
        assert_eq!(value("all(e)").to_scalar(), Some(Scalar::Bool(true)));
        assert_eq!(
            value("sum(z, axis=1)").to_vec::<f64>(),
            Some(vec![0.0, 0.0])
        );
        let none = value("max(z, axis=0)");
        assert_eq!((none.shape(), none.len()), (&[0usize][..], 0));
        let err = |expr: &str| match exprjit::evaluate_with(expr, &vars, &o) {
            Ok((a, _)) => panic!("{expr} [{engine:?}] gave {a:?}"),
            Err(e) => e.to_string(),
        };
        assert_eq!(
            err("max(e)"),
            "max(e)\n^^^^^^\nerror: zero-size array to reduction operation max which has no identity"
        );
        assert_eq!(
            err("1 + min(ei)"),
            "1 + min(ei)\n    ^^^^^^^\nerror: zero-size array to reduction operation min which has no identity"
        );
        assert_eq!(
            err("mean(e)"),
            "mean(e)\n^^^^^^^\nerror: zero-size array to reduction operation mean which has no identity\nhint: numpy gives nan (with a warning) here; exprjit refuses"
        );
        assert_eq!(
            err("max(z, axis=1)"),
            "max(z, axis=1)\n^^^^^^^^^^^^^^\nerror: zero-size array to reduction operation max which has no identity"
        );
    }
}

#[test]
fn min_and_max_propagate_nan_from_any_block() {
    for at in [0, 2047, 2048, 6143, 9999] {
        let a = with_nans(f64s(&[10_000], 12), &[at]);
        let m = Array::from_vec(vec![4, 2500], a.to_vec::<f64>().expect("f64")).expect("shape");
        for engine in [
            Engine::Fused,
            Engine::MultiPass(Mode::InPlace),
            Engine::Interpreter,
        ] {
            let o = opts(engine, 1024, 2);
            let vars = Vars::new().with("a", &a).with("m", &m);
            for expr in ["max(a)", "min(a)", "sum(a)", "mean(a)"] {
                let (r, _) = exprjit::evaluate_with(expr, &vars, &o).expect("evaluates");
                assert!(
                    matches!(r.to_scalar(), Some(Scalar::F64(x)) if x.is_nan()),
                    "{expr} with NaN at {at} [{engine:?}]: {r:?}"
                );
            }
            let (rows, _) = exprjit::evaluate_with("max(m, axis=1)", &vars, &o).expect("rows");
            let rows = rows.to_vec::<f64>().expect("f64");
            for (k, x) in rows.iter().enumerate() {
                assert_eq!(
                    x.is_nan(),
                    k == at / 2500,
                    "row {k}, NaN at {at} [{engine:?}]"
                );
            }
        }
    }
}

/// The values of the accuracy test: `m * 2^k` with `m` a 53-bit integer
/// and `k` in -60..=-30 (magnitudes from 2^-60 to 2^23), four in five
/// positive so that the running sum grows; and each value times 2^60, an
/// integer, for the exact sum.
fn mixed_magnitudes(n: usize) -> (Vec<f64>, Vec<i128>) {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut xs = Vec::with_capacity(n);
    let mut fixed = Vec::with_capacity(n);
    for _ in 0..n {
        let m = (r.next() >> 11) as i64;
        let m = if r.next().is_multiple_of(5) { -m } else { m };
        let k = (r.next() % 31) as i32 - 60;
        xs.push(m as f64 * 2f64.powi(k));
        fixed.push(i128::from(m) << (k + 60));
    }
    (xs, fixed)
}

#[test]
fn summation_is_as_accurate_as_numpy_and_identical_everywhere() {
    let n = 10_000_000;
    let (xs, fixed) = mixed_magnitudes(n);
    let exact: i128 = fixed.iter().sum();
    let sum_abs: i128 = fixed.iter().map(|x| x.abs()).sum();
    // A float whose bits below 2^-60 are zero (every partial sum of these
    // values is one), times 2^60, as an exact integer.
    let to_fixed = |x: f64| -> i128 {
        let y = x * 2f64.powi(60);
        assert_eq!(y.fract(), 0.0, "{x} is not a multiple of 2^-60");
        y as i128
    };
    let sequential = xs.iter().fold(0.0f64, |acc, &x| acc + x);
    let sequential_error = (to_fixed(sequential) - exact).abs();
    // numpy's np.sum: pairwise within each buffer of 8192 values, the
    // buffers' sums added in sequence.
    let pairwise = exprjit::internals::ir::semantics::pairwise::<f64, _>;
    let numpy = xs.chunks(8192).fold(0.0f64, |acc, c| {
        acc + pairwise(c, |a: f64, b: f64| a + b).expect("non-empty")
    });
    let numpy_error = (to_fixed(numpy) - exact).abs();

    let vars = Vars::new().with("x", &xs);
    let mut bits = None;
    let configs = [
        Options::default(),
        opts(Engine::Fused, 1 << 20, 1),
        opts(Engine::Fused, 7, 2),
        opts(Engine::Fused, 100_000, 2),
        opts(Engine::MultiPass(Mode::InPlace), 1 << 20, 2),
    ];
    for o in &configs {
        let (r, _) = exprjit::evaluate_with("sum(x)", &vars, o).expect("sum");
        let Some(Scalar::F64(got)) = r.to_scalar() else {
            panic!("sum(x) gave {r:?}")
        };
        match bits {
            None => bits = Some(got.to_bits()),
            Some(b) => assert_eq!(got.to_bits(), b, "{o:?} gave other bits"),
        }
        let error = (to_fixed(got) - exact).abs();
        // Pairwise summation's bound: about log2(n) roundings of relative
        // size 2^-53 on the sum of magnitudes.
        let bound = (sum_abs >> 53) * (n as f64).log2().ceil() as i128;
        assert!(
            error <= bound,
            "error {error} above the pairwise bound {bound} ({o:?})"
        );
        assert!(
            error <= numpy_error,
            "error {error} above numpy's {numpy_error}"
        );
        assert!(
            error * 100 < sequential_error,
            "error {error} not far below a sequential sum's {sequential_error}"
        );
    }
    // The test's exact sum is right: a correctly rounded conversion of it
    // is within half an ulp of exprjit's result.
    let exact_f64 = exact as f64 * 2f64.powi(-60);
    let got = f64::from_bits(bits.expect("ran"));
    assert!((got - exact_f64).abs() <= exact_f64.abs() * 1e-15);
}

#[test]
fn results_do_not_depend_on_threads_or_tiles() {
    let a = f64s(&[1000, 1100], 13);
    let vars = Vars::new().with("a", &a);
    for expr in [
        "sum(a)",
        "mean(a*a, axis=0)",
        "sum(a, axis=1)",
        "a - mean(a, axis=1, keepdims=True)",
    ] {
        let want = exprjit::evaluate_with(expr, &vars, &opts(Engine::Fused, 1 << 20, 1))
            .expect("serial")
            .0;
        for (threads, tile) in [(2, 1), (2, 4096), (2, 100_000), (1, 7), (3, 20_000)] {
            let got = exprjit::evaluate_with(expr, &vars, &opts(Engine::Fused, tile, threads))
                .expect("parallel")
                .0;
            compare(&got, &want, 0)
                .unwrap_or_else(|m| panic!("{expr} [{threads} threads, tile {tile}]: {m}"));
        }
        let auto = exprjit::evaluate(expr, &vars).expect("auto");
        compare(&auto, &want, 0).unwrap_or_else(|m| panic!("{expr} [auto]: {m}"));
    }
}

#[test]
fn in_place_and_into_buffers_read_the_reduction_before_writing() {
    let a0: Vec<f64> = floats(3000, 14);
    let vars0 = Vars::new().with("a", &a0);
    for expr in ["a - mean(a)", "a / max(abs(a))", "roll(a, 1, 0) * sum(a)"] {
        let want = exprjit::evaluate(expr, &vars0).expect("out of place");
        for engine in [
            Engine::Fused,
            Engine::MultiPass(Mode::Temporaries),
            Engine::MultiPass(Mode::InPlace),
            Engine::Interpreter,
        ] {
            let mut a = a0.clone();
            let r = exprjit::evaluate_in_place_with(
                expr,
                &Vars::new(),
                "a",
                &mut a,
                &opts(engine, 7, 2),
            );
            if expr.starts_with("roll") {
                // A rolled read of the target in the main expression is
                // refused; inside a reduction it would be fine.
                let e = r.expect_err("aliasing");
                assert!(matches!(e.kind(), ErrorKind::Aliasing { .. }), "{e}");
                continue;
            }
            r.unwrap_or_else(|e| panic!("{expr} in place [{engine:?}]: {e}"));
            let got = Array::from_slice(&a);
            compare(&got, &want, 0).unwrap_or_else(|m| panic!("{expr} in place [{engine:?}]: {m}"));
        }
    }
    // The target read only inside a reduction, rolled.
    let expr = "a * 0.5 + sum(roll(a, 1, 0))";
    let want = exprjit::evaluate(expr, &vars0).expect("out of place");
    let mut a = a0.clone();
    exprjit::evaluate_in_place(expr, &Vars::new(), "a", &mut a).expect("in place");
    compare(&Array::from_slice(&a), &want, 0).unwrap_or_else(|m| panic!("{expr}: {m}"));
    // A 0-d result into a one-element buffer of a wider dtype.
    let i: Vec<i32> = vec![1, 2, 3];
    let mut out = [0.0f64];
    exprjit::evaluate_into("sum(i)", &Vars::new().with("i", &i), &mut out).expect("into");
    assert_eq!(out, [6.0]);
    let mut bad = [false];
    let e = exprjit::evaluate_into("sum(i)", &Vars::new().with("i", &i), &mut bad)
        .expect_err("int64 into bool");
    assert!(matches!(e.kind(), ErrorKind::OutputDType { .. }), "{e}");
}

#[test]
fn errors_point_at_the_reduction() {
    let a = vec![1.0f64, 2.0, 3.0];
    let b = vec![1.0f64, 2.0];
    let m2 = Array::from_vec(vec![2, 3], vec![1.0f64; 6]).expect("shape");
    let vars = Vars::new().with("a", &a).with("b", &b).with("m2", &m2);
    let err =
        |expr: &str, engine: Engine| match exprjit::evaluate_with(expr, &vars, &opts(engine, 7, 1))
        {
            Ok((r, _)) => panic!("{expr} gave {r:?}"),
            Err(e) => e.to_string(),
        };
    let cases = [
        (
            "sum(m2, axis=2)",
            "sum(m2, axis=2)\n             ^\nerror: axis 2 is out of range for an array of 2 dimensions",
        ),
        (
            "m2 - mean(m2, -3)",
            "m2 - mean(m2, -3)\n              ^^\nerror: axis -3 is out of range for an array of 2 dimensions",
        ),
        (
            "sum(a + b)",
            "sum(a + b)\n        ^\nerror: shapes [3] and [2] do not broadcast together",
        ),
        (
            "b + sum(m2, axis=0)",
            "b + sum(m2, axis=0)\n    ^^^^^^^^^^^^^^^\nerror: shapes [2] and [3] do not broadcast together",
        ),
        (
            "sum()",
            "sum()\n^^^^^\nerror: sum() takes 1 argument, got 0",
        ),
        (
            "sum(a, 0, 1)",
            "sum(a, 0, 1)\n          ^\nerror: sum() takes 2 arguments, got 3\nhint: sum(x, axis) or sum(x, axis=0, keepdims=True)",
        ),
        (
            "max(a, b)",
            "max(a, b)\n       ^\nerror: max's axis must be an integer constant\nhint: the elementwise maximum of two arrays is maximum(a, b)",
        ),
        (
            "sum(a, axis=b)",
            "sum(a, axis=b)\n            ^\nerror: sum's axis must be an integer constant\nhint: write an integer literal, e.g. sum(x, axis=0)",
        ),
        (
            "sum(a, 0, axis=0)",
            "sum(a, 0, axis=0)\n          ^^^^\nerror: sum() got multiple values for argument 'axis'",
        ),
        (
            "sum(a, keepdims=1)",
            "sum(a, keepdims=1)\n                ^\nerror: keepdims must be True or False",
        ),
        (
            "sum(a, dtype=1)",
            "sum(a, dtype=1)\n       ^^^^^\nerror: sum() has no argument 'dtype'",
        ),
        (
            "amax(a)",
            "amax(a)\n^^^^\nerror: unknown function 'amax'\nhint: exprjit spells it 'max'",
        ),
        (
            "summ(a)",
            "summ(a)\n^^^^\nerror: unknown function 'summ'\nhint: did you mean 'sum'?",
        ),
    ];
    for (expr, want) in cases {
        for engine in [
            Engine::Fused,
            Engine::MultiPass(Mode::InPlace),
            Engine::Interpreter,
        ] {
            assert_eq!(err(expr, engine), want, "{expr} [{engine:?}]");
        }
    }
}

#[test]
fn the_input_kernel_is_cached_and_shared() {
    let v: Vec<f64> = floats(50_000, 15);
    let vars = Vars::new().with("v", &v);
    let o = Options {
        engine: EngineChoice::Force(Engine::Fused),
        ..Options::default()
    };
    let (first, t1) = exprjit::evaluate_with("sqrt(sum(v*v)) + 0", &vars, &o).expect("first");
    let (second, t2) = exprjit::evaluate_with("sqrt(sum(v*v)) + 0", &vars, &o).expect("second");
    assert_eq!(first, second);
    assert!(!t1.cache_hit, "{t1:?}");
    assert!(t2.cache_hit, "{t2:?}");
    assert_eq!(t2.elements, 50_001);
    let stats = exprjit::cache::stats();
    assert!(
        stats
            .kernels
            .iter()
            .any(|k| k.expr.starts_with("(reduction input) fn(v: f64)")
                && k.expr.contains("mul.f64")
                && k.out == DType::F64),
        "{:?}",
        stats.kernels.iter().map(|k| &k.expr).collect::<Vec<_>>()
    );
    // The same input in another expression reuses that kernel.
    let misses = exprjit::cache::stats().misses;
    let (_, t3) = exprjit::evaluate_with("1 / sum(v*v)", &vars, &o).expect("third");
    assert!(t3.elements > 50_000);
    // Only the new main function's kernel was compiled.
    assert_eq!(exprjit::cache::stats().misses, misses + 1);
}

#[test]
fn prepared_expressions_with_reductions_run_like_evaluate() {
    let a = floats(5000, 16);
    let b: Vec<f32> = floats(5000, 17).into_iter().map(|x| x as f32).collect();
    let expr = "a - mean(a) + sum(b * a) / max(abs(b))";
    let p = exprjit::compile(expr, &[("b", DType::F32), ("a", DType::F64)]).expect("compiles");
    assert_eq!(p.input_names(), vec!["a", "b"]);
    assert_eq!(p.input_dtypes(), vec![DType::F64, DType::F32]);
    let vars = Vars::new().with("a", &a).with("b", &b);
    let want = exprjit::evaluate(expr, &vars).expect("evaluates");
    let got = p.run(&[(&a).into(), (&b).into()]).expect("runs");
    compare(&got, &want, 0).unwrap_or_else(|m| panic!("{m}"));
    let got = p.run_vars(&vars).expect("runs by name");
    compare(&got, &want, 0).unwrap_or_else(|m| panic!("{m}"));
    assert!(p.run(&[(&b).into(), (&a).into()]).is_err());
}
