//! Turns arrays, scalars, durations and byte counts into the text the REPL
//! prints, arrays the way numpy's `repr` does.
//!
//! The array layout follows numpy 2's `arrayprint` (line width 75, three
//! edge items per axis once an array has more than 1,000 elements, floats
//! with at most 8 fractional digits, scientific notation when the values
//! span more than three decades), except that the shape and the dtype are
//! always printed: a new user should not have to know numpy's defaults.

use exprjit::{Array, DType, Scalar};
use std::fmt::Write;
use std::time::Duration;

/// numpy's `threshold`: arrays with more elements are summarised.
const THRESHOLD: usize = 1000;
/// numpy's `edgeitems`: elements shown at each end of a summarised axis.
const EDGE: usize = 3;
/// numpy's `linewidth`.
const LINE_WIDTH: usize = 75;
/// More shown elements than this (only possible for many short axes, such
/// as a 2x2x...x2 array of 20 dimensions) are not printed at all.
const MAX_SHOWN: usize = 4096;

/// `shape=(1000, 1000)` style: `(3,)`, `(2, 3)`, `()`.
pub(crate) fn shape(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_string(),
        [n] => format!("({n},)"),
        _ => {
            let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
            format!("({})", dims.join(", "))
        }
    }
}

/// A byte count with a binary unit: `800 B`, `7.6 MiB`.
pub(crate) fn bytes(n: u128) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    if n > u128::from(u64::MAX) {
        return "more than 16 EiB".to_string();
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// A duration with three significant digits or so: `840 ns`, `12.4 µs`,
/// `1.52 ms`, `2.31 s`.
pub(crate) fn duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2} ms", ns as f64 / 1e6)
    } else {
        format!("{:.2} s", ns as f64 / 1e9)
    }
}

/// A scalar on its own, numpy 2 style without the `np.`: `float64(2.5)`,
/// `bool(True)`.
pub(crate) fn scalar(s: Scalar) -> String {
    format!("{}({})", s.dtype().numpy_name(), scalar_value(s))
}

/// The value alone, shortest round-trip form: `2.5`, `1e-10`, `True`.
pub(crate) fn scalar_value(s: Scalar) -> String {
    match s {
        Scalar::Bool(b) => if b { "True" } else { "False" }.to_string(),
        Scalar::I32(x) => x.to_string(),
        Scalar::I64(x) => x.to_string(),
        Scalar::F32(x) => float_alone(f64::from(x), format!("{x:?}")),
        Scalar::F64(x) => float_alone(x, format!("{x:?}")),
    }
}

fn float_alone(x: f64, debug: String) -> String {
    if x.is_nan() {
        "nan".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        debug
    }
}

/// numpy's `repr` of an array (0-d arrays as a scalar).
pub(crate) fn array(a: &Array) -> String {
    let shape = a.shape();
    if shape.is_empty() {
        return scalar(a.get(0));
    }
    let extras = format!(
        "shape={}, dtype={})",
        self::shape(shape),
        a.dtype().numpy_name()
    );
    if a.is_empty() {
        return format!("array([], {extras}");
    }
    let summarise = a.len() > THRESHOLD;
    let shown = shown_indices(shape, summarise);
    let count = shown.iter().map(Vec::len).product::<usize>();
    if count > MAX_SHOWN {
        return format!("array(<{count} elements not shown>, {extras}");
    }
    let strides = contiguous_strides(shape);
    let values = shown_values(a, &shown, &strides);
    let words = Words::new(&values, a.dtype());
    let mut printer = Printer {
        array: a,
        strides: &strides,
        words: &words,
        summarise,
        index: Vec::with_capacity(shape.len()),
    };
    let prefix = "array(";
    let hanging = " ".repeat(prefix.len() + 1);
    let body = printer.recurse(&hanging, LINE_WIDTH);
    // numpy puts the extras on a line of their own if the last line would
    // get too long.
    let head = format!("{prefix}{body},");
    let last_line = head.len() - head.rfind('\n').map_or(0, |i| i + 1);
    if last_line + extras.len() + 1 > LINE_WIDTH {
        format!("{head}\n{}{extras}", " ".repeat(prefix.len()))
    } else {
        format!("{head} {extras}")
    }
}

/// The indices of each axis that are printed.
fn shown_indices(shape: &[usize], summarise: bool) -> Vec<Vec<usize>> {
    shape
        .iter()
        .map(|&n| {
            if summarise && n > 2 * EDGE {
                (0..EDGE).chain(n - EDGE..n).collect()
            } else {
                (0..n).collect()
            }
        })
        .collect()
}

fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for k in (0..shape.len().saturating_sub(1)).rev() {
        strides[k] = strides[k + 1] * shape[k + 1];
    }
    strides
}

/// Every printed element (the format of each depends on all of them).
fn shown_values(a: &Array, shown: &[Vec<usize>], strides: &[usize]) -> Vec<Scalar> {
    let mut out = Vec::new();
    let mut pos = vec![0usize; shown.len()];
    loop {
        let flat: usize = pos
            .iter()
            .zip(shown)
            .zip(strides)
            .map(|((&p, idx), &s)| idx[p] * s)
            .sum();
        out.push(a.get(flat));
        // Odometer increment over the shown indices.
        let mut k = shown.len();
        loop {
            if k == 0 {
                return out;
            }
            k -= 1;
            pos[k] += 1;
            if pos[k] < shown[k].len() {
                break;
            }
            pos[k] = 0;
        }
    }
}

/// How every element is turned into a word of one common width.
enum Words {
    Bool,
    Int { width: usize },
    Float(FloatFormat),
}

impl Words {
    fn new(values: &[Scalar], dtype: DType) -> Words {
        match dtype {
            DType::Bool => Words::Bool,
            DType::I32 | DType::I64 => Words::Int {
                width: values
                    .iter()
                    .map(|v| scalar_value(*v).len())
                    .max()
                    .unwrap_or(1),
            },
            DType::F32 | DType::F64 => Words::Float(FloatFormat::new(values)),
        }
    }

    fn word(&self, v: Scalar) -> String {
        match self {
            // numpy pads `True` to the width of `False`.
            Words::Bool => format!("{:>5}", scalar_value(v)),
            Words::Int { width } => format!("{:>width$}", scalar_value(v)),
            Words::Float(f) => f.word(v),
        }
    }
}

fn as_f64(v: Scalar) -> (f64, bool) {
    match v {
        Scalar::F32(x) => (f64::from(x), true),
        Scalar::F64(x) => (x, false),
        Scalar::Bool(b) => (f64::from(u8::from(b)), false),
        Scalar::I32(x) => (f64::from(x), false),
        Scalar::I64(x) => (x as f64, false),
    }
}

/// numpy's `FloatingFormat` for `floatmode='maxprec'`, precision 8.
struct FloatFormat {
    exp: bool,
    /// Fractional digits of every mantissa in scientific notation.
    precision: usize,
    /// Digits of every exponent in scientific notation (at least 2).
    exp_digits: usize,
    pad_left: usize,
    pad_right: usize,
}

const PRECISION: usize = 8;

impl FloatFormat {
    fn new(values: &[Scalar]) -> FloatFormat {
        let finite: Vec<(f64, bool)> = values
            .iter()
            .map(|v| as_f64(*v))
            .filter(|(x, _)| x.is_finite())
            .collect();
        let nonzero: Vec<f64> = finite
            .iter()
            .map(|(x, _)| x.abs())
            .filter(|&x| x != 0.0)
            .collect();
        let exp = match (
            nonzero.iter().copied().reduce(f64::max),
            nonzero.iter().copied().reduce(f64::min),
        ) {
            (Some(max), Some(min)) => max >= 1e8 || min < 1e-4 || max / min > 1e3,
            _ => false,
        };
        let mut f = FloatFormat {
            exp,
            precision: 0,
            exp_digits: 2,
            pad_left: 0,
            pad_right: 0,
        };
        if exp {
            let parts: Vec<(String, String, String)> =
                finite.iter().map(|&(x, f32)| sci_parts(x, f32)).collect();
            f.precision = parts.iter().map(|p| p.1.len()).max().unwrap_or(0);
            f.exp_digits = parts.iter().map(|p| p.2.len() - 1).max().unwrap_or(2);
            f.pad_left = parts.iter().map(|p| p.0.len()).max().unwrap_or(1);
            f.pad_right = f.exp_digits + 2 + f.precision;
        } else {
            let parts: Vec<(String, String)> =
                finite.iter().map(|&(x, f32)| fixed_parts(x, f32)).collect();
            f.pad_left = parts.iter().map(|p| p.0.len()).max().unwrap_or(1);
            f.pad_right = parts.iter().map(|p| p.1.len()).max().unwrap_or(0);
        }
        // Non-finite values are right-aligned in the same width; widen the
        // integer part if they are longer.
        let width_needed = values
            .iter()
            .map(|v| as_f64(*v).0)
            .filter(|x| !x.is_finite())
            .map(|x| non_finite(x).len())
            .max()
            .unwrap_or(0);
        let width = f.pad_left + 1 + f.pad_right;
        if width_needed > width {
            f.pad_left += width_needed - width;
        }
        f
    }

    fn word(&self, v: Scalar) -> String {
        let (x, f32) = as_f64(v);
        let width = self.pad_left + 1 + self.pad_right;
        if !x.is_finite() {
            return format!("{:>width$}", non_finite(x));
        }
        if self.exp {
            let (int, frac, exponent) = sci_parts(x, f32);
            let sign = &exponent[..1];
            let digits = &exponent[1..];
            let frac = format!("{frac:0<prec$}", prec = self.precision);
            let exponent = format!("{sign}{digits:0>w$}", w = self.exp_digits);
            let left = format!("{int:>w$}", w = self.pad_left);
            let right = format!("{frac}e{exponent}");
            format!("{left}.{right:<w$}", w = self.pad_right)
        } else {
            let (int, frac) = fixed_parts(x, f32);
            format!(
                "{int:>l$}.{frac:<r$}",
                l = self.pad_left,
                r = self.pad_right
            )
        }
    }
}

fn non_finite(x: f64) -> &'static str {
    if x.is_nan() {
        "nan"
    } else if x > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}

/// The shortest round-trip digits of `x` (as f32 if `f32`), rounded to at
/// most [`PRECISION`] fractional digits: integer part and fraction, the
/// fraction without trailing zeros.
fn fixed_parts(x: f64, f32: bool) -> (String, String) {
    let shortest = if f32 {
        format!("{}", x as f32)
    } else {
        format!("{x}")
    };
    let (int, frac) = match shortest.split_once('.') {
        Some((i, f)) => (i.to_string(), f.to_string()),
        None => (shortest.clone(), String::new()),
    };
    if frac.len() <= PRECISION {
        return (int, frac);
    }
    let rounded = format!("{x:.PRECISION$}");
    match rounded.split_once('.') {
        Some((i, f)) => (i.to_string(), f.trim_end_matches('0').to_string()),
        None => (rounded, String::new()),
    }
}

/// Scientific notation: mantissa integer part, fraction (no trailing
/// zeros, at most [`PRECISION`] digits) and the signed exponent (`-05`).
fn sci_parts(x: f64, f32: bool) -> (String, String, String) {
    let shortest = if f32 {
        format!("{:e}", x as f32)
    } else {
        format!("{x:e}")
    };
    let text = match shortest.split_once('e') {
        Some((m, _)) if m.split_once('.').is_some_and(|(_, f)| f.len() > PRECISION) => {
            format!("{x:.PRECISION$e}")
        }
        _ => shortest,
    };
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let frac = frac.trim_end_matches('0');
    let exponent = if let Some(digits) = exponent.strip_prefix('-') {
        format!("-{digits:0>2}")
    } else {
        format!("+{exponent:0>2}")
    };
    (int.to_string(), frac.to_string(), exponent)
}

/// numpy's `_formatArray`, walking the axes with an index stack.
struct Printer<'p> {
    array: &'p Array,
    strides: &'p [usize],
    words: &'p Words,
    summarise: bool,
    index: Vec<usize>,
}

impl Printer<'_> {
    fn element(&self) -> String {
        let flat: usize = self
            .index
            .iter()
            .zip(self.strides)
            .map(|(i, s)| i * s)
            .sum();
        self.words.word(self.array.get(flat))
    }

    /// The items of the next axis: leading ones, whether a `...` follows,
    /// trailing ones.
    fn items(&self, n: usize) -> (Vec<usize>, bool) {
        if self.summarise && n > 2 * EDGE {
            ((0..EDGE).chain(n - EDGE..n).collect(), true)
        } else {
            ((0..n).collect(), false)
        }
    }

    /// Recursion depth is the number of dimensions, which constructors cap.
    fn recurse(&mut self, hanging: &str, width: usize) -> String {
        let shape = self.array.shape();
        let axis = self.index.len();
        let axes_left = shape.len() - axis;
        if axes_left == 0 {
            return self.element();
        }
        let next_hanging = format!("{hanging} ");
        let next_width = width.saturating_sub(1);
        let (items, summary) = self.items(shape[axis]);
        let ellipsis_at = if summary { EDGE } else { usize::MAX };
        let mut s = String::new();
        if axes_left == 1 {
            let mut line = hanging.to_string();
            let last = items.len() - 1;
            // Room for the `,` or `]` after each element.
            let w = width.saturating_sub(1);
            for (k, &i) in items.iter().enumerate() {
                if k == ellipsis_at {
                    extend_line(&mut s, &mut line, "...", w, hanging);
                    line.push_str(", ");
                }
                self.index.push(i);
                let word = self.recurse(&next_hanging, next_width);
                self.index.pop();
                extend_line(&mut s, &mut line, &word, w, hanging);
                if k != last {
                    line.push_str(", ");
                }
            }
            s.push_str(&line);
        } else {
            let line_sep = format!(",{}", "\n".repeat(axes_left - 1));
            let last = items.len() - 1;
            for (k, &i) in items.iter().enumerate() {
                if k == ellipsis_at {
                    let _ = write!(s, "{hanging}...{line_sep}");
                }
                self.index.push(i);
                let nested = self.recurse(&next_hanging, next_width);
                self.index.pop();
                s.push_str(hanging);
                s.push_str(&nested);
                if k != last {
                    s.push_str(&line_sep);
                }
            }
        }
        format!("[{}]", &s[hanging.len().min(s.len())..])
    }
}

/// numpy's `_extendLine`: wraps before `word` if the line would get too
/// long (unless that would not help).
fn extend_line(s: &mut String, line: &mut String, word: &str, width: usize, prefix: &str) {
    let needs_wrap = line.len() + word.len() > width && line.len() > prefix.len();
    if needs_wrap {
        s.push_str(line.trim_end());
        s.push('\n');
        line.clear();
        line.push_str(prefix);
    }
    line.push_str(word);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f64s(v: &[f64]) -> String {
        array(&Array::from_vec(vec![v.len()], v.to_vec()).expect("array"))
    }

    #[test]
    fn floats_like_numpy() {
        assert_eq!(
            f64s(&[0.5, 0.25]),
            "array([0.5 , 0.25], shape=(2,), dtype=float64)"
        );
        assert_eq!(
            f64s(&[0.0, 1.0, 2.0]),
            "array([0., 1., 2.], shape=(3,), dtype=float64)"
        );
        assert_eq!(
            f64s(&[1.5e-5, 1e10]),
            "array([1.5e-05, 1.0e+10], shape=(2,), dtype=float64)"
        );
        assert_eq!(
            f64s(&[f64::NAN, -1.0, f64::INFINITY]),
            "array([nan, -1., inf], shape=(3,), dtype=float64)"
        );
        assert_eq!(
            f64s(&[1.0 / 3.0]),
            "array([0.33333333], shape=(1,), dtype=float64)"
        );
    }

    #[test]
    fn summarised_and_wrapped() {
        let v: Vec<i64> = (0..2000).collect();
        let a = Array::from_vec(vec![2000], v).expect("array");
        assert_eq!(
            array(&a),
            "array([   0,    1,    2, ..., 1997, 1998, 1999],\n      shape=(2000,), dtype=int64)"
        );
        let v: Vec<i64> = (0..40).collect();
        let a = Array::from_vec(vec![40], v).expect("array");
        assert_eq!(
            array(&a),
            "array([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16,\n       \
             17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,\n       \
             34, 35, 36, 37, 38, 39], shape=(40,), dtype=int64)"
        );
    }

    #[test]
    fn two_dimensional() {
        let v: Vec<i32> = (0..6).collect();
        let a = Array::from_vec(vec![2, 3], v).expect("array");
        assert_eq!(
            array(&a),
            "array([[0, 1, 2],\n       [3, 4, 5]], shape=(2, 3), dtype=int32)"
        );
        let b = Array::from_vec(vec![2], vec![true, false]).expect("array");
        assert_eq!(array(&b), "array([ True, False], shape=(2,), dtype=bool)");
    }

    #[test]
    fn scalars_and_units() {
        assert_eq!(scalar(Scalar::F64(2.5)), "float64(2.5)");
        assert_eq!(scalar(Scalar::Bool(true)), "bool(True)");
        assert_eq!(bytes(8_000_000), "7.6 MiB");
        assert_eq!(bytes(12), "12 B");
        assert_eq!(duration(Duration::from_micros(1520)), "1.52 ms");
    }
}
