//! Turns `exp`, `expm1`, `sinh`, `cosh` and `tanh` into vector code around
//! one exponential core: `exp(x) = 2^n (1 + p)`, `|r| <= ln2/2`.

use super::consts::{LN2_HI, LN2_LO, LOG2E};
use super::{V, Vm, coeffs};

/// The largest `x` with a finite `exp(x)`.
const EXP_OVERFLOW: f64 = 709.782_712_893_384;
/// Below this `exp(x)` rounds to zero.
const EXP_UNDERFLOW: f64 = -745.133_219_101_941_2;

impl Vm<'_, '_> {
    /// `exp(x + xl) = 2^n (1 + ph + pl)` for `|x| < ~1400` (`xl` a small
    /// low part, or `None`); `ph + pl` is `expm1(r)` to about 2^-60
    /// relative. Cody-Waite reduction `r = x - n ln2` with `n ln2_hi`
    /// exact, kept as a double-double; then `expm1(r) = r + r^2 P(r)`.
    pub(super) fn exp_core(&mut self, x: V, xl: Option<V>) -> (V, V, V) {
        let t = self.mulc(x, LOG2E);
        let n = self.rint(t);
        let hi = self.c(LN2_HI);
        let r1 = self.nmla(n, hi, x);
        let r2 = self.mulc(n, LN2_LO);
        let nr2 = self.neg(r2);
        let (r, mut rl) = self.two_sum(r1, nr2);
        if let Some(xl) = xl {
            rl = self.add(rl, xl);
        }
        let z = self.mul(r, r);
        let p = self.poly(r, &coeffs::EXP);
        let q = self.mul(z, p);
        let (ph, pl) = self.fast_two_sum(r, q);
        // exp(r + rl) = exp(r) (1 + rl) ~ 1 + p + rl (1 + p); with a
        // double-double input rl is up to half an ulp of x (2^-44 for pow).
        let corr = self.mla(rl, ph, rl);
        let pl = self.add(pl, corr);
        (n, ph, pl)
    }

    /// `1 + ph + pl` rounded once (nearly).
    fn one_plus(&mut self, ph: V, pl: V) -> V {
        let one = self.c(1.0);
        let (s, e) = self.fast_two_sum(one, ph);
        let lo = self.add(e, pl);
        self.add(s, lo)
    }

    pub(super) fn exp(&mut self, x: V) -> V {
        let (n, ph, pl) = self.exp_core(x, None);
        let y = self.one_plus(ph, pl);
        let r = self.ldexp(y, n);
        let over = self.gtc(x, EXP_OVERFLOW);
        let r = self.selc(over, f64::INFINITY, r);
        let under = self.ltc(x, EXP_UNDERFLOW);
        self.selc(under, 0.0, r)
    }

    /// `expm1(x) = 2^n1 (2^n2 (1 + p) - 2^-n1)`, `n = n1 + n2`: the sum in
    /// double-double, scaled once at the end (no overflow before it).
    pub(super) fn expm1(&mut self, x: V) -> V {
        let (n, ph, pl) = self.exp_core(x, None);
        let h = self.mulc(n, 0.5);
        let n1 = self.trunc(h);
        let n2 = self.sub(n, n1);
        let t1 = self.pow2i(n1);
        let t2 = self.pow2i(n2);
        let mn1 = self.neg(n1);
        let c = self.pow2i(mn1);
        let c = self.neg(c);
        let (s, e) = self.two_sum(t2, c);
        let a = self.mul(t2, ph);
        let (s2, e2) = self.two_sum(s, a);
        let lo = self.add(e, e2);
        let lo = self.mla(t2, pl, lo);
        let y = self.add(s2, lo);
        let r = self.mul(y, t1);
        let over = self.gtc(x, EXP_OVERFLOW);
        let r = self.selc(over, f64::INFINITY, r);
        // expm1(x) rounds to -1 below -38.
        let under = self.ltc(x, -40.0);
        let r = self.selc(under, -1.0, r);
        self.fix_zero(x, r)
    }

    /// `sinh` (`odd`) or `cosh`: a polynomial below 1, else
    /// `2^(n-1) ((1 + p) -+ 2^-2n / (1 + p))` with `e^|x| = 2^n (1 + p)`.
    pub(super) fn sinh_cosh(&mut self, x: V, odd: bool) -> V {
        let a = self.abs(x);
        let z = self.mul(x, x);
        let small = if odd {
            let p = self.poly(z, &coeffs::SINH);
            let xz = self.mul(x, z);
            self.mla(xz, p, x)
        } else {
            let p = self.poly(z, &coeffs::COSH);
            let z2 = self.mul(z, z);
            let hz = self.mulc(z, 0.5);
            let t = self.mla(z2, p, hz);
            self.addc(t, 1.0)
        };
        let (n, ph, pl) = self.exp_core(a, None);
        let m2n = self.mulc(n, -2.0);
        let m = self.pow2i(m2n);
        let far = self.gtc(n, 511.0);
        let m = self.selc(far, 0.0, m);
        let one = self.c(1.0);
        let (s, e) = self.fast_two_sum(one, ph);
        let d = self.addc(ph, 1.0);
        let inv = self.div(m, d);
        let inv = if odd { self.neg(inv) } else { inv };
        let (s2, e2) = self.two_sum(s, inv);
        let lo = self.add(e, pl);
        let lo = self.add(lo, e2);
        let y = self.add(s2, lo);
        let n1 = self.addc(n, -1.0);
        let big = self.ldexp(y, n1);
        let big = if odd { self.copysign(big, x) } else { big };
        let lt1 = self.ltc(a, 1.0);
        let r = self.sel(lt1, small, big);
        // ldexp overflows to inf up to here; beyond, n is out of its range.
        let over = self.gtc(a, 711.0);
        let inf = self.c(f64::INFINITY);
        let inf = if odd { self.copysign(inf, x) } else { inf };
        self.sel(over, inf, r)
    }

    /// `tanh`: a polynomial below 0.4, else `1 - 2 / (e^2|x| + 1)` in
    /// double-double (|x| clamped to 40, where tanh rounds to 1).
    pub(super) fn tanh(&mut self, x: V) -> V {
        let a = self.abs(x);
        let z = self.mul(x, x);
        let p = self.poly(z, &coeffs::TANH);
        let xz = self.mul(x, z);
        let small = self.mla(xz, p, x);
        let clamp = self.gtc(a, 40.0);
        let ac = self.selc(clamp, 40.0, a);
        let a2 = self.add(ac, ac);
        let (n, ph, pl) = self.exp_core(a2, None);
        let t = self.pow2i(n);
        let one = self.c(1.0);
        let (s, e) = self.two_sum(t, one);
        let tp = self.mul(t, ph);
        let (s2, e2) = self.two_sum(s, tp);
        let dl = self.add(e, e2);
        let dl = self.mla(t, pl, dl);
        let (dh, dl) = self.fast_two_sum(s2, dl);
        let two = self.c(2.0);
        let q = self.div(two, dh);
        let r = self.rem(q, dh, two);
        let r = self.nmla(q, dl, r);
        let hq = self.mulc(q, 0.5);
        let ql = self.mul(r, hq);
        let nq = self.neg(q);
        let (h, l) = self.fast_two_sum(one, nq);
        let l = self.sub(l, ql);
        let big = self.add(h, l);
        let big = self.copysign(big, x);
        let lt = self.ltc(a, 0.4);
        let r = self.sel(lt, small, big);
        self.fix_zero(x, r)
    }
}
