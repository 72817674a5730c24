//! Evaluates an expression for Python: looks its names up in the caller's
//! mappings, binds the values, chooses the memory order and how `out` is
//! written (directly, in place, or through a fresh result), and runs
//! exprjit with the GIL released.

use crate::convert::{self, ArrayInput, Out, OutArray, Value};
use crate::errors::{self, Class};
use crate::interrupt::{self, Work};
use crate::names::{self, Names};
use exprjit::internals::ir;
use exprjit::{DType, Elem, Error, ErrorKind, Options, Vars};
use numpy::{PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyException, PyKeyError, PyMemoryError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};
use std::borrow::Cow;
use std::ops::Range;

/// numpy's `order` argument: the memory layout of the result. For
/// expressions that are not elementwise (`roll`), always C.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    C,
    F,
    /// `A` and `K`: Fortran order if the inputs (or `out`) are, else C.
    Keep,
}

impl Order {
    /// Parses `s`; errors name `text`, the expression.
    pub(crate) fn parse(py: Python<'_>, text: &str, s: &str) -> PyResult<Order> {
        match s {
            "C" | "c" => Ok(Order::C),
            "F" | "f" => Ok(Order::F),
            "A" | "a" | "K" | "k" => Ok(Order::Keep),
            _ => Err(argument_error(
                py,
                text,
                &format!("order must be one of 'C', 'F', 'A', 'K', not {s:?}"),
            )),
        }
    }
}

/// Checks numpy's `casting` argument.
pub(crate) fn check_casting(py: Python<'_>, text: &str, s: &str) -> PyResult<()> {
    match s {
        "no" | "equiv" | "safe" | "same_kind" | "unsafe" => Ok(()),
        _ => Err(argument_error(
            py,
            text,
            &format!(
                "casting must be one of 'no', 'equiv', 'safe', 'same_kind', 'unsafe', not {s:?}"
            ),
        )),
    }
}

/// A bad keyword argument value (`ExprjitValueError`, as numpy raises
/// `ValueError`).
fn argument_error(py: Python<'_>, text: &str, message: &str) -> PyErr {
    errors::binding(py, Class::Value, "argument", text, None, message, None)
}

/// The expression argument as text: a `str`, or `UnsupportedValueError`
/// (numexpr: `ValueError`).
pub(crate) fn expression_text<'a>(ex: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, str>> {
    match ex.cast::<PyString>() {
        Ok(s) => s.to_cow(),
        Err(_) => {
            let name = ex
                .get_type()
                .name()
                .map_or_else(|_| "?".to_string(), |n| n.to_string());
            Err(errors::binding(
                ex.py(),
                Class::UnsupportedValue,
                "not_a_string",
                "",
                None,
                &format!("the expression must be a string, not {name}"),
                None,
            ))
        }
    }
}

/// Named values bound for one call, in the expression's order of names.
pub(crate) type Values<'py> = Vec<(String, Value<'py>)>;

/// `mapping[name]`, or `None` if absent (a `KeyError`). A dict subclass
/// is asked through its `__getitem__` (`__missing__` included), as numexpr
/// asks.
fn get<'py>(mapping: &Bound<'py, PyAny>, name: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
    if let Ok(d) = mapping.cast_exact::<PyDict>() {
        return d.get_item(name);
    }
    match mapping.get_item(name) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_instance_of::<PyKeyError>(mapping.py()) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Looks every name of `text` up in `local`, then `global`, and converts
/// what it finds. A name found nowhere is left unbound: a constant, or an
/// unknown variable that exprjit reports with a hint. A constant's name
/// bound to something that is not an array (`e` holding an exception, a
/// common sight in a frame) leaves the constant.
///
/// With `release` (`local` is a function frame's locals snapshot, see
/// `_dicts` in the package), each name found in `local` is removed from
/// it, so that the snapshot keeps no array alive after the call.
///
/// An exception raised while converting a value (by its `__array__`, or
/// numpy's for a ragged list) propagates unchanged, as numexpr lets it,
/// with a note naming the variable: `KeyboardInterrupt`, `MemoryError` and
/// the user's own classes stay what they are.
pub(crate) fn lookup<'py>(
    py: Python<'py>,
    text: &str,
    names: &Names,
    local: &Bound<'py, PyAny>,
    global: &Bound<'py, PyAny>,
    release: bool,
) -> PyResult<Values<'py>> {
    let mut values = Vec::with_capacity(names.names.len());
    let snapshot = if release {
        local.cast_exact::<PyDict>().ok()
    } else {
        None
    };
    for (name, span) in &names.names {
        let found = match get(local, name)? {
            Some(v) => {
                if let Some(d) = snapshot {
                    d.del_item(name)?;
                }
                Some(v)
            }
            None => get(global, name)?,
        };
        let Some(obj) = found else { continue };
        let converted = match convert::value(py, &obj) {
            Ok(c) => c,
            Err(e)
                if names::is_constant(name)
                    && e.is_instance_of::<PyException>(py)
                    && !e.is_instance_of::<PyMemoryError>(py) =>
            {
                continue;
            }
            Err(e) => {
                // Notes exist from Python 3.11; without them, the
                // exception alone.
                let note = format!("exprjit: raised while converting variable '{name}'");
                let _ = e.value(py).call_method1("add_note", (note,));
                return Err(e);
            }
        };
        match converted {
            Ok(v) => values.push((name.clone(), v)),
            Err(_) if names::is_constant(name) => {}
            Err(u) => {
                return Err(errors::binding(
                    py,
                    Class::UnsupportedValue,
                    "unsupported_value",
                    text,
                    Some(*span),
                    &format!("variable '{name}': {}", u.message),
                    u.hint.as_deref(),
                ));
            }
        }
    }
    Ok(values)
}

/// Binds `values` (all but `skip`) as exprjit variables viewing numpy
/// memory.
pub(crate) fn vars<'a>(
    values: &'a [(String, Value<'_>)],
    skip: Option<&str>,
) -> PyResult<Vars<'a>> {
    let mut vars = Vars::new();
    for (name, value) in values {
        if skip == Some(name.as_str()) {
            continue;
        }
        match value {
            Value::Array(a) => vars.set(name.as_str(), a.view()?),
            Value::Scalar(s) => vars.set(name.as_str(), *s),
        }
    }
    Ok(vars)
}

fn arrays<'a, 'py>(
    values: &'a [(String, Value<'py>)],
) -> impl Iterator<Item = &'a ArrayInput<'py>> {
    values.iter().filter_map(|(_, v)| match v {
        Value::Array(a) => Some(a),
        Value::Scalar(_) => None,
    })
}

fn overlap(a: &Range<usize>, b: &Range<usize>) -> bool {
    !a.is_empty() && !b.is_empty() && a.start < b.end && b.start < a.end
}

/// Whether to compute in the reversed-axes frame, where Fortran-ordered
/// arrays are C-ordered and the kernel walks memory in order.
fn reversed_frame(order: Order, values: &Values<'_>, out: Option<&Out<'_>>) -> bool {
    match order {
        Order::C => false,
        Order::F => true,
        Order::Keep => {
            if let Some(out) = out {
                let o = out.object();
                return o.is_fortran_contiguous() && !o.is_c_contiguous();
            }
            let mut any_f_only = false;
            for a in arrays(values) {
                let o = a.owner();
                if !o.is_fortran_contiguous() {
                    return false;
                }
                any_f_only |= !o.is_c_contiguous();
            }
            any_f_only
        }
    }
}

/// Moves `values` into the frame the kernel runs in: the reversed-axes
/// frame (see [`ArrayInput::reverse_axes`]) when `order` and the layouts
/// call for it and the result has two or more dimensions. Returns the
/// values, whether they were reversed, and the result's dimension count.
pub(crate) fn frame<'py>(
    mut values: Values<'py>,
    order: Order,
    out: Option<&Out<'_>>,
) -> (Values<'py>, bool, usize) {
    let ndim = arrays(&values)
        .map(|a| a.shape.len())
        .chain(out.map(|o| o.shape().len()))
        .max()
        .unwrap_or(0);
    let reversed = ndim >= 2 && reversed_frame(order, &values, out);
    if reversed {
        for (_, v) in values.iter_mut() {
            if let Value::Array(a) = v {
                a.reverse_axes(ndim);
            }
        }
    }
    (values, reversed, ndim)
}

/// The broadcast shape of the bound arrays, or the error exprjit would
/// report, with the span of the first variable that does not fit.
/// Checked here, in the caller's axis order, so that a message never shows
/// the reversed frame's shapes; as in exprjit, errors of the text and its
/// types take precedence.
pub(crate) fn broadcast_shape(
    py: Python<'_>,
    text: &str,
    values: &Values<'_>,
) -> PyResult<Vec<usize>> {
    let shapes: Vec<(&str, &[usize])> = arrays_named(values)
        .map(|(n, a)| (n, a.shape.as_slice()))
        .collect();
    match ir::shape::broadcast(shapes.iter().map(|(_, s)| *s)) {
        Ok(s) => Ok(s),
        Err(i) => {
            // Report what exprjit reports first: errors of the text and
            // its types come before shapes.
            if let Err(e) = ir::compile_program(text, &vars(values, None)?) {
                return Err(error(py, &e));
            }
            let left =
                ir::shape::broadcast(shapes[..i].iter().map(|(_, s)| *s)).unwrap_or_default();
            let (name, right) = shapes[i];
            let span = names::of(text)
                .ok()
                .and_then(|n| n.names.iter().find(|(m, _)| m == name).map(|(_, s)| *s));
            let e = Error::new(
                ErrorKind::ShapeMismatch {
                    left,
                    right: right.to_vec(),
                },
                span,
                text,
            );
            Err(error(py, &e))
        }
    }
}

fn error(py: Python<'_>, e: &Error) -> PyErr {
    errors::to_py(py, e)
}

/// The largest element count among `values` (saturating).
fn max_elements(values: &Values<'_>) -> usize {
    arrays(values)
        .map(|a| a.shape.iter().fold(1usize, |n, &d| n.saturating_mul(d)))
        .max()
        .unwrap_or(1)
}

/// The work of evaluating `names` over `values` into a result of `shape`
/// (if known), restartable unless in place.
fn work(names: &Names, values: &Values<'_>, shape: Option<&[usize]>) -> Work {
    let result = shape.map_or(1, |s| s.iter().fold(1usize, |n, &d| n.saturating_mul(d)));
    Work {
        elements: max_elements(values).max(result),
        nodes: names.nodes,
        restartable: true,
    }
}

/// Runs `text` over `values`, into `out` if given; returns the result (or
/// `out`).
///
/// `names.elementwise` allows the two rearrangements that assume every
/// element depends only on the same element of the operands: the
/// reversed-axes frame and flattening for in-place evaluation.
pub(crate) fn run<'py>(
    py: Python<'py>,
    text: &str,
    values: Values<'py>,
    out: Option<&Bound<'py, PyAny>>,
    order: Order,
    casting: &str,
    names: &Names,
) -> PyResult<Bound<'py, PyAny>> {
    let mut out = out.map(|o| Out::new(o, text)).transpose()?;
    let sized = names.shape_preserving;
    if !names.elementwise {
        // `roll` and reductions: their axes must stay as given, and the
        // result's shape is exprjit's to say.
        let shape = ir::shape::broadcast(arrays(&values).map(|a| a.shape.as_slice())).ok();
        let work = work(names, &values, shape.as_deref());
        return match out {
            None => new_result(py, text, &values, false, sized, work),
            Some(o) => via_copy(py, text, &values, false, o.object(), casting, sized, work),
        };
    }
    let shape = broadcast_shape(py, text, &values)?;
    let work = work(names, &values, Some(&shape));
    if let Some(o) = &out {
        check_out_shape(py, text, shape, o.shape())?;
    }
    let (values, reversed, ndim) = frame(values, order, out.as_ref());
    if reversed && let Some(Out::Direct(o)) = out.as_mut() {
        o.reverse_axes(ndim);
    }
    let opts = Options::default();
    let Some(out) = out else {
        return new_result(py, text, &values, reversed, true, work);
    };
    let direct = match out {
        Out::Direct(o) if casting == "same_kind" && o.is_c_contiguous() => o,
        out => {
            return via_copy(
                py,
                text,
                &values,
                reversed,
                out.object(),
                casting,
                true,
                work,
            );
        }
    };
    let out_range = direct.byte_range();
    let overlapping: Vec<&(String, Value<'py>)> = values
        .iter()
        .filter(|(_, v)| match v {
            Value::Array(a) => overlap(&a.byte_range(), &out_range),
            Value::Scalar(_) => false,
        })
        .collect();
    let mut direct = direct;
    match overlapping.as_slice() {
        [] => {
            let vars = vars(&values, None)?;
            write(py, text, &vars, &mut direct, None, &opts, work)?;
        }
        [(name, Value::Array(a))] if is_alias(a, &direct) && direct.dtype != DType::Bool => {
            let name = name.clone();
            // exprjit's in-place form binds the target as one dimension:
            // fine for 1-d results, or when every other array has the
            // target's C-contiguous layout, so that all can be flattened.
            let flat_ok = direct.shape.len() <= 1
                || values.iter().all(|(n, v)| match v {
                    Value::Array(b) => {
                        *n == name || (b.shape == direct.shape && b.is_c_contiguous())
                    }
                    Value::Scalar(_) => true,
                });
            if !flat_ok {
                return via_copy(
                    py,
                    text,
                    &values,
                    reversed,
                    direct.owner_any(),
                    casting,
                    true,
                    work,
                );
            }
            let mut values = values;
            if direct.shape.len() > 1 {
                for (_, v) in values.iter_mut() {
                    if let Value::Array(b) = v {
                        b.flatten();
                    }
                }
                direct.flatten();
            }
            let vars = vars(&values, Some(&name))?;
            // Half-written when interrupted: cannot be run again.
            let work = Work {
                restartable: false,
                ..work
            };
            write(py, text, &vars, &mut direct, Some(&name), &opts, work)?;
        }
        _ => {
            return via_copy(
                py,
                text,
                &values,
                reversed,
                direct.owner_any(),
                casting,
                true,
                work,
            );
        }
    }
    Ok(direct.owner_any().clone().into_any())
}

/// Whether input `a` is exactly the elements of `out`, in the same order.
fn is_alias(a: &ArrayInput<'_>, out: &OutArray<'_>) -> bool {
    a.dtype == out.dtype
        && a.starts_at(out.data())
        && a.shape == out.shape
        && a.strides == out.strides
}

/// Evaluates into a new numpy array (transposed back from the reversed
/// frame).
///
/// A large result of a `shape_preserving` expression (its shape is the
/// operands' broadcast shape) goes into an array numpy allocates: numpy asks the kernel for transparent huge pages, while a
/// fresh zeroed `Vec` faults in every 4 KiB page on first touch.
// PERF: measured with a release build on the 2-core AMD EPYC of the README
// benchmark, `a*b+c` over 1e7 float64: 52 ms through exprjit's own result,
// 16 ms into `np.empty`, numpy 12 ms; at 3e6 elements (24 MB) and below
// both allocations cost the same, so the switch is at 16 MiB.
fn new_result<'py>(
    py: Python<'py>,
    text: &str,
    values: &Values<'py>,
    reversed: bool,
    shape_preserving: bool,
    work: Work,
) -> PyResult<Bound<'py, PyAny>> {
    let vars = vars(values, None)?;
    let opts = Options::default();
    if shape_preserving && let Some(r) = large_result(py, text, values, &vars, &opts, work)? {
        return unreverse(r, reversed);
    }
    let r = interrupt::run(py, work, || exprjit::evaluate_with(text, &vars, &opts))?
        .map_err(|e| error(py, &e))?;
    unreverse(convert::to_numpy(py, r.0)?, reversed)
}

/// Results of at least this many bytes are allocated by numpy.
const LARGE_RESULT_BYTES: usize = 16 << 20;

/// Evaluates into a new numpy array if the result is large (see
/// [`new_result`]); `None` if it is not, or its shape or dtype is not
/// known here (exprjit then reports any error). A result whose size
/// overflows, or that numpy cannot allocate, is `ExprjitMemoryError`.
fn large_result<'py>(
    py: Python<'py>,
    text: &str,
    values: &Values<'py>,
    vars: &Vars<'_>,
    opts: &Options,
    work: Work,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Ok(shape) = ir::shape::broadcast(arrays(values).map(|a| a.shape.as_slice())) else {
        return Ok(None);
    };
    let len = ir::array::shape_len(&shape);
    if len.is_some_and(|n| n.saturating_mul(8) < LARGE_RESULT_BYTES) {
        return Ok(None);
    }
    // Type checking costs microseconds; a result this large, milliseconds.
    // (Its errors, exprjit reports.)
    let Ok(func) = ir::compile(text, vars) else {
        return Ok(None);
    };
    let dtype = func.result_dtype();
    let bytes = len
        .and_then(|n| n.checked_mul(dtype.size()))
        .filter(|&b| isize::try_from(b).is_ok());
    let Some(bytes) = bytes else {
        return Err(too_large(py, text, &shape, dtype, Class::ArrayTooBig));
    };
    if bytes < LARGE_RESULT_BYTES {
        return Ok(None);
    }
    let a = match convert::numpy(py)?.call_method1("empty", (shape.clone(), dtype.numpy_name())) {
        Ok(a) => a,
        Err(e) if e.is_instance_of::<PyMemoryError>(py) => {
            return Err(too_large(py, text, &shape, dtype, Class::Memory));
        }
        Err(e) => return Err(e),
    };
    let Out::Direct(mut o) = Out::new(&a, text)? else {
        return Ok(None);
    };
    // A fresh array overlaps no input.
    write(py, text, vars, &mut o, None, opts, work)?;
    Ok(Some(a))
}

/// exprjit's `TooLarge` error for a result of `shape` and `dtype`, as
/// `class` (`ArrayTooBig` when the byte count overflows, as numpy's
/// "array is too big" `ValueError`).
fn too_large(py: Python<'_>, text: &str, shape: &[usize], dtype: DType, class: Class) -> PyErr {
    let e = Error::new(
        ErrorKind::TooLarge {
            what: format!("the result of shape {shape:?} and dtype {dtype}"),
        },
        None,
        text,
    );
    errors::binding(py, class, "too_large", text, None, &e.message(), e.hint())
}

/// Evaluates into a new array, then lets numpy copy it into `out` (out of
/// exprjit's dtypes or layouts, overlapping an input, or another
/// `casting`).
#[allow(clippy::too_many_arguments)]
fn via_copy<'py>(
    py: Python<'py>,
    text: &str,
    values: &Values<'py>,
    reversed: bool,
    out: &Bound<'py, PyUntypedArray>,
    casting: &str,
    shape_preserving: bool,
    work: Work,
) -> PyResult<Bound<'py, PyAny>> {
    let r = new_result(py, text, values, reversed, shape_preserving, work)?;
    let shape: Vec<usize> = r.getattr("shape")?.extract()?;
    check_out_shape(py, text, shape, out.shape().to_vec())?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("casting", casting)?;
    convert::numpy(py)?.call_method("copyto", (out, r), Some(&kwargs))?;
    Ok(out.clone().into_any())
}

/// Raises exprjit's `OutputShape` error unless `out` has the result's shape.
pub(crate) fn check_out_shape(
    py: Python<'_>,
    text: &str,
    expected: Vec<usize>,
    found: Vec<usize>,
) -> PyResult<()> {
    if found == expected {
        return Ok(());
    }
    let e = Error::new(ErrorKind::OutputShape { expected, found }, None, text);
    Err(error(py, &e))
}

/// Runs the kernel into `out`'s memory, in place over `in_place` if given.
fn write(
    py: Python<'_>,
    text: &str,
    vars: &Vars<'_>,
    out: &mut OutArray<'_>,
    in_place: Option<&str>,
    opts: &Options,
    work: Work,
) -> PyResult<()> {
    fn go<T: Elem>(
        py: Python<'_>,
        text: &str,
        vars: &Vars<'_>,
        out: &mut OutArray<'_>,
        in_place: Option<&str>,
        opts: &Options,
        work: Work,
    ) -> PyResult<()> {
        let slice = out.slice_mut::<T>()?;
        interrupt::run(py, work, || match in_place {
            Some(name) => exprjit::evaluate_in_place_with(text, vars, name, slice, opts),
            None => exprjit::evaluate_into_with(text, vars, slice, opts),
        })?
        .map(|_| ())
        .map_err(|e| error(py, &e))
    }
    match out.dtype {
        DType::Bool => go::<bool>(py, text, vars, out, in_place, opts, work),
        DType::I32 => go::<i32>(py, text, vars, out, in_place, opts, work),
        DType::I64 => go::<i64>(py, text, vars, out, in_place, opts, work),
        DType::F32 => go::<f32>(py, text, vars, out, in_place, opts, work),
        DType::F64 => go::<f64>(py, text, vars, out, in_place, opts, work),
    }
}

/// Checks, without running, that `text` would evaluate over `values`
/// into `out`: it parses and type checks, and `out` has a dtype `casting`
/// allows; for elementwise expressions also that the shapes broadcast and
/// `out` has the result's shape (with `roll` or reductions, shapes are
/// checked when evaluating).
pub(crate) fn check<'py>(
    py: Python<'py>,
    text: &str,
    values: &Values<'py>,
    out: Option<&Bound<'py, PyAny>>,
    casting: &str,
    elementwise: bool,
) -> PyResult<()> {
    let vars = vars(values, None)?;
    let program = ir::compile_program(text, &vars).map_err(|e| error(py, &e))?;
    let shape = if elementwise {
        Some(broadcast_shape(py, text, values)?)
    } else {
        None
    };
    let Some(out) = out else { return Ok(()) };
    let out = Out::new(out, text)?;
    if let Some(shape) = shape {
        check_out_shape(py, text, shape, out.shape())?;
    }
    let result = program.main.result_dtype();
    let ok: bool = convert::numpy(py)?
        .call_method1(
            "can_cast",
            (result.numpy_name(), out.object().dtype(), casting),
        )?
        .extract()?;
    if !ok {
        let out_dtype = match &out {
            Out::Direct(o) => Some(o.dtype),
            Out::ViaCopy(_) => None,
        };
        let message = match out_dtype {
            Some(d) => Error::new(ErrorKind::OutputDType { result, out: d }, None, text).message(),
            None => format!(
                "an output of {} cannot hold a {result} result",
                out.object().dtype()
            ),
        };
        return Err(errors::binding(
            py,
            Class::Type,
            "output_dtype",
            text,
            None,
            &format!("{message} under casting='{casting}'"),
            None,
        ));
    }
    Ok(())
}

fn arrays_named<'a, 'py>(
    values: &'a [(String, Value<'py>)],
) -> impl Iterator<Item = (&'a str, &'a ArrayInput<'py>)> {
    values.iter().filter_map(|(n, v)| match v {
        Value::Array(a) => Some((n.as_str(), a)),
        Value::Scalar(_) => None,
    })
}

/// Reverses the axes of a result computed in the reversed frame.
pub(crate) fn unreverse<'py>(r: Bound<'py, PyAny>, reversed: bool) -> PyResult<Bound<'py, PyAny>> {
    if reversed {
        r.call_method0("transpose")
    } else {
        Ok(r)
    }
}

/// With `release_locals`, removes from `local` (a function frame's locals
/// snapshot) the names bound to `out`, as [`lookup`] removes the names it
/// read.
fn release_out(
    local: &Bound<'_, PyAny>,
    out: Option<&Bound<'_, PyAny>>,
    release_locals: bool,
) -> PyResult<()> {
    let (true, Some(out), Ok(d)) = (release_locals, out, local.cast_exact::<PyDict>()) else {
        return Ok(());
    };
    let keys: Vec<Bound<'_, PyAny>> = d
        .iter()
        .filter(|(_, v)| v.is(out))
        .map(|(k, _)| k)
        .collect();
    for k in keys {
        d.del_item(k)?;
    }
    Ok(())
}

/// Python entry: `_exprjit.evaluate(ex, local_dict, global_dict, out,
/// order, casting)`; the package's `evaluate` finds the dictionaries.
// numexpr's keyword arguments, one Rust argument each.
#[allow(clippy::too_many_arguments)]
#[pyfunction]
#[pyo3(signature = (ex, local_dict, global_dict, out=None, order="K", casting="same_kind", release_locals=false))]
pub(crate) fn evaluate<'py>(
    py: Python<'py>,
    ex: &Bound<'py, PyAny>,
    local_dict: &Bound<'py, PyAny>,
    global_dict: &Bound<'py, PyAny>,
    out: Option<&Bound<'py, PyAny>>,
    order: &str,
    casting: &str,
    release_locals: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let ex = expression_text(ex)?;
    let order = Order::parse(py, &ex, order)?;
    check_casting(py, &ex, casting)?;
    let names = names::of(&ex).map_err(|e| error(py, &e))?;
    let values = lookup(py, &ex, &names, local_dict, global_dict, release_locals)?;
    release_out(local_dict, out, release_locals)?;
    run(py, &ex, values, out, order, casting, &names)
}

/// Python entry: raises what `evaluate` would raise before running.
// numexpr's keyword arguments, one Rust argument each.
#[allow(clippy::too_many_arguments)]
#[pyfunction]
#[pyo3(signature = (ex, local_dict, global_dict, out=None, order="K", casting="same_kind", release_locals=false))]
pub(crate) fn validate<'py>(
    py: Python<'py>,
    ex: &Bound<'py, PyAny>,
    local_dict: &Bound<'py, PyAny>,
    global_dict: &Bound<'py, PyAny>,
    out: Option<&Bound<'py, PyAny>>,
    order: &str,
    casting: &str,
    release_locals: bool,
) -> PyResult<()> {
    let ex = expression_text(ex)?;
    Order::parse(py, &ex, order)?;
    check_casting(py, &ex, casting)?;
    let names = names::of(&ex).map_err(|e| error(py, &e))?;
    let values = lookup(py, &ex, &names, local_dict, global_dict, release_locals)?;
    release_out(local_dict, out, release_locals)?;
    check(py, &ex, &values, out, casting, names.elementwise)
}

/// Python entry: the names `ex` reads (variables and constants), in order.
#[pyfunction]
pub(crate) fn expression_names<'py>(
    py: Python<'py>,
    ex: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    let ex = expression_text(ex)?;
    let names = names::of(&ex).map_err(|e| error(py, &e))?;
    PyTuple::new(py, names.names.iter().map(|(n, _)| n.as_str()))
}
