//! Turns `exp`, `expm1`, `sinh`, `cosh` and `tanh` into vector code around
//! one exponential core: `exp(x) = 2^n (1 + p)`, `|r| <= ln2/2`.

use super::consts::{LN2_HI, LN2_LO, LOG2E};
use super::{M, SHIFTER, V, Vm, coeffs, tables};
use cranelift_codegen::ir::condcodes::FloatCC;

/// The largest `x` with a finite `exp(x)`.
const EXP_OVERFLOW: f64 = 709.782_712_893_384;
/// Below this `exp(x)` rounds to zero.
const EXP_UNDERFLOW: f64 = -745.133_219_101_941_2;

/// The size of the table of `2^(i/N)` (`tables::EXP_TAB`).
const EXP_N: i32 = 128;
/// `N / ln2`, and `-ln2 / N` in two parts (the high one with 36 bits, so
/// that `k` times it is exact for `|k| < 2^17`): glibc's constants.
const EXP_INV_LN2_N: f64 = f64::from_bits(0x40671547652b82fe);
const EXP_NEG_LN2_HI_N: f64 = f64::from_bits(0xbf762e42fefa0000);
const EXP_NEG_LN2_LO_N: f64 = f64::from_bits(0xbd0cf79abc9e3b3a);
/// Below this `|x|` the table method's scale and result are normal.
const EXP_TABLE_LIMIT: f64 = 708.0;

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

    /// `exp`: the table-driven [`Vm::exp_table`] where `|x| < 708`, the
    /// exact-scaling [`Vm::exp_full`] elsewhere (overflow, subnormal
    /// results, NaN, infinities).
    pub(super) fn exp(&mut self, x: V) -> V {
        let bad = |vm: &mut Self| {
            let a = vm.abs(x);
            vm.not_below(a, EXP_TABLE_LIMIT)
        };
        let [r] = self.guarded(bad, |vm| [vm.exp_table(x)], |vm| [vm.exp_full(x)]);
        r
    }

    /// The lanes where `!(a < c)`: at or above `c`, or NaN.
    pub(super) fn not_below(&mut self, a: V, c: f64) -> M {
        let c = self.c(c);
        self.cmp(FloatCC::UnorderedOrGreaterThanOrEqual, a, c)
    }

    /// `exp(x)` for `|x| < 708` by glibc's method (Szabolcs Nagy, 2018):
    /// `x = (k / N) ln2 + r`, `k = 128 n + i`, `|r| <= ln2 / 256`, and
    /// `exp(x) = 2^n 2^(i/N) (1 + r + r^2 P(r))` with `2^(i/N)` from a
    /// table as a double and a tail; the result is rounded once (an FMA),
    /// so the error is about 0.51 ULP (glibc measures 0.509 without FMA).
    pub(super) fn exp_table(&mut self, x: V) -> V {
        let (ki, r) = self.exp_reduce(x);
        let (tail, scale) = self.exp_scale(ki);
        let t = self.exp_poly(r, tail);
        self.mla(scale, t, scale)
    }

    /// `x = (k / N) ln2 + r`: `k` in the low bits of the returned integer
    /// lanes, and `r` (exact: `k ln2_hi / N` is, and so is the difference by
    /// Sterbenz's lemma; the `ln2_lo` product is rounded once).
    pub(super) fn exp_reduce(&mut self, x: V) -> (super::Value, V) {
        let inv = self.c(EXP_INV_LN2_N);
        let shift = self.c(SHIFTER);
        let kd = self.mla(inv, x, shift);
        let ki = self.as_int(kd);
        let n = self.sub(kd, shift);
        let hi = self.c(EXP_NEG_LN2_HI_N);
        let r = self.mla(n, hi, x);
        let lo = self.c(EXP_NEG_LN2_LO_N);
        let r = self.mla(n, lo, r);
        (ki, r)
    }

    /// The table's `2^(i/N)` for `k = n N + i` (`k` in the low bits of
    /// `ki`): its tail, and `2^n 2^(i/N)` rounded (`k < 2^11 N` in
    /// magnitude, and the exponent in range).
    pub(super) fn exp_scale(&mut self, ki: super::Value) -> (V, V) {
        let table = self.pool.table("exp", tables::EXP_TAB.as_flattened());
        let i = self.iandc(ki, (EXP_N - 1) as u64);
        let idx = self.shl(i, 4);
        let (tail, sb) = self.gather2(table, idx);
        let top = self.shl(ki, 52 - i64::from(EXP_N.trailing_zeros()));
        let sb = self.as_int(sb);
        let sbits = self.iadd(sb, top);
        (tail, self.as_float(sbits))
    }

    /// `tail + r^2 P(r)` with `P` from `TANH_T` (fitted relative to
    /// `expm1(r)`, where `EXP_T` is relative to `exp(r)`).
    fn expm1_poly_tail(&mut self, r: V, tail: V) -> V {
        let [c2, c3, c4, c5] = coeffs::TANH_T;
        let r2 = self.mul(r, r);
        let c3v = self.c(c3);
        let c2v = self.c(c2);
        let p23 = self.mla(c3v, r, c2v);
        let c5v = self.c(c5);
        let c4v = self.c(c4);
        let p45 = self.mla(c5v, r, c4v);
        let t = self.mla(r2, p23, tail);
        let r4 = self.mul(r2, r2);
        self.mla(r4, p45, t)
    }

    /// `tail + r + r^2 P(r)`, so that `2^(i/N) exp(r) = s (1 + it)` for the
    /// table's rounded `s`.
    pub(super) fn exp_poly(&mut self, r: V, tail: V) -> V {
        let [c2, c3, c4, c5] = coeffs::EXP_T;
        let r2 = self.mul(r, r);
        // The constant loads first: the FMA's destination (see `poly`).
        let c3v = self.c(c3);
        let c2v = self.c(c2);
        let p23 = self.mla(c3v, r, c2v);
        let c5v = self.c(c5);
        let c4v = self.c(c4);
        let p45 = self.mla(c5v, r, c4v);
        let t = self.add(tail, r);
        let t = self.mla(r2, p23, t);
        let r4 = self.mul(r2, r2);
        self.mla(r4, p45, t)
    }

    /// `exp` with the result scaled in two steps (subnormal results and
    /// overflow exact), for every input.
    pub(super) fn exp_full(&mut self, x: V) -> V {
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

    /// `tanh`: with FMA, `expm1(2|x|) / (expm1(2|x|) + 2)` on
    /// [`Vm::exp_table`]'s exponential ([`Vm::tanh_table`]); without, a
    /// polynomial below 0.4, else `1 - 2 / (e^2|x| + 1)` in double-double
    /// on [`Vm::exp_core`]'s.
    pub(super) fn tanh(&mut self, x: V) -> V {
        if self.fma {
            return self.tanh_table(x);
        }
        self.tanh_full(x)
    }

    /// [`Vm::tanh`] with the table-driven exponential (FMA only: the
    /// product `s r` below is split exactly by an FMA). One formula for
    /// every `a = |x|`, the sign of `x` put back last (so `-0.0` stays):
    ///
    /// `tanh(a) = E / (E + 2)`, `E = expm1(2a) = (s - 1) + s r + s w`,
    ///
    /// with `e^2a = s (1 + r + w)` from the table (`s = 2^(k/N)` rounded,
    /// `w` the table's tail and the rest of the reduction plus `r^2 P(r)`).
    /// `s - 1` is exact and, where `k > 0`, at least twice `|s r|` (`|r| <=
    /// ln2 / 2N`; where `k = 0` it is 0), so `E` is their sum plus `s w`,
    /// with the exact `s r` and the rounding errors in a low part: a
    /// double-double with no cancellation, also for tiny `a` (where the
    /// previous version needed a separate odd polynomial, which every lane
    /// evaluated, and all lanes the exponential too). `D = E + 2` is a Fast2Sum with the larger magnitude
    /// first, `q = E / D` a rounded quotient (through `1/D`, which also
    /// scales the correction) corrected by its remainder: about 0.5 ULP
    /// plus 2^-60 relative. `a` is clamped to 20, where tanh rounds to 1
    /// (NaN stays NaN: `minpd` returns its second operand).
    fn tanh_table(&mut self, x: V) -> V {
        let a = self.abs(x);
        let twenty = self.c(20.0);
        let ac = self.min(twenty, a);
        // 2 ac = k ln2 / N + r + rl: r = 2 ac - k ln2_hi / N is exact
        // (so the product s r below is too), rl = -k ln2_lo / N is rounded
        // once (|rl| < 2^-33).
        let inv = self.c(2.0 * EXP_INV_LN2_N);
        let shift = self.c(SHIFTER);
        let kd = self.mla(inv, ac, shift);
        let ki = self.as_int(kd);
        let n = self.sub(kd, shift);
        let a2 = self.add(ac, ac);
        let hi = self.c(EXP_NEG_LN2_HI_N);
        let r = self.mla(n, hi, a2);
        let rl = self.mulc(n, EXP_NEG_LN2_LO_N);
        let (tail, s) = self.exp_scale(ki);
        // e^2a = s (1 + tail) e^r (1 + rl) = s (1 + r + w + tl) to 2^-62
        // relative: w = rl (1 + r) + r^2 P(r) (below 2^-9 of r where k > 0,
        // and of s - 1), and tl = tail (1 + r) (2^-53 of them).
        let rl = self.mla(rl, r, rl);
        let w = self.expm1_poly_tail(r, rl);
        let tl = self.mla(tail, r, tail);
        // E = eh + el. With e0 = RN(s - 1 + s r) and eh = RN(s w + e0),
        // (s - 1) + s r + s w - eh = (((s - 1) - eh) + s r) + s w, where
        // the first difference is exact (Sterbenz: eh is within 2^-8 of
        // s - 1, or s - 1 = 0), the sum with s r rounds a value of the size
        // of s w (2^-9 of E) and the last step is an FMA: el is that
        // rounding error to about 2^-62 of E, plus the low part of s r and
        // the tail's share.
        let sm1 = self.addc(s, -1.0);
        let (p, pe) = self.two_prod(s, r);
        let e0 = self.add(sm1, p);
        let eh = self.mla(s, w, e0);
        let d1 = self.sub(sm1, eh);
        let d2 = self.add(d1, p);
        let e2 = self.mla(s, w, d2);
        let el = self.mla(s, tl, pe);
        let el = self.add(el, e2);
        // D = dh + dl = E + 2.
        let two = self.c(2.0);
        let dh = self.add(eh, two);
        let big = self.max(eh, two);
        let small = self.min(eh, two);
        let z = self.sub(dh, big);
        let dl = self.sub(small, z);
        let dl = self.add(dl, el);
        // E / D = q + (eh - q dh + el - q dl) / dh (to 2^-100 relative).
        let one = self.c(1.0);
        let inv = self.div(one, dh);
        let q = self.mul(eh, inv);
        let t = self.nmla(q, dl, el);
        let rem = self.nmla(q, dh, eh);
        let rem = self.add(rem, t);
        let r = self.mla(rem, inv, q);
        self.flip_sign(r, x)
    }

    fn tanh_full(&mut self, x: V) -> V {
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
