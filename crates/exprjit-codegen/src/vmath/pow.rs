//! Turns `x ** y`, `x ** k` (a constant integer `k`) and `hypot` into
//! vector code: `pow` as `exp(y log|x|)` with the logarithm in
//! double-double (SLEEF's `logk`/`expk` scheme), C99's special cases by
//! lane selects; integer powers by repeated double-double multiplication.

use super::consts::{LN2_HI, LN2_LO};
use super::{M, V, Vm, coeffs};
use cranelift_codegen::ir::condcodes::FloatCC;

/// Below this `|y log x|` the table exponential's scale and result are
/// normal (as `exp`'s `EXP_TABLE_LIMIT`).
const POW_TABLE_LIMIT: f64 = 708.0;

const TWO_THIRDS: (f64, f64) = (
    f64::from_bits(0x3fe5555555555555),
    f64::from_bits(0x3c85555555555555),
);

impl Vm<'_, '_> {
    /// `log(a)` as a double-double accurate to about 2^-66 relative, for
    /// positive finite `a` (0 gives -inf, inf gives inf, in `hi`).
    fn logk(&mut self, a: V) -> (V, V) {
        let super::log::Decomposed { e, m, .. } = self.decompose(a);
        let c1 = self.c(1.0);

        // x = (m - 1) / (m + 1) as a double-double.
        let num = self.addc(m, -1.0);
        let (dh, dl) = self.two_sum(m, c1);
        let xh = self.div(num, dh);
        let rem = self.rem(xh, dh, num);
        let rem = self.nmla(xh, dl, rem);
        let xl = self.div(rem, dh);
        // x^2 and x^3 as double-doubles.
        let (x2h, x2l) = self.two_prod(xh, xh);
        let xx = self.mul(xh, xl);
        let two = self.c(2.0);
        let x2l = self.mla(xx, two, x2l);
        let (x3h, x3l) = self.two_prod(x2h, xh);
        let t = self.mul(x2l, xh);
        let x3l = self.add(x3l, t);
        let x3l = self.mla(x2h, xl, x3l);
        // (2/3) x^3.
        let c23 = self.c(TWO_THIRDS.0);
        let (c3h, c3l) = self.two_prod(x3h, c23);
        let t = self.mulc(x3h, TWO_THIRDS.1);
        let c3l = self.add(c3l, t);
        let c3l = self.mla(x3l, c23, c3l);
        // x^5 T(x^2).
        let p = self.poly(x2h, &coeffs::LOGK);
        let x5 = self.mul(x3h, x2h);
        let tail = self.mul(x5, p);
        // e ln2 + 2x + (2/3) x^3 + tail.
        let eh = self.mulc(e, LN2_HI);
        let el = self.mulc(e, LN2_LO);
        let x2 = self.add(xh, xh);
        let (s1, e1) = self.two_sum(eh, x2);
        let lo = self.add(xl, xl);
        let lo = self.add(lo, e1);
        let lo = self.add(lo, el);
        let (s2, e2) = self.two_sum(s1, c3h);
        let lo = self.add(lo, e2);
        let lo = self.add(lo, c3l);
        let lo = self.add(lo, tail);
        let (hi, lo) = self.fast_two_sum(s2, lo);
        let zero = self.eqc(a, 0.0);
        let hi = self.selc(zero, f64::NEG_INFINITY, hi);
        let inf = self.eqc(a, f64::INFINITY);
        let hi = self.selc(inf, f64::INFINITY, hi);
        (hi, lo)
    }

    /// `x ** y`: with FMA, [`Vm::pow_table`] where `x` is positive,
    /// normal and finite and `|y log x| < 708` (so that the result is
    /// normal and finite), [`Vm::pow_full`] for the other lanes; without
    /// FMA the latter.
    pub(super) fn pow(&mut self, x: V, y: V) -> V {
        if !self.fma {
            return self.pow_full(x, y);
        }
        // y log x = ph + pl (NaN or infinite for an infinite or NaN y).
        let (lh, ll) = self.log_pow(x);
        let (ph, pe) = self.two_prod(y, lh);
        let pl = self.mla(y, ll, pe);
        let bad = |vm: &mut Self| {
            let lo = vm.c(f64::MIN_POSITIVE);
            let below = vm.cmp(FloatCC::UnorderedOrLessThan, x, lo);
            let inf = vm.eqc(x, f64::INFINITY);
            let xbad = vm.or(below, inf);
            let aph = vm.abs(ph);
            let big = vm.not_below(aph, POW_TABLE_LIMIT);
            vm.or(xbad, big)
        };
        let [r] = self.guarded(bad, |vm| [vm.pow_table(ph, pl)], |vm| [vm.pow_full(x, y)]);
        r
    }

    /// `exp(ph + pl)` for `|ph| < 708`, `|pl| <= ulp(ph)`: [`Vm::exp_table`]
    /// with `pl` added to the reduced argument (an error of 2^-53 of `r`,
    /// below 2^-60 of the result). With `log x` to 2^-68 relative, `y log
    /// x` is off by at most 708 * 2^-68 < 2^-58 absolute, so the result is
    /// within about 0.52 ULP.
    fn pow_table(&mut self, ph: V, pl: V) -> V {
        let (ki, r) = self.exp_reduce(ph);
        let r = self.add(r, pl);
        let (tail, scale) = self.exp_scale(ki);
        let t = self.exp_poly(r, tail);
        self.mla(scale, t, scale)
    }

    /// `x ** y` with C99 / IEEE 754 `pow` special cases, for every input.
    fn pow_full(&mut self, x: V, y: V) -> V {
        let a = self.abs(x);
        let (lh, ll) = self.logk(a);
        let (ph, pe) = self.two_prod(y, lh);
        let pl = self.mla(y, ll, pe);
        // Beyond 2^900, y * log|x| is 0 (x == 1) or overflows either way,
        // and Dekker's split of y (without FMA) would overflow: drop pl.
        let ay = self.abs(y);
        let yhuge = self.gtc(ay, f64::from_bits(0x7830_0000_0000_0000)); // 2^900
        let zero = self.c(0.0);
        let pl = self.sel(yhuge, zero, pl);
        let (n, eh, el) = self.exp_core(ph, Some(pl));
        let one = self.c(1.0);
        let (s, e) = self.fast_two_sum(one, eh);
        let lo = self.add(e, el);
        let m = self.add(s, lo);
        let r = self.ldexp(m, n);
        let over = self.gtc(ph, 709.8);
        let r = self.selc(over, f64::INFINITY, r);
        let under = self.ltc(ph, -745.2);
        let r = self.selc(under, 0.0, r);
        // |x| == 1 with infinite y: log is 0 and y * 0 NaN; the result is 1.
        let a1 = self.eqc(a, 1.0);
        let yinf = self.eqc(ay, f64::INFINITY);
        let a1yinf = self.and(a1, yinf);
        let r = self.sel(a1yinf, one, r);
        // Negative base: odd integer y flips the sign; a finite negative x
        // with a non-integer y gives NaN.
        let ty = self.trunc(y);
        let yint = self.eq(ty, y);
        let hy = self.mulc(y, 0.5);
        let thy = self.trunc(hy);
        let half_int = self.eq(thy, hy);
        let not_even = self.not(half_int);
        let odd = self.and(yint, not_even);
        let xsign = self.signbit(x);
        let flip = self.and(xsign, odd);
        let nr = self.neg(r);
        let r = self.sel(flip, nr, r);
        let xneg = self.ltc(x, 0.0);
        let xfin = self.gtc(x, f64::NEG_INFINITY);
        let nonint = self.not(yint);
        let bad = self.and(xneg, xfin);
        let bad = self.and(bad, nonint);
        let r = self.selc(bad, f64::NAN, r);
        // NaN in, NaN out; then x ** 0 == 1 ** y == 1, NaN or not.
        let xn = self.isnan(x);
        let yn = self.isnan(y);
        let nan = self.or(xn, yn);
        let sum = self.add(x, y);
        let r = self.sel(nan, sum, r);
        let y0 = self.eqc(y, 0.0);
        let x1 = self.eqc(x, 1.0);
        let ones = self.or(y0, x1);
        self.sel(ones, one, r)
    }

    /// `x ** k` for a constant integer `k` (`|k| <= MAX_INT_POW`):
    /// square-and-multiply in double-double (for negative `k`, on the
    /// double-double `1/x`), rounded once. Exact for `k` in -1..=2.
    pub(crate) fn powi(&mut self, x: V, k: i32) -> V {
        match k {
            0 => return self.c(1.0),
            1 => return x,
            2 => return self.mul(x, x),
            -1 => {
                let one = self.c(1.0);
                return self.div(one, x);
            }
            _ => {}
        }
        let (bh, bl) = if k < 0 {
            let one = self.c(1.0);
            let q = self.div(one, x);
            let r = self.rem(q, x, one);
            (q, self.mul(r, q))
        } else {
            let zero = self.c(0.0);
            (x, zero)
        };
        let mut e = k.unsigned_abs();
        let mut acc: Option<(V, V)> = None;
        let mut base = (bh, bl);
        loop {
            if e & 1 == 1 {
                acc = Some(match acc {
                    None => base,
                    Some(a) => self.mul_dd(a, base),
                });
            }
            e >>= 1;
            if e == 0 {
                break;
            }
            base = self.mul_dd(base, base);
        }
        let (h, l) = acc.unwrap_or((bh, bl));
        // Infinities (overflow, inf ** k, 1/0) leave a NaN or infinite low
        // part: drop it. A zero `h` (underflow) keeps its sign.
        let al = self.abs(l);
        let lfin = self.ltc(al, f64::INFINITY);
        let l = self.mask(lfin, l);
        let sum = self.add(h, l);
        let hz = self.eqc(h, 0.0);
        self.sel(hz, h, sum)
    }

    /// `x ** k` for `f32` operands promoted to `f64`: plain products carry
    /// the relative error `|k| 2^-53`, far below an `f32` ulp, and the
    /// `f64` range covers every overflow and underflow of `f32`.
    pub(crate) fn powi_for_f32(&mut self, x: V, k: i32) -> V {
        let mut e = k.unsigned_abs();
        let mut acc: Option<V> = None;
        let mut base = x;
        while e > 0 {
            if e & 1 == 1 {
                acc = Some(match acc {
                    None => base,
                    Some(a) => self.mul(a, base),
                });
            }
            e >>= 1;
            if e > 0 {
                base = self.mul(base, base);
            }
        }
        let one = self.c(1.0);
        let p = acc.unwrap_or(one);
        if k < 0 { self.div(one, p) } else { p }
    }

    /// Double-double product (relative error about 2^-104). The high part
    /// is the rounded product itself (`|e| <~ ulp(p)` already), so that an
    /// overflow leaves `inf` there rather than NaN.
    fn mul_dd(&mut self, a: (V, V), b: (V, V)) -> (V, V) {
        let (p, e) = self.two_prod(a.0, b.0);
        let t = self.mul(a.0, b.1);
        let e = self.add(e, t);
        let e = self.mla(a.1, b.0, e);
        (p, e)
    }

    /// `hypot(x, y)`: `sqrt(a^2 + b^2)` with the squares and their sum in
    /// double-double and one Newton correction of the square root, after
    /// scaling by a power of two into a safe range. An infinite operand
    /// gives inf even when the other is NaN.
    pub(super) fn hypot(&mut self, x: V, y: V) -> V {
        let ax = self.abs(x);
        let ay = self.abs(y);
        let g = self.gt(ax, ay);
        let hi = self.sel(g, ax, ay);
        let lo = self.sel(g, ay, ax);
        let big = self.gtc(hi, f64::from_bits(0x5f30_0000_0000_0000)); // 2^500
        let small = self.ltc(hi, f64::from_bits(0x20b0_0000_0000_0000)); // 2^-500
        let s = self.c(1.0);
        let s = self.selc(big, f64::from_bits(0x1a70_0000_0000_0000), s); // 2^-600
        let s = self.selc(small, f64::from_bits(0x6570_0000_0000_0000), s); // 2^600
        let inv = self.c(1.0);
        let inv = self.selc(big, f64::from_bits(0x6570_0000_0000_0000), inv);
        let inv = self.selc(small, f64::from_bits(0x1a70_0000_0000_0000), inv);
        let a = self.mul(hi, s);
        let b = self.mul(lo, s);
        let (a2, a2e) = self.two_prod(a, a);
        let (b2, b2e) = self.two_prod(b, b);
        let (sh, sl) = self.fast_two_sum(a2, b2);
        let sl = self.add(sl, a2e);
        let sl = self.add(sl, b2e);
        let (r, rl) = self.sqrt_dd(sh, sl);
        let r = self.add(r, rl);
        let r = self.mul(r, inv);
        let xi = self.eqc(ax, f64::INFINITY);
        let yi = self.eqc(ay, f64::INFINITY);
        let inf: M = self.or(xi, yi);
        self.selc(inf, f64::INFINITY, r)
    }
}
