//! Judges runs against the reference interpreter: what each entry point
//! should give (the interpreter's result on the same operands, cast or
//! refused as `out=` buffers are), bit-exact comparison with NaN positions
//! equal, equal error kinds, and for `Accuracy::Fast` over libm operations
//! the per-operation check that ACCURACY.md describes (each libm
//! operation within the ULP bound of the reference applied to the
//! engine's own operand values). Also checks the reference itself: the
//! same on every layout, in line with the type model, and `arcsinh`,
//! `arccosh`, `arctanh` against the C library.

use crate::case::{Case, Form, Laid, lay_out, vars};
use crate::expr::{Node, Reject, infer};
use crate::run::{EngineSel, Entry, Outcome, Ran, RunSpec, execute, guarded, in_place_case};
use exprjit::internals::ir::{Array, DType, Data, Scalar};
use exprjit::{Accuracy, Engine, ErrorKind};
use std::collections::HashMap;
use std::mem::discriminant;

/// What went wrong, coarsely.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// A panic (caught).
    Panic,
    /// `ErrorKind::Internal`: a bug by exprjit's own definition.
    Internal,
    /// An error of another kind than the reference's.
    ErrorKind,
    /// An error where a value was expected, or a value where an error was.
    Outcome,
    /// Values that differ (beyond the ULP bound under Fast).
    Values,
    /// The reference disagrees with itself, the type model or the C library.
    Reference,
}

/// One failure, with everything needed to run it again.
#[derive(Clone, Debug)]
pub struct Failure {
    pub class: Class,
    /// Class, engine, accuracy, entry point and a short key: what the
    /// report groups by and `--skip` matches.
    pub signature: String,
    pub detail: String,
    pub case: Case,
    /// `None` for failures of the reference itself.
    pub spec: Option<RunSpec>,
    /// The text called.
    pub text: String,
    pub result_len: usize,
}

/// The first line with digits, quoted names and parenthesised lists
/// replaced, so that `temporary 0` and `temporary 3` group, and `'a' was
/// prepared as float64` and `'b' was prepared as int32`.
pub fn normalize(s: &str) -> String {
    let first = s.lines().next().unwrap_or("");
    let mut out = String::new();
    let mut last_digit = false;
    let mut skip_until = None;
    for c in first.chars().take(160) {
        if let Some(end) = skip_until {
            if c == end {
                skip_until = None;
                out.push(c);
            }
            continue;
        }
        if c == '\'' || c == '(' || c == '[' {
            out.push(c);
            out.push_str("..");
            skip_until = Some(match c {
                '(' => ')',
                '[' => ']',
                _ => '\'',
            });
            last_digit = false;
            continue;
        }
        if c.is_ascii_digit() {
            if !last_digit {
                out.push('N');
            }
            last_digit = true;
        } else {
            out.push(c);
            last_digit = false;
        }
    }
    out
}

/// A panic's message with its place shortened to the file's name (the
/// toolchain's paths hold a commit hash).
fn panic_key(p: &str) -> String {
    match p.rsplit_once(" at ") {
        Some((msg, place)) => {
            let file = place.rsplit('/').next().unwrap_or(place);
            let file = file.split(':').next().unwrap_or(file);
            format!("{msg} (in {file})")
        }
        None => p.to_string(),
    }
}

/// The variant name of an error kind (`ShapeMismatch`).
pub fn kind_name(k: &ErrorKind) -> String {
    let d = format!("{k:?}");
    d.split(|c: char| !c.is_alphanumeric() && c != '_')
        .next()
        .unwrap_or("")
        .to_string()
}

pub fn describe(o: &Outcome) -> String {
    match o {
        Outcome::Value(a) => format!(
            "Ok({} {:?}: [{}])",
            a.dtype(),
            a.shape(),
            crate::case::rust_values(a.data(), 48)
        ),
        Outcome::Error(e) => format!("Err({:?}: {})", e.kind(), e.message()),
        Outcome::Panic(p) => format!("panic: {p}"),
    }
}

/// The first difference between two arrays, bit for bit (any NaN equals
/// any NaN): `(key, description)`.
pub fn diff_exact(got: &Array, want: &Array) -> Option<(String, String)> {
    diff(got, want, 0)
}

/// Distance in ULPs (0 for two NaNs, `u64::MAX` for NaN against a
/// number; for non-floats 0 or `u64::MAX`).
pub fn ulps(a: Scalar, b: Scalar) -> u64 {
    fn ord64(x: f64) -> i128 {
        let b = x.to_bits();
        let mag = i128::from(b & !(1 << 63));
        if b >> 63 == 1 { -mag } else { mag }
    }
    fn ord32(x: f32) -> i128 {
        let b = x.to_bits();
        let mag = i128::from(b & !(1 << 31));
        if b >> 31 == 1 { -mag } else { mag }
    }
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    match (a, b) {
        (Scalar::F64(x), Scalar::F64(y)) => (ord64(x) - ord64(y)).unsigned_abs() as u64,
        (Scalar::F32(x), Scalar::F32(y)) => (ord32(x) - ord32(y)).unsigned_abs() as u64,
        _ if a == b => 0,
        _ => u64::MAX,
    }
}

fn diff(got: &Array, want: &Array, max_ulps: u64) -> Option<(String, String)> {
    if got.dtype() != want.dtype() {
        return Some((
            "dtype".into(),
            format!("dtype {} where {} was expected", got.dtype(), want.dtype()),
        ));
    }
    if got.shape() != want.shape() {
        return Some((
            "shape".into(),
            format!(
                "shape {:?} where {:?} was expected",
                got.shape(),
                want.shape()
            ),
        ));
    }
    let mut first = None;
    let mut n = 0;
    let mut nan_pos = false;
    for i in 0..got.len() {
        let (g, w) = (got.get(i), want.get(i));
        let ok = if max_ulps == 0 {
            g == w || (g.is_nan() && w.is_nan())
        } else {
            ulps(g, w) <= max_ulps
        };
        if !ok {
            n += 1;
            nan_pos |= g.is_nan() != w.is_nan();
            if first.is_none() {
                first = Some((i, g, w));
            }
        }
    }
    let (i, g, w) = first?;
    let key = if nan_pos { "NaN positions" } else { "bits" };
    Some((
        key.into(),
        format!(
            "{n} of {} elements differ{}; first at flat index {i}: got {} ({:#x}), want {} ({:#x}){}",
            got.len(),
            if max_ulps > 0 {
                format!(" by more than {max_ulps} ULP")
            } else {
                String::new()
            },
            crate::case::rust_scalar(g),
            g.bits(),
            crate::case::rust_scalar(w),
            w.bits(),
            if max_ulps > 0 && !nan_pos {
                format!(", {} ULP apart", ulps(g, w))
            } else {
                String::new()
            }
        ),
    ))
}

/// `a`'s elements cast to `dtype`, as a 1-d array of `len` (an `out=`
/// buffer's view of the result).
fn cast_flat(a: &Array, dtype: DType) -> Array {
    let mut d = Data::zeros(dtype, a.len());
    for i in 0..a.len() {
        d.set(i, a.get(i).cast(dtype));
    }
    Array::new(vec![a.len()], d).unwrap_or_else(|| Array::scalar(Scalar::Bool(false)))
}

/// numpy's `same_kind` casting.
fn same_kind(from: DType, to: DType) -> bool {
    to.kind() >= from.kind()
}

/// What a run may give: this value, or an error of one of these kinds.
#[derive(Clone, Debug)]
pub struct Expect {
    pub value: Option<Array>,
    pub errors: Vec<ErrorKind>,
    /// Any error but `Internal` (wrong inputs to a prepared expression).
    pub any_error: bool,
}

impl Expect {
    fn of(o: &Outcome) -> Option<Expect> {
        match o {
            Outcome::Value(a) => Some(Expect {
                value: Some(a.clone()),
                errors: Vec::new(),
                any_error: false,
            }),
            Outcome::Error(e) => Some(Expect {
                value: None,
                errors: vec![e.kind().clone()],
                any_error: false,
            }),
            Outcome::Panic(_) => None,
        }
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = &self.value {
            parts.push(describe(&Outcome::Value(v.clone())));
        }
        for k in &self.errors {
            parts.push(format!("Err({})", kind_name(k)));
        }
        if self.any_error {
            parts.push("any user error".into());
        }
        parts.join(" or ")
    }
}

fn output_shape() -> ErrorKind {
    ErrorKind::OutputShape {
        expected: Vec::new(),
        found: Vec::new(),
    }
}

/// Everything about one case that runs share: the reference results.
#[derive(Debug)]
pub struct Ctx<'c> {
    pub case: &'c Case,
    pub tree: Option<Node>,
    refs: Vec<(Vec<Form>, Outcome)>,
    pub ulps: u64,
    /// Runs that needed the per-operation check of `Fast`.
    pub fast_checks: u64,
    /// Time spent, by what (reference, each engine, the Fast check).
    pub time: std::collections::BTreeMap<String, std::time::Duration>,
}

/// A node that runs a libm operation on a float the engines compute
/// (not folded by the checker).
fn libm_node(n: &Node, case: &Case) -> bool {
    n.libm_op().is_some()
        && !n.is_constant(&|x| case.bound(x))
        && infer(n, &case.scope()).map_or(true, |t| t.dtype.is_float())
}

fn has_libm(n: &Node, case: &Case) -> bool {
    libm_node(n, case) || n.children().iter().any(|c| has_libm(c, case))
}

// SAFETY: the C library's pure functions of one double (linked by Rust
// std); they have no preconditions.
unsafe extern "C" {
    safe fn asinh(x: f64) -> f64;
    safe fn acosh(x: f64) -> f64;
    safe fn atanh(x: f64) -> f64;
}

/// The C library's `asinh`, `acosh`, `atanh` for the operation named
/// `name` (the reference Fast is measured against, and an independent
/// check of the operator table's own).
fn c_inverse_hyperbolic(name: &str) -> Option<fn(f64) -> f64> {
    match name {
        "arcsinh" => Some(|x| asinh(x)),
        "arccosh" => Some(|x| acosh(x)),
        "arctanh" => Some(|x| atanh(x)),
        _ => None,
    }
}

/// The C function applied to `x`'s elements cast to `dtype` (f32: the
/// f64 function rounded).
fn c_apply(f: fn(f64) -> f64, x: &Array, dtype: DType) -> Array {
    let mut d = Data::zeros(dtype, x.len());
    for i in 0..x.len() {
        let y = match x.get(i).cast(dtype) {
            Scalar::F32(v) => Scalar::F32(f(f64::from(v)) as f32),
            Scalar::F64(v) => Scalar::F64(f(v)),
            other => other,
        };
        d.set(i, y);
    }
    Array::new(x.shape().to_vec(), d).unwrap_or_else(|| Array::scalar(Scalar::Bool(false)))
}

/// Evaluates `text` over `laid` plus owned `extra` arrays.
fn eval_text(
    text: &str,
    laid: &[Laid],
    extra: &[(String, Array)],
    opts: &exprjit::Options,
) -> Result<Array, String> {
    let r = guarded(|| {
        let mut v = vars(laid);
        for (n, a) in extra {
            v.set(n.as_str(), a.clone());
        }
        exprjit::evaluate_with(text, &v, opts).map(|(a, _)| a)
    });
    match r {
        Ok(Ok(a)) => Ok(a),
        Ok(Err(e)) => Err(format!("`{text}` failed: {:?}", e.kind())),
        Err(p) => Err(format!("`{text}` panicked: {p}")),
    }
}

fn interp_opts() -> exprjit::Options {
    RunSpec::reference(Vec::new()).options()
}

impl<'c> Ctx<'c> {
    pub fn new(case: &'c Case, ulps: u64) -> Ctx<'c> {
        Ctx {
            case,
            tree: case.tree(),
            refs: Vec::new(),
            ulps,
            fast_checks: 0,
            time: Default::default(),
        }
    }

    pub fn contiguous(&self) -> Vec<Form> {
        self.case
            .vars
            .iter()
            .map(|v| {
                if v.shape.is_empty() {
                    Form::Scalar
                } else {
                    Form::Slice
                }
            })
            .collect()
    }

    /// The reference result for the case's variables in `forms`.
    pub fn reference(&mut self, forms: &[Form]) -> Outcome {
        if let Some((_, o)) = self.refs.iter().find(|(f, _)| f == forms) {
            return o.clone();
        }
        let o = execute(self.case, &RunSpec::reference(forms.to_vec()), 0).outcome;
        self.refs.push((forms.to_vec(), o.clone()));
        o
    }

    fn failure(&self, class: Class, key: &str, detail: String) -> Failure {
        Failure {
            class,
            signature: format!("{class:?} | Interpreter | reference | {}", normalize(key)),
            detail,
            case: self.case.clone(),
            spec: None,
            text: self.case.text(),
            result_len: 0,
        }
    }

    /// Checks of the reference itself, on contiguous operands: no panic
    /// or internal error, agreement with the type model, and the inverse
    /// hyperbolic functions against the C library.
    pub fn reference_checks(&mut self) -> Vec<Failure> {
        let forms = self.contiguous();
        let r0 = self.reference(&forms);
        let mut out = Vec::new();
        match &r0 {
            Outcome::Panic(p) => {
                out.push(self.failure(
                    Class::Panic,
                    &panic_key(p),
                    format!("the reference panicked: {p}"),
                ));
                return out;
            }
            Outcome::Error(e) if e.is_internal() => {
                out.push(self.failure(
                    Class::Internal,
                    &e.message(),
                    format!("the reference failed: {:?}", e.kind()),
                ));
                return out;
            }
            _ => {}
        }
        let Some(tree) = self.tree.clone() else {
            return out;
        };
        let case = self.case;
        let model = infer(&tree, &case.scope());
        let mismatch = match (&model, &r0) {
            (Ok(_) | Err(Reject::TooLarge), Outcome::Error(e))
                if matches!(e.kind(), ErrorKind::ShapeMismatch { .. }) =>
            {
                let key = if model == Err(Reject::TooLarge) {
                    "ShapeMismatch for shapes that broadcast to more elements than usize holds (TooLarge expected)"
                } else {
                    "ShapeMismatch for shapes that broadcast"
                };
                Some((
                    key.to_string(),
                    format!("{:?}; the model: {model:?}", e.kind()),
                ))
            }
            (Ok(t), Outcome::Value(a)) => {
                let dtype = t.weak.map_or(t.dtype, |s| s.dtype());
                (a.dtype() != dtype || a.shape() != t.shape.as_slice()).then(|| {
                    (
                        "model: result dtype or shape".to_string(),
                        format!(
                            "exprjit gives {} {:?}, the model {dtype} {:?}",
                            a.dtype(),
                            a.shape(),
                            t.shape
                        ),
                    )
                })
            }
            (Err(why), Outcome::Value(a)) => Some((
                format!("model: the model rejects it ({why:?})"),
                format!("exprjit gives {} {:?}", a.dtype(), a.shape()),
            )),
            (Ok(t), Outcome::Error(e))
                if !matches!(
                    e.kind(),
                    ErrorKind::TooLarge { .. } | ErrorKind::ShapeMismatch { .. }
                ) =>
            {
                Some((
                    format!("model: exprjit rejects it ({})", kind_name(e.kind())),
                    format!("{}; the model: {} {:?}", e.message(), t.dtype, t.shape),
                ))
            }
            _ => None,
        };
        if let Some((key, detail)) = mismatch {
            out.push(self.failure(Class::Reference, &key, detail));
        }
        if matches!(r0, Outcome::Value(_)) {
            out.extend(self.oracle(&tree, &forms));
        }
        out
    }

    /// `arcsinh`, `arccosh` and `arctanh` as the interpreter computes them
    /// (the `libm` crate), against the C library: NaN positions equal,
    /// values within the ULP bound.
    fn oracle(&self, tree: &Node, forms: &[Form]) -> Vec<Failure> {
        let laid: Vec<Laid> = self
            .case
            .vars
            .iter()
            .zip(forms)
            .map(|(v, f)| lay_out(v, f))
            .collect();
        let mut out = Vec::new();
        for path in tree.paths() {
            let Some(Node::Call(name, args)) = tree.get(&path) else {
                continue;
            };
            let Some(f) = c_inverse_hyperbolic(name) else {
                continue;
            };
            let node = Node::Call(name.clone(), args.clone());
            if args.len() != 1 || node.is_constant(&|x| self.case.bound(x)) {
                continue;
            }
            let (Ok(x), Ok(y)) = (
                eval_text(&args[0].value.to_string(), &laid, &[], &interp_opts()),
                eval_text(&node.to_string(), &laid, &[], &interp_opts()),
            ) else {
                continue;
            };
            let want = c_apply(f, &x, y.dtype());
            if let Some((key, d)) = diff(&y, &want, self.ulps) {
                out.push(self.failure(
                    Class::Reference,
                    &format!("oracle: {name} differs from the C library ({key})"),
                    format!("`{node}` (interpreter) against C's a{}: {d}", &name[3..]),
                ));
            }
        }
        out
    }

    /// What `spec` should give, and the reference result's element count;
    /// `None` when the reference itself panicked.
    ///
    /// Every layout keeps the logical values, so the reference is always
    /// the interpreter's result on contiguous operands.
    pub fn expect(&mut self, spec: &RunSpec) -> Option<(Expect, usize)> {
        let contiguous = self.contiguous();
        let r = self.reference(&contiguous);
        let len = match &r {
            Outcome::Value(a) => a.len(),
            _ => 0,
        };
        let e = match &spec.entry {
            Entry::Evaluate | Entry::Prepared { bad: None, .. } => Expect::of(&r)?,
            Entry::Prepared { bad: Some(_), .. } => Expect {
                value: None,
                errors: Vec::new(),
                any_error: true,
            },
            Entry::Into { dtype, len_delta } => match &r {
                Outcome::Value(a) => {
                    let mut errors = Vec::new();
                    if !same_kind(a.dtype(), *dtype) {
                        errors.push(ErrorKind::OutputDType {
                            result: a.dtype(),
                            out: *dtype,
                        });
                    }
                    if (len as i64 + len_delta).max(0) as usize != len {
                        errors.push(output_shape());
                    }
                    Expect {
                        value: errors.is_empty().then(|| cast_flat(a, *dtype)),
                        errors,
                        any_error: false,
                    }
                }
                Outcome::Error(e) => {
                    let mut errors = vec![e.kind().clone()];
                    if matches!(e.kind(), ErrorKind::TooLarge { .. }) {
                        errors.push(output_shape());
                    }
                    Expect {
                        value: None,
                        errors,
                        any_error: false,
                    }
                }
                Outcome::Panic(_) => return None,
            },
            Entry::InPlace { target, dtype } => {
                let (c, f) = in_place_case(self.case, &contiguous, target, *dtype, len);
                let buf_len = c.var(target).map_or(0, |v| v.len());
                let rt = execute(&c, &RunSpec::reference(f), 0).outcome;
                let rolled = self.tree.as_ref().is_some_and(|t| t.rolls_name(target));
                let aliasing = ErrorKind::Aliasing {
                    name: target.clone(),
                };
                match &rt {
                    Outcome::Value(a) => {
                        let mut errors = Vec::new();
                        if !same_kind(a.dtype(), *dtype) {
                            errors.push(ErrorKind::OutputDType {
                                result: a.dtype(),
                                out: *dtype,
                            });
                        }
                        if a.len() != buf_len || (a.ndim() > 1 && a.shape() != [buf_len]) {
                            errors.push(output_shape());
                        }
                        // The target is read in place only when the
                        // elementwise part reads it; a bool buffer cannot
                        // be (`UnsupportedDType`).
                        let read = self
                            .tree
                            .as_ref()
                            .is_some_and(|t| t.reads_elementwise(target));
                        if *dtype == DType::Bool && read {
                            errors.push(ErrorKind::UnsupportedDType {
                                op: "in-place evaluation".into(),
                                dtype: DType::Bool,
                            });
                        }
                        let value = errors.is_empty().then(|| cast_flat(a, *dtype));
                        if rolled {
                            errors.push(aliasing);
                        }
                        Expect {
                            value,
                            errors,
                            any_error: false,
                        }
                    }
                    Outcome::Error(e) => {
                        let mut errors = vec![e.kind().clone()];
                        if rolled {
                            errors.push(aliasing);
                        }
                        if matches!(e.kind(), ErrorKind::TooLarge { .. }) {
                            errors.push(output_shape());
                        }
                        Expect {
                            value: None,
                            errors,
                            any_error: false,
                        }
                    }
                    Outcome::Panic(_) => return None,
                }
            }
        };
        Some((e, len))
    }

    /// Runs `spec` and judges it; a failure if it does not do what the
    /// reference says.
    pub fn check_run(&mut self, spec: &RunSpec) -> Option<Failure> {
        let t = std::time::Instant::now();
        let (expect, len) = self.expect(spec)?;
        *self.time.entry("reference".into()).or_default() += t.elapsed();
        let t = std::time::Instant::now();
        let ran = execute(self.case, spec, len);
        let what = match spec.entry {
            Entry::Prepared { .. } => "Prepared".to_string(),
            _ => spec.engine.label(),
        };
        *self.time.entry(what).or_default() += t.elapsed();
        let t = std::time::Instant::now();
        let verdict = self.judge(spec, &ran, &expect, len);
        *self.time.entry("judging (Fast checks)".into()).or_default() += t.elapsed();
        verdict.err().map(|(class, key, detail)| {
            let acc = match spec.effective_accuracy() {
                Accuracy::Strict => "Strict",
                _ => "Fast",
            };
            let engine = match spec.engine {
                EngineSel::Force(e) => format!("{e:?}"),
                EngineSel::AutoCold => "Auto(cold)".into(),
                EngineSel::AutoWarm(_) => "Auto(warm)".into(),
            };
            let entry = spec.entry.family();
            // Grouped so that one bug makes one group: internal errors and
            // panics by message, wrong values by engine, accuracy and entry
            // point, wrong outcomes by engine and entry point.
            let key = normalize(&key);
            let signature = match class {
                Class::Internal | Class::Panic => format!("{class:?} | {key}"),
                Class::Values => format!("{class:?} | {engine} | {acc} | {entry} | {key}"),
                _ => format!("{class:?} | {engine} | {entry} | {key}"),
            };
            Failure {
                class,
                signature,
                detail: format!(
                    "got:      {}\nexpected: {}\n{detail}",
                    describe(&ran.outcome),
                    expect.describe()
                ),
                case: self.case.clone(),
                spec: Some(spec.clone()),
                text: ran.text.clone(),
                result_len: len,
            }
        })
    }

    fn judge(
        &mut self,
        spec: &RunSpec,
        ran: &Ran,
        expect: &Expect,
        len: usize,
    ) -> Result<(), (Class, String, String)> {
        match &ran.outcome {
            Outcome::Panic(p) => Err((Class::Panic, panic_key(p), String::new())),
            Outcome::Error(e) if e.is_internal() => {
                let key = match e.kind() {
                    ErrorKind::Internal(m) => m.clone(),
                    _ => e.message(),
                };
                Err((Class::Internal, key, String::new()))
            }
            Outcome::Error(e) => {
                let d = discriminant(e.kind());
                if expect.any_error || expect.errors.iter().any(|k| discriminant(k) == d) {
                    Ok(())
                } else if expect.value.is_some() {
                    Err((
                        Class::Outcome,
                        format!("Err({}) where a value was expected", kind_name(e.kind())),
                        String::new(),
                    ))
                } else {
                    let want: Vec<String> = expect.errors.iter().map(kind_name).collect();
                    Err((
                        Class::ErrorKind,
                        format!(
                            "Err({}) where Err({}) was expected",
                            kind_name(e.kind()),
                            want.join(" or ")
                        ),
                        String::new(),
                    ))
                }
            }
            Outcome::Value(got) => {
                let Some(want) = &expect.value else {
                    return Err((
                        Class::Outcome,
                        "a value where an error was expected".into(),
                        String::new(),
                    ));
                };
                let Some((key, detail)) = diff_exact(got, want) else {
                    return Ok(());
                };
                // The interpreter ignores the accuracy.
                let interpreted = match ran.engine {
                    Some(e) => e == Engine::Interpreter,
                    None => spec.engine == EngineSel::Force(Engine::Interpreter),
                };
                // In place, the target has the buffer's dtype: `a ** 6` over
                // an int32 `a` is a float power into a float32 target.
                let judged = match &spec.entry {
                    Entry::InPlace { target, dtype } => {
                        in_place_case(self.case, &spec.forms, target, *dtype, len).0
                    }
                    _ => self.case.clone(),
                };
                let fast = spec.effective_accuracy() == Accuracy::Fast
                    && !interpreted
                    && key != "shape"
                    && key != "dtype"
                    && self.tree.as_ref().is_some_and(|t| has_libm(t, &judged));
                if !fast {
                    return Err((Class::Values, key, detail));
                }
                self.fast_checks += 1;
                match self.fast_check(spec, ran, got, len) {
                    Ok(()) => Ok(()),
                    Err((k, d)) => Err((Class::Values, k, format!("{detail}\n{d}"))),
                }
            }
        }
    }

    /// `Fast` over libm operations: the result must be the same engine's
    /// `evaluate_with` result (cast for `out=` buffers), and that must
    /// pass [`node_check`] (each libm operation within the ULP bound of
    /// the reference on the engine's own operands, every other operation
    /// exact).
    fn fast_check(
        &self,
        spec: &RunSpec,
        ran: &Ran,
        got: &Array,
        len: usize,
    ) -> Result<(), (String, String)> {
        let Some(tree) = &self.tree else {
            return Err(("fast: no tree".into(), String::new()));
        };
        let (case, forms) = match &spec.entry {
            Entry::InPlace { target, dtype } => {
                in_place_case(self.case, &spec.forms, target, *dtype, len)
            }
            _ => (self.case.clone(), spec.forms.clone()),
        };
        let engines: Vec<Engine> = match (ran.engine, spec.engine) {
            (Some(e), _) | (None, EngineSel::Force(e)) => vec![e],
            (None, _) => vec![Engine::Fused, Engine::MultiPass(exprjit::Mode::InPlace)],
        };
        let mut last = (String::new(), String::new());
        for e in engines {
            let f_spec = RunSpec {
                forms: forms.clone(),
                entry: Entry::Evaluate,
                engine: EngineSel::Force(e),
                plain: false,
                ..spec.clone()
            };
            let f = execute(&case, &f_spec, 0);
            let Outcome::Value(fa) = f.outcome else {
                last = (
                    format!("fast: {e:?} evaluate_with fails"),
                    format!("the same engine's evaluate_with: {}", describe(&f.outcome)),
                );
                continue;
            };
            let want = match &spec.entry {
                Entry::Into { dtype, .. } | Entry::InPlace { dtype, .. } => cast_flat(&fa, *dtype),
                _ => fa.clone(),
            };
            if let Some((k, d)) = diff_exact(got, &want) {
                last = (
                    format!("fast: differs from {e:?} evaluate_with ({k})"),
                    format!("against the same engine's evaluate_with: {d}"),
                );
                continue;
            }
            match node_check(&case, &forms, tree, &f_spec, self.ulps) {
                Ok(()) => return Ok(()),
                Err(x) => last = x,
            }
        }
        Err(last)
    }
}

/// Each operation of `tree` whose operands involve a libm result, run by
/// the engine of `spec` on its own, against the reference applied to the
/// engine's values of its operands: libm operations within `max_ulps`
/// (NaN positions exact; `arcsinh`, `arccosh`, `arctanh` against the C
/// library as ACCURACY.md measures them), all others bit for bit.
/// Sub-expressions free of libm operations are exact on every path, so
/// they stay as text.
pub fn node_check(
    case: &Case,
    forms: &[Form],
    tree: &Node,
    spec: &RunSpec,
    max_ulps: u64,
) -> Result<(), (String, String)> {
    let laid: Vec<Laid> = case
        .vars
        .iter()
        .zip(forms)
        .map(|(v, f)| lay_out(v, f))
        .collect();
    let opts = spec.options();
    let mut values: HashMap<Vec<usize>, Array> = HashMap::new();
    for path in tree.paths() {
        let Some(node) = tree.get(&path) else {
            continue;
        };
        if !has_libm(node, case) {
            continue;
        }
        let val = eval_text(&node.to_string(), &laid, &[], &opts)
            .map_err(|m| ("fast: a sub-expression fails".to_string(), m))?;
        // The operands: engine values where they hold a libm result.
        let mut subst = node.clone();
        let mut extra = Vec::new();
        for (i, c) in node.children().iter().enumerate() {
            if has_libm(c, case) {
                let mut p = path.clone();
                p.push(i);
                if let Some(v) = values.get(&p) {
                    let name = format!("fz_{i}");
                    subst = subst.replaced(&[i], Node::Name(name.clone()));
                    extra.push((name, v.clone()));
                }
            }
        }
        let c_fn = match node {
            Node::Call(name, args) if args.len() == 1 => c_inverse_hyperbolic(name),
            _ => None,
        };
        let reference = match c_fn {
            Some(f) => {
                let x = match &subst.children()[..] {
                    [Node::Name(n)] if n.starts_with("fz_") => extra
                        .first()
                        .map(|(_, a)| a.clone())
                        .ok_or_else(|| ("fast: operand".to_string(), String::new()))?,
                    [c] => eval_text(&c.to_string(), &laid, &[], &interp_opts())
                        .map_err(|m| ("fast: reference fails".to_string(), m))?,
                    _ => return Err(("fast: arity".into(), String::new())),
                };
                c_apply(f, &x, val.dtype())
            }
            None => eval_text(&subst.to_string(), &laid, &extra, &interp_opts())
                .map_err(|m| ("fast: reference fails".to_string(), m))?,
        };
        let bound = if libm_node(node, case) { max_ulps } else { 0 };
        if let Some((k, d)) = diff(&val, &reference, bound) {
            let op = match node {
                Node::Binary(b, _, _) => b.symbol().to_string(),
                Node::Unary(u, _) => u.symbol().to_string(),
                Node::Call(n, _) => n.clone(),
                _ => node.to_string(),
            };
            return Err((
                format!("fast: {op} ({k})"),
                format!(
                    "per operation: `{node}` by the engine against the reference `{subst}` on the engine's operands{}: {d}",
                    if extra.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " ({})",
                            extra
                                .iter()
                                .map(|(n, a)| format!(
                                    "{n} = [{}]",
                                    crate::case::rust_values(a.data(), 16)
                                ))
                                .collect::<Vec<_>>()
                                .join("; ")
                        )
                    }
                ),
            ));
        }
        values.insert(path, val);
    }
    Ok(())
}
