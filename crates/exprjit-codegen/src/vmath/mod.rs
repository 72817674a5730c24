//! Turns elementwise math functions (`exp`, `log`, `sin`, `pow`, ...) into
//! inline Cranelift vector code on `f64x2`: range reduction plus minimax
//! polynomials, with no call per element ([`Accuracy::Fast`](crate::Accuracy)).
//!
//! # Method
//!
//! Every routine follows the classic scheme of fdlibm, SLEEF and numpy's
//! SIMD kernels: reduce the argument exactly (Cody-Waite splitting of the
//! constant, with FMA where the host has it, else Dekker products), evaluate
//! a polynomial whose leading terms are exact and whose tail comes from a
//! Sollya `fpminimax` fit (see `coeffs.sollya`), and carry the few
//! operations that decide the last bit in double-double arithmetic
//! (Dekker 1971, "A floating-point technique for extending the available
//! precision"; Knuth's TwoSum). Special values (NaN, infinities, signed
//! zeros, subnormals, overflow and underflow thresholds) are fixed with
//! lane selects at the end, so every lane runs the same straight-line code.
//!
//! `f32` functions promote to `f64`, run the `f64` routine and round once:
//! their error is at most 0.5 ULP plus the `f64` routine's error scaled by
//! 2^-29, i.e. nearly correctly rounded. PERF: a native `f32x4` polynomial
//! would do twice the lanes per instruction at a lower degree; not done.
//!
//! The one exception to straight-line code is `sin`/`cos`/`tan` of a huge
//! argument: lanes with `|x|` beyond the Cody-Waite range (2^30 with FMA,
//! 2^23 without) are recomputed by a call to the scalar `std` function
//! (as numpy's AVX-512 `sin`/`cos` does), behind a branch taken only when
//! some lane needs it. See [`Routine::huge`].
//!
//! Measured accuracy is in `ACCURACY.md` beside this crate's `Cargo.toml`.

mod coeffs;
mod exp;
mod log;
mod pow;
mod trig;

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{Endianness, InstBuilder, MemFlagsData, Value, types};
use cranelift_frontend::FunctionBuilder;
use exprjit_ir::Op;
use std::cell::Cell;

/// An `f64x2` value.
pub(crate) type V = Value;

/// A lane mask: all ones or all zeros per 64-bit lane, typed `i64x2`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct M(pub(crate) Value);

thread_local! {
    static NO_FMA: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with the math routines compiled as on a host without FMA (on
/// this thread), so that tests cover that code path on any machine.
#[doc(hidden)]
pub fn without_fma<R>(f: impl FnOnce() -> R) -> R {
    let old = NO_FMA.with(|c| c.replace(true));
    let r = f();
    NO_FMA.with(|c| c.set(old));
    r
}

/// Whether the math routines may use FMA on this host (and thread).
pub(crate) fn use_fma(host_has_fma: bool) -> bool {
    host_has_fma && !NO_FMA.with(Cell::get)
}

/// Whether `op` has a vector routine here (for float operands).
pub(crate) fn has_routine(op: Op) -> bool {
    matches!(
        op,
        Op::Exp
            | Op::Expm1
            | Op::Log
            | Op::Log1p
            | Op::Log2
            | Op::Log10
            | Op::Sin
            | Op::Cos
            | Op::Tan
            | Op::Arcsin
            | Op::Arccos
            | Op::Arctan
            | Op::Arctan2
            | Op::Sinh
            | Op::Cosh
            | Op::Tanh
            | Op::Arcsinh
            | Op::Arccosh
            | Op::Arctanh
            | Op::Hypot
            | Op::Pow
    )
}

/// The largest `|k|` for which `x ** k` with a constant integer `k` is
/// lowered as repeated multiplication.
pub const MAX_INT_POW: i32 = 16;

/// The output of a routine: the fast result, and for `sin`/`cos`/`tan` the
/// lanes whose argument is beyond the fast reduction.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Routine {
    pub(crate) value: V,
    /// Lanes to recompute with the scalar `std` function of the same op
    /// (on the `f64` argument), or `None`.
    pub(crate) huge: Option<M>,
}

/// The builder of math routines on `f64x2` values.
///
/// Constants live in a per-kernel data object (`pool`, at `base`), one
/// 16-byte slot per use: each is loaded right before its single use, so
/// that Cranelift folds the load into the instruction as a memory operand.
/// (As `vconst`s they were hoisted out of the loop, then spilled to the
/// stack and reloaded: a third of all instructions.) `base` must vary per
/// loop iteration (see `lower`), or the loads would be hoisted the same way.
pub(crate) struct Vm<'a, 'b> {
    pub(crate) b: &'a mut FunctionBuilder<'b>,
    fma: bool,
    pool: &'a mut Vec<u8>,
    base: Value,
}

fn little() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

impl<'a, 'b> Vm<'a, 'b> {
    pub(crate) fn new(
        b: &'a mut FunctionBuilder<'b>,
        fma: bool,
        pool: &'a mut Vec<u8>,
        base: Value,
    ) -> Self {
        Vm { b, fma, pool, base }
    }

    /// Emits `op` on `f64x2` operands.
    pub(crate) fn routine(&mut self, op: Op, a: &[V]) -> Routine {
        let plain = |value| Routine { value, huge: None };
        match op {
            Op::Exp => plain(self.exp(a[0])),
            Op::Expm1 => plain(self.expm1(a[0])),
            Op::Log => plain(self.log(a[0], log::Base::E)),
            Op::Log2 => plain(self.log(a[0], log::Base::Two)),
            Op::Log10 => plain(self.log(a[0], log::Base::Ten)),
            Op::Log1p => plain(self.log1p(a[0])),
            Op::Sin => self.sin_cos_tan(a[0], trig::Which::Sin),
            Op::Cos => self.sin_cos_tan(a[0], trig::Which::Cos),
            Op::Tan => self.sin_cos_tan(a[0], trig::Which::Tan),
            Op::Arcsin => plain(self.asin(a[0])),
            Op::Arccos => plain(self.acos(a[0])),
            Op::Arctan => plain(self.atan(a[0])),
            Op::Arctan2 => plain(self.atan2(a[0], a[1])),
            Op::Sinh => plain(self.sinh_cosh(a[0], true)),
            Op::Cosh => plain(self.sinh_cosh(a[0], false)),
            Op::Tanh => plain(self.tanh(a[0])),
            Op::Arcsinh => plain(self.asinh(a[0])),
            Op::Arccosh => plain(self.acosh(a[0])),
            Op::Arctanh => plain(self.atanh(a[0])),
            Op::Hypot => plain(self.hypot(a[0], a[1])),
            Op::Pow => plain(self.pow(a[0], a[1])),
            // `has_routine` is false for every other op; the caller checks.
            _ => plain(a[0]),
        }
    }

    // ----- constants and arithmetic --------------------------------------

    /// Loads a constant from a fresh slot of the pool.
    fn vconst(&mut self, ty: types::Type, bytes: [u8; 16]) -> V {
        let off = self.pool.len();
        self.pool.extend_from_slice(&bytes);
        let flags = MemFlagsData::new()
            .with_notrap()
            .with_aligned()
            .with_readonly()
            .with_can_move();
        // The pool of one kernel stays far below 2 GiB.
        let off = i32::try_from(off).unwrap_or(i32::MAX);
        self.b.ins().load(ty, flags, self.base, off)
    }

    /// The splat of `x`.
    pub(crate) fn c(&mut self, x: f64) -> V {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&x.to_le_bytes());
        bytes[8..].copy_from_slice(&x.to_le_bytes());
        self.vconst(types::F64X2, bytes)
    }

    /// The splat of the `i64` `x`.
    fn ci(&mut self, x: u64) -> Value {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&x.to_le_bytes());
        bytes[8..].copy_from_slice(&x.to_le_bytes());
        self.vconst(types::I64X2, bytes)
    }

    fn add(&mut self, a: V, b: V) -> V {
        self.b.ins().fadd(a, b)
    }
    fn sub(&mut self, a: V, b: V) -> V {
        self.b.ins().fsub(a, b)
    }
    fn mul(&mut self, a: V, b: V) -> V {
        self.b.ins().fmul(a, b)
    }
    fn div(&mut self, a: V, b: V) -> V {
        self.b.ins().fdiv(a, b)
    }
    /// `-a`, as one `xorpd` with a memory operand.
    fn neg(&mut self, a: V) -> V {
        let m = self.c(-0.0);
        self.b.ins().bxor(m, a)
    }
    /// `|a|`, as one `andpd` with a memory operand.
    fn abs(&mut self, a: V) -> V {
        let m = self.c(f64::from_bits(!(1 << 63)));
        self.b.ins().band(m, a)
    }
    fn sqrt(&mut self, a: V) -> V {
        self.b.ins().sqrt(a)
    }
    /// Round to the nearest integer, ties to even.
    fn rint(&mut self, a: V) -> V {
        self.b.ins().nearest(a)
    }
    fn trunc(&mut self, a: V) -> V {
        self.b.ins().trunc(a)
    }
    // The constant goes first: Cranelift folds a load into `addpd`,
    // `mulpd`, `andpd`, `xorpd` only in that position.
    fn addc(&mut self, a: V, c: f64) -> V {
        let c = self.c(c);
        self.add(c, a)
    }
    fn mulc(&mut self, a: V, c: f64) -> V {
        let c = self.c(c);
        self.mul(c, a)
    }

    /// `a * b + c`, fused where the host has FMA.
    fn mla(&mut self, a: V, b: V, c: V) -> V {
        if self.fma {
            self.b.ins().fma(a, b, c)
        } else {
            let p = self.mul(a, b);
            self.add(p, c)
        }
    }

    /// `c - a * b`, fused where the host has FMA.
    fn nmla(&mut self, a: V, b: V, c: V) -> V {
        if self.fma {
            let na = self.neg(a);
            self.b.ins().fma(na, b, c)
        } else {
            let p = self.mul(a, b);
            self.sub(c, p)
        }
    }

    /// `n - q * d` exactly (up to one rounding of a term far below it), for
    /// `q` close to `n / d`: the remainder of a division.
    fn rem(&mut self, q: V, d: V, n: V) -> V {
        if self.fma {
            self.nmla(q, d, n)
        } else {
            let (p, pe) = self.two_prod(q, d);
            let r = self.sub(n, p);
            self.sub(r, pe)
        }
    }

    /// Horner evaluation of `c[0] + c[1] x + ...`.
    fn poly(&mut self, x: V, c: &[f64]) -> V {
        let mut acc = self.c(c[c.len() - 1]);
        for k in (0..c.len() - 1).rev() {
            let ck = self.c(c[k]);
            acc = self.mla(acc, x, ck);
        }
        acc
    }

    // ----- double-double building blocks ---------------------------------

    /// Knuth's TwoSum: `s + e == a + b` exactly.
    fn two_sum(&mut self, a: V, b: V) -> (V, V) {
        let s = self.add(a, b);
        let bb = self.sub(s, a);
        let ab = self.sub(s, bb);
        let da = self.sub(a, ab);
        let db = self.sub(b, bb);
        (s, self.add(da, db))
    }

    /// Dekker's Fast2Sum: `s + e == a + b` exactly when `|a| >= |b|` (or
    /// `a`'s exponent is at least `b`'s).
    fn fast_two_sum(&mut self, a: V, b: V) -> (V, V) {
        let s = self.add(a, b);
        let t = self.sub(s, a);
        (s, self.sub(b, t))
    }

    /// `p + e == a * b` exactly (barring underflow): FMA where the host has
    /// it, else Dekker's product with Veltkamp splitting (which needs
    /// `|a|, |b| < 2^996`).
    fn two_prod(&mut self, a: V, b: V) -> (V, V) {
        let p = self.mul(a, b);
        if self.fma {
            let np = self.neg(p);
            return (p, self.b.ins().fma(a, b, np));
        }
        let (ah, al) = self.split(a);
        let (bh, bl) = self.split(b);
        let hh = self.mul(ah, bh);
        let e = self.sub(hh, p);
        let hl = self.mul(ah, bl);
        let e = self.add(e, hl);
        let lh = self.mul(al, bh);
        let e = self.add(e, lh);
        let ll = self.mul(al, bl);
        (p, self.add(e, ll))
    }

    /// Veltkamp's split of `a` into two halves of 26 bits.
    fn split(&mut self, a: V) -> (V, V) {
        let c = self.mulc(a, 134_217_729.0);
        let d = self.sub(c, a);
        let hi = self.sub(c, d);
        (hi, self.sub(a, hi))
    }

    // ----- masks, selects, bits ------------------------------------------

    fn cmp(&mut self, cc: FloatCC, a: V, b: V) -> M {
        M(self.b.ins().fcmp(cc, a, b))
    }
    fn lt(&mut self, a: V, b: V) -> M {
        self.cmp(FloatCC::LessThan, a, b)
    }
    fn gt(&mut self, a: V, b: V) -> M {
        self.cmp(FloatCC::GreaterThan, a, b)
    }
    fn eq(&mut self, a: V, b: V) -> M {
        self.cmp(FloatCC::Equal, a, b)
    }
    fn ltc(&mut self, a: V, c: f64) -> M {
        let c = self.c(c);
        self.lt(a, c)
    }
    fn gtc(&mut self, a: V, c: f64) -> M {
        let c = self.c(c);
        self.gt(a, c)
    }
    fn eqc(&mut self, a: V, c: f64) -> M {
        let c = self.c(c);
        self.eq(a, c)
    }
    fn isnan(&mut self, a: V) -> M {
        self.cmp(FloatCC::Unordered, a, a)
    }
    fn and(&mut self, a: M, b: M) -> M {
        M(self.b.ins().band(a.0, b.0))
    }
    fn or(&mut self, a: M, b: M) -> M {
        M(self.b.ins().bor(a.0, b.0))
    }
    fn not(&mut self, a: M) -> M {
        M(self.b.ins().bnot(a.0))
    }

    /// `m ? a : b` lane by lane. Selected as integers so that Cranelift
    /// sees the comparison behind the mask and emits one `blendv`.
    fn sel(&mut self, m: M, a: V, b: V) -> V {
        let a = self.as_int(a);
        let b = self.as_int(b);
        let r = self.b.ins().bitselect(m.0, a, b);
        self.as_float(r)
    }

    /// `m ? c : b` lane by lane.
    fn selc(&mut self, m: M, c: f64, b: V) -> V {
        let c = self.c(c);
        self.sel(m, c, b)
    }

    /// `m ? a : 0.0` (one `andpd`).
    fn mask(&mut self, m: M, a: V) -> V {
        let m = self.b.ins().bitcast(types::F64X2, little(), m.0);
        self.b.ins().band(a, m)
    }

    fn as_int(&mut self, a: V) -> Value {
        self.b.ins().bitcast(types::I64X2, little(), a)
    }
    fn as_float(&mut self, a: Value) -> V {
        self.b.ins().bitcast(types::F64X2, little(), a)
    }

    /// The lanes whose sign bit is set (`-0.0` and `-NaN` included).
    fn signbit(&mut self, a: V) -> M {
        let bits = self.as_int(a);
        let zero = self.ci(0);
        M(self.b.ins().icmp(IntCC::SignedLessThan, bits, zero))
    }

    /// `|mag|` with the sign of `sign`.
    fn copysign(&mut self, mag: V, sign: V) -> V {
        let m = self.c(-0.0);
        self.b.ins().bitselect(m, sign, mag)
    }

    /// `x` where `x == 0` (keeping the sign of zero), else `r`: for odd
    /// functions whose formula would turn `-0.0` into `+0.0`.
    fn fix_zero(&mut self, x: V, r: V) -> V {
        let z = self.eqc(x, 0.0);
        self.sel(z, x, r)
    }

    /// `2^k` for integer-valued `k` in `[-1022, 1023]` (other `k` give
    /// garbage): `k + 1023` lands in the low mantissa bits of `k + 1.5 *
    /// 2^52` and is shifted into the exponent field.
    fn pow2i(&mut self, k: V) -> V {
        let t = self.addc(k, SHIFTER + 1023.0);
        let bits = self.as_int(t);
        let e = self.b.ins().ishl_imm_u(bits, 52);
        self.as_float(e)
    }

    /// `x * 2^k` for integer-valued `|k| <= 2044`, rounding once: the
    /// scale is applied in two steps of at most 2^1022 each.
    fn ldexp(&mut self, x: V, k: V) -> V {
        let h = self.mulc(k, 0.5);
        let k1 = self.trunc(h);
        let k2 = self.sub(k, k1);
        let s1 = self.pow2i(k1);
        let s2 = self.pow2i(k2);
        let y = self.mul(x, s1);
        self.mul(y, s2)
    }
}

/// `1.5 * 2^52`: adding it to an integer-valued `|k| < 2^51` leaves `k` in
/// two's complement in the low mantissa bits.
const SHIFTER: f64 = 6_755_399_441_055_744.0;

/// Parts of constants: `HI` with trailing zeros so that `n * HI` is exact
/// for the `n` each routine uses, `LO` the rounded rest.
mod consts {
    /// ln 2: 40-bit high part (n * LN2_HI exact for |n| < 2^13).
    pub(super) const LN2_HI: f64 = f64::from_bits(0x3fe62e42fefa2000);
    pub(super) const LN2_LO: f64 = f64::from_bits(0x3d69ef35793c7673);
    pub(super) const LOG2E: f64 = f64::from_bits(0x3ff71547652b82fe);
    pub(super) const LOG2E_LO: f64 = f64::from_bits(0x3c7777d0ffda0d24);
    pub(super) const LOG10E: f64 = f64::from_bits(0x3fdbcb7b1526e50e);
    pub(super) const LOG10E_LO: f64 = f64::from_bits(0x3c695355baaafad3);
    /// log10(2): 40-bit high part.
    pub(super) const LG2_HI: f64 = f64::from_bits(0x3fd34413509f6000);
    pub(super) const LG2_LO: f64 = f64::from_bits(0x3d59fef311f12b36);
    /// pi/2 in three 53-bit parts (for FMA reduction: 159 bits).
    pub(super) const PIO2_1: f64 = f64::from_bits(0x3ff921fb54442d18);
    pub(super) const PIO2_2: f64 = f64::from_bits(0x3c91a62633145c07);
    pub(super) const PIO2_3: f64 = f64::from_bits(0xb91f1976b7ed8fbc);
    /// pi/2 in three 30-bit parts and a 53-bit rest (reduction without
    /// FMA: q * part exact for |q| < 2^23).
    pub(super) const PIO2_30: [f64; 4] = [
        f64::from_bits(0x3ff921fb54000000),
        f64::from_bits(0x3e110b4611800000),
        f64::from_bits(0x3c2313198a000000),
        f64::from_bits(0x3a3701b839a25205),
    ];
    pub(super) const TWO_OVER_PI: f64 = std::f64::consts::FRAC_2_PI;
    pub(super) const PIO2_HI: f64 = PIO2_1;
    pub(super) const PIO2_LO: f64 = PIO2_2;
    pub(super) const PI_HI: f64 = f64::from_bits(0x400921fb54442d18);
    pub(super) const PI_LO: f64 = f64::from_bits(0x3ca1a62633145c07);
}
