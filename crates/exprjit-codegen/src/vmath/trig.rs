//! Turns `sin`, `cos`, `tan`, `arcsin`, `arccos`, `arctan` and `arctan2`
//! into vector code: reduction by pi/2 into a double-double `r`, `|r| <=
//! pi/4`, then fdlibm-style kernels for sin and cos; fdlibm's reductions
//! for the inverse functions.

use super::consts::{PI_HI, PI_LO, PIO2_1, PIO2_2, PIO2_3, PIO2_30, PIO2_HI, PIO2_LO, TWO_OVER_PI};
use super::{M, SHIFTER, V, Vm, coeffs};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, types};

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
/// `|x|` below which [`Vm::reduce_short`] is exact: `n < 2^19`.
const SHORT_LIMIT: f64 = 524_288.0;
/// pi/2 - `PIO2_1` in two parts for [`Vm::reduce_short`]: 33 significant
/// bits (so that `n` times it is exact for `n < 2^20`), and the rest
/// (together 2^-142 short of pi/2).
const PIO2_2_33: f64 = f64::from_bits(0x3c91a62633100000);
const PIO2_3_33: f64 = f64::from_bits(0x3a71701b839a2520);

impl Vm<'_, '_> {
    /// `x = n pi/2 + rh + rl` for `|x|` below [`SHORT_LIMIT`] (with FMA):
    /// returns `(n + q_off + SHIFTER, rh, rl)`. `r1 = x - n P1` is exact (one
    /// FMA: 52 bits at most), so is `n P2` (20 + 33 bits), and so is
    /// `r1 - n P2` as a Fast2Sum: either `|r1| >= |n P2|`, or both are
    /// below 2^-33 and their difference fits in 53 bits of `ulp(n P2)`.
    /// Only `n P3` (below 2^-67) is rounded. Eight operations, against
    /// about twenty for [`Vm::reduce_pio2`].
    fn reduce_short(&mut self, x: V, q_off: f64) -> [V; 3] {
        let inv = self.c(TWO_OVER_PI);
        // Used twice: one load (the loads feeding kd cannot be folded
        // anyway, kd having two uses). `SHIFTER + 1` is exact.
        let shift = self.c(SHIFTER + q_off);
        let kd = self.mla(inv, x, shift);
        let n = self.sub(kd, shift);
        let p1 = self.c(-PIO2_1);
        let r1 = self.mla(n, p1, x);
        let th = self.mulc(n, PIO2_2_33);
        let rh = self.sub(r1, th);
        let d = self.sub(r1, rh);
        let rl = self.sub(d, th);
        let p3 = self.c(-PIO2_3_33);
        let rl = self.mla(n, p3, rl);
        [kd, rh, rl]
    }

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

    /// `sin`, `cos` or `tan`: the argument reduced by pi/2 (three ways, see
    /// [`Vm::reduce`]), then polynomials on `|r| <= pi/4`, chosen by the
    /// quadrant. NaN and infinities give NaN through the arithmetic; `-0.0`
    /// stays `-0.0` for the odd functions.
    pub(super) fn sin_cos_tan(&mut self, x: V, which: Which) -> V {
        match which {
            Which::Cos => {
                // cos(x) = sin(x + pi/2): the quadrant one further. Even:
                // the reduction may as well work on x itself.
                let [kd, rh, rl] = self.reduce(x, 1.0, false);
                let q = self.as_int(kd);
                self.sin_cos_poly(q, rh, rl)
            }
            Which::Sin | Which::Tan => {
                // Odd: on |x|, the sign of x put back last (so that -0.0
                // stays -0.0).
                let a = self.abs(x);
                let [kd, rh, rl] = self.reduce(a, 0.0, true);
                let q = self.as_int(kd);
                let r = if which == Which::Sin {
                    self.sin_cos_poly(q, rh, rl)
                } else {
                    self.tan_poly(q, rh, rl)
                };
                self.flip_sign(r, x)
            }
        }
    }

    /// `x = n pi/2 + rh + rl` (NaN and infinities give NaN):
    /// `(n + q_off + SHIFTER, rh, rl)`, `q_off` 0 or 1, so that the
    /// quadrant `n + q_off` is in the low bits of the first. `nonneg`: `x`
    /// is an `|x|` already (the range checks skip their own). Below 2^19 in
    /// magnitude (with FMA) the short reduction; the lanes above take the
    /// 159-bit Cody-Waite reduction up to 2^30 (2^23 without FMA), and
    /// Payne-Hanek's exact reduction beyond (a call per vector, see
    /// `reduce.rs`), each on a cold path.
    fn reduce(&mut self, x: V, q_off: f64, nonneg: bool) -> [V; 3] {
        if !self.fma {
            return self.reduce_long(x, q_off, nonneg);
        }
        let bad = |vm: &mut Self| {
            let a = if nonneg { x } else { vm.abs(x) };
            vm.not_below(a, SHORT_LIMIT)
        };
        self.guarded(
            bad,
            |vm| vm.reduce_short(x, q_off),
            |vm| vm.reduce_long(x, q_off, nonneg),
        )
    }

    /// The Cody-Waite reduction, and Payne-Hanek's beyond its range.
    fn reduce_long(&mut self, x: V, q_off: f64, nonneg: bool) -> [V; 3] {
        let limit = if self.fma { FAST_LIMIT_FMA } else { FAST_LIMIT };
        let huge = |vm: &mut Self| {
            let a = if nonneg { x } else { vm.abs(x) };
            vm.not_below(a, limit)
        };
        let cody_waite = |vm: &mut Self| {
            let (n, rh, rl) = vm.reduce_pio2(x);
            let kd = vm.addc(n, SHIFTER + q_off);
            [kd, rh, rl]
        };
        let payne_hanek = |vm: &mut Self| {
            let [kd, rh, rl] = vm.reduce_huge(x);
            let kd = if q_off == 0.0 { kd } else { vm.addc(kd, q_off) };
            [kd, rh, rl]
        };
        self.guarded(huge, cody_waite, payne_hanek)
    }

    /// Payne-Hanek's reduction of both lanes by a call (see
    /// `reduce::exprjit_reduce_lanes`; lanes below 2^23 give NaN there).
    fn reduce_huge(&mut self, x: V) -> [V; 3] {
        let Some((f, slot)) = self.env.huge else {
            // `lower` provides the call whenever a kernel has sin, cos or
            // tan; without it the lanes are NaN.
            let nan = self.c(f64::NAN);
            return [nan; 3];
        };
        let ptr = types::I64;
        self.b.ins().stack_store(ptr, x, slot, 0);
        let p = self.b.ins().stack_addr(ptr, slot, 0);
        self.b.ins().call(f, &[p]);
        [16, 32, 48].map(|off| self.b.ins().stack_load(ptr, types::F64X2, slot, off))
    }

    /// `sin(rh + rl)` in quadrant `q` (`q` even: sin, odd: cos; `q & 2`:
    /// negated), `|r| <= pi/4`: `sin r = r + r^3 S(r^2)`, `cos r = 1 -
    /// r^2/2 + r^4 C(r^2)`, each rounded once, with the first-order terms
    /// of `rl`. `1 - r^2/2` is one FMA (of the exact square) and its
    /// rounding error, recovered by a second FMA.
    fn sin_cos_poly(&mut self, q: super::Value, rh: V, rl: V) -> V {
        let z = self.mul(rh, rh);
        // w + ew = 1 - rh^2/2 exactly (1 - w is exact: w is in [0.69, 1]).
        let hrh = self.mulc(rh, -0.5);
        let one = self.c(1.0);
        let w = self.mla(hrh, rh, one);
        let d = self.sub(one, w);
        let ew = self.mla(hrh, rh, d);
        // sin(rh + rl) = rh + (rh z S(z) + rl w).
        let sp = self.poly(z, &coeffs::SIN);
        let rz = self.mul(rh, z);
        let rw = self.mul(rl, w);
        let slo = self.mla(rz, sp, rw);
        let s = self.add(rh, slo);
        // cos(rh + rl) = w + (ew - rh rl + z^2 C(z)).
        let e = self.nmla(rh, rl, ew);
        let cp = self.poly(z, &coeffs::COS);
        let z2 = self.mul(z, z);
        let clo = self.mla(z2, cp, e);
        let c = self.add(w, clo);
        // Odd quadrants take the cosine: bit 0 of q, moved to the sign bit
        // that `blendv` reads.
        let odd = self.shl(q, 63);
        let c = self.as_int(c);
        let s = self.as_int(s);
        let v = self.b.ins().blendv(odd, c, s);
        // Quadrants 2 and 3 negate: bit 1 of q, moved to the sign bit.
        let sign = self.ushr(q, 1);
        let sign = self.shl(sign, 63);
        let v = self.b.ins().bxor(v, sign);
        self.as_float(v)
    }

    /// `tan(rh + rl)` in quadrant `q`: `sin/cos` in double-double (even
    /// quadrants), `-cos/sin` (odd ones).
    fn tan_poly(&mut self, q: super::Value, rh: V, rl: V) -> V {
        let (sh, sl, ch, cl) = self.sincos_dd(rh, rl);
        // The division needs a normalised cosine (|cl| can reach r^4/24).
        let (ch, cl) = self.fast_two_sum(ch, cl);
        let one = self.ci(1);
        let low = self.b.ins().band(q, one);
        let odd = M(self.b.ins().icmp(IntCC::Equal, low, one));
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
