//! Random cases: variables of every dtype and shape (0-d, empty, lengths
//! around the vector width, broadcasting, 2-d and 3-d, huge views of
//! nothing), values full of special cases (NaN and signalling NaN, ±inf,
//! ±0, subnormals, integer extremes), and expressions over the whole
//! language, mostly well typed (the type model steers), some ill typed or
//! not parsing on purpose.

use crate::case::{Case, Form, Source, Var, ViewSpec};
use crate::expr::{Arg, Node, infer, table_functions};
use crate::rng::Rng;
use exprjit::internals::ir::{DType, Data, ReduceOp, Scalar};
use exprjit::internals::syntax::{BinaryOp, UnaryOp};

const F64_SPECIAL: [u64; 40] = [
    0x7FF8_0000_0000_0000, // NaN
    0xFFF8_0000_0000_0000, // -NaN
    0x7FF0_0000_0000_0001, // signalling NaN
    0x7FF4_0000_0000_0000, // signalling NaN
    0xFFF0_0000_0000_0001, // negative signalling NaN
    0x7FF0_0000_0000_0000, // inf
    0xFFF0_0000_0000_0000, // -inf
    0x0000_0000_0000_0000, // 0
    0x8000_0000_0000_0000, // -0
    0x0000_0000_0000_0001, // smallest subnormal
    0x8000_0000_0000_0001,
    0x000F_FFFF_FFFF_FFFF, // largest subnormal
    0x0010_0000_0000_0000, // smallest normal
    0x7FEF_FFFF_FFFF_FFFF, // max
    0xFFEF_FFFF_FFFF_FFFF, // min
    0x3FF0_0000_0000_0000, // 1
    0xBFF0_0000_0000_0000, // -1
    0x3FE0_0000_0000_0000, // 0.5
    0xBFE0_0000_0000_0000, // -0.5
    0x3FF8_0000_0000_0000, // 1.5
    0x4004_0000_0000_0000, // 2.5
    0xC004_0000_0000_0000, // -2.5
    0x4008_0000_0000_0000, // 3
    0xC01C_0000_0000_0000, // -7
    0x4202_A05F_2000_0000, // 1e10
    0x43E0_0000_0000_0000, // 2^63
    0xC3E0_0000_0000_0000, // -2^63
    0x41E0_0000_0000_0000, // 2^31
    0x4480_F0CF_064D_D592, // 1e22
    0xC0E1_AF48_F5C2_8F5C, // -36222.28 (arccosh below -1)
    0x3FF0_0000_0000_0001, // 1 + ulp
    0x3FEF_FFFF_FFFF_FFFF, // 1 - ulp
    0x4086_2E42_FEFA_39EF, // 709.78 (exp overflow)
    0xC087_4910_D52D_3051, // -745.13 (exp underflow)
    0x3E45_798E_E230_8C3A, // 1e-8
    0x4000_0000_0000_0000, // 2
    0xC000_0000_0000_0000, // -2
    0x3FF9_21FB_5444_2D18, // pi/2
    0x4341_C379_37E0_8000, // 1e16
    0x7E37_E43C_8800_759C, // 1e300
];

const F32_SPECIAL: [u32; 30] = [
    0x7FC0_0000, // NaN
    0xFFC0_0000, // -NaN
    0x7F80_0001, // signalling NaN
    0x7FA0_0000, // signalling NaN
    0xFF80_0001, // negative signalling NaN
    0x7F80_0000, // inf
    0xFF80_0000, // -inf
    0x0000_0000,
    0x8000_0000,
    0x0000_0001, // smallest subnormal
    0x807F_FFFF, // -largest subnormal
    0x0080_0000, // smallest normal
    0x7F7F_FFFF, // max
    0xFF7F_FFFF, // min
    0x3F80_0000, // 1
    0xBF80_0000, // -1
    0x3F00_0000, // 0.5
    0xBF00_0000, // -0.5
    0x4020_0000, // 2.5
    0xC020_0000, // -2.5
    0x4040_0000, // 3
    0x4B80_0000, // 2^24
    0x4F00_0000, // 2^31
    0x5F00_0000, // 2^63
    0x42B1_999A, // 88.8 (exp overflow)
    0xC2D0_0000, // -104
    0xC70D_7E48, // -36222.28
    0x3F80_0001, // 1 + ulp
    0x3F7F_FFFF, // 1 - ulp
    0x4000_0000, // 2
];

const I64_SPECIAL: [i64; 18] = [
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
    i32::MAX as i64 + 1,
    1 << 53,
];

const I32_SPECIAL: [i32; 15] = [
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
    1 << 24,
];

/// One random value of `dt`, special half the time.
pub fn value(rng: &mut Rng, dt: DType) -> Scalar {
    let special = rng.chance(1, 2);
    match dt {
        DType::Bool => Scalar::Bool(rng.chance(1, 2)),
        DType::I32 if special => Scalar::I32(*rng.pick(&I32_SPECIAL)),
        DType::I32 if rng.chance(1, 2) => Scalar::I32(rng.below(41) as i32 - 20),
        DType::I32 => Scalar::I32(rng.next_u64() as i32),
        DType::I64 if special => Scalar::I64(*rng.pick(&I64_SPECIAL)),
        DType::I64 if rng.chance(1, 2) => Scalar::I64(rng.below(41) as i64 - 20),
        DType::I64 => Scalar::I64(rng.next_u64() as i64),
        DType::F32 if special => Scalar::F32(f32::from_bits(*rng.pick(&F32_SPECIAL))),
        DType::F64 if special => Scalar::F64(f64::from_bits(*rng.pick(&F64_SPECIAL))),
        DType::F32 | DType::F64 => {
            let x = match rng.below(4) {
                0 => (rng.below(2001) as f64 - 1000.0) / 8.0,
                1 => f64::from_bits(rng.next_u64()),
                2 => (rng.unit() - 0.5) * 8.0,
                _ => {
                    let m = (rng.unit() * 80.0 - 40.0).exp2();
                    if rng.chance(1, 2) { m } else { -m }
                }
            };
            Scalar::F64(x).cast(dt)
        }
    }
}

/// Axis lengths: 0 and 1, around the vector width (2 or 4 lanes, unrolled
/// up to 4x), and odd ones.
fn length(rng: &mut Rng) -> usize {
    match rng.weighted(&[3, 8, 30, 12, 6, 4]) {
        0 => 0,
        1 => 1,
        2 => 2 + rng.below(8),  // 2..=9
        3 => 15 + rng.below(3), // 15..=17
        4 => 2 * rng.below(20) + 19,
        _ => 31 + rng.below(4),
    }
}

/// A base shape that the variables broadcast to, kept small so that the
/// reference interpreter stays quick; rarely long (tiles of 1024 and
/// several threads then cut it) or huge and empty.
fn base_shape(rng: &mut Rng) -> Vec<usize> {
    match rng.weighted(&[8, 50, 26, 10, 4, 1]) {
        0 => Vec::new(),
        1 => vec![length(rng)],
        2 => {
            let r = length(rng).min(17);
            vec![r, length(rng).min(17)]
        }
        3 => (0..3).map(|_| length(rng).min(7)).collect(),
        4 => vec![1000 + rng.below(1200)],
        _ => vec![20_000 + rng.below(50_000)],
    }
}

/// The huge dimensions: any non-empty array with one of them is too large
/// to allocate on any machine (2^60 elements and more), so no path can
/// run for ever or exhaust memory on it.
const HUGE: [usize; 3] = [1 << 62, usize::MAX, 1 << 60];

const NAMES: [&str; 5] = ["a", "b", "c", "d", "x"];

fn dtype(rng: &mut Rng) -> DType {
    [DType::Bool, DType::I32, DType::I64, DType::F32, DType::F64][rng.weighted(&[2, 3, 3, 4, 5])]
}

fn var_values(rng: &mut Rng, dt: DType, shape: &[usize], constant: &[bool]) -> Data {
    let n = crate::expr::count(shape).unwrap_or(0);
    let mut data = Data::zeros(dt, n);
    // Some variables are mostly one value with a few others, so that
    // comparisons, `where` and reductions see runs and ties.
    let pool: Option<Vec<Scalar>> = rng
        .chance(1, 4)
        .then(|| (0..1 + rng.below(3)).map(|_| value(rng, dt)).collect());
    for i in 0..n {
        let x = match &pool {
            Some(p) if !rng.chance(1, 8) => *rng.pick(p),
            _ => value(rng, dt),
        };
        data.set(i, x);
    }
    // Repeat the values along the constant axes.
    if constant.iter().any(|c| *c) {
        let strides = {
            let mut s = vec![0usize; shape.len()];
            let mut step = 1;
            for k in (0..shape.len()).rev() {
                s[k] = step;
                step *= shape[k];
            }
            s
        };
        for i in 0..n {
            let mut src = 0;
            for k in 0..shape.len() {
                let idx = (i / strides[k]) % shape[k].max(1);
                if !constant[k] {
                    src += idx * strides[k];
                }
            }
            let x = data.get(src);
            data.set(i, x);
        }
    }
    data
}

/// A variable of `shape`: values, and which axes repeat.
pub fn make_var(rng: &mut Rng, name: &str, dt: DType, shape: Vec<usize>) -> Var {
    let constant: Vec<bool> = shape
        .iter()
        .map(|&len| len > 1 && rng.chance(1, 6))
        .collect();
    let data = var_values(rng, dt, &shape, &constant);
    Var {
        name: name.to_string(),
        dtype: dt,
        shape,
        data,
        huge: None,
        constant,
    }
}

/// The variables of a case: new names and dtypes, or those of `like`
/// (for another case of the same expression).
fn make_vars(rng: &mut Rng, like: Option<&[Var]>) -> Vec<Var> {
    let base = base_shape(rng);
    let names: Vec<(String, DType)> = match like {
        Some(vs) => vs.iter().map(|v| (v.name.clone(), v.dtype)).collect(),
        None => {
            let n = 1 + rng.weighted(&[3, 4, 3, 1]);
            (0..n)
                .map(|k| {
                    let name = if k == n - 1 && rng.chance(1, 40) {
                        // A variable that shadows a named constant.
                        *rng.pick(&["e", "pi", "inf"])
                    } else {
                        NAMES[k]
                    };
                    (name.to_string(), dtype(rng))
                })
                .collect()
        }
    };
    let mut vars = Vec::new();
    let huge_case = rng.chance(1, 40);
    for (k, (name, dt)) in names.into_iter().enumerate() {
        if huge_case && k == 0 {
            vars.push(huge_var(rng, &name, dt));
            continue;
        }
        let shape = if huge_case {
            // Others broadcast against anything.
            vec![1; rng.below(3)]
        } else if rng.chance(1, 25) {
            // Probably incompatible.
            base_shape(rng)
        } else if rng.chance(1, 8) {
            Vec::new()
        } else {
            let keep = base.len() - rng.below(base.len() + 1).min(base.len());
            let keep = if rng.chance(2, 3) { base.len() } else { keep };
            base[base.len() - keep..]
                .iter()
                .map(|&d| if rng.chance(1, 6) { 1 } else { d })
                .collect()
        };
        vars.push(make_var(rng, &name, dt, shape));
    }
    vars
}

/// A view of nothing with enormous axes: a zero among them (an empty
/// array), or, rarely, an element count that overflows `usize`.
fn huge_var(rng: &mut Rng, name: &str, dt: DType) -> Var {
    let big = *rng.pick(&HUGE);
    let shape = match rng.below(5) {
        0 => vec![0, big],
        1 => vec![big, 0],
        2 => vec![0],
        3 => vec![2, 0, big],
        _ => vec![16, big],
    };
    let overflow = crate::expr::count(&shape).is_none();
    // Either nothing or more than `usize` holds: never a shape whose
    // elements would have to exist.
    let shape = if overflow || crate::expr::count(&shape) == Some(0) {
        shape
    } else {
        vec![0, big]
    };
    let mut v = make_var(rng, name, dt, vec![0]);
    v.constant = vec![overflow; shape.len()];
    v.huge = overflow.then(|| value(rng, dt));
    v.shape = shape;
    v
}

/// A random layout for `v`.
pub fn form(rng: &mut Rng, v: &Var) -> Form {
    if v.shape.is_empty() {
        return match rng.below(4) {
            0 | 1 => Form::Scalar,
            2 => Form::Owned,
            _ => Form::View(ViewSpec {
                pad: 1 + rng.below(2),
                ..ViewSpec::plain(0)
            }),
        };
    }
    match rng.weighted(&[35, 8, 57]) {
        0 => Form::Slice,
        1 => Form::Owned,
        _ => {
            let n = v.shape.len();
            let mut order: Vec<usize> = (0..n).collect();
            if n > 1 && rng.chance(1, 3) {
                for i in (1..n).rev() {
                    let j = rng.below(i + 1);
                    order.swap(i, j);
                }
            }
            Form::View(ViewSpec {
                order,
                gap: *rng.pick(&[1, 1, 1, 2, 3]),
                reversed: (0..n).map(|_| rng.chance(1, 4)).collect(),
                zero: v.constant.iter().map(|c| *c && rng.chance(3, 4)).collect(),
                pad: rng.below(3),
            })
        }
    }
}

/// Generates expressions over a case's variables.
#[derive(Debug)]
pub struct ExprGen<'a> {
    pub rng: &'a mut Rng,
    pub case: &'a Case,
}

const INTS: [i64; 20] = [
    0,
    1,
    2,
    3,
    5,
    7,
    31,
    32,
    33,
    63,
    64,
    100,
    255,
    2_147_483_647,
    2_147_483_648,
    3_000_000_000,
    4_294_967_296,
    9_223_372_036_854_775_807,
    1 << 40,
    1 << 53,
];

const FLOATS: [f64; 18] = [
    0.0,
    0.5,
    1.0,
    1.5,
    2.0,
    2.5,
    3.0,
    0.1,
    0.25,
    1e-300,
    5e-324,
    2.2250738585072014e-308,
    1e308,
    1.7976931348623157e308,
    1e10,
    1e22,
    36222.28,
    709.8,
];

impl ExprGen<'_> {
    fn var(&mut self) -> Node {
        let v = self.rng.pick(&self.case.vars);
        Node::Name(v.name.clone())
    }

    fn literal(&mut self) -> Node {
        let neg = self.rng.chance(1, 4);
        match self.rng.weighted(&[10, 10, 3, 4, 4]) {
            0 => {
                let i = *self.rng.pick(&INTS);
                if neg { Node::int(-i) } else { Node::Int(i) }
            }
            1 => {
                let x = *self.rng.pick(&FLOATS);
                Node::float(if neg { -x } else { x })
            }
            2 => Node::Bool(self.rng.chance(1, 2)),
            3 => {
                let c = *self.rng.pick(&["pi", "e", "inf", "nan"]);
                let n = Node::Name(c.into());
                if neg {
                    Node::Unary(UnaryOp::Neg, Box::new(n))
                } else {
                    n
                }
            }
            _ => {
                // A strong constant: a cast of a literal.
                let f = *self
                    .rng
                    .pick(&["float32", "float64", "int32", "int64", "bool"]);
                let inner = if self.rng.chance(1, 2) {
                    Node::float(*self.rng.pick(&FLOATS))
                } else {
                    Node::int(*self.rng.pick(&INTS[..12]))
                };
                Node::call(f, vec![inner])
            }
        }
    }

    fn leaf(&mut self) -> Node {
        if self.rng.chance(7, 10) {
            self.var()
        } else {
            self.literal()
        }
    }

    /// An expression at most `depth` deep, well typed by the model
    /// except rarely.
    pub fn expr(&mut self, depth: usize) -> Node {
        if depth == 0 || self.rng.chance(1, 5) {
            return self.leaf();
        }
        let case = self.case;
        let scope = case.scope();
        for _ in 0..12 {
            let n = self.inner(depth);
            if infer(&n, &scope).is_ok() || self.rng.chance(1, 60) {
                return n;
            }
        }
        self.leaf()
    }

    fn inner(&mut self, depth: usize) -> Node {
        use BinaryOp as B;
        let d = depth - 1;
        match self
            .rng
            .weighted(&[14, 6, 4, 6, 4, 3, 5, 5, 14, 3, 1, 3, 5])
        {
            0 => {
                let op = *self.rng.pick(&[B::Add, B::Sub, B::Mul]);
                self.binary(op, d)
            }
            1 => {
                let op = *self.rng.pick(&[B::Div, B::FloorDiv, B::Mod]);
                self.binary(op, d)
            }
            2 => self.binary(B::Pow, d),
            3 => {
                let op = *self.rng.pick(&[B::Lt, B::Le, B::Eq, B::Ne, B::Ge, B::Gt]);
                self.binary(op, d)
            }
            4 => {
                let op = *self.rng.pick(&[B::BitAnd, B::BitOr, B::BitXor]);
                self.binary(op, d)
            }
            5 => {
                let op = *self.rng.pick(&[B::Shl, B::Shr]);
                self.binary(op, d)
            }
            6 => {
                let op =
                    *self
                        .rng
                        .pick(&[UnaryOp::Neg, UnaryOp::Neg, UnaryOp::Invert, UnaryOp::Plus]);
                Node::Unary(op, Box::new(self.expr(d)))
            }
            7 => {
                let cond = if self.rng.chance(2, 3) {
                    let op = *self.rng.pick(&[B::Lt, B::Gt, B::Ne, B::Eq]);
                    self.binary(op, d.saturating_sub(1))
                } else {
                    self.expr(d)
                };
                let (x, y) = (self.expr(d), self.expr(d));
                Node::call("where", vec![cond, x, y])
            }
            8 => {
                let fs = table_functions();
                let (_, name, arity) = *self.rng.pick(&fs);
                let args: Vec<Node> = (0..arity).map(|_| self.expr(d)).collect();
                self.sanitize_sign(name, args)
            }
            9 => {
                let f = *self
                    .rng
                    .pick(&["float32", "float64", "int32", "int64", "bool"]);
                Node::call(f, vec![self.expr(d)])
            }
            10 => {
                let args = vec![self.expr(d), self.expr(d), self.expr(d)];
                Node::call("clip", args)
            }
            11 => self.roll(d),
            _ => self.reduction(d),
        }
    }

    fn binary(&mut self, op: BinaryOp, d: usize) -> Node {
        let l = self.expr(d);
        let r = if op == BinaryOp::Pow && self.rng.chance(1, 2) {
            // Small constant exponents take the repeated-multiplication
            // path.
            Node::int(self.rng.below(9) as i64 - 2)
        } else {
            self.expr(d)
        };
        Node::Binary(op, Box::new(l), Box::new(r))
    }

    /// `copysign`'s sign operand and `signbit`'s operand, when float, as
    /// `where(isnan(y), abs(y), y)`: the sign of a NaN that an operation
    /// produced is unspecified (README), and only these two show it.
    fn sanitize_sign(&mut self, name: &str, mut args: Vec<Node>) -> Node {
        let k = match name {
            "copysign" => 1,
            "signbit" => 0,
            _ => return Node::call(name, args),
        };
        let case = self.case;
        let scope = case.scope();
        let float = infer(&args[k], &scope).is_ok_and(|t| t.dtype.is_float());
        if float && !args[k].is_constant(&|n| case.bound(n)) {
            let y = args[k].clone();
            args[k] = Node::call(
                "where",
                vec![
                    Node::call("isnan", vec![y.clone()]),
                    Node::call("abs", vec![y.clone()]),
                    y,
                ],
            );
        }
        Node::call(name, args)
    }

    fn roll(&mut self, d: usize) -> Node {
        let x = self.expr(d);
        let shift = Node::int(*self.rng.pick(&[1, -1, 2, -2, 3, 0, 17, -100, 5]));
        let axis = Node::int(*self.rng.pick(&[0, 0, 1, -1, 2, -2]));
        let args = if self.rng.chance(1, 4) {
            vec![Arg::pos(x), Arg::kw("axis", axis), Arg::kw("shift", shift)]
        } else {
            vec![Arg::pos(x), Arg::pos(shift), Arg::pos(axis)]
        };
        Node::Call("roll".into(), args)
    }

    fn reduction(&mut self, d: usize) -> Node {
        let op = *self.rng.pick(&ReduceOp::ALL);
        let x = self.expr(d);
        let axis = Node::int(*self.rng.pick(&[0, 0, 1, -1, 2, -2]));
        let keep = Node::Bool(self.rng.chance(1, 2));
        let args = match self.rng.below(5) {
            0 | 1 => vec![Arg::pos(x)],
            2 => vec![Arg::pos(x), Arg::pos(axis)],
            3 => vec![Arg::pos(x), Arg::kw("axis", axis)],
            _ => {
                if self.rng.chance(1, 2) {
                    vec![
                        Arg::pos(x),
                        Arg::kw("axis", axis),
                        Arg::kw("keepdims", keep),
                    ]
                } else {
                    vec![Arg::pos(x), Arg::kw("keepdims", keep)]
                }
            }
        };
        Node::Call(op.name().into(), args)
    }

    /// The expression with one deliberate error: an unknown name or
    /// function, a wrong argument count, a bad keyword, a non-constant
    /// where a constant is required, or an operator on a dtype it refuses.
    pub fn inject_error(&mut self, n: &Node) -> Node {
        let paths = n.paths();
        let path = self.rng.pick(&paths).clone();
        let Some(at) = n.get(&path) else {
            return n.clone();
        };
        let at = at.clone();
        let var = self.var();
        let new = match self.rng.below(10) {
            0 => Node::Name((*self.rng.pick(&["zz", "a_", "A", "nan_", "sum"])).into()),
            1 => {
                let f = *self
                    .rng
                    .pick(&["foo", "asin", "ln", "fabs", "amax", "a", "sinn", "Sin"]);
                Node::call(f, vec![at])
            }
            2 => Node::call("pow", vec![at, Node::Int(2)]),
            3 => match at {
                Node::Call(f, mut args) if !args.is_empty() => {
                    if self.rng.chance(1, 2) {
                        args.pop();
                    } else {
                        let extra = args[0].clone();
                        args.push(extra);
                    }
                    Node::Call(f, args)
                }
                other => {
                    let f = *self.rng.pick(&["sin", "arctan2", "where", "roll", "sum"]);
                    Node::call(f, vec![other])
                }
            },
            4 => {
                let f = *self.rng.pick(&["sin", "abs", "float32", "clip"]);
                Node::Call(f.into(), vec![Arg::pos(at), Arg::kw("axis", Node::Int(0))])
            }
            5 => {
                let f = self.rng.pick(&ReduceOp::ALL).name();
                let args = match self.rng.below(4) {
                    0 => vec![Arg::pos(at), Arg::kw("foo", Node::Int(1))],
                    1 => vec![
                        Arg::pos(at),
                        Arg::pos(Node::Int(0)),
                        Arg::kw("axis", Node::Int(0)),
                    ],
                    2 => vec![Arg::pos(at), Arg::kw("keepdims", Node::Int(1))],
                    _ => vec![Arg::pos(at), Arg::pos(Node::Int(0)), Arg::pos(Node::Int(0))],
                };
                Node::Call(f.into(), args)
            }
            6 => {
                if self.rng.chance(1, 2) {
                    Node::call("roll", vec![at, var, Node::Int(0)])
                } else {
                    Node::Call("sum".into(), vec![Arg::pos(at), Arg::kw("axis", var)])
                }
            }
            7 => match self.rng.below(5) {
                0 => Node::Binary(BinaryOp::BitAnd, Box::new(at), Box::new(Node::Float(1.5))),
                1 => Node::Unary(
                    UnaryOp::Neg,
                    Box::new(Node::Binary(
                        BinaryOp::Gt,
                        Box::new(at),
                        Box::new(Node::Int(0)),
                    )),
                ),
                2 => Node::Binary(BinaryOp::Shl, Box::new(at), Box::new(Node::Float(1.0))),
                3 => Node::Unary(
                    UnaryOp::Invert,
                    Box::new(Node::Binary(
                        BinaryOp::Mul,
                        Box::new(at),
                        Box::new(Node::Float(1.5)),
                    )),
                ),
                _ => Node::Binary(
                    BinaryOp::Add,
                    Box::new(Node::Bool(true)),
                    Box::new(Node::Binary(BinaryOp::Lt, Box::new(at), Box::new(var))),
                ),
            },
            8 => Node::Binary(
                BinaryOp::Add,
                Box::new(Node::call("int32", vec![at])),
                Box::new(Node::Int(*self.rng.pick(&[3_000_000_000, 2_147_483_648]))),
            ),
            _ => Node::Binary(
                BinaryOp::Pow,
                Box::new(Node::call("int64", vec![at])),
                Box::new(Node::int(-1)),
            ),
        };
        n.replaced(&path, new)
    }
}

/// Texts that do not parse (or only just do), in the spirit of numexpr's
/// users: Python syntax exprjit refuses, bad numbers, unbalanced
/// brackets, depth beyond the limit.
const BAD_TEXTS: [&str; 30] = [
    "",
    "   ",
    "a +",
    "(a",
    "a)",
    "a b",
    "a[0]",
    "a.b",
    "a if b else c",
    "a and b",
    "not a",
    "lambda x: x",
    "__import__('os')",
    "a = 1",
    "'a'",
    "1e",
    "1.2.3",
    "0x1f",
    "012",
    "f(,)",
    "sum(a,)",
    "a ** ** b",
    "@",
    "a $ b",
    "((((a))))",
    "a < b < c",
    "sum(a, axis=)",
    "a @ b",
    "-",
    "a,b",
];

/// A text mutation of `text`: a character deleted, a token inserted, a
/// piece duplicated, the text cut short, or a known bad text.
pub fn mutate_text(rng: &mut Rng, text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = rng.below(chars.len() + 1);
    let mut out: Vec<char> = chars.clone();
    match rng.below(7) {
        0 if !chars.is_empty() => {
            out.remove(at.min(chars.len() - 1));
        }
        1 => {
            let tok = *rng.pick(&[
                "(", ")", ",", "**", "@", "$", "[0]", " and ", " if ", "1e", ".", "'", "\"", "=",
                "!", "~~", "--", ">>>", "1_0", "é",
            ]);
            for (k, c) in tok.chars().enumerate() {
                out.insert(at + k, c);
            }
        }
        2 if !chars.is_empty() => {
            let from = rng.below(chars.len());
            let to = (from + 1 + rng.below(4)).min(chars.len());
            let piece: Vec<char> = chars[from..to].to_vec();
            for (k, c) in piece.into_iter().enumerate() {
                out.insert(at + k, c);
            }
        }
        3 => out.truncate(at),
        4 => {
            // Nesting beyond the parser's depth limit (512), or just
            // under it.
            let depth = *rng.pick(&[300, 511, 600]);
            let mut s = "(".repeat(depth);
            s.push_str(text);
            s.push_str(&")".repeat(depth));
            return s;
        }
        _ => return (*rng.pick(&BAD_TEXTS)).to_string(),
    }
    out.into_iter().collect()
}

/// Random cases from `seed`: one expression over variables of fixed
/// names and dtypes, with `members` sets of shapes and values (its
/// kernels are compiled once and run on each; a text that does not parse
/// or has a deliberate error gets one).
pub fn cases(seed: u64, members: usize) -> Vec<Case> {
    let mut rng = Rng::new(seed);
    let vars = make_vars(&mut rng, None);
    let mut case = Case {
        vars,
        expr: Source::Text(String::new()),
    };
    let depth = 1 + rng.weighted(&[3, 5, 5, 3, 2]);
    let mut plain = true;
    let tree = {
        let mut g = ExprGen {
            rng: &mut rng,
            case: &case,
        };
        let mut t = g.expr(depth);
        if g.rng.chance(1, 12) {
            t = g.inject_error(&t);
            plain = false;
        }
        t
    };
    case.expr = if rng.chance(1, 25) {
        plain = false;
        Source::Text(mutate_text(&mut rng, &tree.to_string()))
    } else {
        Source::Tree(tree)
    };
    let mut out = vec![case];
    while plain && out.len() < members {
        let vars = make_vars(&mut rng, Some(&out[0].vars));
        out.push(Case {
            vars,
            expr: out[0].expr.clone(),
        });
    }
    out
}
