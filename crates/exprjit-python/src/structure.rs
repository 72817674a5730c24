//! The structure of an expression for graph builders (`exprjit.dask`):
//! what exprjit's own parser and type checker say about it for variables
//! of given dtypes and shapes, without evaluating anything.
//!
//! `_exprjit.structure(ex, {name: (dtype, shape)})` returns a dict:
//!
//! - `dtype`, `shape`: the result's;
//! - `variables`: the variables read (in `main` and in every reduction's
//!   input), in order of first appearance;
//! - `reductions`: the reductions `main` reads (not those nested inside
//!   their inputs), each with `op`, `axis` (resolved against the input's
//!   shape, or None for all elements), `keepdims`, `dtype` (the result's
//!   and the folding dtype), `input_dtype`, `input_shape`, `shape`,
//!   `input` (the character span of the reduced expression) and `spans`
//!   (the character spans of every call of it: the same call written twice
//!   is one reduction);
//! - `rolled`: whether `main` reads a variable through `roll`;
//! - `depth`: per axis of the result, the halo a block needs so that every
//!   roll of `main` reads inside it: the largest, over the parameters, of
//!   the sum of `|shift|` along that axis, each shift taken modulo the
//!   rolled axis's length into `(-len/2, len/2]`;
//! - `block_text`: the text with every shift of `main`'s rolls written in
//!   that form, so that evaluated on a block extended by `depth` (whose
//!   axes are longer than the array's) each roll reads the same neighbour
//!   as on the whole array.
//!
//! Every error `evaluate` would report for these dtypes and shapes
//! (syntax, names, types, shapes that do not broadcast, axes out of
//! range, `min`/`max`/`mean` of nothing) is raised here, as exprjit's
//! exception with the caret under the culprit.

use crate::convert;
use crate::errors::{self, Class};
use crate::evaluate::expression_text;
use crate::names::{self, char_span};
use exprjit::internals::ir::{self, Func, InstKind, Program, Reduction};
use exprjit::internals::syntax::{self, Expr, ExprKind, Span};
use exprjit::{DType, Error, ErrorKind};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use std::collections::HashMap;

/// A variable's dtype and shape.
struct Spec {
    dtype: DType,
    shape: Vec<usize>,
}

/// Reads `variables` (`{name: (dtype, shape)}`); a dtype exprjit cannot
/// bind is `UnsupportedValueError` at the variable's first use in `text`.
fn specs(
    py: Python<'_>,
    text: &str,
    variables: &Bound<'_, PyDict>,
) -> PyResult<Vec<(String, Spec)>> {
    let np = convert::numpy(py)?;
    let mut out = Vec::with_capacity(variables.len());
    for (k, v) in variables.iter() {
        let name: String = k.extract()?;
        let (dtype, shape): (Bound<'_, PyAny>, Vec<usize>) = v.extract()?;
        let dtype = np.call_method1("dtype", (dtype,))?;
        let kind: String = dtype.getattr("kind")?.extract()?;
        let size: usize = dtype.getattr("itemsize")?.extract()?;
        let kind = kind.bytes().next().unwrap_or(b'?');
        match convert::bound_dtype(kind, size) {
            Ok(d) => out.push((name, Spec { dtype: d, shape })),
            Err(u) => {
                let span = names::of(text)
                    .ok()
                    .and_then(|n| n.names.iter().find(|(m, _)| *m == name).map(|(_, s)| *s));
                return Err(errors::binding(
                    py,
                    Class::UnsupportedValue,
                    "unsupported_value",
                    text,
                    span,
                    &format!("variable '{name}' of dtype {dtype}: {}", u.message),
                    u.hint.as_deref(),
                ));
            }
        }
    }
    Ok(out)
}

/// What shape checking found for one program level.
struct Shapes {
    /// The result's shape.
    result: Vec<usize>,
    /// Each top-level reduction's input shape, resolved axis and result
    /// shape, in `program.reductions` order.
    reductions: Vec<(Vec<usize>, Option<usize>, Vec<usize>)>,
    /// Each parameter of `main`'s shape.
    params: Vec<Vec<usize>>,
}

/// The shapes of `program` for variables shaped as `shape_of` says
/// (scalars: `[]`), with exprjit's errors for shapes that do not
/// broadcast, axes out of range and empty `min`/`max`/`mean`.
fn shapes(
    program: &Program,
    text: &str,
    shape_of: &dyn Fn(&str) -> Option<Vec<usize>>,
) -> Result<Shapes, Error> {
    let mut reductions = Vec::with_capacity(program.reductions.len());
    for r in &program.reductions {
        let input = shapes(&r.input, text, shape_of)?.result;
        let axis = r.resolve_axis(input.len()).map_err(|b| b.error(text))?;
        let result = r.result_shape(&input, axis);
        let lines: usize = result.iter().product();
        let line = axis.map_or_else(|| input.iter().product(), |a| input[a]);
        if (line == 0 || lines == 0) && lines > 0 && r.op.identity(r.dtype()).is_none() {
            return Err(r.empty_error(text));
        }
        reductions.push((input, axis, result));
    }
    let params: Vec<Vec<usize>> = program
        .main
        .params
        .iter()
        .map(|p| {
            match program
                .reductions
                .iter()
                .position(|r: &Reduction| r.name == p.name)
            {
                Some(i) => reductions[i].2.clone(),
                None => shape_of(&p.name).unwrap_or_default(),
            }
        })
        .collect();
    let result = ir::shape::broadcast(params.iter().map(Vec::as_slice))
        .map_err(|i| shape_error(&program.main, &params, i, text))?;
    let param_shape = |name: &str| -> Option<Vec<usize>> {
        program
            .main
            .params
            .iter()
            .position(|p| p.name == name)
            .map(|k| params[k].clone())
    };
    for p in &program.main.params {
        ir::resolve_rolls(&p.rolls, &param_shape, &result).map_err(|b| b.error(text))?;
    }
    Ok(Shapes {
        result,
        reductions,
        params,
    })
}

/// exprjit's shape-mismatch error for parameter `i` of `func`, at its
/// first use (as the runtime reports it).
fn shape_error(func: &Func, shapes: &[Vec<usize>], i: usize, text: &str) -> Error {
    let left = ir::shape::broadcast(shapes[..i].iter().map(Vec::as_slice)).unwrap_or_default();
    let span = func
        .insts
        .iter()
        .find(|inst| inst.kind == InstKind::Param(i as u32))
        .map(|inst| inst.span);
    Error::new(
        ErrorKind::ShapeMismatch {
            left,
            right: shapes[i].clone(),
        },
        span,
        text,
    )
}

/// The calls of `e` found by one walk: the outermost reductions (by their
/// fully parenthesised text, which is how the checker tells reductions
/// apart) and every `roll` outside them (its axis argument's span, which
/// the checker records, with its shift argument's span).
#[derive(Default)]
struct Calls {
    reductions: Vec<(String, Span)>,
    rolls: HashMap<Span, Span>,
}

/// Fills `calls` from `e`; recursion is bounded by the parser's
/// `MAX_DEPTH`.
fn walk(e: &Expr, calls: &mut Calls) {
    match &e.kind {
        ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) | ExprKind::Name(_) => {}
        ExprKind::Unary(_, x) => walk(x, calls),
        ExprKind::Binary(_, l, r) => {
            walk(l, calls);
            walk(r, calls);
        }
        ExprKind::Call { name, .. } if ir::ReduceOp::from_name(name).is_some() => {
            calls.reductions.push((format!("{e:#}"), e.span));
        }
        ExprKind::Call { name, args, .. } => {
            if name == "roll" {
                // The checker's slots: positional 0, 1, 2 or `shift=`,
                // `axis=`.
                let mut slots: [Option<Span>; 3] = [None; 3];
                for (i, a) in args.iter().enumerate() {
                    let slot = match &a.name {
                        None if i < 3 => Some(i),
                        Some((kw, _)) if kw == "shift" => Some(1),
                        Some((kw, _)) if kw == "axis" => Some(2),
                        _ => None,
                    };
                    if let Some(s) = slot {
                        slots[s] = Some(a.value.span);
                    }
                }
                if let [_, Some(shift), Some(axis)] = slots {
                    calls.rolls.insert(axis, shift);
                }
            }
            for a in args {
                walk(&a.value, calls);
            }
        }
    }
}

/// `shift` modulo `len` as the representative in `(-len/2, len/2]`.
fn nearest_shift(shift: i64, len: usize) -> i64 {
    let Ok(n) = i64::try_from(len) else {
        return shift;
    };
    if n <= 1 {
        return 0;
    }
    let s = shift.rem_euclid(n);
    if 2 * s > n { s - n } else { s }
}

/// The halo depth per result axis and the text with normalised shifts
/// (see the module documentation).
fn halo(program: &Program, text: &str, calls: &Calls, shapes: &Shapes) -> (Vec<u64>, String, bool) {
    let main = &program.main;
    let result = &shapes.result;
    let mut depth = vec![0u64; result.len()];
    let mut edits: Vec<(Span, i64)> = Vec::new();
    let shape_of = |name: &str| -> Option<&[usize]> {
        main.params
            .iter()
            .position(|p| p.name == name)
            .map(|k| shapes.params[k].as_slice())
    };
    let mut rolled = false;
    for p in &main.params {
        let mut own = vec![0u64; result.len()];
        for r in &p.rolls {
            rolled = true;
            let scope: Vec<&[usize]> = r.scope.iter().filter_map(|n| shape_of(n)).collect();
            let e_shape =
                ir::shape::broadcast(scope.iter().copied()).unwrap_or_else(|_| result.clone());
            let ndim = e_shape.len() as i64;
            let axis = if r.axis < 0 { r.axis + ndim } else { r.axis };
            // Checked by `shapes`.
            let Some(len) = usize::try_from(axis).ok().and_then(|a| e_shape.get(a)) else {
                continue;
            };
            let shift = nearest_shift(r.shift, *len);
            if let Some(&span) = calls.rolls.get(&r.axis_span)
                && !edits.iter().any(|(s, _)| *s == span)
            {
                edits.push((span, shift));
            }
            let at = axis as usize + result.len().saturating_sub(e_shape.len());
            if let Some(d) = own.get_mut(at) {
                *d = d.saturating_add(shift.unsigned_abs());
            }
        }
        for (d, o) in depth.iter_mut().zip(own) {
            *d = (*d).max(o);
        }
    }
    edits.sort_by_key(|(s, _)| s.start);
    let mut block = String::with_capacity(text.len());
    let mut at = 0usize;
    for (span, shift) in edits {
        let range = span.range();
        if range.start < at || text.get(at..range.start).is_none() {
            continue;
        }
        block.push_str(&text[at..range.start]);
        block.push_str(&format!("({shift})"));
        at = range.end;
    }
    block.push_str(text.get(at..).unwrap_or(""));
    (depth, block, rolled)
}

/// Python entry: see the module documentation.
#[pyfunction]
pub(crate) fn structure<'py>(
    py: Python<'py>,
    ex: &Bound<'py, PyAny>,
    variables: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyDict>> {
    let text = expression_text(ex)?;
    let text: &str = &text;
    let specs = specs(py, text, variables)?;
    let env: Vec<(&str, DType)> = specs.iter().map(|(n, s)| (n.as_str(), s.dtype)).collect();
    let err = |e: Error| errors::to_py(py, &e);
    let ast = syntax::parse(text).map_err(|e| err(e.into()))?;
    let program = ir::check_program(&ast, text, env.as_slice()).map_err(err)?;
    let program = ir::passes::simplify_program(&program);
    let shape_of = |name: &str| -> Option<Vec<usize>> {
        specs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.shape.clone())
    };
    let shapes = shapes(&program, text, &shape_of).map_err(err)?;
    let mut calls = Calls::default();
    walk(&ast, &mut calls);
    let (depth, block_text, rolled) = halo(&program, text, &calls, &shapes);

    let d = PyDict::new(py);
    d.set_item("dtype", program.result_dtype().numpy_name())?;
    d.set_item("shape", PyTuple::new(py, &shapes.result)?)?;
    d.set_item("variables", program.variables())?;
    let reductions = PyList::empty(py);
    for (r, (input_shape, axis, shape)) in program.reductions.iter().zip(&shapes.reductions) {
        let rd = PyDict::new(py);
        rd.set_item("op", r.op.name())?;
        rd.set_item("axis", *axis)?;
        rd.set_item("keepdims", r.keepdims)?;
        rd.set_item("dtype", r.dtype().numpy_name())?;
        rd.set_item("input_dtype", r.input.result_dtype().numpy_name())?;
        rd.set_item("input_shape", PyTuple::new(py, input_shape)?)?;
        rd.set_item("shape", PyTuple::new(py, shape)?)?;
        rd.set_item("input", char_span(text, r.input_span))?;
        let key = calls
            .reductions
            .iter()
            .find(|(_, s)| *s == r.span)
            .map(|(k, _)| k.as_str());
        let mut spans: Vec<(usize, usize)> = calls
            .reductions
            .iter()
            .filter(|(k, _)| Some(k.as_str()) == key)
            .map(|(_, s)| char_span(text, *s))
            .collect();
        if spans.is_empty() {
            spans.push(char_span(text, r.span));
        }
        rd.set_item("spans", spans)?;
        reductions.append(rd)?;
    }
    d.set_item("reductions", reductions)?;
    d.set_item("rolled", rolled)?;
    d.set_item("depth", depth)?;
    d.set_item("block_text", block_text)?;
    Ok(d)
}
