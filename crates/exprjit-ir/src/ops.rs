//! The operator table: for every IR operation, its name, how it is written
//! in expressions, which dtypes it takes, how its operands are promoted,
//! its result dtype, and its meaning for one element ([`OpInfo::eval`]).
//!
//! The type checker, the constant folder, the verifier and the reference
//! interpreter all read this table; the code generator lowers every [`Op`]
//! with an exhaustive `match`, so an operation without a lowering does not
//! compile. Adding a function is one entry in [`Op::info`] plus one arm per
//! backend.

use crate::dtype::{DType, Scalar};
use crate::semantics as sem;
use exprjit_syntax::{BinaryOp, UnaryOp};

/// Declares [`Op`] and [`Op::ALL`] from one list, so that a variant cannot
/// be missing from `ALL` (which the table tests, the symbol table and the
/// fuzzer iterate).
macro_rules! declare_ops {
    ($($name:ident),* $(,)?) => {
        /// An operation of the IR. All operands of an operation have the same
        /// dtype (the checker inserts casts), except `where`, whose condition
        /// is bool, and `cast`, which converts.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Op {
            $($name,)*
            /// Conversion to the given dtype (see [`Scalar::cast`] for the
            /// rules).
            Cast(DType),
        }

        impl Op {
            /// The operations without a parameter, in declaration order.
            const PLAIN: &'static [Op] = &[$(Op::$name),*];
        }
    };
}

declare_ops! {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    Neg,
    Not,
    Abs,
    Sign,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Xor,
    Shl,
    Shr,
    Where,
    Maximum,
    Minimum,
    Sqrt,
    Exp,
    Expm1,
    Log,
    Log1p,
    Log10,
    Log2,
    Sin,
    Cos,
    Tan,
    Arcsin,
    Arccos,
    Arctan,
    Sinh,
    Cosh,
    Tanh,
    Arcsinh,
    Arccosh,
    Arctanh,
    Floor,
    Ceil,
    Trunc,
    Round,
    Signbit,
    Isnan,
    Isinf,
    Isfinite,
    Fmod,
    Hypot,
    Copysign,
    Nextafter,
    Arctan2,
}

/// A set of dtypes, for the operand dtypes an operation accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DTypeSet(u8);

impl DTypeSet {
    pub const BOOL: DTypeSet = DTypeSet(1);
    pub const INT: DTypeSet = DTypeSet(2 | 4);
    pub const FLOAT: DTypeSet = DTypeSet(8 | 16);
    pub const NUM: DTypeSet = DTypeSet(2 | 4 | 8 | 16);
    pub const BOOL_INT: DTypeSet = DTypeSet(1 | 2 | 4);
    pub const ALL: DTypeSet = DTypeSet(31);

    fn bit(d: DType) -> u8 {
        match d {
            DType::Bool => 1,
            DType::I32 => 2,
            DType::I64 => 4,
            DType::F32 => 8,
            DType::F64 => 16,
        }
    }

    pub fn contains(self, d: DType) -> bool {
        self.0 & DTypeSet::bit(d) != 0
    }

    pub fn iter(self) -> impl Iterator<Item = DType> {
        DType::ALL.into_iter().filter(move |d| self.contains(*d))
    }
}

/// How the operands' common dtype is found before the operation applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Promote {
    /// NumPy (NEP 50) promotion of all operands.
    Common,
    /// Common promotion, then bool and integers become float64 (true
    /// division and the float functions).
    ToFloat,
    /// `where(cond, x, y)`: the condition becomes bool, `x` and `y` promote.
    Where,
    /// `cast`: the operand keeps its dtype.
    Keep,
}

/// The result dtype, given the operands' common dtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultRule {
    Same,
    Bool,
    /// The dtype named by the op (`cast`).
    Target,
}

/// How the operation is written in an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    Binary(BinaryOp),
    Unary(UnaryOp),
    /// A call `name(...)`; the name is [`OpInfo::name`].
    Function,
}

/// How exactly an execution path must reproduce [`OpInfo::eval`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exactness {
    /// IEEE or integer arithmetic defines every bit: all paths agree bit for
    /// bit.
    Exact,
    /// A libm function (`exp`, `sin`, ...): [`OpInfo::libm`] gives the
    /// scalar functions; a vectorised lowering may differ by a stated ULP
    /// bound.
    Libm,
}

/// Scalar math functions behind a [`Exactness::Libm`] operation: the
/// reference interpreter calls them, and the JIT registers the same
/// functions as symbols so that its results are the same bits.
#[derive(Clone, Copy, Debug)]
pub enum Libm {
    Unary {
        f32: fn(f32) -> f32,
        f64: fn(f64) -> f64,
    },
    Binary {
        f32: fn(f32, f32) -> f32,
        f64: fn(f64, f64) -> f64,
    },
}

/// Everything the IR knows about an operation.
#[derive(Clone, Copy, Debug)]
pub struct OpInfo {
    /// The IR mnemonic, and for [`Syntax::Function`] the name users call.
    pub name: &'static str,
    pub syntax: Syntax,
    pub arity: usize,
    /// The dtypes the operands may have after promotion (for `where`: the
    /// dtypes of `x` and `y`).
    pub accepts: DTypeSet,
    pub promote: Promote,
    pub result: ResultRule,
    pub exactness: Exactness,
    pub libm: Option<Libm>,
    /// The meaning for one element: operands already of an accepted dtype,
    /// the second argument is the result dtype.
    pub eval: fn(&[Scalar], DType) -> Scalar,
}

/// Reports an operand dtype that the verifier should have rejected.
#[cold]
#[track_caller]
fn mismatch(args: &[Scalar]) -> ! {
    panic!("internal error: op evaluated on operands {args:?}, which the IR verifier rejects")
}

macro_rules! arith {
    ($a:expr, |$x:ident, $y:ident| $i:expr, $f:expr) => {
        match ($a[0], $a[1]) {
            (Scalar::I32($x), Scalar::I32($y)) => Scalar::I32($i),
            (Scalar::I64($x), Scalar::I64($y)) => Scalar::I64($i),
            (Scalar::F32($x), Scalar::F32($y)) => Scalar::F32($f),
            (Scalar::F64($x), Scalar::F64($y)) => Scalar::F64($f),
            _ => mismatch($a),
        }
    };
}

macro_rules! int2 {
    ($a:expr, $f32:path, $f64:path) => {
        match ($a[0], $a[1]) {
            (Scalar::I32(x), Scalar::I32(y)) => Scalar::I32($f32(x, y)),
            (Scalar::I64(x), Scalar::I64(y)) => Scalar::I64($f64(x, y)),
            _ => mismatch($a),
        }
    };
}

macro_rules! bits2 {
    ($a:expr, |$x:ident, $y:ident| $e:expr) => {
        match ($a[0], $a[1]) {
            (Scalar::Bool($x), Scalar::Bool($y)) => Scalar::Bool($e),
            (Scalar::I32($x), Scalar::I32($y)) => Scalar::I32($e),
            (Scalar::I64($x), Scalar::I64($y)) => Scalar::I64($e),
            _ => mismatch($a),
        }
    };
}

macro_rules! cmp {
    ($a:expr, |$x:ident, $y:ident| $e:expr) => {
        Scalar::Bool(match ($a[0], $a[1]) {
            (Scalar::Bool($x), Scalar::Bool($y)) => $e,
            (Scalar::I32($x), Scalar::I32($y)) => $e,
            (Scalar::I64($x), Scalar::I64($y)) => $e,
            (Scalar::F32($x), Scalar::F32($y)) => $e,
            (Scalar::F64($x), Scalar::F64($y)) => $e,
            _ => mismatch($a),
        })
    };
}

macro_rules! unary {
    ($a:expr, |$x:ident| bool: $b:expr, int: $i:expr, float: $f:expr) => {
        match $a[0] {
            Scalar::Bool($x) => Scalar::Bool($b),
            Scalar::I32($x) => Scalar::I32($i),
            Scalar::I64($x) => Scalar::I64($i),
            Scalar::F32($x) => Scalar::F32($f),
            Scalar::F64($x) => Scalar::F64($f),
        }
    };
}

macro_rules! float_pred {
    ($a:expr, |$x:ident| $e:expr) => {
        Scalar::Bool(match $a[0] {
            Scalar::F32($x) => $e,
            Scalar::F64($x) => $e,
            _ => mismatch($a),
        })
    };
}

macro_rules! libm_unary {
    ($name:literal, $f:ident) => {
        libm_unary!($name, f32::$f, f64::$f)
    };
    ($name:literal, $f32:path, $f64:path) => {
        OpInfo {
            name: $name,
            syntax: Syntax::Function,
            arity: 1,
            accepts: DTypeSet::FLOAT,
            promote: Promote::ToFloat,
            result: ResultRule::Same,
            exactness: Exactness::Libm,
            libm: Some(Libm::Unary {
                f32: $f32,
                f64: $f64,
            }),
            eval: |a, _| match a[0] {
                Scalar::F32(x) => Scalar::F32($f32(x)),
                Scalar::F64(x) => Scalar::F64($f64(x)),
                _ => mismatch(a),
            },
        }
    };
}

macro_rules! libm_binary {
    ($name:literal, $f32:path, $f64:path) => {
        OpInfo {
            name: $name,
            syntax: Syntax::Function,
            arity: 2,
            accepts: DTypeSet::FLOAT,
            promote: Promote::ToFloat,
            result: ResultRule::Same,
            exactness: Exactness::Libm,
            libm: Some(Libm::Binary {
                f32: $f32,
                f64: $f64,
            }),
            eval: |a, _| match (a[0], a[1]) {
                (Scalar::F32(x), Scalar::F32(y)) => Scalar::F32($f32(x, y)),
                (Scalar::F64(x), Scalar::F64(y)) => Scalar::F64($f64(x, y)),
                _ => mismatch(a),
            },
        }
    };
}

/// An entry for an operation that is exact and not a libm call.
const fn exact(
    name: &'static str,
    syntax: Syntax,
    arity: usize,
    accepts: DTypeSet,
    promote: Promote,
    result: ResultRule,
    eval: fn(&[Scalar], DType) -> Scalar,
) -> OpInfo {
    OpInfo {
        name,
        syntax,
        arity,
        accepts,
        promote,
        result,
        exactness: Exactness::Exact,
        libm: None,
        eval,
    }
}

impl Op {
    /// Every operation; casts once per target dtype.
    pub const ALL: [Op; Op::PLAIN.len() + DType::ALL.len()] = {
        let mut all = [Op::Add; Op::PLAIN.len() + DType::ALL.len()];
        let mut i = 0;
        while i < Op::PLAIN.len() {
            all[i] = Op::PLAIN[i];
            i += 1;
        }
        let mut k = 0;
        while k < DType::ALL.len() {
            all[i + k] = Op::Cast(DType::ALL[k]);
            k += 1;
        }
        all
    };

    /// The table entry of this operation.
    // `x < y` on bools reads as the comparison it implements.
    #[allow(clippy::bool_comparison)]
    pub fn info(self) -> OpInfo {
        use BinaryOp as B;
        use DTypeSet as S;
        use Promote as P;
        use ResultRule as R;
        use Syntax::{Binary, Function, Unary};
        match self {
            Op::Add => exact(
                "add",
                Binary(B::Add),
                2,
                S::NUM,
                P::Common,
                R::Same,
                |a, _| arith!(a, |x, y| x.wrapping_add(y), x + y),
            ),
            Op::Sub => exact(
                "sub",
                Binary(B::Sub),
                2,
                S::NUM,
                P::Common,
                R::Same,
                |a, _| arith!(a, |x, y| x.wrapping_sub(y), x - y),
            ),
            Op::Mul => exact(
                "mul",
                Binary(B::Mul),
                2,
                S::NUM,
                P::Common,
                R::Same,
                |a, _| arith!(a, |x, y| x.wrapping_mul(y), x * y),
            ),
            Op::Div => exact(
                "div",
                Binary(B::Div),
                2,
                S::FLOAT,
                P::ToFloat,
                R::Same,
                |a, _| arith!(a, |x, y| x / y, x / y),
            ),
            Op::FloorDiv => exact(
                "floordiv",
                Binary(B::FloorDiv),
                2,
                S::NUM,
                P::Common,
                R::Same,
                |a, _| match (a[0], a[1]) {
                    (Scalar::F32(x), Scalar::F32(y)) => Scalar::F32(sem::float_floor_div(x, y)),
                    (Scalar::F64(x), Scalar::F64(y)) => Scalar::F64(sem::float_floor_div(x, y)),
                    _ => int2!(a, sem::floor_div_i32, sem::floor_div_i64),
                },
            ),
            Op::Mod => exact(
                "mod",
                Binary(B::Mod),
                2,
                S::NUM,
                P::Common,
                R::Same,
                |a, _| match (a[0], a[1]) {
                    (Scalar::F32(x), Scalar::F32(y)) => Scalar::F32(sem::float_mod(x, y)),
                    (Scalar::F64(x), Scalar::F64(y)) => Scalar::F64(sem::float_mod(x, y)),
                    _ => int2!(a, sem::mod_i32, sem::mod_i64),
                },
            ),
            Op::Pow => OpInfo {
                name: "pow",
                syntax: Binary(B::Pow),
                arity: 2,
                accepts: S::NUM,
                promote: P::Common,
                result: R::Same,
                exactness: Exactness::Libm,
                libm: Some(Libm::Binary {
                    f32: sem::pow_f32,
                    f64: sem::pow_f64,
                }),
                eval: |a, _| match (a[0], a[1]) {
                    (Scalar::F32(x), Scalar::F32(y)) => Scalar::F32(sem::pow_f32(x, y)),
                    (Scalar::F64(x), Scalar::F64(y)) => Scalar::F64(sem::pow_f64(x, y)),
                    _ => int2!(a, sem::pow_i32, sem::pow_i64),
                },
            },
            Op::Neg => exact(
                "neg",
                Unary(UnaryOp::Neg),
                1,
                S::NUM,
                P::Common,
                R::Same,
                |a, _| unary!(a, |x| bool: x, int: x.wrapping_neg(), float: -x),
            ),
            Op::Not => exact(
                "not",
                Unary(UnaryOp::Invert),
                1,
                S::BOOL_INT,
                P::Common,
                R::Same,
                |a, _| match a[0] {
                    Scalar::F32(_) | Scalar::F64(_) => mismatch(a),
                    _ => unary!(a, |x| bool: !x, int: !x, float: x),
                },
            ),
            Op::Abs => exact(
                "abs",
                Function,
                1,
                S::ALL,
                P::Common,
                R::Same,
                |a, _| unary!(a, |x| bool: x, int: x.wrapping_abs(), float: x.abs()),
            ),
            Op::Sign => exact(
                "sign",
                Function,
                1,
                S::NUM,
                P::Common,
                R::Same,
                |a, _| unary!(a, |x| bool: x, int: x.signum(), float: sem::float_sign(x)),
            ),
            Op::Eq => exact(
                "eq",
                Binary(B::Eq),
                2,
                S::ALL,
                P::Common,
                R::Bool,
                |a, _| cmp!(a, |x, y| x == y),
            ),
            Op::Ne => exact(
                "ne",
                Binary(B::Ne),
                2,
                S::ALL,
                P::Common,
                R::Bool,
                |a, _| cmp!(a, |x, y| x != y),
            ),
            Op::Lt => exact(
                "lt",
                Binary(B::Lt),
                2,
                S::ALL,
                P::Common,
                R::Bool,
                |a, _| cmp!(a, |x, y| x < y),
            ),
            Op::Le => exact(
                "le",
                Binary(B::Le),
                2,
                S::ALL,
                P::Common,
                R::Bool,
                |a, _| cmp!(a, |x, y| x <= y),
            ),
            Op::Gt => exact(
                "gt",
                Binary(B::Gt),
                2,
                S::ALL,
                P::Common,
                R::Bool,
                |a, _| cmp!(a, |x, y| x > y),
            ),
            Op::Ge => exact(
                "ge",
                Binary(B::Ge),
                2,
                S::ALL,
                P::Common,
                R::Bool,
                |a, _| cmp!(a, |x, y| x >= y),
            ),
            Op::And => exact(
                "and",
                Binary(B::BitAnd),
                2,
                S::BOOL_INT,
                P::Common,
                R::Same,
                |a, _| bits2!(a, |x, y| x & y),
            ),
            Op::Or => exact(
                "or",
                Binary(B::BitOr),
                2,
                S::BOOL_INT,
                P::Common,
                R::Same,
                |a, _| bits2!(a, |x, y| x | y),
            ),
            Op::Xor => exact(
                "xor",
                Binary(B::BitXor),
                2,
                S::BOOL_INT,
                P::Common,
                R::Same,
                |a, _| bits2!(a, |x, y| x ^ y),
            ),
            Op::Shl => exact(
                "shl",
                Binary(B::Shl),
                2,
                S::INT,
                P::Common,
                R::Same,
                |a, _| int2!(a, sem::shl_i32, sem::shl_i64),
            ),
            Op::Shr => exact(
                "shr",
                Binary(B::Shr),
                2,
                S::INT,
                P::Common,
                R::Same,
                |a, _| int2!(a, sem::shr_i32, sem::shr_i64),
            ),
            Op::Where => exact(
                "where",
                Function,
                3,
                S::ALL,
                P::Where,
                R::Same,
                |a, _| match a[0] {
                    Scalar::Bool(true) => a[1],
                    Scalar::Bool(false) => a[2],
                    _ => mismatch(a),
                },
            ),
            Op::Maximum => exact(
                "maximum",
                Function,
                2,
                S::ALL,
                P::Common,
                R::Same,
                |a, _| match (a[0], a[1]) {
                    (Scalar::F32(x), Scalar::F32(y)) => Scalar::F32(sem::maximum(x, y)),
                    (Scalar::F64(x), Scalar::F64(y)) => Scalar::F64(sem::maximum(x, y)),
                    _ => bits2!(a, |x, y| x.max(y)),
                },
            ),
            Op::Minimum => exact(
                "minimum",
                Function,
                2,
                S::ALL,
                P::Common,
                R::Same,
                |a, _| match (a[0], a[1]) {
                    (Scalar::F32(x), Scalar::F32(y)) => Scalar::F32(sem::minimum(x, y)),
                    (Scalar::F64(x), Scalar::F64(y)) => Scalar::F64(sem::minimum(x, y)),
                    _ => bits2!(a, |x, y| x.min(y)),
                },
            ),
            // sqrt is correctly rounded by IEEE 754, so it is exact even
            // though it is a function.
            Op::Sqrt => exact(
                "sqrt",
                Function,
                1,
                S::FLOAT,
                P::ToFloat,
                R::Same,
                |a, _| unary!(a, |x| bool: x, int: x, float: x.sqrt()),
            ),
            Op::Exp => libm_unary!("exp", exp),
            Op::Expm1 => libm_unary!("expm1", exp_m1),
            Op::Log => libm_unary!("log", ln),
            Op::Log1p => libm_unary!("log1p", ln_1p),
            Op::Log10 => libm_unary!("log10", log10),
            Op::Log2 => libm_unary!("log2", log2),
            Op::Sin => libm_unary!("sin", sin),
            Op::Cos => libm_unary!("cos", cos),
            Op::Tan => libm_unary!("tan", tan),
            Op::Arcsin => libm_unary!("arcsin", asin),
            Op::Arccos => libm_unary!("arccos", acos),
            Op::Arctan => libm_unary!("arctan", atan),
            Op::Sinh => libm_unary!("sinh", sinh),
            Op::Cosh => libm_unary!("cosh", cosh),
            Op::Tanh => libm_unary!("tanh", tanh),
            // Rust std computes these from `ln` and `sqrt` (acosh loses
            // ~1000 ULP just above 1, atanh thousands near -1, and the f32
            // versions overflow above ~1.7e38); the `libm` crate's port of
            // musl is within 1 ULP and handles the whole domain.
            Op::Arcsinh => libm_unary!("arcsinh", libm::asinhf, libm::asinh),
            // ... but its acosh is finite below -1 (NaN is the answer).
            Op::Arccosh => libm_unary!("arccosh", sem::acosh_f32, sem::acosh_f64),
            Op::Arctanh => libm_unary!("arctanh", libm::atanhf, libm::atanh),
            // Rounding an integer changes nothing (NumPy >= 2.1 also keeps
            // the integer dtype).
            Op::Floor => exact(
                "floor",
                Function,
                1,
                S::NUM,
                P::Common,
                R::Same,
                |a, _| unary!(a, |x| bool: x, int: x, float: x.floor()),
            ),
            Op::Ceil => exact(
                "ceil",
                Function,
                1,
                S::NUM,
                P::Common,
                R::Same,
                |a, _| unary!(a, |x| bool: x, int: x, float: x.ceil()),
            ),
            Op::Trunc => exact(
                "trunc",
                Function,
                1,
                S::NUM,
                P::Common,
                R::Same,
                |a, _| unary!(a, |x| bool: x, int: x, float: x.trunc()),
            ),
            Op::Round => exact(
                "round",
                Function,
                1,
                S::NUM,
                P::Common,
                R::Same,
                |a, _| unary!(a, |x| bool: x, int: x, float: x.round_ties_even()),
            ),
            Op::Signbit => exact(
                "signbit",
                Function,
                1,
                S::FLOAT,
                P::ToFloat,
                R::Bool,
                |a, _| float_pred!(a, |x| x.is_sign_negative()),
            ),
            Op::Isnan => exact(
                "isnan",
                Function,
                1,
                S::FLOAT,
                P::ToFloat,
                R::Bool,
                |a, _| float_pred!(a, |x| x.is_nan()),
            ),
            Op::Isinf => exact(
                "isinf",
                Function,
                1,
                S::FLOAT,
                P::ToFloat,
                R::Bool,
                |a, _| float_pred!(a, |x| x.is_infinite()),
            ),
            Op::Isfinite => exact(
                "isfinite",
                Function,
                1,
                S::FLOAT,
                P::ToFloat,
                R::Bool,
                |a, _| float_pred!(a, |x| x.is_finite()),
            ),
            Op::Fmod => exact(
                "fmod",
                Function,
                2,
                S::NUM,
                P::Common,
                R::Same,
                |a, _| match (a[0], a[1]) {
                    (Scalar::F32(x), Scalar::F32(y)) => Scalar::F32(x % y),
                    (Scalar::F64(x), Scalar::F64(y)) => Scalar::F64(x % y),
                    _ => int2!(a, sem::fmod_i32, sem::fmod_i64),
                },
            ),
            Op::Hypot => libm_binary!("hypot", sem::hypot_f32, sem::hypot_f64),
            Op::Arctan2 => {
                libm_binary!("arctan2", f32::atan2, f64::atan2)
            }
            Op::Copysign => exact(
                "copysign",
                Function,
                2,
                S::FLOAT,
                P::ToFloat,
                R::Same,
                |a, _| match (a[0], a[1]) {
                    (Scalar::F32(x), Scalar::F32(y)) => Scalar::F32(x.copysign(y)),
                    (Scalar::F64(x), Scalar::F64(y)) => Scalar::F64(x.copysign(y)),
                    _ => mismatch(a),
                },
            ),
            Op::Nextafter => exact(
                "nextafter",
                Function,
                2,
                S::FLOAT,
                P::ToFloat,
                R::Same,
                |a, _| match (a[0], a[1]) {
                    (Scalar::F32(x), Scalar::F32(y)) => Scalar::F32(sem::nextafter_f32(x, y)),
                    (Scalar::F64(x), Scalar::F64(y)) => Scalar::F64(sem::nextafter_f64(x, y)),
                    _ => mismatch(a),
                },
            ),
            Op::Cast(to) => OpInfo {
                name: match to {
                    DType::Bool => "bool",
                    DType::I32 => "int32",
                    DType::I64 => "int64",
                    DType::F32 => "float32",
                    DType::F64 => "float64",
                },
                syntax: Function,
                arity: 1,
                accepts: S::ALL,
                promote: P::Keep,
                result: R::Target,
                exactness: Exactness::Exact,
                libm: None,
                eval: |a, to| a[0].cast(to),
            },
        }
    }

    /// The IR mnemonic (`cast.f64` for casts is printed by the IR printer).
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The result dtype for operands of common dtype `operand`.
    pub fn result_dtype(self, operand: DType) -> DType {
        match (self.info().result, self) {
            (ResultRule::Same, _) => operand,
            (ResultRule::Bool, _) => DType::Bool,
            (ResultRule::Target, Op::Cast(to)) => to,
            (ResultRule::Target, _) => operand,
        }
    }

    /// The operation called `name` in expressions, if any (`sqrt`, `where`,
    /// `float32`, ...).
    pub fn function(name: &str) -> Option<Op> {
        Op::ALL
            .into_iter()
            .find(|op| op.info().syntax == Syntax::Function && op.info().name == name)
    }

    /// The operation a binary operator denotes.
    pub fn binary(op: BinaryOp) -> Op {
        match op {
            BinaryOp::Add => Op::Add,
            BinaryOp::Sub => Op::Sub,
            BinaryOp::Mul => Op::Mul,
            BinaryOp::Div => Op::Div,
            BinaryOp::FloorDiv => Op::FloorDiv,
            BinaryOp::Mod => Op::Mod,
            BinaryOp::Pow => Op::Pow,
            BinaryOp::Lt => Op::Lt,
            BinaryOp::Le => Op::Le,
            BinaryOp::Eq => Op::Eq,
            BinaryOp::Ne => Op::Ne,
            BinaryOp::Ge => Op::Ge,
            BinaryOp::Gt => Op::Gt,
            BinaryOp::BitAnd => Op::And,
            BinaryOp::BitOr => Op::Or,
            BinaryOp::BitXor => Op::Xor,
            BinaryOp::Shl => Op::Shl,
            BinaryOp::Shr => Op::Shr,
        }
    }

    /// Names users can call: the functions of the table, the ones the
    /// type checker rewrites (`clip`, `roll`) and the reductions.
    pub fn function_names() -> Vec<&'static str> {
        let mut names: Vec<&'static str> = Op::ALL
            .into_iter()
            .filter(|op| op.info().syntax == Syntax::Function)
            .map(|op| op.info().name)
            .collect();
        names.extend(crate::check::EXTRA_FUNCTIONS);
        names.extend(ReduceOp::ALL.map(ReduceOp::name));
        names.sort_unstable();
        names
    }
}

/// A reduction: `sum(x)`, `max(x, axis=1)`, ... Not an IR operation (a
/// kernel never sees one): the checker splits the expression at each
/// reduction (see [`crate::Program`]), and the runtime folds the values
/// of the reduction's input with [`crate::semantics::fold_line`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReduceOp {
    Sum,
    Prod,
    Min,
    Max,
    Mean,
    Any,
    All,
}

impl ReduceOp {
    pub const ALL: [ReduceOp; 7] = [
        ReduceOp::Sum,
        ReduceOp::Prod,
        ReduceOp::Min,
        ReduceOp::Max,
        ReduceOp::Mean,
        ReduceOp::Any,
        ReduceOp::All,
    ];

    /// The name users call (numpy's).
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Prod => "prod",
            ReduceOp::Min => "min",
            ReduceOp::Max => "max",
            ReduceOp::Mean => "mean",
            ReduceOp::Any => "any",
            ReduceOp::All => "all",
        }
    }

    pub fn from_name(name: &str) -> Option<ReduceOp> {
        ReduceOp::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The dtype the values are folded in, which is also the result's: for
    /// `sum` and `prod`, numpy's (bool and int32 widen to int64, which
    /// wraps); `min` and `max` keep the input's; `mean` folds integers and
    /// bool in float64 and floats in their own dtype; `any` and `all` fold
    /// `x != 0`. The input is cast to it (by [`Scalar::cast`]) before
    /// folding.
    pub fn result_dtype(self, input: DType) -> DType {
        match (self, input) {
            (ReduceOp::Sum | ReduceOp::Prod, DType::Bool | DType::I32) => DType::I64,
            (ReduceOp::Mean, DType::Bool | DType::I32 | DType::I64) => DType::F64,
            (ReduceOp::Any | ReduceOp::All, _) => DType::Bool,
            (_, d) => d,
        }
    }

    /// The result over no values, for the reductions that have an identity
    /// (`sum` 0, `prod` 1, `any` false, `all` true); `min`, `max` and
    /// `mean` of nothing are errors.
    pub fn identity(self, dtype: DType) -> Option<Scalar> {
        let one = |v: i64| Some(Scalar::I64(v).cast(dtype));
        match self {
            ReduceOp::Sum => one(0),
            ReduceOp::Prod => one(1),
            ReduceOp::Any => Some(Scalar::Bool(false)),
            ReduceOp::All => Some(Scalar::Bool(true)),
            ReduceOp::Min | ReduceOp::Max | ReduceOp::Mean => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sample value of each dtype, with a NaN and a zero among them.
    fn samples(d: DType) -> Vec<Scalar> {
        [
            Scalar::F64(-2.5),
            Scalar::F64(0.0),
            Scalar::F64(3.0),
            Scalar::F64(f64::NAN),
        ]
        .into_iter()
        .map(|s| s.cast(d))
        .collect()
    }

    /// The completeness test: every entry is reachable from `ALL`, has a
    /// unique name per syntax, a consistent arity, a libm entry exactly when
    /// it says so, and an `eval` that accepts every dtype it claims to.
    #[test]
    fn every_entry_is_complete() {
        let mut names = std::collections::HashSet::new();
        for op in Op::ALL {
            let info = op.info();
            assert!(names.insert(info.name), "duplicate name {}", info.name);
            assert!((1..=3).contains(&info.arity), "{op:?}");
            match info.syntax {
                Syntax::Binary(b) => {
                    assert_eq!(info.arity, 2);
                    assert_eq!(Op::binary(b), op);
                }
                Syntax::Unary(_) => assert_eq!(info.arity, 1),
                Syntax::Function => assert_eq!(Op::function(info.name), Some(op)),
            }
            if info.exactness == Exactness::Libm {
                assert!(info.libm.is_some(), "{op:?} is libm but has no functions");
            }
            if let Some(Libm::Binary { .. }) = info.libm {
                assert_eq!(info.arity, 2);
            }
            if let Some(Libm::Unary { .. }) = info.libm {
                assert_eq!(info.arity, 1);
            }
            assert!(info.accepts.iter().count() > 0, "{op:?} accepts nothing");
            for d in info.accepts.iter() {
                let result = op.result_dtype(d);
                for x in samples(d) {
                    let args: Vec<Scalar> = match (op, info.arity) {
                        (Op::Where, _) => vec![Scalar::Bool(true), x, x],
                        (_, n) => vec![x; n],
                    };
                    let out = (info.eval)(&args, result);
                    assert_eq!(out.dtype(), result, "{op:?} on {d}");
                }
            }
        }
    }

    /// Every reduction: its name maps back and names no elementwise
    /// function, its result dtype is numpy's, and its identity (if any)
    /// has that dtype.
    #[test]
    fn every_reduction_is_complete() {
        for r in ReduceOp::ALL {
            assert_eq!(ReduceOp::from_name(r.name()), Some(r));
            assert_eq!(Op::function(r.name()), None, "{r:?} shadows a function");
            assert!(Op::function_names().contains(&r.name()));
            for d in DType::ALL {
                let out = r.result_dtype(d);
                let expected = match r {
                    ReduceOp::Sum | ReduceOp::Prod if !d.is_float() => DType::I64,
                    ReduceOp::Mean if !d.is_float() => DType::F64,
                    ReduceOp::Any | ReduceOp::All => DType::Bool,
                    _ => d,
                };
                assert_eq!(out, expected, "{r:?} of {d}");
                if let Some(id) = r.identity(out) {
                    assert_eq!(id.dtype(), out, "{r:?} identity");
                }
            }
        }
    }

    #[test]
    fn unary_and_binary_syntax_maps_back() {
        for b in [BinaryOp::Add, BinaryOp::Shr, BinaryOp::Ge, BinaryOp::Pow] {
            assert_eq!(Op::binary(b).info().syntax, Syntax::Binary(b));
        }
        assert_eq!(Op::function("float32"), Some(Op::Cast(DType::F32)));
        assert_eq!(Op::function("add"), None);
    }
}
