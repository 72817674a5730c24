//! The reference interpreter: evaluates a [`Func`] over arrays one element
//! at a time, with the operator table's scalar functions.
//!
//! It is deliberately naive (a `Scalar` enum per value, no vectors, no
//! tiles) so that it is easy to believe. Every other execution path is
//! tested against it.

use crate::array::{Array, Data, shape_len};
use crate::dtype::Scalar;
use crate::error::{Error, ErrorKind};
use crate::func::{Func, InstKind, resolve_rolls};
use crate::shape::{broadcast, broadcast_strides};

/// Evaluates `func` with `inputs[i]` bound to `func.params[i]`, broadcasting
/// them together. A function of no parameters gives a 0-d array.
pub fn eval(func: &Func, inputs: &[&Array], text: &str) -> Result<Array, Error> {
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
    let len = shape_len(&shape)
        .ok_or_else(|| Error::new(ErrorKind::Internal("shape overflows".into()), None, text))?;
    // Each parameter's rolls, resolved against the shapes.
    let shape_of = |name: &str| -> Option<Vec<usize>> {
        func.params
            .iter()
            .position(|p| p.name == name)
            .map(|k| inputs[k].shape().to_vec())
    };
    let mut rolls: Vec<Vec<(usize, usize)>> = Vec::with_capacity(func.params.len());
    for p in &func.params {
        rolls.push(resolve_rolls(&p.rolls, &shape_of, &shape).map_err(|b| {
            Error::new(
                ErrorKind::AxisOutOfRange {
                    axis: b.axis,
                    ndim: b.ndim,
                },
                Some(b.span),
                text,
            )
        })?);
    }
    let strides: Vec<Vec<usize>> = inputs
        .iter()
        .map(|a| broadcast_strides(a.shape(), &shape))
        .collect();
    let mut out = Data::zeros(func.result_dtype(), len);
    let mut values: Vec<Scalar> = Vec::with_capacity(func.insts.len());
    let mut index = vec![0usize; shape.len()];
    let mut args: Vec<Scalar> = Vec::with_capacity(3);
    for flat in 0..len {
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
