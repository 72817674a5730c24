//! Scalar definitions of the operations whose meaning is more than one
//! machine instruction: integer division and modulo (total, wrapping),
//! numpy's float floor division and remainder, integer powers, shifts,
//! NaN-propagating maximum and minimum, and the order in which a reduction
//! folds its values ([`fold_line`]).
//!
//! The reference interpreter calls these, constant folding calls these, and
//! the JIT either calls them or lowers code that the differential tests
//! prove equal to them; every engine folds reductions with the functions
//! here. They are the single written-down semantics.

use crate::array::Element;
use crate::ops::ReduceOp;

/// Float operations shared by `f32` and `f64`.
pub trait Float:
    Copy + PartialOrd + std::ops::Sub<Output = Self> + std::ops::Div<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
    const HALF: Self;
    fn fmod(self, b: Self) -> Self;
    fn floor(self) -> Self;
    fn copysign(self, sign: Self) -> Self;
    fn is_nan(self) -> bool;
    fn add(self, b: Self) -> Self;
}

macro_rules! impl_float {
    ($t:ty) => {
        impl Float for $t {
            const ZERO: $t = 0.0;
            const ONE: $t = 1.0;
            const HALF: $t = 0.5;
            fn fmod(self, b: $t) -> $t {
                self % b
            }
            fn floor(self) -> $t {
                <$t>::floor(self)
            }
            fn copysign(self, sign: $t) -> $t {
                <$t>::copysign(self, sign)
            }
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            fn add(self, b: $t) -> $t {
                self + b
            }
        }
    };
}
impl_float!(f32);
impl_float!(f64);

/// numpy's `divmod` for floats (`npy_divmod`): the floor quotient and the
/// remainder with the sign of the divisor, both exact where they can be.
pub fn float_divmod<T: Float>(a: T, b: T) -> (T, T) {
    let mut m = a.fmod(b);
    if b == T::ZERO {
        return (a / b, m);
    }
    let mut div = (a - m) / b;
    if m != T::ZERO {
        if (b < T::ZERO) != (m < T::ZERO) {
            m = m.add(b);
            div = div - T::ONE;
        }
    } else {
        m = T::ZERO.copysign(b);
    }
    let floordiv = if div != T::ZERO {
        let mut fd = div.floor();
        if div - fd > T::HALF {
            fd = fd.add(T::ONE);
        }
        fd
    } else {
        T::ZERO.copysign(a / b)
    };
    (floordiv, m)
}

/// `a // b` for floats, as numpy computes it.
pub fn float_floor_div<T: Float>(a: T, b: T) -> T {
    if b == T::ZERO {
        return a / b;
    }
    float_divmod(a, b).0
}

/// `a % b` for floats, as numpy computes it (sign of the divisor).
pub fn float_mod<T: Float>(a: T, b: T) -> T {
    if b == T::ZERO {
        return a.fmod(b);
    }
    float_divmod(a, b).1
}

/// numpy's `maximum`: NaN in either operand gives NaN (the first NaN),
/// otherwise the larger; for `-0.0` and `0.0` the first operand.
pub fn maximum<T: Float>(a: T, b: T) -> T {
    if a >= b || a.is_nan() { a } else { b }
}

/// numpy's `minimum`, the mirror of [`maximum`].
pub fn minimum<T: Float>(a: T, b: T) -> T {
    if a <= b || a.is_nan() { a } else { b }
}

/// numpy's `sign` for floats: -1, 0 (for both zeros) or 1; NaN stays NaN.
pub fn float_sign<T: Float>(x: T) -> T {
    if x > T::ZERO {
        T::ONE
    } else if x < T::ZERO {
        T::ZERO - T::ONE
    } else if x == T::ZERO {
        T::ZERO
    } else {
        x
    }
}

// The libm functions whose special cases exprjit pins down itself, so that
// every engine (the interpreter, folding, Strict's per-lane calls and the
// Fast vector routines) gives the same bits. The rule is numpy's (C99 Annex
// F), applied to signalling NaNs too, which glibc treats differently:
// `x ** 0 == 1` and `1 ** y == 1` for every x and y, NaNs included;
// `hypot(±inf, y) == hypot(y, ±inf) == inf`, NaN or not; `arccosh(x)` is
// NaN below 1 (the `libm` crate's `acosh` is not).

/// `x ** y` for f64 (see the rule above).
pub fn pow_f64(x: f64, y: f64) -> f64 {
    if y == 0.0 || x == 1.0 { 1.0 } else { x.powf(y) }
}

/// `x ** y` for f32 (see the rule above).
pub fn pow_f32(x: f32, y: f32) -> f32 {
    if y == 0.0 || x == 1.0 { 1.0 } else { x.powf(y) }
}

/// `hypot(x, y)` for f64: an infinity in either operand gives +inf.
pub fn hypot_f64(x: f64, y: f64) -> f64 {
    if x.is_infinite() || y.is_infinite() {
        f64::INFINITY
    } else {
        x.hypot(y)
    }
}

/// `hypot(x, y)` for f32: an infinity in either operand gives +inf.
pub fn hypot_f32(x: f32, y: f32) -> f32 {
    if x.is_infinite() || y.is_infinite() {
        f32::INFINITY
    } else {
        x.hypot(y)
    }
}

/// `arccosh(x)` for f64: NaN below 1 (C's `acosh`, numpy).
pub fn acosh_f64(x: f64) -> f64 {
    if x < 1.0 { f64::NAN } else { libm::acosh(x) }
}

/// `arccosh(x)` for f32: NaN below 1 (C's `acoshf`, numpy).
pub fn acosh_f32(x: f32) -> f32 {
    if x < 1.0 { f32::NAN } else { libm::acoshf(x) }
}

/// `nextafter(x, y)` as in C.
pub fn nextafter_f64(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        x + y
    } else if x == y {
        y
    } else if x < y {
        x.next_up()
    } else {
        x.next_down()
    }
}

/// `nextafter(x, y)` as in C, for `f32`.
pub fn nextafter_f32(x: f32, y: f32) -> f32 {
    if x.is_nan() || y.is_nan() {
        x + y
    } else if x == y {
        y
    } else if x < y {
        x.next_up()
    } else {
        x.next_down()
    }
}

macro_rules! int_semantics {
    ($t:ty, $floordiv:ident, $modulo:ident, $fmod:ident, $pow:ident, $shl:ident, $shr:ident) => {
        /// Floor division; division by zero gives 0 and `MIN // -1` wraps.
        pub fn $floordiv(a: $t, b: $t) -> $t {
            if b == 0 {
                return 0;
            }
            let (q, r) = (a.wrapping_div(b), a.wrapping_rem(b));
            if r != 0 && ((r < 0) != (b < 0)) {
                q - 1
            } else {
                q
            }
        }

        /// Python modulo (sign of the divisor); modulo by zero gives 0.
        pub fn $modulo(a: $t, b: $t) -> $t {
            if b == 0 {
                return 0;
            }
            let r = a.wrapping_rem(b);
            if r != 0 && ((r < 0) != (b < 0)) {
                r.wrapping_add(b)
            } else {
                r
            }
        }

        /// C remainder (sign of the dividend); by zero gives 0.
        pub fn $fmod(a: $t, b: $t) -> $t {
            if b == 0 { 0 } else { a.wrapping_rem(b) }
        }

        /// Integer power with wrapping. A negative exponent gives `1/a**-b`
        /// truncated: 1 for a = 1, +-1 for a = -1, and 0 otherwise
        /// (including a = 0, like integer division by zero).
        pub fn $pow(a: $t, b: $t) -> $t {
            if b < 0 {
                return match a {
                    1 => 1,
                    -1 => {
                        if b & 1 == 0 {
                            1
                        } else {
                            -1
                        }
                    }
                    _ => 0,
                };
            }
            let (mut base, mut exp, mut acc): ($t, $t, $t) = (a, b, 1);
            while exp > 0 {
                if exp & 1 == 1 {
                    acc = acc.wrapping_mul(base);
                }
                base = base.wrapping_mul(base);
                exp >>= 1;
            }
            acc
        }

        /// numpy's `left_shift`: shifts of the bit width or more, or
        /// negative, give 0.
        pub fn $shl(a: $t, b: $t) -> $t {
            if b >= 0 && b < <$t>::BITS as $t {
                a << b
            } else {
                0
            }
        }

        /// numpy's `right_shift` (arithmetic): shifts of the bit width or
        /// more, or negative, give 0 or -1 by the sign of `a`.
        pub fn $shr(a: $t, b: $t) -> $t {
            if b >= 0 && b < <$t>::BITS as $t {
                a >> b
            } else if a < 0 {
                -1
            } else {
                0
            }
        }
    };
}

int_semantics!(
    i32,
    floor_div_i32,
    mod_i32,
    fmod_i32,
    pow_i32,
    shl_i32,
    shr_i32
);
int_semantics!(
    i64,
    floor_div_i64,
    mod_i64,
    fmod_i64,
    pow_i64,
    shl_i64,
    shr_i64
);

/// Reductions fold a line of values in fixed blocks of this many values,
/// counted from the line's start: each block's partial is a pairwise
/// reduction of its values ([`fold_block`]), and the line's result a
/// pairwise tree over the partials in index order ([`fold_partials`]).
/// Blocks are the unit of parallel work, so the result does not depend on
/// thread count or tile size.
// PERF: 2048 values of the widest dtype (8 bytes) fill a 16 KiB scratch
// buffer, a third of a 48 KiB L1 data cache; not tuned by measurement.
pub const REDUCE_BLOCK: usize = 2048;

/// Up to this many values, [`pairwise`] folds with 8 accumulators; above,
/// it halves (numpy's `PW_BLOCKSIZE`).
const PAIRWISE_BASE: usize = 128;

/// A value reductions fold: the five dtypes, with the meaning each
/// reduction gives them. Integers wrap; floats' `min`/`max` propagate NaN;
/// on bool, `sum`/`max` are `|` and `prod`/`min` are `&` (so `any` is
/// `max` and `all` is `min`).
pub trait Fold: Element + Default {
    fn add(self, b: Self) -> Self;
    fn mul(self, b: Self) -> Self;
    fn min(self, b: Self) -> Self;
    fn max(self, b: Self) -> Self;
    /// `self / n` for `mean` (floats; other dtypes never take a mean).
    fn div_count(self, n: usize) -> Self;
}

impl Fold for bool {
    fn add(self, b: bool) -> bool {
        self | b
    }
    fn mul(self, b: bool) -> bool {
        self & b
    }
    fn min(self, b: bool) -> bool {
        self & b
    }
    fn max(self, b: bool) -> bool {
        self | b
    }
    fn div_count(self, _: usize) -> bool {
        self
    }
}

macro_rules! fold_int {
    ($t:ty) => {
        impl Fold for $t {
            fn add(self, b: $t) -> $t {
                self.wrapping_add(b)
            }
            fn mul(self, b: $t) -> $t {
                self.wrapping_mul(b)
            }
            fn min(self, b: $t) -> $t {
                Ord::min(self, b)
            }
            fn max(self, b: $t) -> $t {
                Ord::max(self, b)
            }
            fn div_count(self, _: usize) -> $t {
                self
            }
        }
    };
}
fold_int!(i32);
fold_int!(i64);

macro_rules! fold_float {
    ($t:ty) => {
        impl Fold for $t {
            fn add(self, b: $t) -> $t {
                self + b
            }
            fn mul(self, b: $t) -> $t {
                self * b
            }
            // [`minimum`] and [`maximum`], written without short-circuits
            // so that the 8-accumulator loop vectorises: `b` is chosen
            // exactly when `maximum(self, b)` chooses it (`self` is not
            // NaN, and `b` is larger or NaN). A test checks the equality.
            fn min(self, b: $t) -> $t {
                if (b < self) | (b.is_nan() & !self.is_nan()) {
                    b
                } else {
                    self
                }
            }
            fn max(self, b: $t) -> $t {
                if (self < b) | (b.is_nan() & !self.is_nan()) {
                    b
                } else {
                    self
                }
            }
            fn div_count(self, n: usize) -> $t {
                // numpy divides by the count as a weak scalar, i.e. in
                // the float's own dtype.
                self / n as $t
            }
        }
    };
}
fold_float!(f32);
fold_float!(f64);

/// [`pairwise`] with the binary operation `op` folds with (on values of
/// `op`'s result dtype), each a separate instance so that it inlines.
fn pairwise_op<T: Fold>(op: ReduceOp, xs: &[T]) -> Option<T> {
    match op {
        ReduceOp::Sum | ReduceOp::Mean => pairwise(xs, T::add),
        ReduceOp::Prod => pairwise(xs, T::mul),
        ReduceOp::Min | ReduceOp::All => pairwise(xs, T::min),
        ReduceOp::Max | ReduceOp::Any => pairwise(xs, T::max),
    }
}

/// numpy's pairwise reduction (`pairwise_sum`): fewer than 8 values are
/// folded left to right; up to 128 into 8 interleaved accumulators,
/// combined as a tree, then the remainder left to right; more are split
/// in two halves (the first a multiple of 8 long) folded recursively. The
/// rounding error of a sum grows with `log2(n)` rather than `n`. `None`
/// for no values.
pub fn pairwise<T: Copy, F: Fn(T, T) -> T + Copy>(xs: &[T], f: F) -> Option<T> {
    let n = xs.len();
    if n < 8 {
        let (&first, rest) = xs.split_first()?;
        return Some(rest.iter().fold(first, |acc, &x| f(acc, x)));
    }
    if n <= PAIRWISE_BASE {
        let mut r = [xs[0], xs[1], xs[2], xs[3], xs[4], xs[5], xs[6], xs[7]];
        let whole = n - n % 8;
        for chunk in xs[8..whole].chunks_exact(8) {
            for (acc, &x) in r.iter_mut().zip(chunk) {
                *acc = f(*acc, x);
            }
        }
        let tree = f(
            f(f(r[0], r[1]), f(r[2], r[3])),
            f(f(r[4], r[5]), f(r[6], r[7])),
        );
        return Some(xs[whole..].iter().fold(tree, |acc, &x| f(acc, x)));
    }
    let half = n / 2;
    let half = half - half % 8;
    let (a, b) = xs.split_at(half);
    Some(f(pairwise(a, f)?, pairwise(b, f)?))
}

/// The partial of one block (at most [`REDUCE_BLOCK`] values, in `op`'s
/// result dtype); `None` for an empty block.
pub fn fold_block<T: Fold>(op: ReduceOp, xs: &[T]) -> Option<T> {
    pairwise_op(op, xs)
}

/// A `min`, `max` or `mean` of no values, which has no result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmptyReduction(pub ReduceOp);

/// The result of a line of `n` values from the partials of its blocks, in
/// order: a pairwise tree over them; then, for `mean`, the division by `n`.
/// An empty line gives the identity, or [`EmptyReduction`].
pub fn fold_partials<T: Fold>(op: ReduceOp, partials: &[T], n: usize) -> Result<T, EmptyReduction> {
    match pairwise_op(op, partials) {
        Some(total) if op == ReduceOp::Mean => Ok(total.div_count(n)),
        Some(total) => Ok(total),
        None => op
            .identity(T::DTYPE)
            .map(T::from_scalar)
            .ok_or(EmptyReduction(op)),
    }
}

/// The reduction of one line of values (already in `op`'s result dtype):
/// [`fold_block`] over each [`REDUCE_BLOCK`] values, then
/// [`fold_partials`]. Every engine's result equals this bit for bit.
pub fn fold_line<T: Fold>(op: ReduceOp, xs: &[T]) -> Result<T, EmptyReduction> {
    let partials: Vec<T> = xs
        .chunks(REDUCE_BLOCK)
        .filter_map(|b| fold_block(op, b))
        .collect();
    fold_partials(op, &partials, xs.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_division_is_total_and_floors() {
        assert_eq!(floor_div_i64(7, 2), 3);
        assert_eq!(floor_div_i64(-7, 2), -4);
        assert_eq!(floor_div_i64(7, -2), -4);
        assert_eq!(floor_div_i64(-7, -2), 3);
        assert_eq!(floor_div_i64(-8, 2), -4);
        assert_eq!(floor_div_i64(5, 0), 0);
        assert_eq!(floor_div_i64(i64::MIN, -1), i64::MIN);
        assert_eq!(floor_div_i32(i32::MIN, -1), i32::MIN);
        assert_eq!(floor_div_i32(i32::MIN, 1), i32::MIN);
        assert_eq!(mod_i64(-7, 2), 1);
        assert_eq!(mod_i64(7, -2), -1);
        assert_eq!(mod_i64(5, 0), 0);
        assert_eq!(mod_i64(i64::MIN, -1), 0);
        assert_eq!(fmod_i32(-7, 2), -1);
        assert_eq!(fmod_i32(i32::MIN, -1), 0);
    }

    #[test]
    fn exhaustive_small_floor_div_matches_definition() {
        for a in -20i64..=20 {
            for b in -20i64..=20 {
                if b == 0 {
                    continue;
                }
                let want = (a as f64 / b as f64).floor() as i64;
                assert_eq!(floor_div_i64(a, b), want, "{a} // {b}");
                assert_eq!(mod_i64(a, b), a - want * b, "{a} % {b}");
            }
        }
    }

    #[test]
    fn float_floor_div_and_mod_follow_numpy() {
        assert_eq!(float_floor_div(7.0f64, 2.0), 3.0);
        assert_eq!(float_floor_div(-7.0f64, 2.0), -4.0);
        assert_eq!(float_mod(-7.0f64, 2.0), 1.0);
        assert_eq!(float_mod(7.0f64, -2.0), -1.0);
        assert!(float_mod(1.0f64, 0.0).is_nan());
        assert_eq!(float_floor_div(1.0f64, 0.0), f64::INFINITY);
        assert!(float_mod(-0.0f64, 2.0).to_bits() == 0.0f64.to_bits());
        assert!(float_mod(0.0f64, -2.0).is_sign_negative());
        // numpy: np.floor_divide(0.0, -1.0) == -0.0
        assert!(float_floor_div(0.0f64, -1.0).is_sign_negative());
        // numpy: np.floor_divide(1.0, 0.1) == 9.0 (0.1 is a bit above 1/10)
        assert_eq!(float_floor_div(1.0f64, 0.1), 9.0);
        assert_eq!(float_mod(1.0f64, 0.1), 0.09999999999999995);
    }

    #[test]
    fn powers_and_shifts() {
        assert_eq!(pow_i64(3, 4), 81);
        assert_eq!(pow_i64(2, 64), 0);
        assert_eq!(pow_i32(-1, -3), -1);
        assert_eq!(pow_i32(2, -1), 0);
        assert_eq!(pow_i64(0, 0), 1);
        assert_eq!(shl_i32(1, 31), i32::MIN);
        assert_eq!(shl_i32(1, 32), 0);
        assert_eq!(shl_i64(1, -1), 0);
        assert_eq!(shr_i64(-8, 70), -1);
        assert_eq!(shr_i64(8, 70), 0);
        assert_eq!(shr_i32(-8, 1), -4);
    }

    #[test]
    fn maximum_propagates_nan() {
        assert!(maximum(f64::NAN, 1.0).is_nan());
        assert!(maximum(1.0, f64::NAN).is_nan());
        assert_eq!(maximum(1.0f64, 2.0), 2.0);
        assert!(minimum(f32::NAN, 1.0).is_nan());
        assert!(maximum(-0.0f64, 0.0).is_sign_negative());
        assert_eq!(float_sign(-0.0f64).to_bits(), 0);
        assert_eq!(nextafter_f64(0.0, -1.0), -f64::from_bits(1));
    }

    #[test]
    fn pairwise_follows_numpy_order() {
        // Below 8 values: left to right.
        let xs = [1e16, 1.0, -1e16, 1.0];
        assert_eq!(
            pairwise(&xs, <f64 as Fold>::add),
            Some(((1e16 + 1.0) - 1e16) + 1.0)
        );
        assert_eq!(pairwise::<f64, _>(&[], <f64 as Fold>::add), None);
        // 8 accumulators: element i goes to accumulator i % 8.
        let xs: Vec<f64> = (0..20).map(f64::from).collect();
        let r: Vec<f64> = (0..8).map(|j| xs[j] + xs[j + 8]).collect();
        let tree = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        let want = ((tree + 16.0) + 17.0 + 18.0) + 19.0;
        assert_eq!(pairwise(&xs, <f64 as Fold>::add), Some(want));
        // Above 128: halves at a multiple of 8.
        let xs: Vec<i64> = (0..1000).collect();
        assert_eq!(pairwise(&xs, <i64 as Fold>::add), Some(499_500));
    }

    #[test]
    fn lines_fold_in_blocks() {
        let n = 3 * REDUCE_BLOCK + 5;
        let xs: Vec<f64> = (0..n).map(|i| 1.0 / (i as f64 + 1.0)).collect();
        let blocks: Vec<f64> = xs
            .chunks(REDUCE_BLOCK)
            .map(|b| fold_block(ReduceOp::Sum, b).unwrap())
            .collect();
        let want = (blocks[0] + blocks[1]) + blocks[2] + blocks[3];
        assert_eq!(fold_line(ReduceOp::Sum, &xs), Ok(want));
        assert_eq!(fold_line(ReduceOp::Mean, &xs), Ok(want / n as f64));
    }

    #[test]
    fn empty_lines_give_the_identity_or_an_error() {
        assert_eq!(fold_line::<i64>(ReduceOp::Sum, &[]), Ok(0));
        assert_eq!(fold_line::<f64>(ReduceOp::Prod, &[]), Ok(1.0));
        assert_eq!(fold_line::<bool>(ReduceOp::Any, &[]), Ok(false));
        assert_eq!(fold_line::<bool>(ReduceOp::All, &[]), Ok(true));
        assert_eq!(
            fold_line::<f64>(ReduceOp::Max, &[]),
            Err(EmptyReduction(ReduceOp::Max))
        );
        assert_eq!(
            fold_line::<f32>(ReduceOp::Mean, &[]),
            Err(EmptyReduction(ReduceOp::Mean))
        );
    }

    #[test]
    fn folded_min_and_max_are_minimum_and_maximum() {
        let xs = [
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            1.0,
            -1.0,
            f64::MIN_POSITIVE,
        ];
        for a in xs {
            for b in xs {
                let same = |x: f64, y: f64| x.to_bits() == y.to_bits();
                assert!(same(Fold::max(a, b), maximum(a, b)), "max {a} {b}");
                assert!(same(Fold::min(a, b), minimum(a, b)), "min {a} {b}");
                let (a, b) = (a as f32, b as f32);
                assert!(Fold::max(a, b).to_bits() == maximum(a, b).to_bits());
                assert!(Fold::min(a, b).to_bits() == minimum(a, b).to_bits());
            }
        }
    }

    #[test]
    fn min_and_max_propagate_nan() {
        let mut xs = vec![1.0f64; 300];
        xs[201] = f64::NAN;
        assert!(fold_line(ReduceOp::Max, &xs).unwrap().is_nan());
        assert!(fold_line(ReduceOp::Min, &xs).unwrap().is_nan());
        assert_eq!(fold_line(ReduceOp::Max, &[1i32, 7, -3]), Ok(7));
        assert_eq!(fold_line(ReduceOp::All, &[true, false]), Ok(false));
        assert_eq!(fold_line(ReduceOp::Any, &[false, true]), Ok(true));
        assert_eq!(fold_line(ReduceOp::Sum, &[i64::MAX, 1]), Ok(i64::MIN));
    }
}
