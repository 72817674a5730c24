//! The compiled-expression object `exprjit.NumExpr`: an expression parsed,
//! type checked and compiled once for a signature of variable dtypes
//! (numexpr's `NumExpr`), then run on positional arrays.

use crate::convert::{self, Value};
use crate::errors::{self, Class};
use crate::evaluate::{self, Order};
use crate::interrupt::{self, Work};
use crate::names;
use exprjit::{DType, Operand, Prepared, Scalar};
use numpy::{PyArrayDescr, PyArrayDescrMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyTuple};

/// numexpr keyword arguments that have no meaning here and are accepted
/// so that calls port unchanged.
pub(crate) const IGNORED_KWARGS: &[&str] = &["optimization", "truediv", "ex_uses_vml"];

/// Rejects keyword arguments other than numexpr's ignored ones.
pub(crate) fn check_kwargs(func: &str, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    let Some(kwargs) = kwargs else { return Ok(()) };
    for key in kwargs.keys() {
        let key: String = key.extract()?;
        if !IGNORED_KWARGS.contains(&key.as_str()) {
            return Err(PyTypeError::new_err(format!(
                "{func}() got an unexpected keyword argument '{key}'"
            )));
        }
    }
    Ok(())
}

/// An error of `class` about arguments, naming the expression `text`.
fn argument_error(py: Python<'_>, class: Class, kind: &str, text: &str, message: &str) -> PyErr {
    errors::binding(py, class, kind, text, None, message, None)
}

/// An expression compiled for fixed variable dtypes.
#[pyclass(frozen, module = "exprjit", name = "NumExpr")]
#[derive(Debug)]
pub(crate) struct NumExpr {
    text: String,
    /// The variables `run` takes, in order, with their dtypes.
    signature: Vec<(String, DType)>,
    prepared: Prepared,
    /// For each input of `prepared`, its position in `signature`.
    positions: Vec<usize>,
    /// See `names::Names::elementwise`.
    elementwise: bool,
    /// See `names::Names::nodes`.
    nodes: usize,
}

/// The exprjit dtype of a numpy dtype-like (`float`, `'float32'`,
/// `np.int32`, ...); errors name `text`.
fn dtype_like(py: Python<'_>, text: &str, obj: &Bound<'_, PyAny>) -> PyResult<DType> {
    let d = convert::numpy(py)?.call_method1("dtype", (obj,))?;
    let d = d
        .cast_into::<PyArrayDescr>()
        .map_err(|_| convert::internal("numpy.dtype did not return a dtype"))?;
    convert::bound_dtype(d.kind(), d.itemsize()).map_err(|u| {
        errors::binding(
            py,
            Class::Type,
            "signature_dtype",
            text,
            None,
            &format!("signature dtype {d}: {}", u.message),
            u.hint.as_deref(),
        )
    })
}

/// numpy's `safe` casting between exprjit dtypes.
fn safe(from: DType, to: DType) -> bool {
    use DType::*;
    from == to || from == Bool || matches!((from, to), (I32, I64 | F64) | (I64, F64) | (F32, F64))
}

/// `s` as `to`, for Python scalars (weak, as NumPy 2 treats them): any
/// number to a float dtype, ints to an int dtype that holds the value.
fn cast_weak(s: Scalar, to: DType) -> Option<Scalar> {
    Some(match (s, to) {
        (_, _) if s.dtype() == to => s,
        (Scalar::Bool(b), DType::I32) => Scalar::I32(i32::from(b)),
        (Scalar::Bool(b), DType::I64) => Scalar::I64(i64::from(b)),
        (Scalar::Bool(b), DType::F32) => Scalar::F32(f32::from(u8::from(b))),
        (Scalar::Bool(b), DType::F64) => Scalar::F64(f64::from(u8::from(b))),
        (Scalar::I64(v), DType::I32) => Scalar::I32(i32::try_from(v).ok()?),
        (Scalar::I64(v), DType::F32) => Scalar::F32(v as f32),
        (Scalar::I64(v), DType::F64) => Scalar::F64(v as f64),
        (Scalar::F64(v), DType::F32) => Scalar::F32(v as f32),
        (Scalar::I32(v), DType::I64) => Scalar::I64(i64::from(v)),
        (Scalar::I32(v), DType::F64) => Scalar::F64(f64::from(v)),
        (Scalar::F32(v), DType::F64) => Scalar::F64(f64::from(v)),
        _ => return None,
    })
}

impl NumExpr {
    /// Converts argument `i` to its signature dtype.
    fn argument<'py>(
        &self,
        py: Python<'py>,
        i: usize,
        obj: &Bound<'py, PyAny>,
    ) -> PyResult<Value<'py>> {
        let (name, want) = (&self.signature[i].0, self.signature[i].1);
        let weak = obj.is_exact_instance_of::<PyBool>()
            || obj.is_exact_instance_of::<PyInt>()
            || obj.is_exact_instance_of::<PyFloat>();
        let text = self.text.as_str();
        let v = convert::value(py, obj)?.map_err(|u| {
            errors::binding(
                py,
                Class::Type,
                "argument_dtype",
                text,
                None,
                &format!("argument '{name}': {}", u.message),
                u.hint.as_deref(),
            )
        })?;
        let cannot = |from: DType| {
            argument_error(
                py,
                Class::Type,
                "argument_dtype",
                text,
                &format!(
                    "argument '{name}': a {from} value cannot be cast safely to the signature's {want}"
                ),
            )
        };
        match v {
            Value::Scalar(s) if s.dtype() == want => Ok(Value::Scalar(s)),
            Value::Scalar(s) if weak => cast_weak(s, want)
                .map(Value::Scalar)
                .ok_or_else(|| cannot(s.dtype())),
            Value::Scalar(s) if safe(s.dtype(), want) => cast_weak(s, want)
                .map(Value::Scalar)
                .ok_or_else(|| cannot(s.dtype())),
            Value::Scalar(s) => Err(cannot(s.dtype())),
            Value::Array(a) if a.dtype == want => Ok(Value::Array(a)),
            Value::Array(a) if safe(a.dtype, want) => {
                let c = a.owner().call_method1("astype", (want.numpy_name(),))?;
                let c = c
                    .cast_into()
                    .map_err(|_| convert::internal("astype did not return an array"))?;
                convert::array_value(py, c)?.map_err(|u| {
                    argument_error(
                        py,
                        Class::Type,
                        "argument_dtype",
                        text,
                        &format!("argument '{name}': {}", u.message),
                    )
                })
            }
            Value::Array(a) => Err(cannot(a.dtype)),
        }
    }
}

#[pymethods]
impl NumExpr {
    /// Compiles `ex` for `signature`, a sequence of `(name, dtype)` pairs
    /// in the order `run` takes its arguments; without one, every variable
    /// of `ex` is float64, in order of appearance (numexpr's default).
    #[new]
    #[pyo3(signature = (ex, signature=None, sanitize=None, **kwargs))]
    fn new(
        py: Python<'_>,
        ex: &Bound<'_, PyAny>,
        signature: Option<&Bound<'_, PyAny>>,
        sanitize: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<NumExpr> {
        // There is no `eval` to protect, so `sanitize` changes nothing.
        let _ = sanitize;
        check_kwargs("NumExpr", kwargs)?;
        let ex = evaluate::expression_text(ex)?;
        let ex: &str = &ex;
        let names = names::of(ex).map_err(|e| errors::to_py(py, &e))?;
        let mut sig: Vec<(String, DType)> = Vec::new();
        if let Some(s) = signature {
            for item in s.try_iter()? {
                let item = item?;
                let (name, dtype): (String, Bound<'_, PyAny>) = item.extract().map_err(|_| {
                    argument_error(
                        py,
                        Class::Type,
                        "signature",
                        ex,
                        "signature items must be (name, dtype) pairs",
                    )
                })?;
                if sig.iter().any(|(n, _)| *n == name) {
                    return Err(argument_error(
                        py,
                        Class::Value,
                        "signature",
                        ex,
                        &format!("'{name}' appears twice in the signature"),
                    ));
                }
                sig.push((name, dtype_like(py, ex, &dtype)?));
            }
        }
        if sig.is_empty() {
            sig = names
                .names
                .iter()
                .filter(|(n, _)| !names::is_constant(n))
                .map(|(n, _)| (n.clone(), DType::F64))
                .collect();
        }
        let pairs: Vec<(&str, DType)> = sig.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        let prepared = interrupt::detach(py, || exprjit::compile(ex, &pairs))
            .map_err(|e| errors::to_py(py, &e))?;
        let positions = prepared
            .input_names()
            .iter()
            .map(|n| sig.iter().position(|(s, _)| s == n))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| convert::internal("a compiled input is not in the signature"))?;
        Ok(NumExpr {
            text: ex.to_string(),
            signature: sig,
            prepared,
            positions,
            elementwise: names.elementwise,
            nodes: names.nodes,
        })
    }

    /// Runs on `args`, one per signature entry, in signature order.
    /// Arguments of another dtype are cast if numpy's `safe` casting
    /// allows (Python scalars: if the value fits); `out`, if given,
    /// receives the result under `casting` and is returned.
    #[pyo3(signature = (*args, out=None, order="K", casting="same_kind", **kwargs))]
    fn run<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        out: Option<&Bound<'py, PyAny>>,
        order: &str,
        casting: &str,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        check_kwargs("run", kwargs)?;
        let order = Order::parse(py, &self.text, order)?;
        evaluate::check_casting(py, &self.text, casting)?;
        if args.len() != self.signature.len() {
            let names: Vec<&str> = self.signature.iter().map(|(n, _)| n.as_str()).collect();
            // numexpr: ValueError.
            return Err(argument_error(
                py,
                Class::UnsupportedValue,
                "argument_count",
                &self.text,
                &format!(
                    "run() takes {} arrays ({}), got {}",
                    names.len(),
                    names.join(", "),
                    args.len()
                ),
            ));
        }
        let mut values: evaluate::Values<'py> = Vec::with_capacity(self.positions.len());
        for &i in &self.positions {
            let v = self.argument(py, i, &args.get_item(i)?)?;
            values.push((self.signature[i].0.clone(), v));
        }
        let result_len = if self.elementwise {
            let shape = evaluate::broadcast_shape(py, &self.text, &values)?;
            shape.iter().fold(1usize, |n, &d| n.saturating_mul(d))
        } else {
            1
        };
        let out = out.map(|o| convert::Out::new(o, &self.text)).transpose()?;
        let order = if self.elementwise { order } else { Order::C };
        let (values, reversed, _) = evaluate::frame(values, order, out.as_ref());
        let ops: Vec<Operand<'_>> = values
            .iter()
            .map(|(_, v)| match v {
                Value::Array(a) => a.view().map(Operand::View),
                Value::Scalar(s) => Ok(Operand::Scalar(*s)),
            })
            .collect::<PyResult<_>>()?;
        let prepared = &self.prepared;
        let elements = values
            .iter()
            .filter_map(|(_, v)| match v {
                Value::Array(a) => Some(a.shape.iter().fold(1usize, |n, &d| n.saturating_mul(d))),
                Value::Scalar(_) => None,
            })
            .max()
            .unwrap_or(1)
            .max(result_len);
        let work = Work {
            elements,
            nodes: self.nodes,
            restartable: true,
        };
        let r =
            interrupt::run(py, work, || prepared.run(&ops))?.map_err(|e| errors::to_py(py, &e))?;
        let r = evaluate::unreverse(convert::to_numpy(py, r)?, reversed)?;
        let Some(out) = out else { return Ok(r) };
        let expected: Vec<usize> = r.getattr("shape")?.extract()?;
        evaluate::check_out_shape(py, &self.text, expected, out.shape())?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("casting", casting)?;
        convert::numpy(py)?.call_method("copyto", (out.object(), r), Some(&kwargs))?;
        Ok(out.object().clone().into_any())
    }

    /// `self.run(*args, **kwargs)`, as numexpr's compiled expressions are
    /// called.
    #[pyo3(signature = (*args, out=None, order="K", casting="same_kind", **kwargs))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        out: Option<&Bound<'py, PyAny>>,
        order: &str,
        casting: &str,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.run(py, args, out, order, casting, kwargs)
    }

    /// The expression text.
    #[getter]
    fn ex(&self) -> &str {
        &self.text
    }

    /// The names `run` takes, in order.
    #[getter]
    fn input_names<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.signature.iter().map(|(n, _)| n.as_str()))
    }

    /// `[(name, dtype name), ...]`.
    #[getter]
    fn signature<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(
            py,
            self.signature
                .iter()
                .map(|(n, d)| (n.as_str(), d.numpy_name())),
        )
    }

    /// The result's numpy dtype.
    #[getter]
    fn dtype<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::numpy(py)?.call_method1("dtype", (self.prepared.result_dtype().numpy_name(),))
    }

    /// Pickles as the text and signature; unpickling compiles again (so
    /// dask can send a compiled expression to its workers).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let me = slf.get();
        let sig = me.signature(py)?;
        let args = PyTuple::new(
            py,
            [
                me.text.clone().into_pyobject(py)?.into_any(),
                sig.into_any(),
            ],
        )?;
        PyTuple::new(py, [slf.get_type().into_any(), args.into_any()])
    }

    fn __repr__(&self) -> String {
        let sig: Vec<String> = self
            .signature
            .iter()
            .map(|(n, d)| format!("('{n}', '{d}')"))
            .collect();
        format!("NumExpr({:?}, signature=[{}])", self.text, sig.join(", "))
    }
}
