//! Turns a huge `sin`/`cos`/`tan` argument (`|x| >= 2^23`) into its quadrant
//! and reduced argument `x - n pi/2` as a double-double, exactly: Payne and
//! Hanek's reduction ("Radian reduction for trigonometric functions",
//! SIGNUM Newsletter 18, 1983) with the bits of 2/pi from
//! `tables::TWO_OVER_PI`. Scalar Rust, called from the slow path of the
//! vector routines (see [`exprjit_reduce_lanes`]).

use super::SHIFTER;
use super::tables::TWO_OVER_PI;

/// Bytes of the stack slot through which the vector code and
/// [`exprjit_reduce_lanes`] talk: two `f64x2` arguments in, then the
/// quadrants (as `SHIFTER + n mod 4`), the high parts and the low parts out.
pub(crate) const HUGE_SLOT: u32 = 64;

/// The smallest `|x|` that [`reduce_pio2`] accepts (the vector code's
/// Cody-Waite reduction covers up to 2^30 with FMA, 2^23 without).
pub(crate) const HUGE_MIN: f64 = 8_388_608.0;

/// `x = n pi/2 + rh + rl` for finite `x >= 2^23`: `(n mod 4, rh, rl)` with
/// `|rh + rl| <= pi/4`, to about 2^-120 relative (no double is closer than
/// 2^-61 to a multiple of pi/2, and 192 bits of `x 2/pi` are kept).
/// Returns `None` for other `x`.
pub(crate) fn reduce_pio2(x: f64) -> Option<(u32, f64, f64)> {
    if !(x >= HUGE_MIN && x.is_finite()) {
        return None;
    }
    let bits = x.to_bits();
    // x = m 2^e, m a 53-bit integer; e >= -29 since x >= 2^23.
    let m = (bits & ((1 << 52) - 1)) | (1 << 52);
    let e = ((bits >> 52) & 0x7ff) as i32 - 1075;
    // Bit j of 2/pi (weight 2^-j) contributes m 2^(e - j): a multiple of 4
    // for j <= e - 2, which cannot change the quadrant mod 4 nor the
    // fraction. Take the 256 bits from j0 = max(1, e - 1) on; the bits past
    // them contribute less than 2^(53 + e - j0 - 256) <= 2^-200.
    let j0 = (e - 1).max(1);
    let o = (j0 - 1) as usize;
    let (w, s) = (o / 64, o % 64);
    let word = |k: usize| {
        let hi = TWO_OVER_PI[w + k];
        if s == 0 {
            hi
        } else {
            (hi << s) | (TWO_OVER_PI[w + k + 1] >> (64 - s))
        }
    };
    // p = m * window, least significant word first (320 bits).
    let mut p = [0u64; 6];
    let mut carry: u128 = 0;
    for (k, pk) in p.iter_mut().take(4).enumerate() {
        let t = u128::from(m) * u128::from(word(3 - k)) + carry;
        *pk = t as u64;
        carry = t >> 64;
    }
    p[4] = carry as u64;
    // x 2/pi = p 2^-t (mod 4), t = j0 + 255 - e in [254, 285]; p has 309
    // significant bits, so the 192 fraction bits below bit t are all there.
    let t = (j0 + 255 - e) as usize;
    let field = |lsb: usize| -> u64 {
        let (i, sh) = (lsb / 64, lsb % 64);
        if sh == 0 {
            p[i]
        } else {
            (p[i] >> sh) | (p[i + 1] << (64 - sh))
        }
    };
    let mut n = (field(t) & 3) as u32;
    // The fraction f in [0, 1), 192 bits (a most significant).
    let (mut a, mut b, mut c) = (field(t - 64), field(t - 128), field(t - 192));
    // Round to the nearest quadrant: f - 1 in [-1/2, 0) when f >= 1/2.
    let neg = a >> 63 == 1;
    if neg {
        n = (n + 1) & 3;
        let (c2, o1) = (!c).overflowing_add(1);
        let (b2, o2) = (!b).overflowing_add(u64::from(o1));
        (a, b, c) = ((!a).wrapping_add(u64::from(o2)), b2, c2);
    }
    // |f| >= 2^-62 (no double is closer to a multiple of pi/2), so
    // its first 127 significant bits are there: v 2^-(127 + lz).
    let lz = if a != 0 {
        a.leading_zeros()
    } else if b != 0 {
        64 + b.leading_zeros()
    } else {
        128 + c.leading_zeros()
    };
    let wide = |sh: u32| -> u128 {
        // Bits [191 - sh - 127, 191 - sh] of (a, b, c), as the low 127 bits.
        let top = (u128::from(a) << 64) | u128::from(b);
        let shifted = if sh == 0 {
            top
        } else if sh < 64 {
            (top << sh) | (u128::from(c) >> (64 - sh))
        } else if sh < 128 {
            (top << sh) | (u128::from(c) << (sh - 64))
        } else {
            u128::from(c) << (sh - 128)
        };
        shifted >> 1
    };
    let v = wide(lz);
    let hi = v as f64;
    let lo = (v as i128 - hi as u128 as i128) as f64;
    let scale = f64::from_bits(u64::from(1023 - 127 - lz) << 52);
    let (fh, fl) = (hi * scale, lo * scale);
    let (p1, p2) = (super::consts::PIO2_1, super::consts::PIO2_2);
    let rh = fh * p1;
    let rl = fh.mul_add(p1, -rh) + fh.mul_add(p2, fl * p1);
    let (rh, rl) = (rh + rl, rl - ((rh + rl) - rh));
    Some(if neg { (n, -rh, -rl) } else { (n, rh, rl) })
}

/// The slow path's callee (through a `preserve_all` trampoline that the
/// kernel defines, so that the call clobbers no register of the vector
/// loop): reduces both lanes of the `f64x2` at `buf[0..2]` and writes the
/// quadrants as `SHIFTER + (n mod 4)` to `buf[2..4]`, the
/// high parts to `buf[4..6]` and the low parts to `buf[6..8]`. Lanes that
/// [`reduce_pio2`] does not take in magnitude (below 2^23, infinite, NaN)
/// get NaN; the
/// vector code uses another reduction there.
///
/// # Safety
///
/// `buf` must point to 8 writable `f64`s, 16-byte aligned: a
/// [`HUGE_SLOT`]-byte stack slot of the calling kernel.
pub(crate) unsafe extern "C" fn exprjit_reduce_lanes(buf: *mut [f64; 8]) {
    // SAFETY: the caller passes its own stack slot of HUGE_SLOT bytes,
    // exclusively (see above).
    let buf = unsafe { &mut *buf };
    for k in 0..2 {
        let x = buf[k];
        let (q, rh, rl) = match reduce_pio2(x.abs()) {
            // -x = -n pi/2 - r.
            Some((n, rh, rl)) if x < 0.0 => (SHIFTER + f64::from((4 - n) & 3), -rh, -rl),
            Some((n, rh, rl)) => (SHIFTER + f64::from(n), rh, rl),
            None => (f64::NAN, f64::NAN, f64::NAN),
        };
        buf[2 + k] = q;
        buf[4 + k] = rh;
        buf[6 + k] = rl;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(x, n mod 4, x - n pi/2 as a double-double)`, computed with mpmath
    /// at 3000 bits.
    #[rustfmt::skip]
    const CASES: [(f64, u32, f64, f64); 15] = [
        // Kahan's closest double to a multiple of pi/2, 6381956970095103 *
        // 2^797: the worst known argument of glibc's cos and tan.
        (f64::from_bits(0x7506ac5b262ca1ff), 1, f64::from_bits(0x3c214ae72e6ba22f), f64::from_bits(0xb8973eef1477d90e)),
        (f64::from_bits(0x4480f0cf064dd592), 3, f64::from_bits(0x3fe19eab99633cd8), f64::from_bits(0xbc6269e0fc062c98)),
        (f64::from_bits(0x41d0000000000000), 0, f64::from_bits(0xbfe54a767d1830ee), f64::from_bits(0xbc8c66f1d081359a)),
        (f64::from_bits(0x7e37e43c8800759c), 3, f64::from_bits(0xbfe39e51e3b9d3d4), f64::from_bits(0x3c6be718ff3ea04a)),
        (f64::from_bits(0x7fefffffffffffff), 2, f64::from_bits(0xbf7453020ff06b39), f64::from_bits(0xbc1afad1027849e8)),
        (f64::from_bits(0x41e65a0bc0000000), 1, f64::from_bits(0x3fc4a86cf91138dd), f64::from_bits(0x3c60a68aef49cadd)),
        (f64::from_bits(0x7e78000000000000), 2, f64::from_bits(0xbfceb285039796f6), f64::from_bits(0xbc68260abf45a459)),
        (f64::from_bits(0x43265286144ada42), 0, f64::from_bits(0xbfce85f1a3530f08), f64::from_bits(0xbc65e330a558da55)),
        (f64::from_bits(0x500d047c9b4718ec), 0, f64::from_bits(0x3fd0d9245b44ab8e), f64::from_bits(0x3c7d29d9fe41b83f)),
        (f64::from_bits(0x4271f71fb04cb000), 2, f64::from_bits(0x3fe595f49d1e27f8), f64::from_bits(0xbc8c9559c17e317d)),
        (f64::from_bits(0x41d0000000200000), 0, f64::from_bits(0xbfc529d9f460c3ba), f64::from_bits(0x3c5cc8717bf65332)),
        // Below 2^30 (the range without FMA).
        (f64::from_bits(0x4160000000000000), 2, f64::from_bits(0xbfdc9b6498c1137f), f64::from_bits(0xbc42643605c762f1)),
        (f64::from_bits(0x4197d78400000000), 1, f64::from_bits(0x3fd7cd30a8220d2b), f64::from_bits(0x3c7a5994e6dcc3f1)),
        (f64::from_bits(0x41c7681cc9b2df96), 0, f64::from_bits(0xbe41d32adda8fc30), f64::from_bits(0xbad4aece40cf6eaf)),
        (f64::from_bits(0x419d6f3454000000), 1, f64::from_bits(0xbfc2033bd251c60b), f64::from_bits(0xbc6890d524793370)),
    ];

    #[test]
    fn known_reductions() {
        for (x, n, rh, rl) in CASES {
            let Some((gn, gh, gl)) = reduce_pio2(x) else {
                panic!("{x:e} not reduced");
            };
            assert_eq!(gn, n, "{x:e}");
            // |(gh + gl) - (rh + rl)| relative to |rh|.
            let err = ((gh - rh) + (gl - rl)).abs() / rh.abs();
            assert!(err < 2f64.powi(-90), "{x:e}: error {err:e}");
        }
    }

    #[test]
    fn rejects_small_and_special() {
        for x in [0.0, 1.0, 8e6, f64::INFINITY, f64::NAN, -1e300] {
            assert!(reduce_pio2(x).is_none(), "{x}");
        }
    }
}
