//! Scalar definitions of the operations whose meaning is more than one
//! machine instruction: integer division and modulo (total, wrapping),
//! numpy's float floor division and remainder, integer powers, shifts,
//! and NaN-propagating maximum and minimum.
//!
//! The reference interpreter calls these, constant folding calls these, and
//! the JIT either calls them or lowers code that the differential tests
//! prove equal to them. They are the single written-down semantics.

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
}
