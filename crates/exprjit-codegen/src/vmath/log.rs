//! Turns `log`, `log2`, `log10`, `log1p`, `arcsinh`, `arccosh` and
//! `arctanh` into vector code around one logarithm core (fdlibm's
//! `log(1+f) = 2s + s R(s^2)`, `s = f / (2 + f)`) that takes its argument
//! as a double-double `u + c`.

use super::consts::{LG2_HI, LG2_LO, LN2_HI, LN2_LO, LOG2E, LOG2E_LO, LOG10E, LOG10E_LO};
use super::{M, V, Vm, coeffs, tables};
use cranelift_codegen::ir::InstBuilder;
use cranelift_codegen::ir::condcodes::FloatCC;

const TWO52: f64 = 4_503_599_627_370_496.0;
const TWO54: f64 = 18_014_398_509_481_984.0;
/// Above this `acosh(x)` is `log(2x)` to double precision.
const ACOSH_HUGE: f64 = 268_435_456.0;

/// The start of the interval of `z` in [`Vm::log_parse`] (about 0.6885):
/// the table's intervals are `2^44` ulps of `z` wide, and the one around 1
/// is `[1 - 2^-10, 1 + 2^-9)`.
const LOG_OFF: u64 = 0x3fe6080000000000;
/// ln 2 in two parts: the high one with 42 significant bits (glibc's), so
/// that `k ln2_hi` is exact for `|k| < 2^11` and a multiple of 2^-42.
const LOG_LN2_HI: f64 = f64::from_bits(0x3fe62e42fefa3800);
const LOG_LN2_LO: f64 = f64::from_bits(0x3d2ef35793c76730);

/// The range of `x` where `log1p` takes [`Vm::log1p_near`]: `1 + x` in
/// `[0.7, 2.75)`, inside `[OFF, 4 OFF)`.
const LOG1P_NEAR: (f64, f64) = (-0.3, 1.75);

/// [`tables::LOG_TAB`] extended to `z` in `[OFF, 4 OFF)`: 512 entries,
/// the second 256 for `2z` (see [`Vm::log1p_near`]).
fn log_tab2() -> &'static [u64] {
    static TAB: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
    TAB.get_or_init(|| {
        let mut t = tables::LOG_TAB.as_flattened().to_vec();
        for e in tables::LOG_TAB {
            let invc = f64::from_bits(e[0]) * 0.5;
            // Exact: both are multiples of 2^-43 below 2 in magnitude.
            let hi = f64::from_bits(e[1]) + LOG_LN2_HI;
            let lo = f64::from_bits(e[2]) + LOG_LN2_LO;
            t.extend_from_slice(&[invc.to_bits(), hi.to_bits(), lo.to_bits(), 0]);
        }
        t
    })
}

/// `u = 2^k z`, see [`Vm::log_parse`].
pub(super) struct ParsedLog {
    kd: V,
    z: V,
    idx: super::Value,
}

/// What [`Vm::log_table_reduce`] gives: the exponent `kd` (as a float),
/// the reduced argument `r`, `w = kd ln2_hi + log(c)_hi` and `log(c)_lo`.
struct TableLog {
    kd: V,
    r: V,
    w: V,
    logc_lo: V,
}

/// `u = 2^e m`, see [`Vm::decompose`].
pub(super) struct Decomposed {
    pub(super) sub: M,
    pub(super) us: V,
    pub(super) e: V,
    pub(super) m: V,
}

/// The base of a logarithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Base {
    E,
    Two,
    Ten,
}

/// `log(u + c) = e ln2 + hi + lo` (`hi + lo` is `log(m)`, `m` in
/// `[sqrt(2)/2, sqrt(2))`).
struct Parts {
    e: V,
    hi: V,
    lo: V,
}

impl Vm<'_, '_> {
    /// The core for positive finite `u` (other lanes give garbage that
    /// [`Vm::log_special`] replaces); `c` is a low part, `|c| <= ulp(u)`.
    /// `u = 2^e m` with `m` in `[sqrt(2)/2, sqrt(2))`, for positive
    /// finite `u`; subnormals are first scaled by 2^54 (`sub`, giving `us`).
    pub(super) fn decompose(&mut self, u: V) -> Decomposed {
        let sub = self.ltc(u, f64::MIN_POSITIVE);
        let scaled = self.mulc(u, TWO54);
        let us = self.sel(sub, scaled, u);
        let bits = self.as_int(us);
        let ebits = self.b.ins().ushr_imm_u(bits, 52);
        // Or-ing the biased exponent into 2^52's mantissa converts it.
        let magic = self.ci(TWO52.to_bits());
        let ef = self.b.ins().bor(ebits, magic);
        let ef = self.as_float(ef);
        let ef = self.addc(ef, -(TWO52 + 1023.0));
        let c54 = self.c(54.0);
        let adj = self.mask(sub, c54);
        let ef = self.sub(ef, adj);
        let mant = self.ci(0x000f_ffff_ffff_ffff);
        let mbits = self.b.ins().band(bits, mant);
        let one = self.ci(1.0f64.to_bits());
        let mbits = self.b.ins().bor(mbits, one);
        let m = self.as_float(mbits);
        let big = self.gtc(m, std::f64::consts::SQRT_2);
        let half = self.mulc(m, 0.5);
        let m = self.sel(big, half, m);
        let c1 = self.c(1.0);
        let inc = self.mask(big, c1);
        let e = self.add(ef, inc);
        Decomposed { sub, us, e, m }
    }

    /// The core for positive finite `u` (other lanes give garbage that
    /// [`Vm::log_special`] replaces); `c` is a low part, `|c| <= ulp(u)`.
    fn log_parts(&mut self, u: V, c: Option<V>) -> Parts {
        let Decomposed { sub, us, e, m } = self.decompose(u);
        let f = self.addc(m, -1.0);
        let d = self.addc(f, 2.0);
        let s = self.div(f, d);
        let z = self.mul(s, s);
        let p = self.poly(z, &coeffs::LOG);
        let r = self.mul(z, p);
        let ff = self.mul(f, f);
        let hfsq = self.mulc(ff, 0.5);
        let nh = self.neg(hfsq);
        let (hi, lo) = self.fast_two_sum(f, nh);
        let t = self.add(hfsq, r);
        let mut lo = self.mla(s, t, lo);
        if let Some(c) = c {
            let cs = self.mulc(c, TWO54);
            let cs = self.sel(sub, cs, c);
            let q = self.div(cs, us);
            lo = self.add(lo, q);
        }
        Parts { e, hi, lo }
    }

    /// `log_base(u + c) + extra * log_base(2)`: the parts summed with one
    /// final rounding of a double-double.
    fn log_sum(&mut self, p: Parts, base: Base, extra: Option<V>) -> V {
        let e = match extra {
            Some(x) => self.add(p.e, x),
            None => p.e,
        };
        let (hi, lo, eh, el) = match base {
            Base::E => {
                let eh = self.mulc(e, LN2_HI);
                let el = self.mulc(e, LN2_LO);
                (p.hi, p.lo, eh, el)
            }
            Base::Two | Base::Ten => {
                let (lh, ll, eh, el) = if base == Base::Two {
                    let zero = self.c(0.0);
                    (LOG2E, LOG2E_LO, e, zero)
                } else {
                    let eh = self.mulc(e, LG2_HI);
                    let el = self.mulc(e, LG2_LO);
                    (LOG10E, LOG10E_LO, eh, el)
                };
                let lhv = self.c(lh);
                let (ph, pe) = self.two_prod(p.hi, lhv);
                let t = self.mulc(p.hi, ll);
                let pl = self.add(pe, t);
                let pl = self.mla(p.lo, lhv, pl);
                (ph, pl, eh, el)
            }
        };
        let (s, e2) = self.two_sum(eh, hi);
        let lo = self.add(lo, el);
        let lo = self.add(lo, e2);
        self.add(s, lo)
    }

    /// The results for `u` that is not positive and finite: `log(0)` is
    /// `-inf`, `log(inf)` is `inf`, negative and NaN give NaN.
    fn log_special(&mut self, u: V, r: V) -> V {
        let inf = self.eqc(u, f64::INFINITY);
        let r = self.selc(inf, f64::INFINITY, r);
        let zero = self.eqc(u, 0.0);
        let r = self.selc(zero, f64::NEG_INFINITY, r);
        let neg = self.ltc(u, 0.0);
        let r = self.selc(neg, f64::NAN, r);
        let nan = self.isnan(u);
        self.sel(nan, u, r)
    }

    fn log_of(&mut self, u: V, c: Option<V>, base: Base, extra: Option<V>) -> V {
        let p = self.log_parts(u, c);
        let r = self.log_sum(p, base, extra);
        self.log_special(u, r)
    }

    /// `log`, `log2`, `log10`: with FMA, [`Vm::log_table`] where `x` is
    /// positive, normal and finite, [`Vm::log_of`] for the other lanes;
    /// without FMA the latter.
    pub(super) fn log(&mut self, x: V, base: Base) -> V {
        if !self.fma {
            return self.log_of(x, None, base, None);
        }
        let bad = |vm: &mut Self| {
            let lo = vm.c(f64::MIN_POSITIVE);
            let below = vm.cmp(FloatCC::UnorderedOrLessThan, x, lo);
            let inf = vm.eqc(x, f64::INFINITY);
            vm.or(below, inf)
        };
        let [r] = self.guarded(
            bad,
            |vm| [vm.log_table(x, base)],
            |vm| [vm.log_of(x, None, base, None)],
        );
        r
    }

    /// `log_base(x)` for positive normal finite `x`, with FMA: the table
    /// method of [`Vm::log1p_table`] on `u = x`, `c = 0` (no correction
    /// term, no special lanes). For base e the parts are summed as there;
    /// for bases 2 and 10, `log(z) = logc + log1p(r)` goes to
    /// [`Vm::log_sum`] as a double-double (`logc_hi + r` is a Fast2Sum: the
    /// table's `logc_hi` is 0 or at least `|r|` in exponent) with `k`
    /// exact.
    fn log_table(&mut self, x: V, base: Base) -> V {
        if base == Base::E {
            return self.log_table_core(x, None);
        }
        let (kd, r, logc_hi, logc_lo) = self.log_table_lookup(x);
        // log1p(r) - r = r^2 (-1/2 + r P(r)).
        let r2 = self.mul(r, r);
        let [c3, c4, c5, c6] = coeffs::LOG_T;
        let p = self.poly(r, &[-0.5, c3, c4, c5, c6]);
        let (hi, lo) = self.fast_two_sum(logc_hi, r);
        let lo = self.add(lo, logc_lo);
        let lo = self.mla(r2, p, lo);
        let parts = Parts { e: kd, hi, lo };
        self.log_sum(parts, base, None)
    }

    /// `log1p(x)`: with FMA, [`Vm::log1p_table`] for `x` in `[-1/2, 2^1000)`
    /// and [`Vm::log1p_full`] for the other lanes; without FMA the latter.
    pub(super) fn log1p(&mut self, x: V) -> V {
        if !self.fma {
            return self.log1p_full(x);
        }
        // x in [-0.3, 1.75) (not NaN): the two-binade table, no exponent.
        let bad = |vm: &mut Self| {
            let lo = vm.c(LOG1P_NEAR.0);
            let below = vm.cmp(FloatCC::UnorderedOrLessThan, x, lo);
            let above = vm.not_below(x, LOG1P_NEAR.1);
            vm.or(below, above)
        };
        let [r] = self.guarded(bad, |vm| [vm.log1p_near(x)], |vm| [vm.log1p_far(x)]);
        r
    }

    /// `log1p(x)` for `x` outside `LOG1P_NEAR`, with FMA: [`Vm::log1p_table`]
    /// for `x >= -1/2` (+inf goes through and is fixed at its end),
    /// [`Vm::log1p_full`] for the other lanes.
    fn log1p_far(&mut self, x: V) -> V {
        let bad = |vm: &mut Self| {
            let lo = vm.c(-0.5);
            vm.cmp(FloatCC::UnorderedOrLessThan, x, lo)
        };
        let [r] = self.guarded(bad, |vm| [vm.log1p_table(x)], |vm| [vm.log1p_full(x)]);
        r
    }

    /// `log1p(x)` for `x` in `LOG1P_NEAR`, with FMA: [`Vm::log1p_table`]
    /// where `u = 1 + x` is in `[OFF, 4 OFF)`, two binades of `z` with no
    /// exponent to take out: the table [`log_tab2`] holds the log table for
    /// `z` and, for `2z`, `invc / 2` and `log c + ln2` (exact in `logc_hi`,
    /// both parts being multiples of 2^-43), and `u` indexes it directly.
    /// Six operations and as many constant loads fewer than the general
    /// path.
    fn log1p_near(&mut self, x: V) -> V {
        let one = self.c(1.0);
        let u = self.add(x, one);
        let one = self.c(1.0);
        let t = self.sub(u, one);
        let c = self.sub(x, t);
        // Byte offset of u's entry: bits 44..52 of bits(u) - OFF, times 32.
        let ix = self.as_int(u);
        let off = self.ci(LOG_OFF);
        let d = self.isub(ix, off);
        let i = self.ushr(d, 44 - 5);
        let idx = self.iandc(i, 511 << 5);
        let table = self.pool.table("log2binades", log_tab2());
        let (e0, e1) = self.gather_raw(table, idx, 0);
        let (invc, logc_hi) = self.transpose(e0, e1);
        let (f0, f1) = self.gather_raw(table, idx, 16);
        let (logc_lo, _) = self.transpose(f0, f1);
        let mone = self.c(-1.0);
        let r = self.mla(u, invc, mone);
        let corr = self.div(c, u);
        let (hi, lo) = self.fast_two_sum(logc_hi, r);
        let lo = self.add(lo, logc_lo);
        let lo = self.add(lo, corr);
        let r2 = self.mul(r, r);
        let [c3, c4, c5, c6] = coeffs::LOG_T;
        let p = self.poly(r, &[-0.5, c3, c4, c5, c6]);
        let lo = self.mla(r2, p, lo);
        let y = self.add(hi, lo);
        // log1p(-0.0) = -0.0.
        let xx = self.add(x, x);
        let same = self.eq(xx, x);
        self.sel(same, x, y)
    }

    /// `log1p(x) = log(u + c)` with `u + c = 1 + x` exactly (TwoSum).
    fn log1p_full(&mut self, x: V) -> V {
        let one = self.c(1.0);
        let (u, c) = self.two_sum(one, x);
        let r = self.log_of(u, Some(c), Base::E, None);
        self.fix_zero(x, r)
    }

    /// `log1p(x)` for `x >= -1/2`, with FMA, by glibc's table-driven `log`
    /// (Szabolcs Nagy, 2018) adapted to a double-double argument and to no
    /// separate path near 1: `1 + x = u + c` exactly, `u = 2^k z` with `z`
    /// in `[OFF, 2 OFF)`, and with the table's `invc` near `1/z` (9 bits, so
    /// that `r = z invc - 1` is exact) and `log c` in two parts:
    ///
    /// `log1p(x) = k ln2 + log c + log1p(r) + c / u`.
    ///
    /// `k ln2_hi + logc_hi` is exact and at least `|r|` (or 0), so its sum
    /// with `r` is a Fast2Sum; everything else is below 2^-8 of the result
    /// and goes into the low part. The interval around 1 has `invc = 1`, so
    /// small results come from `r` alone, without cancellation. `x = ±0`
    /// and `x = inf` (the lanes where `x + x == x`) return `x`.
    fn log1p_table(&mut self, x: V) -> V {
        // u + c = 1 + x exactly: c = x - (u - 1), a Fast2Sum with 1 first,
        // which is exact here even where x > 1: u - 1 is exact (for
        // u < 2^53 it is a multiple of ulp(u) and at least u / 2; below 1
        // by Sterbenz), and so is x - (u - 1) (Sterbenz again). Beyond 2^53
        // c may be off by 1, whose share c / u is below 2^-53 of an ULP of
        // the result (about 37).
        let one = self.c(1.0);
        let u = self.add(x, one);
        let one = self.c(1.0);
        let t = self.sub(u, one);
        let c = self.sub(x, t);
        // PERF: one division (on the divider, otherwise idle here) instead
        // of scaling c by 2^-k invc (1 - r): seven fewer instructions.
        let corr = self.div(c, u);
        let y = self.log_table_core(u, Some(corr));
        // log1p(-0.0) = -0.0, log1p(inf) = inf: x itself.
        let xx = self.add(x, x);
        let same = self.eq(xx, x);
        self.sel(same, x, y)
    }

    /// The table step shared by [`Vm::log_table_core`] and [`Vm::log_pow`]:
    /// `u = 2^k z`, `r = z invc - 1` (exact with FMA) and
    /// `w = k ln2_hi + log(c)_hi`, with the table's low part of `log(c)`.
    fn log_table_reduce(&mut self, u: V) -> TableLog {
        let (kd, r, logc_hi, logc_lo) = self.log_table_lookup(u);
        let ln2_hi = self.c(LOG_LN2_HI);
        let w = self.mla(kd, ln2_hi, logc_hi);
        TableLog { kd, r, w, logc_lo }
    }

    /// The table lookup of every table logarithm: `u = 2^k z`, the entry
    /// `(invc, log(c)_hi, log(c)_lo)` of `z`'s interval, and
    /// `r = z invc - 1` (exact with FMA). Gives `(k, r, log(c)_hi,
    /// log(c)_lo)`.
    fn log_table_lookup(&mut self, u: V) -> (V, V, V, V) {
        let ParsedLog { kd, z, idx } = self.log_parse(u);
        let table = self.pool.table("log", tables::LOG_TAB.as_flattened());
        let (e0, e1) = self.gather_raw(table, idx, 0);
        let (invc, logc_hi) = self.transpose(e0, e1);
        let (f0, f1) = self.gather_raw(table, idx, 16);
        let (logc_lo, _) = self.transpose(f0, f1);
        let mone = self.c(-1.0);
        let r = self.mla(z, invc, mone);
        (kd, r, logc_hi, logc_lo)
    }

    /// `log(u) + corr` for positive normal finite `u` (`corr` is `c / u`
    /// for the low part `c` of a double-double `u + c`), with FMA: the table
    /// method described at [`Vm::log1p_table`].
    fn log_table_core(&mut self, u: V, corr: Option<V>) -> V {
        let TableLog { kd, r, w, logc_lo } = self.log_table_reduce(u);
        let (hi, lo) = self.fast_two_sum(w, r);
        let ln2_lo = self.c(LOG_LN2_LO);
        let lo = self.mla(kd, ln2_lo, lo);
        let lo = self.add(lo, logc_lo);
        let lo = match corr {
            Some(corr) => self.add(lo, corr),
            None => lo,
        };
        // log1p(r) - r = r^2 (-1/2 + r P(r)).
        let r2 = self.mul(r, r);
        let [c3, c4, c5, c6] = coeffs::LOG_T;
        let p = self.poly(r, &[-0.5, c3, c4, c5, c6]);
        let lo = self.mla(r2, p, lo);
        self.add(hi, lo)
    }

    /// `log(x)` as a double-double accurate to about 2^-68 relative, for
    /// positive normal finite `x`, with FMA: the table method of
    /// [`Vm::log_table_core`] with the `-r^2/2` term split exactly and
    /// added as a Fast2Sum, and the longer polynomial `LOG_POW` (glibc's
    /// `pow` carries its logarithm the same way).
    pub(super) fn log_pow(&mut self, x: V) -> (V, V) {
        let TableLog { kd, r, w, logc_lo } = self.log_table_reduce(x);
        let (t1, l1) = self.fast_two_sum(w, r);
        // -r^2/2 = ah + al exactly; |ah| < 2^-9 |t1| (or t1 = r).
        let ar = self.mulc(r, -0.5);
        let (ah, al) = self.two_prod(r, ar);
        let (hi, l2) = self.fast_two_sum(t1, ah);
        let ln2_lo = self.c(LOG_LN2_LO);
        let lo = self.mla(kd, ln2_lo, logc_lo);
        let lo = self.add(lo, l1);
        let lo = self.add(lo, l2);
        let lo = self.add(lo, al);
        // r^3 Q(r).
        let r2 = self.mul(r, r);
        let r3 = self.mul(r2, r);
        let q = self.poly(r, &coeffs::LOG_POW);
        let lo = self.mla(r3, q, lo);
        self.fast_two_sum(hi, lo)
    }

    /// `u = 2^k z` for `u >= 1/2` (inf gives garbage): `k` as a double, `z`
    /// in `[OFF, 2 OFF)`, and the byte offset of `z`'s entry in the table
    /// (bits 44..51 of `bits(u) - OFF`).
    pub(super) fn log_parse(&mut self, u: V) -> ParsedLog {
        let ix = self.as_int(u);
        // t = bits(u) - OFF + (1023 << 52): k + 1023 in the top bits (k is
        // -1 at least, and at most 1024), the mantissa offset below.
        let off = self.ci(LOG_OFF.wrapping_sub(1023 << 52));
        let t = self.isub(ix, off);
        let i = self.ushr(t, 44 - 5);
        let idx = self.iandc(i, 255 << 5);
        let m = self.iandc(t, (1 << 52) - 1);
        let off = self.ci(LOG_OFF);
        let iz = self.iadd(m, off);
        let z = self.as_float(iz);
        // k + 1023 in the low bits of 2^52 gives k as a double.
        let kb = self.ushr(t, 52);
        let magic = self.ci(TWO52.to_bits());
        let kb = self.b.ins().bor(kb, magic);
        let kd = self.as_float(kb);
        let kd = self.addc(kd, -(TWO52 + 1023.0));
        ParsedLog { kd, z, idx }
    }

    /// `sqrt(s + sl)` as a double-double (`s >= 0`; 0 gives 0).
    pub(super) fn sqrt_dd(&mut self, s: V, sl: V) -> (V, V) {
        let r = self.sqrt(s);
        let rem = self.rem(r, r, s);
        let rem = self.add(rem, sl);
        let twice = self.add(r, r);
        let rl = self.div(rem, twice);
        let zero = self.eqc(s, 0.0);
        let rl = self.selc(zero, 0.0, rl);
        (r, rl)
    }

    /// `asinh(|x|) = log1p(|x| + x^2 / (1 + sqrt(1 + x^2)))` in
    /// double-double; `log(2|x|)` above 2^28.
    pub(super) fn asinh(&mut self, x: V) -> V {
        let a = self.abs(x);
        let (q, ql) = self.two_prod(a, a);
        let one = self.c(1.0);
        let (s, sl) = self.two_sum(one, q);
        let sl = self.add(sl, ql);
        let (r, rl) = self.sqrt_dd(s, sl);
        let (dh, dl) = self.fast_two_sum(r, one);
        let dl = self.add(dl, rl);
        let fh = self.div(q, dh);
        let rem = self.rem(fh, dh, q);
        let rem = self.add(rem, ql);
        let rem = self.nmla(fh, dl, rem);
        let fl = self.div(rem, dh);
        let (wh, wl) = self.fast_two_sum(a, fh);
        let wl = self.add(wl, fl);
        let (u, c) = self.two_sum(one, wh);
        let c = self.add(c, wl);
        let huge = self.gtc(a, 268_435_456.0);
        let r = self.huge_log(huge, a, u, c);
        let r = self.copysign(r, x);
        self.fix_zero(x, r)
    }

    /// `log(u + c)`, or `log(2a)` in the `huge` lanes.
    fn huge_log(&mut self, huge: M, a: V, u: V, c: V) -> V {
        let u = self.sel(huge, a, u);
        let zero = self.c(0.0);
        let c = self.sel(huge, zero, c);
        let one = self.c(1.0);
        let extra = self.mask(huge, one);
        self.log_of(u, Some(c), Base::E, Some(extra))
    }

    /// `acosh(x)`: with FMA, [`Vm::acosh_table`] for `x` in `[1, 2^28]` and
    /// [`Vm::acosh_full`] for the other lanes; without FMA the latter.
    pub(super) fn acosh(&mut self, x: V) -> V {
        if !self.fma {
            return self.acosh_full(x);
        }
        let bad = |vm: &mut Self| {
            let one = vm.c(1.0);
            let below = vm.cmp(FloatCC::UnorderedOrLessThan, x, one);
            let huge = vm.gtc(x, ACOSH_HUGE);
            vm.or(below, huge)
        };
        let [r] = self.guarded(bad, |vm| [vm.acosh_table(x)], |vm| [vm.acosh_full(x)]);
        r
    }

    /// `acosh(x)` for `x` in `[1, 2^28]`: `log1p(t + sqrt(t (t + 2)))`, `t =
    /// x - 1`, in double-double (one square root: `t` is exact and `2 + t`
    /// a Fast2Sum, exact for `t < 2^53` as in [`Vm::log1p_table`]) through
    /// [`Vm::log_table_core`]. The two quotients of the low parts (of the
    /// square root, `rem / 2r`, and of the logarithm's argument, `c / u`)
    /// share one division `1 / (2r u)`; they are below 2^-52 of the terms
    /// they correct, so the extra roundings are far below an ULP. At
    /// `x = 1` (`r = 0`) the divisor is raised to 2^-1000 so that both come
    /// out 0.
    fn acosh_table(&mut self, x: V) -> V {
        let t = self.addc(x, -1.0);
        let two = self.c(2.0);
        let (t2h, t2l) = self.fast_two_sum(two, t);
        let (p, pl) = self.two_prod(t, t2h);
        let pl = self.mla(t, t2l, pl);
        // sqrt(p + pl) = r + rem / 2r.
        let r = self.sqrt(p);
        let rem = self.nmla(r, r, p);
        let rem = self.add(rem, pl);
        // r >= t: w = t + r + rem / 2r = wh + wl.
        let (wh, wl) = self.fast_two_sum(r, t);
        // u + c = 1 + wh + wl (Fast2Sum with 1 first, as in log1p).
        let one = self.c(1.0);
        let u = self.add(wh, one);
        let one = self.c(1.0);
        let v = self.sub(u, one);
        let c = self.sub(wh, v);
        let c = self.add(c, wl);
        let r2 = self.add(r, r);
        let d = self.mul(r2, u);
        let tiny = self.c(f64::from_bits(0x0170_0000_0000_0000));
        let d = self.max(d, tiny);
        let one = self.c(1.0);
        let inv = self.div(one, d);
        // c / u + rem / (2r u) = (c 2r + rem) / (2r u).
        let num = self.mla(c, r2, rem);
        let corr = self.mul(num, inv);
        self.log_table_core(u, Some(corr))
    }

    /// `acosh(x)`: `log1p(t + sqrt(t (t + 2)))`, `t = x - 1`, below 2;
    /// `log(x + sqrt(x^2 - 1))` up to 2^28; `log(2x)` above.
    fn acosh_full(&mut self, x: V) -> V {
        let one = self.c(1.0);
        let two = self.c(2.0);
        // Near 1 (t exact for x in [1, 2]).
        let t = self.addc(x, -1.0);
        let (t2h, t2l) = self.fast_two_sum(two, t);
        let (p, pl) = self.two_prod(t, t2h);
        let pl = self.mla(t, t2l, pl);
        let (r, rl) = self.sqrt_dd(p, pl);
        let (wh, wl) = self.fast_two_sum(r, t);
        let wl = self.add(wl, rl);
        let (un, cn) = self.two_sum(one, wh);
        let cn = self.add(cn, wl);
        // Far from 1.
        let (q, ql) = self.two_prod(x, x);
        let mone = self.c(-1.0);
        let (s, sl) = self.fast_two_sum(q, mone);
        let sl = self.add(sl, ql);
        let (r2, r2l) = self.sqrt_dd(s, sl);
        let (ah, al) = self.fast_two_sum(x, r2);
        let al = self.add(al, r2l);
        let near = self.ltc(x, 2.0);
        let u = self.sel(near, un, ah);
        let c = self.sel(near, cn, al);
        let huge = self.gtc(x, ACOSH_HUGE);
        let r = self.huge_log(huge, x, u, c);
        let below = self.ltc(x, 1.0);
        self.selc(below, f64::NAN, r)
    }

    /// `atanh(x) = log1p(2|x| / (1 - |x|)) / 2`, the quotient in
    /// double-double.
    pub(super) fn atanh(&mut self, x: V) -> V {
        let a = self.abs(x);
        let one = self.c(1.0);
        let na = self.neg(a);
        let (dh, dl) = self.two_sum(one, na);
        let n = self.add(a, a);
        let yh = self.div(n, dh);
        let rem = self.rem(yh, dh, n);
        let rem = self.nmla(yh, dl, rem);
        let yl = self.div(rem, dh);
        let (u, c) = self.two_sum(one, yh);
        let c = self.add(c, yl);
        let r = self.log_of(u, Some(c), Base::E, None);
        let r = self.mulc(r, 0.5);
        let r = self.copysign(r, x);
        self.fix_zero(x, r)
    }
}
