//! The reference interpreter: evaluates a [`Func`] over arrays one element
//! at a time, with the operator table's scalar functions, and a
//! [`Program`] by evaluating each reduction's input to an array and
//! folding its lines with [`semantics::fold_line`].
//!
//! It is deliberately naive (a `Scalar` enum per value, no vectors, no
//! tiles) so that it is easy to believe. Every other execution path is
//! tested against it.

use crate::array::{Array, Data, shape_len};
use crate::dtype::Scalar;
use crate::error::{Error, ErrorKind};
use crate::func::{BadAxis, Func, InstKind, Program, Reduction, resolve_rolls};
use crate::ops::ReduceOp;
use crate::semantics::{self, EmptyReduction, Fold};
use crate::shape::{broadcast, broadcast_strides};

/// Evaluates `program`: each reduction (its input evaluated by this
/// function, then [`reduce`]d), then `main` with the reductions' results
/// bound to their parameters. `lookup` gives each variable's array.
pub fn eval_program(
    program: &Program,
    lookup: &dyn Fn(&str) -> Option<Array>,
    text: &str,
) -> Result<Array, Error> {
    let mut computed: Vec<(String, Array)> = Vec::with_capacity(program.reductions.len());
    for r in &program.reductions {
        let input = eval_program(&r.input, lookup, text)?;
        computed.push((r.name.clone(), reduce(r, &input, text)?));
    }
    let mut owned: Vec<Array> = Vec::with_capacity(program.main.params.len());
    for p in &program.main.params {
        let a = match computed.iter().find(|(n, _)| *n == p.name) {
            Some((_, a)) => a.clone(),
            None => lookup(&p.name).ok_or_else(|| {
                Error::new(
                    ErrorKind::Internal(format!("'{}' is unbound", p.name)),
                    None,
                    text,
                )
            })?,
        };
        owned.push(a);
    }
    let refs: Vec<&Array> = owned.iter().collect();
    eval(&program.main, &refs, text)
}

/// The reduction `r` of `input`, the value of its input expression: the
/// values cast to the reduction's dtype, the axis resolved against
/// `input`'s dimensions, and each line folded by [`fold_array`].
pub fn reduce(r: &Reduction, input: &Array, text: &str) -> Result<Array, Error> {
    let axis = r.resolve_axis(input.ndim()).map_err(|b| b.error(text))?;
    let dtype = r.dtype();
    let values = if input.dtype() == dtype {
        input.clone()
    } else {
        let mut data = Data::try_zeros(dtype, input.len())
            .ok_or_else(|| r.fold_error(FoldError::TooLarge, text))?;
        for i in 0..input.len() {
            data.set(i, input.get(i));
        }
        Array::new(input.shape().to_vec(), data)
            .ok_or_else(|| Error::new(ErrorKind::Internal("cast length".into()), None, text))?
    };
    let data = fold_array(r.op, &values, axis).map_err(|e| r.fold_error(e, text))?;
    Array::new(r.result_shape(input.shape(), axis), data)
        .ok_or_else(|| Error::new(ErrorKind::Internal("reduction length".into()), None, text))
}

/// Folds `values` (already in `op`'s result dtype) along `axis`, or all of
/// them for `None`: each line gathered in order and folded by
/// [`semantics::fold_line`]; the results in row-major order of the other
/// axes. A `min`, `max` or `mean` with an empty line fails.
pub fn fold_array(op: ReduceOp, values: &Array, axis: Option<usize>) -> Result<Data, FoldError> {
    fn lines<T: Fold>(
        op: ReduceOp,
        xs: &[T],
        shape: &[usize],
        axis: Option<usize>,
    ) -> Result<Vec<T>, FoldError> {
        let Some(a) = axis else {
            return Ok(vec![semantics::fold_line(op, xs)?]);
        };
        let len = shape[a];
        let inner = shape_len(&shape[a + 1..]).ok_or(FoldError::TooLarge)?;
        let outer = shape_len(&shape[..a]).ok_or(FoldError::TooLarge)?;
        let count = outer.checked_mul(inner).ok_or(FoldError::TooLarge)?;
        let mut out = Vec::new();
        out.try_reserve_exact(count)
            .map_err(|_| FoldError::TooLarge)?;
        let mut line = Vec::with_capacity(len);
        for o in 0..outer {
            for i in 0..inner {
                line.clear();
                line.extend((0..len).map(|k| xs[(o * len + k) * inner + i]));
                out.push(semantics::fold_line(op, &line)?);
            }
        }
        Ok(out)
    }
    let shape = values.shape();
    Ok(match values.data() {
        Data::Bool(v) => Data::Bool(lines(op, v, shape, axis)?),
        Data::I32(v) => Data::I32(lines(op, v, shape, axis)?),
        Data::I64(v) => Data::I64(lines(op, v, shape, axis)?),
        Data::F32(v) => Data::F32(lines(op, v, shape, axis)?),
        Data::F64(v) => Data::F64(lines(op, v, shape, axis)?),
    })
}

/// Why [`fold_array`] gave no result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FoldError {
    /// A `min`, `max` or `mean` of an empty line.
    Empty,
    /// More results than memory holds.
    TooLarge,
}

impl From<EmptyReduction> for FoldError {
    fn from(_: EmptyReduction) -> FoldError {
        FoldError::Empty
    }
}

impl BadAxis {
    /// The user error this is, in `text`.
    pub fn error(&self, text: &str) -> Error {
        Error::new(
            ErrorKind::AxisOutOfRange {
                axis: self.axis,
                ndim: self.ndim,
            },
            Some(self.span),
            text,
        )
    }
}

impl Reduction {
    /// The user error `e` of this reduction's fold, at the call.
    pub fn fold_error(&self, e: FoldError, text: &str) -> Error {
        match e {
            FoldError::Empty => self.empty_error(text),
            FoldError::TooLarge => Error::new(
                ErrorKind::TooLarge {
                    what: format!("the result of {}", self.op.name()),
                },
                Some(self.span),
                text,
            ),
        }
    }

    /// The error for a `min`, `max` or `mean` of no values, at the call.
    pub fn empty_error(&self, text: &str) -> Error {
        let e = Error::new(
            ErrorKind::EmptyReduction {
                op: self.op.name().to_string(),
            },
            Some(self.span),
            text,
        );
        match self.op {
            ReduceOp::Mean => e.with_hint("numpy gives nan (with a warning) here; exprjit refuses"),
            _ => e,
        }
    }
}

/// Evaluates `func` with `inputs[i]` bound to `func.params[i]`, broadcasting
/// them together. A function of no parameters gives a 0-d array.
pub fn eval(func: &Func, inputs: &[&Array], text: &str) -> Result<Array, Error> {
    eval_with(func, inputs, text, &|| Ok(()))
}

/// How many elements [`eval_with`] computes between calls of its `stop`.
pub const STOP_EVERY: usize = 4096;

/// [`eval`] that calls `stop` before every [`STOP_EVERY`] elements and
/// gives up with its error (the runtime's interrupt check).
pub fn eval_with(
    func: &Func,
    inputs: &[&Array],
    text: &str,
    stop: &dyn Fn() -> Result<(), Error>,
) -> Result<Array, Error> {
    if inputs.len() != func.params.len() {
        return Err(Error::new(
            ErrorKind::Internal(format!(
                "{} inputs for {} parameters",
                inputs.len(),
                func.params.len()
            )),
            None,
            text,
        ));
    }
    for (p, a) in func.params.iter().zip(inputs) {
        if p.dtype != a.dtype() {
            return Err(Error::new(
                ErrorKind::Internal(format!(
                    "'{}' is {}, compiled for {}",
                    p.name,
                    a.dtype(),
                    p.dtype
                )),
                None,
                text,
            ));
        }
    }
    let shape = broadcast(inputs.iter().map(|a| a.shape())).map_err(|i| {
        let before = broadcast(inputs[..i].iter().map(|a| a.shape())).unwrap_or_default();
        let span = func
            .insts
            .iter()
            .find(|inst| inst.kind == InstKind::Param(i as u32))
            .map(|inst| inst.span);
        Error::new(
            ErrorKind::ShapeMismatch {
                left: before,
                right: inputs[i].shape().to_vec(),
            },
            span,
            text,
        )
    })?;
    let too_large = || {
        Error::new(
            ErrorKind::TooLarge {
                what: format!("a result of shape {shape:?}"),
            },
            None,
            text,
        )
    };
    let len = shape_len(&shape).ok_or_else(too_large)?;
    // Each parameter's rolls, resolved against the shapes.
    let shape_of = |name: &str| -> Option<Vec<usize>> {
        func.params
            .iter()
            .position(|p| p.name == name)
            .map(|k| inputs[k].shape().to_vec())
    };
    let mut rolls: Vec<Vec<(usize, usize)>> = Vec::with_capacity(func.params.len());
    for p in &func.params {
        rolls.push(resolve_rolls(&p.rolls, &shape_of, &shape).map_err(|b| b.error(text))?);
    }
    let strides: Vec<Vec<usize>> = inputs
        .iter()
        .map(|a| broadcast_strides(a.shape(), &shape))
        .collect();
    let mut out = Data::try_zeros(func.result_dtype(), len).ok_or_else(too_large)?;
    let mut values: Vec<Scalar> = Vec::with_capacity(func.insts.len());
    let mut index = vec![0usize; shape.len()];
    let mut args: Vec<Scalar> = Vec::with_capacity(3);
    for flat in 0..len {
        if flat % STOP_EVERY == 0 {
            stop()?;
        }
        // `index` is the multi-index of element `flat` (row-major).
        if flat > 0 {
            for d in (0..shape.len()).rev() {
                index[d] += 1;
                if index[d] < shape[d] {
                    break;
                }
                index[d] = 0;
            }
        }
        values.clear();
        for inst in &func.insts {
            let v = match &inst.kind {
                InstKind::Param(n) => {
                    let n = *n as usize;
                    let mut offset: usize = index.iter().zip(&strides[n]).map(|(i, s)| i * s).sum();
                    // A rolled read: element i comes from i - shift.
                    for &(axis, shift) in &rolls[n] {
                        let (i, len) = (index[axis], shape[axis]);
                        let from = (i + len - shift) % len;
                        offset = offset + from * strides[n][axis] - i * strides[n][axis];
                    }
                    inputs[n].get(offset)
                }
                InstKind::Const(c) => *c,
                InstKind::Apply(op, operands) => {
                    args.clear();
                    args.extend(operands.iter().map(|a| values[a.index()]));
                    (op.info().eval)(&args, inst.dtype)
                }
            };
            values.push(v);
        }
        out.set(flat, values[func.result.index()]);
    }
    Array::new(shape, out)
        .ok_or_else(|| Error::new(ErrorKind::Internal("result length".into()), None, text))
}
