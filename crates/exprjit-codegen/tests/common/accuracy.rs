//! Accuracy harness for the math routines: turns an (op, dtype) pair into
//! inputs spread over the function's whole domain plus its special values,
//! runs the compiled kernel on them, and measures the distance in ULPs to a
//! reference. Shared by the short run (`tests/accuracy.rs`) and the long
//! run (`crates/exprjit-accuracy`, which includes this file by path).
#![allow(dead_code, unreachable_pub)]

use exprjit_codegen::{Accuracy, Kernel, Layout, Operand, Options, Output};
use exprjit_ir::{DType, Func, Inst, InstKind, Op, Param, Scalar, Value};
use exprjit_syntax::Span;

/// The functions with a vector routine, and their arity.
pub const FUNCS: [(Op, usize); 21] = [
    (Op::Exp, 1),
    (Op::Expm1, 1),
    (Op::Log, 1),
    (Op::Log1p, 1),
    (Op::Log2, 1),
    (Op::Log10, 1),
    (Op::Sin, 1),
    (Op::Cos, 1),
    (Op::Tan, 1),
    (Op::Arcsin, 1),
    (Op::Arccos, 1),
    (Op::Arctan, 1),
    (Op::Arctan2, 2),
    (Op::Sinh, 1),
    (Op::Cosh, 1),
    (Op::Tanh, 1),
    (Op::Arcsinh, 1),
    (Op::Arccosh, 1),
    (Op::Arctanh, 1),
    (Op::Hypot, 2),
    (Op::Pow, 2),
];

/// Correctly rounded `sin`, `cos` and `tan` of huge arguments, where glibc
/// is up to 14 ULP off (it reduces by pi/2 with too few bits near Kahan's
/// 6381956970095103 * 2^797 = 5.319372648326541e255, the double closest to
/// a multiple of pi/2): `(op, x, f(x))`, computed with mpmath at 4000 bits
/// and checked against MPFR by the long run (`crates/exprjit-accuracy`).
#[rustfmt::skip]
pub const KNOWN: [(Op, f64, f64); 36] = [
    (Op::Sin, f64::from_bits(0x7506ac5b262ca1ff), f64::from_bits(0x3ff0000000000000)), // sin(5.319372648326541e+255) = 1.0
    (Op::Cos, f64::from_bits(0x7506ac5b262ca1ff), f64::from_bits(0xbc214ae72e6ba22f)), // cos(5.319372648326541e+255) = -4.687165924254628e-19
    (Op::Tan, f64::from_bits(0x7506ac5b262ca1ff), f64::from_bits(0xc3bd9ba9a7975636)), // tan(5.319372648326541e+255) = -2.133485385753704e+18
    (Op::Sin, f64::from_bits(0xf506ac5b262ca1ff), f64::from_bits(0xbff0000000000000)), // sin(-5.319372648326541e+255) = -1.0
    (Op::Cos, f64::from_bits(0xf506ac5b262ca1ff), f64::from_bits(0xbc214ae72e6ba22f)), // cos(-5.319372648326541e+255) = -4.687165924254628e-19
    (Op::Tan, f64::from_bits(0xf506ac5b262ca1ff), f64::from_bits(0x43bd9ba9a7975636)), // tan(-5.319372648326541e+255) = 2.133485385753704e+18
    (Op::Sin, f64::from_bits(0x4480f0cf064dd592), f64::from_bits(0xbfeb453ab76bf397)), // sin(1e+22) = -0.8522008497671888
    (Op::Cos, f64::from_bits(0x4480f0cf064dd592), f64::from_bits(0x3fe0be2cef01c8f4)), // cos(1e+22) = 0.523214785395139
    (Op::Tan, f64::from_bits(0x4480f0cf064dd592), f64::from_bits(0xbffa0f79c1b6b257)), // tan(1e+22) = -1.6287782256068988
    (Op::Sin, f64::from_bits(0x7fefffffffffffff), f64::from_bits(0x3f7452fc98b34e97)), // sin(1.7976931348623157e+308) = 0.004961954789184062
    (Op::Cos, f64::from_bits(0x7fefffffffffffff), f64::from_bits(0xbfefffe62ecfab75)), // cos(1.7976931348623157e+308) = -0.9999876894265599
    (Op::Tan, f64::from_bits(0x7fefffffffffffff), f64::from_bits(0xbf74530cfe729484)), // tan(1.7976931348623157e+308) = -0.004962015874444895
    (Op::Sin, f64::from_bits(0x7e37e43c8800759c), f64::from_bits(0xbfea2c16b010e385)), // sin(1e+300) = -0.8178819121159085
    (Op::Cos, f64::from_bits(0x7e37e43c8800759c), f64::from_bits(0xbfe2699022adc4c1)), // cos(1e+300) = -0.5753861119575491
    (Op::Tan, f64::from_bits(0x7e37e43c8800759c), f64::from_bits(0x3ff6be411f37ac77)), // tan(1e+300) = 1.4214488238747245
    (Op::Sin, f64::from_bits(0x4160000000000000), f64::from_bits(0x3fdba9f45d1ca7c5)), // sin(8388608.0) = 0.4322482022567978
    (Op::Cos, f64::from_bits(0x4160000000000000), f64::from_bits(0xbfecdb2c9e19e37f)), // cos(8388608.0) = -0.9017546737587593
    (Op::Tan, f64::from_bits(0x4160000000000000), f64::from_bits(0xbfdead86dfe19bca)), // tan(8388608.0) = -0.4793412386265429
    (Op::Sin, f64::from_bits(0x4197d78400000000), f64::from_bits(0x3fedcffca623a20b)), // sin(100000000.0) = 0.931639027109726
    (Op::Cos, f64::from_bits(0x4197d78400000000), f64::from_bits(0xbfd741b388a8c029)), // cos(100000000.0) = -0.3633850893556905
    (Op::Tan, f64::from_bits(0x4197d78400000000), f64::from_bits(0xc004829e83f49589)), // tan(100000000.0) = -2.5637789067283774
    (Op::Sin, f64::from_bits(0x41c7681cc9b2df96), f64::from_bits(0xbe41d32adda8fc30)), // sin(785398163.3974483) = -8.300353228632375e-09
    (Op::Cos, f64::from_bits(0x41c7681cc9b2df96), f64::from_bits(0x3ff0000000000000)), // cos(785398163.3974483) = 1.0
    (Op::Tan, f64::from_bits(0x41c7681cc9b2df96), f64::from_bits(0xbe41d32adda8fc30)), // tan(785398163.3974483) = -8.300353228632375e-09
    (Op::Sin, f64::from_bits(0x41d0000000000000), f64::from_bits(0xbfe3c12353728caf)), // sin(1073741824.0) = -0.6173264150460421
    (Op::Cos, f64::from_bits(0x41d0000000000000), f64::from_bits(0x3fe92cb46a920144)), // cos(1073741824.0) = 0.7867071229411882
    (Op::Tan, f64::from_bits(0x41d0000000000000), f64::from_bits(0xbfe91c3c126f9d13)), // tan(1073741824.0) = -0.7846966133192005
    (Op::Sin, f64::from_bits(0x41e65a0bc0000000), f64::from_bits(0x3fef958b458cc91b)), // sin(3000000000.0) = 0.9870048864743554
    (Op::Cos, f64::from_bits(0x41e65a0bc0000000), f64::from_bits(0xbfc4917f746fa4f0)), // cos(3000000000.0) = -0.16069024262768705
    (Op::Tan, f64::from_bits(0x41e65a0bc0000000), f64::from_bits(0xc01891b289d24f04)), // tan(3000000000.0) = -6.14228263231394
    (Op::Sin, f64::from_bits(0x500d047c9b4718ec), f64::from_bits(0x3fd0a77ef46dfadc)), // sin(4.2e+77) = 0.2602231394775296
    (Op::Cos, f64::from_bits(0x500d047c9b4718ec), f64::from_bits(0x3feee5c5fb104a3d)), // cos(4.2e+77) = 0.9655485061251238
    (Op::Tan, f64::from_bits(0x500d047c9b4718ec), f64::from_bits(0x3fd13f9ee293d550)), // tan(4.2e+77) = 0.26950809599596415
    (Op::Sin, f64::from_bits(0x6574cccccccccccd), f64::from_bits(0xbfef27662408cc8a)), // sin(5.394370239545291e+180) = -0.9735594466968831
    (Op::Cos, f64::from_bits(0x6574cccccccccccd), f64::from_bits(0x3fcd3d51a7257a3e)), // cos(5.394370239545291e+180) = 0.22843380605168478
    (Op::Tan, f64::from_bits(0x6574cccccccccccd), f64::from_bits(0xc0110c2c8a35bbfa)), // tan(5.394370239545291e+180) = -4.261888656167679
];

/// The correctly rounded result of `op` at `x` when [`KNOWN`] has it.
pub fn known(op: Op, x: f64) -> Option<f64> {
    KNOWN
        .iter()
        .find(|(o, k, _)| *o == op && k.to_bits() == x.to_bits())
        .map(|(_, _, v)| *v)
}

/// A deterministic generator (xorshift64*).
#[derive(Clone, Debug)]
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// Log-uniform magnitude in [2^lo, 2^hi) with a random sign.
    pub fn log_range(&mut self, lo: f64, hi: f64) -> f64 {
        let m = self.range(lo, hi).exp2();
        if self.next() & 1 == 0 { m } else { -m }
    }
    /// Any bit pattern of the dtype (as f64), NaNs quieted: the routines
    /// treat a signaling NaN as a quiet one (glibc's `pow(sNaN, 0)` is
    /// NaN, theirs is 1, like `pow(qNaN, 0)`).
    pub fn bits(&mut self, dt: DType) -> f64 {
        let x = match dt {
            DType::F32 => f64::from(f32::from_bits(self.next() as u32)),
            _ => f64::from_bits(self.next()),
        };
        if x.is_nan() {
            f64::from_bits(x.to_bits() | (1 << 51))
        } else {
            x
        }
    }
}

/// Special inputs of every function: zeros, infinities, NaN, subnormals,
/// extremes, and values near each function's thresholds and poles.
pub fn specials(op: Op, dt: DType) -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.0,
        -2.0,
        10.0,
        1e-300,
        -1e-300,
        1e300,
        -1e300,
    ];
    let (min_sub, min_norm, max) = match dt {
        DType::F32 => (
            f64::from(f32::from_bits(1)),
            f64::from(f32::MIN_POSITIVE),
            f64::from(f32::MAX),
        ),
        _ => (f64::from_bits(1), f64::MIN_POSITIVE, f64::MAX),
    };
    for x in [min_sub, min_norm, max, min_sub * 3.0, min_norm * 0.75] {
        v.push(x);
        v.push(-x);
    }
    let near = |v: &mut Vec<f64>, x: f64| {
        let mut y = x;
        let mut z = x;
        for _ in 0..4 {
            v.push(y);
            v.push(z);
            y = y.next_up();
            z = z.next_down();
        }
    };
    match op {
        Op::Exp | Op::Expm1 | Op::Sinh | Op::Cosh | Op::Pow => {
            for t in [
                709.782712893384,
                -745.1332191019412,
                -744.4400719213812,
                -708.3964185322641,
                88.72283905206835,
                -103.97207708399179,
                -87.336_544_750_553_1,
                710.4758600739439,
                89.41598629223294,
                -40.0,
                -38.0,
                0.34657359027997264,
                1.0,
            ] {
                near(&mut v, t);
                near(&mut v, -t);
            }
        }
        Op::Sin | Op::Cos | Op::Tan => {
            for k in [1.0, 2.0, 3.0, 4.0, 100.0, 1e6, 1e9, 1e15, 1e22] {
                near(&mut v, k * std::f64::consts::FRAC_PI_2);
                near(&mut v, -k * std::f64::consts::FRAC_PI_4);
            }
            near(&mut v, 1_073_741_824.0);
            near(&mut v, 8_388_608.0);
            // The closest double to a multiple of pi/2 (Kahan), and the
            // other arguments with known correct results.
            v.push(6381956970095103.0 * 2f64.powi(797));
            v.extend(
                KNOWN
                    .iter()
                    .filter(|(o, _, _)| *o == op)
                    .map(|(_, x, _)| *x),
            );
        }
        Op::Arcsin | Op::Arccos | Op::Arctanh => {
            for t in [0.5, 1.0, 1e-8] {
                near(&mut v, t);
                near(&mut v, -t);
            }
        }
        Op::Arccosh => {
            for t in [1.0, 2.0, 268_435_456.0] {
                near(&mut v, t);
            }
        }
        Op::Log | Op::Log2 | Op::Log10 | Op::Log1p => {
            for t in [1.0, std::f64::consts::SQRT_2, 0.5, -1.0, 1000.0] {
                near(&mut v, t);
            }
        }
        Op::Tanh | Op::Arctan | Op::Arcsinh => {
            for t in [
                0.4,
                7.0 / 16.0,
                11.0 / 16.0,
                19.0 / 16.0,
                39.0 / 16.0,
                22.0,
                40.0,
            ] {
                near(&mut v, t);
                near(&mut v, -t);
            }
        }
        _ => {}
    }
    v.into_iter()
        .map(|x| round_to(dt, x))
        .filter(|x| !x.is_nan() || dt == DType::F64 || x.is_nan())
        .collect()
}

pub fn round_to(dt: DType, x: f64) -> f64 {
    match dt {
        DType::F32 => f64::from(x as f32),
        _ => x,
    }
}

/// One random input of unary `op` of dtype `dt`: a third any bit pattern,
/// a third uniform over the function's interesting range, a third
/// log-uniform over it.
pub fn unary_input(g: &mut Gen, op: Op, dt: DType) -> f64 {
    let f32 = dt == DType::F32;
    let kind = g.next() % 3;
    let x = if kind == 0 {
        g.bits(dt)
    } else {
        let (lo, hi) = match op {
            Op::Exp | Op::Expm1 if f32 => (-104.0, 89.0),
            Op::Exp | Op::Expm1 => (-746.0, 710.0),
            Op::Sinh | Op::Cosh if f32 => (-90.0, 90.0),
            Op::Sinh | Op::Cosh => (-711.0, 711.0),
            Op::Tanh => (-25.0, 25.0),
            Op::Log | Op::Log2 | Op::Log10 => (0.0, 100.0),
            Op::Log1p => (-1.0, 10.0),
            Op::Sin | Op::Cos | Op::Tan => (-100.0, 100.0),
            Op::Arcsin | Op::Arccos | Op::Arctanh => (-1.0, 1.0),
            Op::Arctan | Op::Arcsinh => (-10.0, 10.0),
            Op::Arccosh => (1.0, 10.0),
            _ => (-10.0, 10.0),
        };
        if kind == 1 {
            g.range(lo, hi)
        } else {
            let top = if f32 { 127.0 } else { 1023.0 };
            let bottom = if f32 { -149.0 } else { -1074.0 };
            let top = match op {
                Op::Exp | Op::Expm1 | Op::Sinh | Op::Cosh => 9.5,
                Op::Tanh => 5.0,
                Op::Arcsin | Op::Arccos | Op::Arctanh => 0.0,
                _ => top,
            };
            let m = g.log_range(bottom, top);
            match op {
                Op::Arccosh => 1.0 + m.abs(),
                Op::Log | Op::Log2 | Op::Log10 => m.abs(),
                _ => m,
            }
        }
    };
    round_to(dt, x)
}

/// One random input pair of binary `op`.
pub fn binary_input(g: &mut Gen, op: Op, dt: DType) -> (f64, f64) {
    let f32 = dt == DType::F32;
    let (x, y) = match (op, g.next() % 4) {
        (_, 0) => (g.bits(dt), g.bits(dt)),
        (Op::Pow, 1) => (g.range(0.0, 10.0), g.range(-60.0, 60.0)),
        (Op::Pow, 2) => {
            // Near 1 with large exponents, and negative bases with
            // integer exponents.
            let x = 1.0 + g.log_range(-40.0, -1.0);
            let y = g.log_range(0.0, if f32 { 12.0 } else { 40.0 });
            if g.next() & 1 == 0 {
                (x, y)
            } else {
                (-g.range(0.0, 4.0), (g.range(-60.0, 60.0)).round())
            }
        }
        (Op::Pow, _) => {
            let x = g.log_range(
                if f32 { -149.0 } else { -1074.0 },
                if f32 { 127.0 } else { 1023.0 },
            );
            let lim = if f32 { 150.0 } else { 1100.0 };
            let y = g.range(-lim, lim) / x.abs().log2().abs().max(1.0);
            (x.abs(), y)
        }
        (_, 1) => (g.range(-10.0, 10.0), g.range(-10.0, 10.0)),
        (_, _) => {
            let top = if f32 { 127.0 } else { 1023.0 };
            let bottom = if f32 { -149.0 } else { -1074.0 };
            (g.log_range(bottom, top), g.log_range(bottom, top))
        }
    };
    (round_to(dt, x), round_to(dt, y))
}

/// Special pairs of a binary op: every pair of two lists of specials.
pub fn binary_specials(op: Op, dt: DType) -> Vec<(f64, f64)> {
    let mut xs = specials(Op::Exp, dt);
    xs.truncate(26);
    let mut ys = xs.clone();
    if op == Op::Pow {
        ys.extend([
            3.0,
            -3.0,
            0.5,
            -0.5,
            1.5,
            1e20,
            -1e20,
            1075.0,
            -1075.0,
            1024.0,
            9.007199254740993e15,
        ]);
        xs.extend([-8.0, 0.999_999_999_999, 1.000_000_000_001, -1.5]);
    }
    let mut v = Vec::new();
    for x in &xs {
        for y in &ys {
            v.push((round_to(dt, *x), round_to(dt, *y)));
        }
    }
    v
}

pub fn span() -> Span {
    Span::new(0, 0)
}

/// `op(a[, b])`, or `a ** k` when `k` is given.
pub fn func(op: Op, dt: DType, arity: usize, k: Option<f64>) -> Func {
    let mut params = vec![Param {
        name: "a".into(),
        dtype: dt,
        rolls: Vec::new(),
    }];
    let mut insts = vec![Inst {
        kind: InstKind::Param(0),
        dtype: dt,
        span: span(),
    }];
    match k {
        Some(k) => insts.push(Inst {
            kind: InstKind::Const(Scalar::F64(k).cast(dt)),
            dtype: dt,
            span: span(),
        }),
        None if arity == 2 => {
            params.push(Param {
                name: "b".into(),
                dtype: dt,
                rolls: Vec::new(),
            });
            insts.push(Inst {
                kind: InstKind::Param(1),
                dtype: dt,
                span: span(),
            });
        }
        None => {}
    }
    let args = (0..insts.len() as u32).map(Value).collect();
    insts.push(Inst {
        kind: InstKind::Apply(op, args),
        dtype: dt,
        span: span(),
    });
    let result = Value(insts.len() as u32 - 1);
    Func {
        params,
        insts,
        result,
    }
}

/// A compiled kernel of `op` on contiguous inputs.
pub fn kernel(op: Op, dt: DType, arity: usize, k: Option<f64>, accuracy: Accuracy) -> Kernel {
    let f = func(op, dt, arity, k);
    let n = f.params.len();
    let opts = Options {
        accuracy,
        ..Options::default()
    };
    Kernel::compile(&f, &vec![Layout::Contiguous; n], &opts).expect("compile")
}

/// Runs `k` on `xs` (and `ys`), values given as f64 (rounded to `dt`).
pub fn run(k: &Kernel, dt: DType, xs: &[f64], ys: Option<&[f64]>) -> Vec<f64> {
    match dt {
        DType::F32 => {
            let a: Vec<f32> = xs.iter().map(|x| *x as f32).collect();
            let b: Vec<f32> = ys
                .map(|y| y.iter().map(|v| *v as f32).collect())
                .unwrap_or_default();
            let mut out = vec![0f32; xs.len()];
            let mut ops = vec![Operand::contiguous(&a)];
            if ys.is_some() {
                ops.push(Operand::contiguous(&b));
            }
            k.run(&ops, Output::separate(&mut out)).expect("run");
            out.into_iter().map(f64::from).collect()
        }
        _ => {
            let mut out = vec![0f64; xs.len()];
            let mut ops = vec![Operand::contiguous(xs)];
            if let Some(y) = ys {
                ops.push(Operand::contiguous(y));
            }
            k.run(&ops, Output::separate(&mut out)).expect("run");
            out
        }
    }
}

// SAFETY: these are the C library's pure functions of one double (linked
// by Rust std on every platform exprjit runs on), declared with their C
// signatures; they have no preconditions.
unsafe extern "C" {
    safe fn asinh(x: f64) -> f64;
    safe fn acosh(x: f64) -> f64;
    safe fn atanh(x: f64) -> f64;
}

/// The platform libm's function of `op` in f64. (Rust std is libm for all
/// of them except `asinh`, `acosh` and `atanh`, which Rust computes with
/// its own formulas, less accurate near overflow and near 1: the libm
/// ones are called directly.)
pub fn std_f64(op: Op, x: f64, y: f64) -> f64 {
    match op {
        Op::Exp => x.exp(),
        Op::Expm1 => x.exp_m1(),
        Op::Log => x.ln(),
        Op::Log1p => x.ln_1p(),
        Op::Log2 => x.log2(),
        Op::Log10 => x.log10(),
        Op::Sin => x.sin(),
        Op::Cos => x.cos(),
        Op::Tan => x.tan(),
        Op::Arcsin => x.asin(),
        Op::Arccos => x.acos(),
        Op::Arctan => x.atan(),
        Op::Arctan2 => x.atan2(y),
        Op::Sinh => x.sinh(),
        Op::Cosh => x.cosh(),
        Op::Tanh => x.tanh(),
        Op::Arcsinh => asinh(x),
        Op::Arccosh => acosh(x),
        Op::Arctanh => atanh(x),
        Op::Hypot => x.hypot(y),
        Op::Pow => x.powf(y),
        _ => f64::NAN,
    }
}

/// Distance in ULPs of `dt` between two values of `dt` (given as f64): 0
/// for equal values and for two NaNs, `u64::MAX` for NaN against a number;
/// -0.0 is one step from +0.0.
pub fn ulps(dt: DType, a: f64, b: f64) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    fn ord64(x: f64) -> i128 {
        let b = x.to_bits();
        let mag = i128::from(b & !(1 << 63));
        if b >> 63 == 1 { -mag - 1 } else { mag }
    }
    fn ord32(x: f32) -> i128 {
        let b = x.to_bits();
        let mag = i128::from(b & !(1 << 31));
        if b >> 31 == 1 { -mag - 1 } else { mag }
    }
    let d = match dt {
        DType::F32 => ord32(a as f32) - ord32(b as f32),
        _ => ord64(a) - ord64(b),
    };
    d.unsigned_abs() as u64
}

/// The worst case of a run.
#[derive(Clone, Debug, Default)]
pub struct Worst {
    pub ulps: u64,
    pub x: f64,
    pub y: f64,
    pub got: f64,
    pub want: f64,
    pub count: usize,
}

impl Worst {
    pub fn add(&mut self, u: u64, x: f64, y: f64, got: f64, want: f64) {
        self.count += 1;
        if self.count == 1 || u > self.ulps {
            (self.ulps, self.x, self.y, self.got, self.want) = (u, x, y, got, want);
        }
    }
}

/// Inputs of one batch: `n` random ones (plus the specials when
/// `with_specials`), as (xs, ys).
pub fn batch(
    g: &mut Gen,
    op: Op,
    dt: DType,
    arity: usize,
    n: usize,
    with_specials: bool,
) -> (Vec<f64>, Vec<f64>) {
    let mut xs = Vec::with_capacity(n);
    let mut ys = Vec::with_capacity(n);
    if with_specials {
        if arity == 1 {
            xs.extend(specials(op, dt));
            ys.resize(xs.len(), 0.0);
        } else {
            for (x, y) in binary_specials(op, dt) {
                xs.push(x);
                ys.push(y);
            }
        }
    }
    while xs.len() < n {
        if arity == 1 {
            xs.push(unary_input(g, op, dt));
            ys.push(0.0);
        } else {
            let (x, y) = binary_input(g, op, dt);
            xs.push(x);
            ys.push(y);
        }
    }
    (xs, ys)
}
