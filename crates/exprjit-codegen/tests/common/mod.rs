//! Shared test support: builds IR functions by hand, lays out operands in
//! every layout, and runs a kernel against the reference interpreter.
#![allow(dead_code, unreachable_pub)]

use exprjit_codegen::{Kernel, Layout, Operand, Options, Output, as_bytes, as_bytes_mut};
use exprjit_ir::interp;
use exprjit_ir::{Array, DType, Data, Func, Inst, InstKind, Op, Param, Scalar, Value};
use exprjit_syntax::Span;

/// A tiny deterministic generator (xorshift64*), so inputs follow from one
/// seed that proptest can shrink and print.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const F64_SPECIAL: [f64; 22] = [
    f64::NAN,
    -f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    f64::MAX,
    f64::MIN,
    1.0,
    -1.0,
    0.5,
    -0.5,
    1.5,
    2.5,
    -2.5,
    3.0,
    -7.0,
    1e10,
    9.3e18,
];

const I64_SPECIAL: [i64; 16] = [
    0,
    1,
    -1,
    2,
    -2,
    3,
    -7,
    31,
    32,
    63,
    64,
    i64::MIN,
    i64::MAX,
    i64::MIN + 1,
    1 << 40,
    i32::MIN as i64,
];

const I32_SPECIAL: [i32; 14] = [
    0,
    1,
    -1,
    2,
    -2,
    3,
    -7,
    31,
    32,
    33,
    i32::MIN,
    i32::MAX,
    i32::MIN + 1,
    1 << 20,
];

/// One random value of `dt`, often a special one (NaN, inf, -0.0,
/// subnormals, integer extremes, shift widths).
pub fn value(rng: &mut Rng, dt: DType) -> Scalar {
    let special = rng.below(2) == 0;
    match dt {
        DType::Bool => Scalar::Bool(rng.below(2) == 1),
        DType::I32 if special => Scalar::I32(I32_SPECIAL[rng.below(I32_SPECIAL.len())]),
        DType::I32 if rng.below(2) == 0 => Scalar::I32(rng.below(41) as i32 - 20),
        DType::I32 => Scalar::I32(rng.next() as i32),
        DType::I64 if special => Scalar::I64(I64_SPECIAL[rng.below(I64_SPECIAL.len())]),
        DType::I64 if rng.below(2) == 0 => Scalar::I64(rng.below(41) as i64 - 20),
        DType::I64 => Scalar::I64(rng.next() as i64),
        DType::F32 if special => {
            let x = F64_SPECIAL[rng.below(F64_SPECIAL.len())];
            let x = match rng.below(4) {
                0 => 1e-45,
                1 => -1.1754942e-38,
                _ => x as f32,
            };
            Scalar::F32(x)
        }
        DType::F64 if special => Scalar::F64(F64_SPECIAL[rng.below(F64_SPECIAL.len())]),
        DType::F32 | DType::F64 => {
            let x = match rng.below(3) {
                0 => (rng.below(2001) as f64 - 1000.0) / 8.0,
                1 => f64::from_bits(rng.next()),
                _ => (rng.next() as i64 as f64) / 1e9,
            };
            Scalar::F64(x).cast(dt)
        }
    }
}

pub fn data(dt: DType, xs: &[Scalar]) -> Data {
    let mut d = Data::zeros(dt, xs.len());
    for (i, x) in xs.iter().enumerate() {
        d.set(i, *x);
    }
    d
}

pub fn bytes(d: &Data) -> &[u8] {
    match d {
        Data::Bool(v) => as_bytes(v),
        Data::I32(v) => as_bytes(v),
        Data::I64(v) => as_bytes(v),
        Data::F32(v) => as_bytes(v),
        Data::F64(v) => as_bytes(v),
    }
}

/// One input laid out for the kernel, with the logical array the reference
/// interpreter sees.
pub struct Input {
    pub layout: Layout,
    pub buffer: Data,
    pub offset: usize,
    pub stride: isize,
    /// `[len]`, or 0-d for a broadcast.
    pub logical: Array,
}

impl Input {
    pub fn operand(&self) -> Operand<'_> {
        Operand::new(
            bytes(&self.buffer),
            self.buffer.dtype(),
            self.offset,
            self.stride,
        )
    }
}

/// An input of `len` elements `xs` (or one, broadcast) in `layout`; strided
/// inputs use `stride` and garbage between the elements.
pub fn input(rng: &mut Rng, dt: DType, layout: Layout, xs: &[Scalar], stride: isize) -> Input {
    match layout {
        Layout::Broadcast => {
            let pad = rng.below(3);
            let mut buf: Vec<Scalar> = (0..pad + 2).map(|_| value(rng, dt)).collect();
            buf[pad] = xs[0];
            Input {
                layout,
                buffer: data(dt, &buf),
                offset: pad,
                stride: 0,
                logical: Array::scalar(xs[0]),
            }
        }
        Layout::Contiguous => Input {
            layout,
            buffer: data(dt, xs),
            offset: 0,
            stride: 1,
            logical: Array::new(vec![xs.len()], data(dt, xs)).expect("shape"),
        },
        Layout::Strided => {
            // With stride 0 every element is the same one.
            let same: Vec<Scalar>;
            let xs = if stride == 0 && !xs.is_empty() {
                same = vec![xs[0]; xs.len()];
                &same[..]
            } else {
                xs
            };
            let len = xs.len();
            let s = stride.unsigned_abs().max(1);
            let pad = rng.below(3);
            let span = if len == 0 { 0 } else { (len - 1) * s + 1 };
            let mut buf: Vec<Scalar> = (0..span + 2 * pad).map(|_| value(rng, dt)).collect();
            let offset = if stride < 0 {
                pad + span.saturating_sub(1)
            } else {
                pad
            };
            for (i, x) in xs.iter().enumerate() {
                let at = offset as isize + i as isize * stride;
                buf[at as usize] = *x;
            }
            Input {
                layout,
                buffer: data(dt, &buf),
                offset,
                stride,
                logical: Array::new(vec![len], data(dt, xs)).expect("shape"),
            }
        }
    }
}

/// Float results must match bit for bit, except that any NaN matches any
/// NaN (payloads may differ).
pub fn same(a: Scalar, b: Scalar) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// Runs `kernel` over `inputs` (all of `len` logical elements) and compares
/// every element with the interpreter's.
pub fn check_kernel(
    kernel: &Kernel,
    func: &Func,
    inputs: &[Input],
    len: usize,
) -> Result<(), String> {
    let rdt = func.result_dtype();
    let arrays: Vec<&Array> = inputs.iter().map(|i| &i.logical).collect();
    let want = interp::eval(func, &arrays, "").map_err(|e| format!("interp: {e}"))?;
    let mut out = Data::zeros(rdt, len);
    let ops: Vec<Operand<'_>> = inputs.iter().map(Input::operand).collect();
    let output = match &mut out {
        Data::Bool(v) => Output::Bools(v),
        Data::I32(v) => Output::Separate(as_bytes_mut(v)),
        Data::I64(v) => Output::Separate(as_bytes_mut(v)),
        Data::F32(v) => Output::Separate(as_bytes_mut(v)),
        Data::F64(v) => Output::Separate(as_bytes_mut(v)),
    };
    kernel.run(&ops, output).map_err(|e| format!("run: {e}"))?;
    for i in 0..len {
        let w = want.get(if want.len() == 1 { 0 } else { i });
        let got = out.get(i);
        if !same(got, w) {
            let args: Vec<String> = inputs
                .iter()
                .map(|inp| {
                    format!(
                        "{}",
                        inp.logical.get(if inp.logical.len() == 1 { 0 } else { i })
                    )
                })
                .collect();
            return Err(format!(
                "element {i} of {len}: jit {got} ({:#x}), interp {w} ({:#x}); inputs ({}); layouts {:?}\n{func}",
                got.bits(),
                w.bits(),
                args.join(", "),
                kernel.layouts(),
            ));
        }
    }
    Ok(())
}

/// Compiles `func` for `layouts` and checks it at every `len`, with inputs
/// drawn from `seed`.
pub fn check_func(
    func: &Func,
    layouts: &[Layout],
    lens: &[usize],
    seed: u64,
) -> Result<(), String> {
    let kernel =
        Kernel::compile(func, layouts, &Options::default()).map_err(|e| format!("{e}\n{func}"))?;
    let mut rng = Rng::new(seed);
    for &len in lens {
        let inputs: Vec<Input> = func
            .params
            .iter()
            .zip(layouts)
            .map(|(p, l)| {
                let n = if *l == Layout::Broadcast { 1 } else { len };
                let xs: Vec<Scalar> = (0..n).map(|_| value(&mut rng, p.dtype)).collect();
                let stride = [-3, -2, -1, 2, 3, 1, 0][rng.below(7)];
                input(&mut rng, p.dtype, *l, &xs, stride)
            })
            .collect();
        check_kernel(&kernel, func, &inputs, len)
            .map_err(|e| e + &first_divergence(func, layouts, &inputs, len))?;
    }
    Ok(())
}

/// On a mismatch: the first instruction whose value differs between the
/// JIT and the interpreter in any bit (NaN payloads included), found by
/// compiling each instruction as the result.
pub fn first_divergence(func: &Func, layouts: &[Layout], inputs: &[Input], len: usize) -> String {
    let arrays: Vec<&Array> = inputs.iter().map(|i| &i.logical).collect();
    for i in 0..func.insts.len() {
        let mut f = func.clone();
        f.result = Value(i as u32);
        let Ok(k) = Kernel::compile(&f, layouts, &Options::default()) else {
            return format!("\nv{i}: does not compile");
        };
        let Ok(want) = interp::eval(&f, &arrays, "") else {
            return String::new();
        };
        let mut out = Data::zeros(f.result_dtype(), len);
        let ops: Vec<Operand<'_>> = inputs.iter().map(Input::operand).collect();
        let output = match &mut out {
            Data::Bool(v) => Output::Bools(v),
            Data::I32(v) => Output::Separate(as_bytes_mut(v)),
            Data::I64(v) => Output::Separate(as_bytes_mut(v)),
            Data::F32(v) => Output::Separate(as_bytes_mut(v)),
            Data::F64(v) => Output::Separate(as_bytes_mut(v)),
        };
        if k.run(&ops, output).is_err() {
            return format!("\nv{i}: does not run");
        }
        for e in 0..len {
            let (g, w) = (out.get(e), want.get(if want.len() == 1 { 0 } else { e }));
            if g.bits() != w.bits() {
                return format!(
                    "\nfirst divergence: v{i} at element {e}: jit {g} ({:#x}), interp {w} ({:#x})",
                    g.bits(),
                    w.bits()
                );
            }
        }
    }
    String::new()
}

pub fn span() -> Span {
    Span::new(0, 0)
}

/// `op` applied to fresh parameters of the dtypes it takes for operand
/// dtype `dt`.
pub fn op_func(op: Op, dt: DType) -> Func {
    let arity = op.info().arity;
    let dts: Vec<DType> = match op {
        Op::Where => vec![DType::Bool, dt, dt],
        _ => vec![dt; arity],
    };
    let params: Vec<Param> = dts
        .iter()
        .enumerate()
        .map(|(i, d)| Param {
            name: ["a", "b", "c"][i].into(),
            dtype: *d,
            rolls: Vec::new(),
        })
        .collect();
    let mut insts: Vec<Inst> = dts
        .iter()
        .enumerate()
        .map(|(i, d)| Inst {
            kind: InstKind::Param(i as u32),
            dtype: *d,
            span: span(),
        })
        .collect();
    let args = (0..arity as u32).map(Value).collect();
    insts.push(Inst {
        kind: InstKind::Apply(op, args),
        dtype: op.result_dtype(dt),
        span: span(),
    });
    Func {
        params,
        insts,
        result: Value(arity as u32),
    }
}

pub const LENS: [usize; 9] = [0, 1, 2, 3, 7, 8, 9, 1023, 1025];
