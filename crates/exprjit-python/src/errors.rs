//! Turns exprjit errors into Python exceptions of the classes in
//! `exprjit/_errors.py`, chosen by error kind (and, for numexpr's sake, by
//! what numexpr raises for the same input), carrying the rendered message
//! (expression, caret line, `error: ...`) and its parts.

use crate::names::char_span;
use exprjit::internals::syntax::{Span, diagnostic};
use exprjit::{Error, ErrorKind};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyModule;

/// The Python classes, by what they mean; see `_errors.py`. Each is also
/// the built-in class numexpr raises for the same input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// The text does not parse (`SyntaxError`; `_errors.syntax_class`
    /// picks the subclass numexpr's `ValueError` or `TypeError` calls for).
    Syntax,
    /// An unknown variable (`NameError` and `KeyError`).
    UnknownName,
    /// An unknown function, or `None` (also `TypeError`).
    UnknownFunction,
    /// A dtype the operation or the binding cannot take (`TypeError`).
    Type,
    /// An operation on a dtype it does not take, or a function of numexpr's
    /// given the wrong number of arguments (`TypeError` and
    /// `NotImplementedError`).
    UnsupportedOperation,
    /// A value the binding cannot take (`TypeError` and `ValueError`).
    UnsupportedValue,
    /// Shapes, negative powers and other values (`ValueError`).
    Value,
    /// A result too large to allocate (`MemoryError`).
    Memory,
    /// A result whose size overflows (`MemoryError` and `ValueError`).
    ArrayTooBig,
    /// A bug in exprjit (`RuntimeError`).
    Internal,
}

/// The functions numexpr builds with its generic `func` wrapper: given one
/// or more arguments of the wrong count it finds no opcode and raises
/// `NotImplementedError` (its `where` and reductions raise `TypeError`).
const NUMEXPR_GENERIC_FUNCTIONS: &[&str] = &[
    "sqrt",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "fmod",
    "arctan2",
    "hypot",
    "nextafter",
    "copysign",
    "maximum",
    "minimum",
    "log",
    "log1p",
    "log10",
    "log2",
    "exp",
    "expm1",
    "abs",
    "ceil",
    "floor",
    "round",
    "trunc",
    "sign",
    "isnan",
    "isfinite",
    "isinf",
    "signbit",
];

impl Class {
    fn name(self) -> &'static str {
        match self {
            Class::Syntax => "ExprjitSyntaxError",
            Class::UnknownName => "UnknownNameError",
            Class::UnknownFunction => "UnknownFunctionError",
            Class::Type => "ExprjitTypeError",
            Class::UnsupportedOperation => "UnsupportedOperationError",
            Class::UnsupportedValue => "UnsupportedValueError",
            Class::Value => "ExprjitValueError",
            Class::Memory => "ExprjitMemoryError",
            Class::ArrayTooBig => "ArrayTooBigError",
            Class::Internal => "InternalError",
        }
    }

    fn of(kind: &ErrorKind) -> Class {
        match kind {
            ErrorKind::Syntax(_) => Class::Syntax,
            // numexpr evaluates `None` as Python's None: TypeError.
            ErrorKind::UnknownVariable { name } if name == "None" => Class::UnknownFunction,
            ErrorKind::UnknownVariable { .. } => Class::UnknownName,
            ErrorKind::UnknownFunction { .. } => Class::UnknownFunction,
            ErrorKind::WrongArity {
                function, found, ..
            } if *found >= 1 && NUMEXPR_GENERIC_FUNCTIONS.contains(&function.as_str()) => {
                Class::UnsupportedOperation
            }
            ErrorKind::UnsupportedDType { .. } => Class::UnsupportedOperation,
            ErrorKind::WrongArity { .. }
            | ErrorKind::UnexpectedKeyword { .. }
            | ErrorKind::IntegerOutOfRange { .. }
            | ErrorKind::OutputDType { .. } => Class::Type,
            ErrorKind::NegativeIntegerPower
            | ErrorKind::ShapeMismatch { .. }
            | ErrorKind::OutputShape { .. }
            | ErrorKind::Aliasing { .. } => Class::Value,
            // numexpr: ValueError for the count, TypeError for dtypes.
            ErrorKind::InputMismatch { .. } => Class::UnsupportedValue,
            ErrorKind::TooLarge { .. } => Class::Memory,
            ErrorKind::Internal(_) => Class::Internal,
            // A kind added later: a user error about the expression.
            _ => Class::Value,
        }
    }

    /// The built-in class to raise when the package's classes cannot be
    /// imported.
    fn builtin(self, text: String) -> PyErr {
        use pyo3::exceptions as e;
        match self {
            Class::Syntax => e::PySyntaxError::new_err(text),
            Class::UnknownName => e::PyKeyError::new_err(text),
            Class::Type | Class::UnknownFunction => e::PyTypeError::new_err(text),
            Class::UnsupportedOperation => e::PyNotImplementedError::new_err(text),
            Class::UnsupportedValue | Class::Value => e::PyValueError::new_err(text),
            Class::Memory | Class::ArrayTooBig => e::PyMemoryError::new_err(text),
            Class::Internal => e::PyRuntimeError::new_err(text),
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
        ErrorKind::NotConstant { .. } => "not_constant",
        ErrorKind::NotBoolConstant { .. } => "not_bool_constant",
        ErrorKind::DuplicateArgument { .. } => "duplicate_argument",
        ErrorKind::NotElementwise { .. } => "not_elementwise",
        ErrorKind::EmptyReduction { .. } => "empty_reduction",
        ErrorKind::AxisOutOfRange { .. } => "axis_out_of_range",
        ErrorKind::IntegerOutOfRange { .. } => "integer_out_of_range",
        ErrorKind::NegativeIntegerPower => "negative_integer_power",
        ErrorKind::ShapeMismatch { .. } => "shape_mismatch",
        ErrorKind::OutputShape { .. } => "output_shape",
        ErrorKind::OutputDType { .. } => "output_dtype",
        ErrorKind::Aliasing { .. } => "aliasing",
        ErrorKind::InputMismatch { .. } => "input_mismatch",
        ErrorKind::TooLarge { .. } => "too_large",
        ErrorKind::Interrupted => "interrupted",
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
        .and_then(|m| {
            let m = m.bind(py);
            if class == Class::Syntax {
                m.call_method1("syntax_class", (expression,))
            } else {
                m.getattr(class.name())
            }
        })
        .and_then(|cls| {
            let span = span.map(|s| char_span(expression, s));
            cls.call1((text.as_str(), expression, message, hint, span, kind))
        });
    match built {
        Ok(exc) => PyErr::from_value(exc),
        // The package is not importable (the module was loaded on its
        // own): fall back to the built-in class.
        Err(_) => class.builtin(text),
    }
}

/// The Python exception for an exprjit error. `Interrupted` becomes
/// `KeyboardInterrupt` (the binding handles it before; see `interrupt`).
pub(crate) fn to_py(py: Python<'_>, e: &Error) -> PyErr {
    if matches!(e.kind(), ErrorKind::Interrupted) {
        return pyo3::exceptions::PyKeyboardInterrupt::new_err("exprjit: evaluation interrupted");
    }
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
/// bad `out`), rendered like exprjit's own, pointing at `span` if given;
/// `kind` is its `exc.kind`.
pub(crate) fn binding(
    py: Python<'_>,
    class: Class,
    kind: &str,
    expression: &str,
    span: Option<Span>,
    message: &str,
    hint: Option<&str>,
) -> PyErr {
    exception(py, class, kind, expression, span, message, hint)
}

/// A bug in the binding (`InternalError`), with no expression.
pub(crate) fn internal(py: Python<'_>, message: &str) -> PyErr {
    binding(
        py,
        Class::Internal,
        "internal",
        "",
        None,
        &format!("internal error (a bug in exprjit's Python binding): {message}"),
        None,
    )
}
