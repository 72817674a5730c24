//! Turns exprjit errors into Python exceptions of the classes in
//! `exprjit/_errors.py`, chosen by error kind, carrying the rendered
//! message (expression, caret line, `error: ...`) and its parts.

use crate::names::char_span;
use exprjit::internals::syntax::{Span, diagnostic};
use exprjit::{Error, ErrorKind};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyModule;

/// The Python classes, by what they mean; see `_errors.py`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Class {
    /// The text does not parse (`SyntaxError`).
    Syntax,
    /// An unknown variable or function (`NameError` and `KeyError`).
    UnknownName,
    /// A dtype the operation or the binding cannot take (`TypeError`).
    Type,
    /// Shapes, negative powers and other values (`ValueError`).
    Value,
    /// A result too large to allocate (`MemoryError`).
    Memory,
    /// A bug in exprjit (`RuntimeError`).
    Internal,
}

impl Class {
    fn name(self) -> &'static str {
        match self {
            Class::Syntax => "ExprjitSyntaxError",
            Class::UnknownName => "UnknownNameError",
            Class::Type => "ExprjitTypeError",
            Class::Value => "ExprjitValueError",
            Class::Memory => "ExprjitMemoryError",
            Class::Internal => "InternalError",
        }
    }

    fn of(kind: &ErrorKind) -> Class {
        match kind {
            ErrorKind::Syntax(_) => Class::Syntax,
            ErrorKind::UnknownVariable { .. } | ErrorKind::UnknownFunction { .. } => {
                Class::UnknownName
            }
            ErrorKind::WrongArity { .. }
            | ErrorKind::UnexpectedKeyword { .. }
            | ErrorKind::UnsupportedDType { .. }
            | ErrorKind::IntegerOutOfRange { .. }
            | ErrorKind::OutputDType { .. } => Class::Type,
            ErrorKind::NegativeIntegerPower
            | ErrorKind::ShapeMismatch { .. }
            | ErrorKind::OutputShape { .. }
            | ErrorKind::Aliasing { .. } => Class::Value,
            ErrorKind::TooLarge { .. } => Class::Memory,
            ErrorKind::Internal(_) => Class::Internal,
            // A kind added later: a user error about the expression.
            _ => Class::Value,
        }
    }
}

/// A short name of the error kind for `exc.kind` (`"unknown_variable"`).
fn kind_name(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Syntax(_) => "syntax",
        ErrorKind::UnknownVariable { .. } => "unknown_variable",
        ErrorKind::UnknownFunction { .. } => "unknown_function",
        ErrorKind::WrongArity { .. } => "wrong_arity",
        ErrorKind::UnexpectedKeyword { .. } => "unexpected_keyword",
        ErrorKind::UnsupportedDType { .. } => "unsupported_dtype",
        ErrorKind::IntegerOutOfRange { .. } => "integer_out_of_range",
        ErrorKind::NegativeIntegerPower => "negative_integer_power",
        ErrorKind::ShapeMismatch { .. } => "shape_mismatch",
        ErrorKind::OutputShape { .. } => "output_shape",
        ErrorKind::OutputDType { .. } => "output_dtype",
        ErrorKind::Aliasing { .. } => "aliasing",
        ErrorKind::TooLarge { .. } => "too_large",
        ErrorKind::Internal(_) => "internal",
        _ => "other",
    }
}

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// Builds an exception of `class`: the rendered `text` is its message.
fn exception(
    py: Python<'_>,
    class: Class,
    kind: &str,
    expression: &str,
    span: Option<Span>,
    message: &str,
    hint: Option<&str>,
) -> PyErr {
    let mut text = String::new();
    // Rendering into a String cannot fail.
    let _ = diagnostic::render(&mut text, expression, span, message, hint);
    let built = ERRORS
        .get_or_try_init(py, || py.import("exprjit._errors").map(Bound::unbind))
        .and_then(|m| m.bind(py).getattr(class.name()))
        .and_then(|cls| {
            let span = span.map(|s| char_span(expression, s));
            cls.call1((text.as_str(), expression, message, hint, span, kind))
        });
    match built {
        Ok(exc) => PyErr::from_value(exc),
        // The package is not importable (the module was loaded on its
        // own): fall back to the built-in class.
        Err(_) => match class {
            Class::Syntax => pyo3::exceptions::PySyntaxError::new_err(text),
            Class::UnknownName => pyo3::exceptions::PyNameError::new_err(text),
            Class::Type => pyo3::exceptions::PyTypeError::new_err(text),
            Class::Value => pyo3::exceptions::PyValueError::new_err(text),
            Class::Memory => pyo3::exceptions::PyMemoryError::new_err(text),
            Class::Internal => pyo3::exceptions::PyRuntimeError::new_err(text),
        },
    }
}

/// The Python exception for an exprjit error.
pub(crate) fn to_py(py: Python<'_>, e: &Error) -> PyErr {
    exception(
        py,
        Class::of(e.kind()),
        kind_name(e.kind()),
        e.text(),
        e.span(),
        &e.message(),
        e.hint(),
    )
}

/// An error of the binding itself (a variable of an unsupported dtype, a
/// bad `out`), rendered like exprjit's own, pointing at `span` if given.
pub(crate) fn binding(
    py: Python<'_>,
    class: Class,
    expression: &str,
    span: Option<Span>,
    message: &str,
    hint: Option<&str>,
) -> PyErr {
    let kind = match class {
        Class::Type => "binding_dtype",
        _ => "binding",
    };
    exception(py, class, kind, expression, span, message, hint)
}
