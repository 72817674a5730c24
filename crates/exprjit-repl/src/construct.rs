//! Turns constructor calls (`rand(1e6)`, `linspace(0, 1, 5)`, `zeros(3, 4)`,
//! `ones`, `arange`) into new arrays, refusing any that would not fit in
//! memory before allocating it.
//!
//! Constructors are REPL commands, not exprjit functions: their numeric
//! arguments are scalar expressions (`linspace(0, 2*pi, 100)`, `rand(n)`
//! for a scalar variable `n`) evaluated by exprjit's reference interpreter,
//! which leaves the kernel cache and its statistics untouched.

use crate::line::{self, Arg, Call};
use crate::problem::Problem;
use exprjit::internals::ir;
use exprjit::{Array, DType, Element, Scalar, Vars};
use std::ops::Range;

/// The constructor names, also refused as variable names.
pub(crate) const NAMES: [&str; 5] = ["arange", "linspace", "ones", "rand", "zeros"];

/// The most dimensions a constructor makes (numpy allows 64).
const MAX_NDIM: usize = 16;

/// The environment variable that overrides the allocation limit.
pub(crate) const LIMIT_ENV: &str = "EXPRJIT_MAX_BYTES";

/// How many bytes one new array (or result) may take.
#[derive(Clone, Debug)]
pub(crate) struct Limit {
    max: u128,
    from_env: bool,
}

impl Limit {
    /// `EXPRJIT_MAX_BYTES` (a byte count, optionally with a K, M, G or T
    /// binary suffix), else half of the physical memory, else 8 GiB.
    pub(crate) fn from_env() -> Limit {
        if let Some(max) = std::env::var(LIMIT_ENV).ok().and_then(|v| parse_bytes(&v)) {
            return Limit {
                max,
                from_env: true,
            };
        }
        let max = meminfo("MemTotal:").map_or(8 << 30, |total| total / 2);
        Limit {
            max,
            from_env: false,
        }
    }

    /// Why `bytes` for `what` are refused, with a hint, if they are: over
    /// the limit, or over the memory the kernel says is available now
    /// (Linux overcommits: an allocation too large for memory would not
    /// fail, the process would be killed when it touched the pages).
    pub(crate) fn refusal(&self, bytes: u128, what: &str) -> Option<(String, Option<String>)> {
        if bytes > self.max {
            let hint = if self.from_env {
                format!("the limit is {LIMIT_ENV}")
            } else {
                format!("the limit is half of the physical memory; {LIMIT_ENV} changes it")
            };
            return Some((
                format!(
                    "too large: {what} need {}, more than the limit of {}",
                    crate::format::bytes(bytes),
                    crate::format::bytes(self.max)
                ),
                Some(hint),
            ));
        }
        let available = meminfo("MemAvailable:")?;
        (bytes > available).then(|| {
            (
                format!(
                    "too large: {what} need {}, but only {} of memory is available",
                    crate::format::bytes(bytes),
                    crate::format::bytes(available)
                ),
                None,
            )
        })
    }

    /// [`Limit::refusal`] as a problem about `span`.
    pub(crate) fn check(&self, bytes: u128, what: &str, span: Range<usize>) -> Result<(), Problem> {
        match self.refusal(bytes, what) {
            None => Ok(()),
            Some((message, None)) => Err(Problem::new(message, span)),
            Some((message, Some(hint))) => Err(Problem::new(message, span).hint(hint)),
        }
    }
}

fn parse_bytes(v: &str) -> Option<u128> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (digits, unit) = v.split_at(split);
    let n: u128 = digits.parse().ok()?;
    let shift = match unit.trim().trim_end_matches("iB").trim_end_matches('B') {
        "" => 0,
        "K" | "k" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return None,
    };
    n.checked_mul(1 << shift)
}

/// A field of `/proc/meminfo` in bytes.
fn meminfo(field: &str) -> Option<u128> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kb: u128 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// xoshiro256** (Blackman and Vigna), seeded through splitmix64: small,
/// fast, and the same numbers on every platform for a given seed.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
        }
    }

    /// Seeded from the clock and the process id.
    pub(crate) fn from_time() -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Rng::new(t ^ u64::from(std::process::id()).rotate_left(32))
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1), 53 random bits.
    fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [0, 1), 24 random bits.
    fn f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u32 << 24) as f32)
    }
}

/// Numeric arguments with their spans.
type Numbers = Vec<(Scalar, Range<usize>)>;

/// The arguments of a call, sorted out.
struct Args<'c> {
    numbers: Numbers,
    /// A positional shape tuple `(3, 4)`, if one was given.
    tuple: Option<(Numbers, Range<usize>)>,
    dtype: Option<DType>,
    seed: Option<u64>,
    num: Option<(Scalar, Range<usize>)>,
    call: &'c Call<'c>,
}

/// Makes the array `call` asks for.
pub(crate) fn make(
    call: &Call<'_>,
    vars: &Vars<'_>,
    rng: &mut Rng,
    limit: &Limit,
) -> Result<Array, Problem> {
    let args = sort_args(call, vars)?;
    match call.name {
        "zeros" | "ones" | "rand" => {
            let shape = args.shape()?;
            let dtype = args.dtype.unwrap_or(DType::F64);
            let n = checked_len(&shape, dtype, limit, call.span.clone())?;
            match (call.name, dtype) {
                ("rand", DType::F64) => {
                    let mut r = args.seed.map_or_else(|| rng.clone(), Rng::new);
                    let a = fill(shape, n, |_| r.f64(), &call.span);
                    if args.seed.is_none() {
                        *rng = r;
                    }
                    a
                }
                ("rand", DType::F32) => {
                    let mut r = args.seed.map_or_else(|| rng.clone(), Rng::new);
                    let a = fill(shape, n, |_| r.f32(), &call.span);
                    if args.seed.is_none() {
                        *rng = r;
                    }
                    a
                }
                ("rand", d) => {
                    Err(args
                        .dtype_problem(format!("rand() makes float32 or float64 values, not {d}")))
                }
                (name, d) => {
                    let one = name == "ones";
                    match d {
                        DType::Bool => fill(shape, n, |_| one, &call.span),
                        DType::I32 => fill(shape, n, |_| i32::from(one), &call.span),
                        DType::I64 => fill(shape, n, |_| i64::from(one), &call.span),
                        DType::F32 => fill(shape, n, |_| f32::from(u8::from(one)), &call.span),
                        DType::F64 => fill(shape, n, |_| f64::from(u8::from(one)), &call.span),
                    }
                }
            }
        }
        "linspace" => linspace(&args, limit),
        "arange" => arange(&args, limit),
        other => Err(Problem::new(
            format!("unknown constructor '{other}'"),
            call.span.clone(),
        )),
    }
}

fn sort_args<'c>(call: &'c Call<'c>, vars: &Vars<'_>) -> Result<Args<'c>, Problem> {
    let mut args = Args {
        numbers: Vec::new(),
        tuple: None,
        dtype: None,
        seed: None,
        num: None,
        call,
    };
    let set_dtype = |args: &mut Args<'_>, arg: &Arg<'_>| -> Result<(), Problem> {
        let d = DType::from_name(arg.text).ok_or_else(|| {
            Problem::new(format!("unknown dtype '{}'", arg.text), arg.span.clone())
                .hint("dtypes: bool, int32, int64, float32, float64")
        })?;
        if args.dtype.is_some() {
            return Err(Problem::new("dtype given twice", arg.span.clone()));
        }
        args.dtype = Some(d);
        Ok(())
    };
    for arg in &call.args {
        match &arg.keyword {
            Some(("dtype", _)) => set_dtype(&mut args, arg)?,
            Some(("seed", _)) if call.name == "rand" => {
                let s = scalar_arg(arg.text, arg.span.start, vars)?;
                let seed = count(s, arg.span.clone(), "a seed")?;
                args.seed = Some(seed as u64);
            }
            Some(("num", _)) if call.name == "linspace" => {
                args.num = Some((
                    scalar_arg(arg.text, arg.span.start, vars)?,
                    arg.span.clone(),
                ));
            }
            Some((k, span)) => {
                return Err(Problem::new(
                    format!("{}() has no argument '{k}'", call.name),
                    span.clone(),
                )
                .hint(usage(call.name)));
            }
            None if DType::from_name(arg.text).is_some() => set_dtype(&mut args, arg)?,
            None if args.dtype.is_some() => {
                return Err(
                    Problem::new("positional argument after the dtype", arg.span.clone())
                        .hint(usage(call.name)),
                );
            }
            None if arg.text.starts_with('(') && is_tuple(arg.text) => {
                // Split the tuple as the arguments of a call `t(...)`; the
                // `t` shifts every position by one.
                let wrapped = format!("t{}", arg.text);
                let items = match line::call(&wrapped, 0, &["t"]) {
                    Some(Ok(c)) => c.args,
                    Some(Err(_)) | None => {
                        return Err(Problem::new("malformed shape tuple", arg.span.clone()));
                    }
                };
                let mut shape = Vec::new();
                for item in items {
                    let start = arg.span.start + item.span.start - 1;
                    let span = start..start + item.text.len();
                    if item.keyword.is_some() {
                        return Err(Problem::new("a shape holds only numbers", span));
                    }
                    shape.push((scalar_arg(item.text, start, vars)?, span));
                }
                if args.tuple.is_some() || !args.numbers.is_empty() {
                    return Err(Problem::new(
                        "give the shape either as a tuple or as numbers",
                        arg.span.clone(),
                    ));
                }
                args.tuple = Some((shape, arg.span.clone()));
            }
            None => {
                if args.tuple.is_some() {
                    return Err(Problem::new(
                        "give the shape either as a tuple or as numbers",
                        arg.span.clone(),
                    ));
                }
                args.numbers.push((
                    scalar_arg(arg.text, arg.span.start, vars)?,
                    arg.span.clone(),
                ));
            }
        }
    }
    Ok(args)
}

/// `(3, 4)`, `(3,)` or `()`: parenthesised and holding a top-level comma
/// (or nothing), unlike a parenthesised number `(3)`.
fn is_tuple(text: &str) -> bool {
    let inner = &text.as_bytes()[1..];
    let Some(close) = inner.iter().rposition(|&b| b == b')') else {
        return false;
    };
    if close + 2 != text.len() {
        return false;
    }
    let inner = &inner[..close];
    let mut depth = 0i64;
    let mut comma = false;
    for &b in inner {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            b',' if depth == 0 => comma = true,
            _ => {}
        }
    }
    comma || inner.iter().all(|b| b.is_ascii_whitespace())
}

fn usage(name: &str) -> String {
    match name {
        "rand" => "rand(d0, d1, ..., [float32|float64], seed=N): uniform in [0, 1)".into(),
        "zeros" | "ones" => format!("{name}(d0, d1, ..., [dtype])"),
        "linspace" => "linspace(start, stop, [num=50], [dtype])".into(),
        "arange" => "arange([start,] stop, [step], [dtype])".into(),
        _ => String::new(),
    }
}

impl Args<'_> {
    fn shape(&self) -> Result<Vec<usize>, Problem> {
        let items = match &self.tuple {
            Some((items, _)) => items,
            None => &self.numbers,
        };
        if items.len() > MAX_NDIM {
            return Err(Problem::new(
                format!("at most {MAX_NDIM} dimensions"),
                self.call.span.clone(),
            ));
        }
        items
            .iter()
            .map(|(s, span)| count(*s, span.clone(), "a dimension").map(|c| c as usize))
            .collect()
    }

    fn dtype_problem(&self, msg: String) -> Problem {
        let span = self
            .call
            .args
            .iter()
            .find(|a| {
                a.keyword.as_ref().is_some_and(|k| k.0 == "dtype")
                    || DType::from_name(a.text).is_some()
            })
            .map_or(self.call.span.clone(), |a| a.span.clone());
        Problem::new(msg, span)
    }

    fn arity(&self, min: usize, max: usize) -> Result<(), Problem> {
        let n = self.numbers.len();
        if self.tuple.is_some() || n < min || n > max {
            return Err(Problem::new(
                format!(
                    "{}() takes {} numbers, got {n}",
                    self.call.name,
                    if min == max {
                        min.to_string()
                    } else {
                        format!("{min} to {max}")
                    }
                ),
                self.call.span.clone(),
            )
            .hint(usage(self.call.name)));
        }
        Ok(())
    }
}

/// Evaluates a numeric argument: a scalar expression over literals,
/// constants and scalar variables.
fn scalar_arg(text: &str, offset: usize, vars: &Vars<'_>) -> Result<Scalar, Problem> {
    let span = offset..offset + text.len();
    let func = ir::compile(text, vars).map_err(|e| Problem::expr(e, offset))?;
    let mut inputs = Vec::with_capacity(func.params.len());
    for p in &func.params {
        match vars.get(&p.name) {
            Some(op) if op.shape().is_empty() => inputs.push(op.to_array()),
            _ => {
                return Err(Problem::new(
                    format!("expected a number, '{}' is an array", p.name),
                    span,
                ));
            }
        }
    }
    let refs: Vec<&Array> = inputs.iter().collect();
    let r = ir::interp::eval(&func, &refs, text).map_err(|e| Problem::expr(e, offset))?;
    r.to_scalar()
        .ok_or_else(|| Problem::new("expected a number", span))
}

/// A whole, non-negative number (`1e6` counts too).
fn count(s: Scalar, span: Range<usize>, what: &str) -> Result<u128, Problem> {
    let bad = |why: &str| {
        Problem::new(
            format!(
                "{what} must be {why}, got {}",
                crate::format::scalar_value(s)
            ),
            span.clone(),
        )
    };
    match s {
        Scalar::I32(x) if x >= 0 => Ok(x as u128),
        Scalar::I64(x) if x >= 0 => Ok(x as u128),
        Scalar::I32(_) | Scalar::I64(_) => Err(bad("non-negative")),
        Scalar::F32(_) | Scalar::F64(_) => {
            let x = match s {
                Scalar::F32(x) => f64::from(x),
                Scalar::F64(x) => x,
                _ => 0.0,
            };
            if !x.is_finite() || x.fract() != 0.0 {
                Err(bad("a whole number"))
            } else if x < 0.0 {
                Err(bad("non-negative"))
            } else if x >= 2f64.powi(64) {
                Err(bad("below 2**64"))
            } else {
                Ok(x as u128)
            }
        }
        Scalar::Bool(_) => Err(bad("a number")),
    }
}

fn as_f64(s: Scalar) -> f64 {
    match s {
        Scalar::Bool(b) => f64::from(u8::from(b)),
        Scalar::I32(x) => f64::from(x),
        Scalar::I64(x) => x as f64,
        Scalar::F32(x) => f64::from(x),
        Scalar::F64(x) => x,
    }
}

/// The element count of `shape`, refused if too large for `dtype`.
fn checked_len(
    shape: &[usize],
    dtype: DType,
    limit: &Limit,
    span: Range<usize>,
) -> Result<usize, Problem> {
    let n = shape
        .iter()
        .try_fold(1u128, |acc, &d| acc.checked_mul(d as u128))
        .unwrap_or(u128::MAX);
    elements(n, dtype, limit, span)
}

fn elements(n: u128, dtype: DType, limit: &Limit, span: Range<usize>) -> Result<usize, Problem> {
    let bytes = n.saturating_mul(dtype.size() as u128);
    limit.check(bytes, &format!("{n} {dtype} elements"), span.clone())?;
    usize::try_from(n).map_err(|_| Problem::new("too large", span))
}

/// A new array of `shape` whose element `i` is `f(i)`, or a refusal if the
/// allocator says no.
fn fill<T: Element>(
    shape: Vec<usize>,
    n: usize,
    f: impl FnMut(usize) -> T,
    span: &Range<usize>,
) -> Result<Array, Problem> {
    let mut v: Vec<T> = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| Problem::new("too large: the allocation failed", span.clone()))?;
    v.extend((0..n).map(f));
    Array::from_vec(shape, v).ok_or_else(|| Problem::new("shape and length differ", span.clone()))
}

/// Fills `n` elements of `dtype` from an f64 formula (ints are floored, as
/// numpy's `linspace` does; floats of `arange` are computed as f64).
fn fill_from_f64(
    dtype: DType,
    n: usize,
    f: impl Fn(usize) -> f64,
    args: &Args<'_>,
) -> Result<Array, Problem> {
    let span = &args.call.span;
    match dtype {
        DType::F64 => fill(vec![n], n, f, span),
        DType::F32 => fill(vec![n], n, |i| f(i) as f32, span),
        DType::I32 => fill(vec![n], n, |i| f(i).floor() as i32, span),
        DType::I64 => fill(vec![n], n, |i| f(i).floor() as i64, span),
        DType::Bool => {
            Err(args.dtype_problem(format!("{}() does not make bool arrays", args.call.name)))
        }
    }
}

fn linspace(args: &Args<'_>, limit: &Limit) -> Result<Array, Problem> {
    args.arity(2, 3)?;
    let num = match (args.numbers.get(2), &args.num) {
        (Some(_), Some((_, span))) => {
            return Err(Problem::new("num given twice", span.clone()));
        }
        (Some((s, span)), None) | (None, Some((s, span))) => count(*s, span.clone(), "num")?,
        (None, None) => 50,
    };
    let dtype = args.dtype.unwrap_or(DType::F64);
    let n = elements(num, dtype, limit, args.call.span.clone())?;
    let start = as_f64(args.numbers[0].0);
    let stop = as_f64(args.numbers[1].0);
    let step = if n > 1 {
        (stop - start) / (n - 1) as f64
    } else {
        0.0
    };
    // numpy: `arange(num) * step + start`, with the last value set to
    // `stop` exactly.
    fill_from_f64(
        dtype,
        n,
        |i| {
            if i + 1 == n && n > 1 {
                stop
            } else {
                i as f64 * step + start
            }
        },
        args,
    )
}

fn arange(args: &Args<'_>, limit: &Limit) -> Result<Array, Problem> {
    args.arity(1, 3)?;
    let nums: Vec<Scalar> = args.numbers.iter().map(|(s, _)| *s).collect();
    let all_int = nums
        .iter()
        .all(|s| matches!(s, Scalar::I32(_) | Scalar::I64(_) | Scalar::Bool(_)));
    let dtype = args
        .dtype
        .unwrap_or(if all_int { DType::I64 } else { DType::F64 });
    let (start, stop, step) = match nums.as_slice() {
        [stop] => (Scalar::I64(0), *stop, Scalar::I64(1)),
        [start, stop] => (*start, *stop, Scalar::I64(1)),
        [start, stop, step, ..] => (*start, *stop, *step),
        [] => (Scalar::I64(0), Scalar::I64(0), Scalar::I64(1)),
    };
    let step_span = args
        .numbers
        .get(2)
        .map_or(args.call.span.clone(), |n| n.1.clone());
    if all_int {
        let int = |s: Scalar| match s {
            Scalar::I32(x) => i128::from(x),
            Scalar::I64(x) => i128::from(x),
            Scalar::Bool(b) => i128::from(b),
            _ => 0,
        };
        let (a, b, d) = (int(start), int(stop), int(step));
        if d == 0 {
            return Err(Problem::new("step must not be zero", step_span));
        }
        // ceil((b - a) / d), at least 0.
        let len = if d > 0 {
            if b > a { (b - a + d - 1) / d } else { 0 }
        } else if a > b {
            (a - b - d - 1) / -d
        } else {
            0
        };
        let n = elements(len as u128, dtype, limit, args.call.span.clone())?;
        return match dtype {
            DType::I64 => fill(vec![n], n, |i| (a + i as i128 * d) as i64, &args.call.span),
            DType::I32 => fill(vec![n], n, |i| (a + i as i128 * d) as i32, &args.call.span),
            _ => fill_from_f64(dtype, n, |i| (a + i as i128 * d) as f64, args),
        };
    }
    let (a, b, d) = (as_f64(start), as_f64(stop), as_f64(step));
    if d == 0.0 {
        return Err(Problem::new("step must not be zero", step_span));
    }
    let len = ((b - a) / d).ceil();
    if !len.is_finite() {
        return Err(Problem::new(
            "arange() of non-finite bounds",
            args.call.span.clone(),
        ));
    }
    let len = if len > 0.0 { len as u128 } else { 0 };
    let n = elements(len, dtype, limit, args.call.span.clone())?;
    fill_from_f64(dtype, n, |i| a + i as f64 * d, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make_text(text: &str) -> Result<Array, Problem> {
        let c = line::call(text, 0, &NAMES)
            .expect("a constructor call")
            .expect("arguments");
        let limit = Limit {
            max: 1 << 30,
            from_env: true,
        };
        make(&c, &Vars::new(), &mut Rng::new(1), &limit)
    }

    #[test]
    fn shapes_dtypes_and_values() {
        let a = make_text("zeros(2, 3, int32)").expect("zeros");
        assert_eq!(a.shape(), &[2, 3]);
        assert_eq!(a.dtype(), DType::I32);
        let a = make_text("ones((2, 2), dtype=float32)").expect("ones");
        assert_eq!(a.to_vec::<f32>(), Some(vec![1.0; 4]));
        let a = make_text("linspace(0, 1, 5)").expect("linspace");
        assert_eq!(a.to_vec::<f64>(), Some(vec![0.0, 0.25, 0.5, 0.75, 1.0]));
        let a = make_text("arange(1, 10, 3)").expect("arange");
        assert_eq!(a.to_vec::<i64>(), Some(vec![1, 4, 7]));
        let a = make_text("arange(10, 1, -4)").expect("arange");
        assert_eq!(a.to_vec::<i64>(), Some(vec![10, 6, 2]));
        let a = make_text("arange(0.5, 2)").expect("arange");
        assert_eq!(a.to_vec::<f64>(), Some(vec![0.5, 1.5]));
        let a = make_text("rand(1e3, seed=7)").expect("rand");
        assert_eq!(a.len(), 1000);
        let v = a.to_vec::<f64>().expect("f64");
        assert!(v.iter().all(|x| (0.0..1.0).contains(x)));
        let b = make_text("rand(1000, seed=7)").expect("rand");
        assert_eq!(b.to_vec::<f64>(), Some(v));
    }

    #[test]
    fn refusals() {
        let p = make_text("rand(1e12)").expect_err("too large");
        assert!(p.render("rand(1e12)").contains("too large"));
        assert!(make_text("zeros(1.5)").is_err());
        assert!(make_text("zeros(-1)").is_err());
        assert!(make_text("arange(0, 1, 0)").is_err());
        assert!(make_text("rand(3, int32)").is_err());
        assert!(make_text("zeros(3, dtype=complex)").is_err());
        assert!(make_text("zeros(3, foo=1)").is_err());
        assert_eq!(parse_bytes("2G"), Some(2 << 30));
        assert_eq!(parse_bytes("512MiB"), Some(512 << 20));
    }
}
