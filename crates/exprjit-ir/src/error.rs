//! The errors of type checking and evaluation, each with the span of the
//! expression it is about, printed like the syntax errors.

use crate::dtype::DType;
use exprjit_syntax::{Span, diagnostic};
use std::fmt;

/// An error about an expression: what went wrong, where, and the text.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    kind: ErrorKind,
    span: Option<Span>,
    text: String,
    hint: Option<String>,
}

/// What went wrong. Every kind but [`ErrorKind::Internal`] is a user error.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text does not parse.
    Syntax(exprjit_syntax::ErrorKind),
    UnknownVariable {
        name: String,
    },
    UnknownFunction {
        name: String,
    },
    WrongArity {
        function: String,
        expected: usize,
        found: usize,
    },
    /// A keyword argument to a function that takes none by that name.
    UnexpectedKeyword {
        function: String,
        keyword: String,
    },
    /// An operation applied to a dtype it does not take (`&` on floats,
    /// `-` on bool, ...). `op` is the operator or function as written.
    UnsupportedDType {
        op: String,
        dtype: DType,
    },
    /// An argument that must be a constant is not (`roll`'s shift and
    /// axis).
    NotConstant {
        what: String,
    },
    /// An argument that must be `True` or `False` is not (`keepdims`).
    NotBoolConstant {
        what: String,
    },
    /// An argument given twice (positionally and by keyword).
    DuplicateArgument {
        function: String,
        argument: String,
    },
    /// A reduction where only an elementwise expression is taken (the
    /// single-kernel entry points: `exprjit_ir::compile`, `Prepared`).
    NotElementwise {
        function: String,
    },
    /// `min`, `max` or `mean` of no elements (of an empty array, or along
    /// an axis of length 0), which numpy refuses too.
    EmptyReduction {
        op: String,
    },
    /// An axis beyond the array's dimensions.
    AxisOutOfRange {
        axis: i64,
        ndim: usize,
    },
    /// An integer literal that does not fit the array dtype it meets
    /// (`int32_array + 2**40`), as NumPy 2 (NEP 50) rejects it.
    IntegerOutOfRange {
        value: i64,
        dtype: DType,
    },
    /// An integer raised to a negative integer literal.
    NegativeIntegerPower,
    /// Operands whose shapes do not broadcast together.
    ShapeMismatch {
        left: Vec<usize>,
        right: Vec<usize>,
    },
    /// An `out` buffer whose shape is not the result's.
    OutputShape {
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    /// An `out` buffer whose dtype cannot hold the result under numpy's
    /// `same_kind` casting (e.g. a float result into an integer buffer).
    OutputDType {
        result: DType,
        out: DType,
    },
    /// An in-place target that the expression reads at other positions
    /// than the one it writes (a rolled or broadcast use of the target).
    Aliasing {
        name: String,
    },
    /// Inputs given to a prepared expression that are not the ones it was
    /// compiled for (their number or dtypes).
    InputMismatch {
        /// The prepared variables and their dtypes, in order.
        expected: Vec<(String, DType)>,
        /// The dtypes of the inputs given.
        found: Vec<DType>,
    },
    /// A result or temporary too large to allocate (`what` says which).
    TooLarge {
        what: String,
    },
    /// Stopped by `exprjit::interrupt()` (Ctrl-C in the REPL) before it
    /// finished; an output buffer holds a partial result.
    Interrupted,
    /// A bug in exprjit (an IR invariant broken, inputs that do not match
    /// the compiled signature); never caused by the expression text alone.
    Internal(String),
}

impl Error {
    pub fn new(kind: ErrorKind, span: Option<Span>, text: &str) -> Error {
        Error {
            kind,
            span,
            text: text.to_string(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// The same error about `text` (for errors made where the text was not
    /// at hand).
    pub fn in_text(mut self, text: &str) -> Error {
        self.text = text.to_string();
        self
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    pub fn span(&self) -> Option<Span> {
        self.span
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// True for errors that a bug in exprjit caused, not its input.
    pub fn is_internal(&self) -> bool {
        matches!(self.kind, ErrorKind::Internal(_))
    }

    /// The one-line message, without the expression and carets.
    pub fn message(&self) -> String {
        match &self.kind {
            ErrorKind::Syntax(k) => k.to_string(),
            ErrorKind::UnknownVariable { name } => format!("unknown variable '{name}'"),
            ErrorKind::UnknownFunction { name } => format!("unknown function '{name}'"),
            ErrorKind::WrongArity {
                function,
                expected,
                found,
            } => {
                let s = if *expected == 1 { "" } else { "s" };
                format!("{function}() takes {expected} argument{s}, got {found}")
            }
            ErrorKind::UnexpectedKeyword { function, keyword } => {
                format!("{function}() has no argument '{keyword}'")
            }
            ErrorKind::UnsupportedDType { op, dtype } => {
                format!("'{op}' is not defined for {dtype}")
            }
            ErrorKind::NotConstant { what } => format!("{what} must be an integer constant"),
            ErrorKind::NotBoolConstant { what } => format!("{what} must be True or False"),
            ErrorKind::DuplicateArgument { function, argument } => {
                format!("{function}() got multiple values for argument '{argument}'")
            }
            ErrorKind::NotElementwise { function } => {
                format!(
                    "{function}() is a reduction; only elementwise expressions compile to one kernel"
                )
            }
            ErrorKind::EmptyReduction { op } => {
                format!("zero-size array to reduction operation {op} which has no identity")
            }
            ErrorKind::AxisOutOfRange { axis, ndim } => {
                format!("axis {axis} is out of range for an array of {ndim} dimensions")
            }
            ErrorKind::IntegerOutOfRange { value, dtype } => {
                format!("integer {value} is out of range for {dtype}")
            }
            ErrorKind::NegativeIntegerPower => {
                "integers to negative integer powers are not allowed".to_string()
            }
            ErrorKind::ShapeMismatch { left, right } => {
                format!("shapes {left:?} and {right:?} do not broadcast together")
            }
            ErrorKind::OutputShape { expected, found } => {
                format!("output has shape {found:?}, the result has shape {expected:?}")
            }
            ErrorKind::OutputDType { result, out } => {
                format!("an output of {out} cannot hold a {result} result")
            }
            ErrorKind::Aliasing { name } => {
                format!("'{name}' is both the output and an input read at other positions")
            }
            ErrorKind::InputMismatch { expected, found } => {
                let expected: Vec<String> =
                    expected.iter().map(|(n, d)| format!("{n}: {d}")).collect();
                let found: Vec<String> = found.iter().map(|d| d.to_string()).collect();
                format!(
                    "the prepared expression takes ({}), got ({})",
                    expected.join(", "),
                    found.join(", ")
                )
            }
            ErrorKind::TooLarge { what } => format!("too large: {what}"),
            ErrorKind::Interrupted => "interrupted".to_string(),
            ErrorKind::Internal(msg) => format!("internal error (a bug in exprjit): {msg}"),
        }
    }
}

impl From<exprjit_syntax::Error> for Error {
    fn from(e: exprjit_syntax::Error) -> Error {
        Error {
            kind: ErrorKind::Syntax(e.kind().clone()),
            span: Some(e.span()),
            text: e.text().to_string(),
            hint: e.hint().map(str::to_string),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        diagnostic::render(
            f,
            &self.text,
            self.span,
            &self.message(),
            self.hint.as_deref(),
        )
    }
}

impl std::error::Error for Error {}
