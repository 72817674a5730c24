//! Turns `sin`, `cos`, `tan`, `arcsin`, `arccos`, `arctan` and `arctan2`
//! into vector code: reduction by pi/2 into a double-double `r`, `|r| <=
//! pi/4`, then fdlibm-style kernels for sin and cos; fdlibm's reductions
//! for the inverse functions.

use super::consts::{PI_HI, PI_LO, PIO2_1, PIO2_2, PIO2_3, PIO2_30, PIO2_HI, PIO2_LO, TWO_OVER_PI};
use super::{M, Routine, SHIFTER, V, Vm, coeffs};
use cranelift_codegen::ir::InstBuilder;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};

/// Which of the three functions sharing the reduction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Which {
    Sin,
    Cos,
    Tan,
}

/// `|x|` up to which the Cody-Waite reduction is exact enough, with FMA:
/// `n = rint(x 2/pi) < 2^30`, and pi/2 carried to 159 bits keeps `r`
/// accurate to 2^-69 relative even at the closest approach of a double to
/// a multiple of pi/2 (about 2^-61).
const FAST_LIMIT_FMA: f64 = 1_073_741_824.0;
/// Without FMA: `n * part` exact for 30-bit parts needs `n < 2^23`.
const FAST_LIMIT: f64 = 8_388_608.0;

impl Vm<'_, '_> {
    /// `x = n pi/2 + rh + rl`; returns `(n, rh, rl)`.
    fn reduce_pio2(&mut self, x: V) -> (V, V, V) {
        let t = self.mulc(x, TWO_OVER_PI);
        let n = self.rint(t);
        if self.fma {
            // n * PIO2_1 is exact inside the FMA, and so is the difference.
            let c1 = self.c(PIO2_1);
            let r1 = self.nmla(n, c1, x);
            let c2 = self.c(PIO2_2);
            let (t, te) = self.two_prod(n, c2);
            let nt = self.neg(t);
            let (rh, rl) = self.two_sum(r1, nt);
            let t3 = self.mulc(n, PIO2_3);
            let t3 = self.add(te, t3);
            let rl = self.sub(rl, t3);
            let (rh, rl) = self.fast_two_sum(rh, rl);
            (n, rh, rl)
        } else {
            // n * part exact: 23 + 30 bits; the first difference is exact
            // by Sterbenz's lemma.
            let p0 = self.mulc(n, PIO2_30[0]);
            let r1 = self.sub(x, p0);
            let p1 = self.mulc(n, -PIO2_30[1]);
            let (rh, rl) = self.two_sum(r1, p1);
            let p2 = self.mulc(n, -PIO2_30[2]);
            let (rh, e2) = self.two_sum(rh, p2);
            let rl = self.add(rl, e2);
            let p3 = self.mulc(n, PIO2_30[3]);
            let rl = self.sub(rl, p3);
            let (rh, rl) = self.fast_two_sum(rh, rl);
            (n, rh, rl)
        }
    }

    /// `sin(rh + rl)` and `cos(rh + rl)` as double-doubles, `|r| <= pi/4`:
    /// `sin = r + r^3 S(r^2)`, `cos = 1 - r^2/2 + r^4 C(r^2)` with musl's
    /// compensated `1 - r^2/2`.
    fn sincos_dd(&mut self, rh: V, rl: V) -> (V, V, V, V) {
        let (z, ze) = self.two_prod(rh, rh);
        let sp = self.poly(z, &coeffs::SIN);
        let rz = self.mul(rh, z);
        let tail = self.mul(rz, sp);
        let (sh, sl) = self.fast_two_sum(rh, tail);
        // sin(rh + rl) ~ sin(rh) + rl (1 - rh^2/2).
        let mrl = self.mulc(rl, -0.5);
        let corr = self.mla(mrl, z, rl);
        let sl = self.add(sl, corr);

        let hz = self.mulc(z, 0.5);
        let hze = self.mulc(ze, 0.5);
        let one = self.c(1.0);
        let w = self.sub(one, hz);
        let d = self.sub(one, w);
        let d = self.sub(d, hz);
        let cp = self.poly(z, &coeffs::COS);
        let z2 = self.mul(z, z);
        let ct = self.mul(z2, cp);
        // cos(rh + rl) ~ cos(rh) - rl rh.
        let corr = self.mla(rh, rl, hze);
        let ct = self.sub(ct, corr);
        let cl = self.add(d, ct);
        (sh, sl, w, cl)
    }

    pub(super) fn sin_cos_tan(&mut self, x: V, which: Which) -> Routine {
        let (n, rh, rl) = self.reduce_pio2(x);
        let (sh, sl, ch, cl) = self.sincos_dd(rh, rl);
        // The division of tan needs a normalised cosine (|cl| can reach
        // r^4/24); sin and cos only add the two parts.
        let (ch, cl) = if which == Which::Tan {
            self.fast_two_sum(ch, cl)
        } else {
            (ch, cl)
        };
        // The quadrant: n mod 4 in the low bits of n + 1.5 * 2^52.
        let nb = self.addc(n, SHIFTER);
        let mut q = self.as_int(nb);
        if which == Which::Cos {
            // cos(x) = sin(x + pi/2).
            let one = self.ci(1);
            q = self.b.ins().iadd(q, one);
        }
        let one = self.ci(1);
        let low = self.b.ins().band(q, one);
        let odd = M(self.b.ins().icmp(IntCC::Equal, low, one));
        let r = if which == Which::Tan {
            // tan = sin/cos in even quadrants, -cos/sin in odd ones.
            let nh = self.sel(odd, ch, sh);
            let nl = self.sel(odd, cl, sl);
            let dh = self.sel(odd, sh, ch);
            let dl = self.sel(odd, sl, cl);
            let th = self.div(nh, dh);
            let rem = self.rem(th, dh, nh);
            let rem = self.add(rem, nl);
            let rem = self.nmla(th, dl, rem);
            let tl = self.div(rem, dh);
            let t = self.add(th, tl);
            let nt = self.neg(t);
            self.sel(odd, nt, t)
        } else {
            let vh = self.sel(odd, ch, sh);
            let vl = self.sel(odd, cl, sl);
            let v = self.add(vh, vl);
            let two = self.ci(2);
            let sign = self.b.ins().band(q, two);
            let sign = self.b.ins().ishl_imm_u(sign, 62);
            let vb = self.as_int(v);
            let vb = self.b.ins().bxor(vb, sign);
            self.as_float(vb)
        };
        let r = if which == Which::Cos {
            r
        } else {
            self.fix_zero(x, r)
        };
        let limit = if self.fma { FAST_LIMIT_FMA } else { FAST_LIMIT };
        let a = self.abs(x);
        let lim = self.c(limit);
        let huge = self.cmp(FloatCC::GreaterThanOrEqual, a, lim);
        Routine {
            value: r,
            huge: Some(huge),
        }
    }

    /// `t + t^3 A(t^2)` as a double-double.
    fn asin_kernel(&mut self, t: V, z: V) -> (V, V) {
        let p = self.poly(z, &coeffs::ASIN);
        let zp = self.mul(z, p);
        let tp = self.mul(t, zp);
        self.fast_two_sum(t, tp)
    }

    /// The shared part of asin and acos: `|x| <= 1/2` uses the polynomial
    /// on `|x|`; above, `s = sqrt((1 - |x|)/2)` (a double-double) and the
    /// polynomial on `s`. Returns `(small, th, tl, sl)`.
    fn asin_parts(&mut self, a: V) -> (M, V, V, V) {
        let half = self.c(0.5);
        let small = self.cmp(FloatCC::LessThanOrEqual, a, half);
        let aa = self.mul(a, a);
        let one = self.c(1.0);
        let d = self.sub(one, a);
        let zb = self.mulc(d, 0.5);
        let z = self.sel(small, aa, zb);
        let zero = self.c(0.0);
        let (s, sl) = self.sqrt_dd(z, zero);
        let t = self.sel(small, a, s);
        let (th, tl) = self.asin_kernel(t, z);
        (small, th, tl, sl)
    }

    pub(super) fn asin(&mut self, x: V) -> V {
        let a = self.abs(x);
        let (small, th, tl, sl) = self.asin_parts(a);
        // Large: pi/2 - 2 asin(s).
        let t2 = self.mulc(th, -2.0);
        let pio2 = self.c(PIO2_HI);
        let (h, l) = self.two_sum(pio2, t2);
        let lo = self.add(tl, sl);
        let lo = self.mulc(lo, -2.0);
        let lo = self.addc(lo, PIO2_LO);
        let lo = self.add(l, lo);
        let big = self.add(h, lo);
        let sm = self.add(th, tl);
        let r = self.sel(small, sm, big);
        let r = self.copysign(r, x);
        self.fix_zero(x, r)
    }

    pub(super) fn acos(&mut self, x: V) -> V {
        let a = self.abs(x);
        let (small, th, tl, sl) = self.asin_parts(a);
        // Small: pi/2 - asin(x).
        let sth = self.copysign(th, x);
        let stl = self.copysign(tl, x);
        let stl = self.sel(small, stl, tl);
        let pio2 = self.c(PIO2_HI);
        let nth = self.neg(sth);
        let (h, l) = self.two_sum(pio2, nth);
        let lo = self.sub(l, stl);
        let lo = self.addc(lo, PIO2_LO);
        let small_r = self.add(h, lo);
        // x > 1/2: 2 asin(s).
        let lo2 = self.add(tl, sl);
        let pos = self.add(th, lo2);
        let pos = self.add(pos, pos);
        // x < -1/2: pi - 2 asin(s).
        let t2 = self.mulc(th, -2.0);
        let pi = self.c(PI_HI);
        let (h, l) = self.two_sum(pi, t2);
        let lo = self.mulc(lo2, -2.0);
        let lo = self.addc(lo, PI_LO);
        let lo = self.add(l, lo);
        let negr = self.add(h, lo);
        let xneg = self.signbit(x);
        let big = self.sel(xneg, negr, pos);
        self.sel(small, small_r, big)
    }

    /// `atan(a)` for `a >= 0` (or NaN) as `(hi, lo)`: fdlibm's reduction to
    /// `|t| <= 7/16` around atan(0), atan(1/2), atan(1), atan(3/2), pi/2.
    fn atan_dd(&mut self, a: V) -> (V, V) {
        let r0 = self.ltc(a, 7.0 / 16.0);
        let r1 = self.ltc(a, 11.0 / 16.0);
        let r2 = self.ltc(a, 19.0 / 16.0);
        let r3 = self.ltc(a, 39.0 / 16.0);
        // Numerators and denominators of t, each exact or one rounding.
        let a2 = self.add(a, a);
        let n1 = self.addc(a2, -1.0);
        let n2 = self.addc(a, -1.0);
        let n3 = self.addc(a, -1.5);
        let m1 = self.c(-1.0);
        let n = self.sel(r3, n3, m1);
        let n = self.sel(r2, n2, n);
        let n = self.sel(r1, n1, n);
        let n = self.sel(r0, a, n);
        let d1 = self.addc(a, 2.0);
        let d2 = self.addc(a, 1.0);
        let one = self.c(1.0);
        let c15 = self.c(1.5);
        let d3 = self.mla(a, c15, one);
        let d = self.sel(r3, d3, a);
        let d = self.sel(r2, d2, d);
        let d = self.sel(r1, d1, d);
        let d = self.sel(r0, one, d);
        let t = self.div(n, d);
        let hi_c = [
            0.0,
            f64::from_bits(0x3fddac670561bb4f),
            f64::from_bits(0x3fe921fb54442d18),
            f64::from_bits(0x3fef730bd281f69b),
            PIO2_HI,
        ];
        let lo_c = [
            0.0,
            f64::from_bits(0x3c7a2b7f222f65e2),
            f64::from_bits(0x3c81a62633145c07),
            f64::from_bits(0x3c7007887af0cbbd),
            PIO2_LO,
        ];
        let masks = [r0, r1, r2, r3];
        let mut hi = self.c(hi_c[4]);
        let mut lo = self.c(lo_c[4]);
        for k in (0..4).rev() {
            hi = self.selc(masks[k], hi_c[k], hi);
            lo = self.selc(masks[k], lo_c[k], lo);
        }
        let z = self.mul(t, t);
        let p = self.poly(z, &coeffs::ATAN);
        let zp = self.mul(z, p);
        let tp = self.mul(t, zp);
        let (th, tl) = self.fast_two_sum(t, tp);
        let (s, e) = self.two_sum(hi, th);
        let l = self.add(e, tl);
        let l = self.add(l, lo);
        (s, l)
    }

    pub(super) fn atan(&mut self, x: V) -> V {
        let a = self.abs(x);
        let (h, l) = self.atan_dd(a);
        let r = self.add(h, l);
        self.copysign(r, x)
    }

    /// `atan2(y, x)`: `theta = atan(|y| / |x|)` (plus the quotient's
    /// rounding error, from the exact remainder), then `pi - theta` for
    /// negative `x` and the sign of `y`.
    pub(super) fn atan2(&mut self, y: V, x: V) -> V {
        let ax = self.abs(x);
        let ay = self.abs(y);
        // Scale both by a power of two so that the remainder below is exact
        // (no subnormal operand; Dekker's split needs |v| < 2^996): up by
        // 2^600 when the smaller is below 2^-700 and the larger below
        // 2^300, down by 2^600 when the larger is above 2^700 and the
        // smaller above 2^-300. Otherwise the quotient is beyond the range
        // where the correction is used.
        let g = self.gt(ax, ay);
        let mx = self.sel(g, ax, ay);
        let mn = self.sel(g, ay, ax);
        let mn_tiny = self.ltc(mn, f64::from_bits(0x1430_0000_0000_0000)); // 2^-700
        let mx_small = self.ltc(mx, f64::from_bits(0x52b0_0000_0000_0000)); // 2^300
        let up = self.and(mn_tiny, mx_small);
        let mx_huge = self.gtc(mx, f64::from_bits(0x6bb0_0000_0000_0000)); // 2^700
        let mn_big = self.gtc(mn, f64::from_bits(0x2d30_0000_0000_0000)); // 2^-300
        let down = self.and(mx_huge, mn_big);
        let s = self.c(1.0);
        let s = self.selc(up, f64::from_bits(0x6570_0000_0000_0000), s); // 2^600
        let s = self.selc(down, f64::from_bits(0x1a70_0000_0000_0000), s); // 2^-600
        let ax = self.mul(ax, s);
        let ay = self.mul(ay, s);
        let t = self.div(ay, ax);
        let rem = self.rem(t, ax, ay);
        let tt = self.mul(t, t);
        let d = self.addc(tt, 1.0);
        let dx = self.mul(d, ax);
        let corr = self.div(rem, dx);
        let lo_ok = self.gtc(t, f64::from_bits(0x0170_0000_0000_0000)); // 2^-1000
        let hi_ok = self.ltc(t, f64::from_bits(0x5f30_0000_0000_0000)); // 2^500
        let ok = self.and(lo_ok, hi_ok);
        let corr = self.mask(ok, corr);
        // Both infinite: pi/4 (then 3pi/4 below).
        let xinf = self.eqc(ax, f64::INFINITY);
        let yinf = self.eqc(ay, f64::INFINITY);
        let both = self.and(xinf, yinf);
        let one = self.c(1.0);
        let t = self.sel(both, one, t);
        // y == 0: theta = 0 (x == 0 too).
        let yzero = self.eqc(ay, 0.0);
        let zero = self.c(0.0);
        let t = self.sel(yzero, zero, t);
        let corr = self.sel(yzero, zero, corr);
        let (h, l) = self.atan_dd(t);
        let l = self.add(l, corr);
        let pos = self.add(h, l);
        let pi = self.c(PI_HI);
        let nh = self.neg(h);
        let (s, e) = self.two_sum(pi, nh);
        let e = self.sub(e, l);
        let e = self.addc(e, PI_LO);
        let neg = self.add(s, e);
        let xneg = self.signbit(x);
        let r = self.sel(xneg, neg, pos);
        let r = self.copysign(r, y);
        let xn = self.isnan(x);
        let yn = self.isnan(y);
        let nan = self.or(xn, yn);
        let sum = self.add(x, y);
        self.sel(nan, sum, r)
    }
}
