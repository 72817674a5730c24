//! Turns a failed parse into an [`Error`] that prints the expression, a caret
//! line under the offending span, a short message and an optional hint.

use crate::ast::Span;
use crate::diagnostic;
use std::fmt;

/// A syntax error: what went wrong, where, and in which expression.
///
/// `Display` prints the expression (or a window of it), a caret line under
/// [`Error::span`], `error: <message>` and, if there is one, `hint: ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    span: Span,
    text: String,
    hint: Option<String>,
}

/// What kind of syntax error happened. The `Display` form is the short
/// lowercase message shown after `error: `.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The expression is empty or only whitespace.
    Empty,
    /// The bytes are not UTF-8; the span covers the first bad byte sequence.
    InvalidUtf8,
    /// The expression is longer than [`crate::MAX_LEN`] bytes.
    TooLong { len: usize, max: usize },
    /// The syntax tree (or the parenthesis nesting) would be deeper than
    /// [`crate::MAX_DEPTH`].
    TooDeep { max: u32 },
    /// A character that starts no token, such as `$` or `é`.
    InvalidToken { found: String },
    /// A malformed number such as `2e`, `1.2.3`, `0x10` or `012`.
    InvalidNumber { found: String },
    /// An integer literal larger than `i64::MAX`.
    IntegerTooLarge,
    /// A token where it cannot go; `expected` describes, in user words,
    /// what could have gone there (it may be empty).
    UnexpectedToken {
        found: String,
        expected: Vec<String>,
    },
    /// The expression ends too early.
    UnexpectedEnd { expected: Vec<String> },
    /// `a < b < c`: Python would read this as `a < b and b < c`, which has
    /// no elementwise meaning, so it is rejected with a hint.
    ChainedComparison,
    /// A positional argument after a keyword argument, as in `f(axis=1, x)`.
    KeywordBeforePositional,
    /// The same keyword given twice, as in `f(x, axis=0, axis=1)`.
    DuplicateKeyword { name: String },
}

impl Error {
    /// Builds an error about `span` of `text`. `text` is the whole
    /// expression (lossily decoded if it was not UTF-8).
    pub(crate) fn new(kind: ErrorKind, span: Span, text: String, hint: Option<String>) -> Error {
        Error {
            kind,
            span,
            text,
            hint,
        }
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The byte span of the problem in the original input. For
    /// [`ErrorKind::InvalidUtf8`] this indexes the original bytes.
    pub fn span(&self) -> Span {
        self.span
    }

    /// The whole expression, lossily decoded if it was not UTF-8.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.kind.to_string();
        diagnostic::render(f, &self.text, Some(self.span), &message, self.hint())
    }
}

impl std::error::Error for Error {}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Empty => f.write_str("empty expression"),
            ErrorKind::InvalidUtf8 => f.write_str("invalid utf-8"),
            ErrorKind::TooLong { len, max } => {
                write!(f, "expression too long ({len} bytes, limit {max})")
            }
            ErrorKind::TooDeep { .. } => f.write_str("expression nested too deeply"),
            ErrorKind::InvalidToken { found } => write!(f, "invalid character {}", Quoted(found)),
            ErrorKind::InvalidNumber { found } => write!(f, "invalid number {}", Quoted(found)),
            ErrorKind::IntegerTooLarge => f.write_str("integer literal too large"),
            ErrorKind::UnexpectedToken { found, .. } => write!(f, "unexpected {}", Quoted(found)),
            ErrorKind::UnexpectedEnd { .. } => f.write_str("unexpected end of expression"),
            ErrorKind::ChainedComparison => f.write_str("chained comparisons are not supported"),
            ErrorKind::KeywordBeforePositional => {
                f.write_str("positional argument after keyword argument")
            }
            ErrorKind::DuplicateKeyword { name } => {
                write!(f, "duplicate keyword argument '{name}'")
            }
        }
    }
}

/// A syntax error before the expression text is attached; the lexer and the
/// grammar actions produce these, [`crate::parse`] turns them into [`Error`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SyntaxError {
    pub(crate) kind: ErrorKind,
    pub(crate) span: Span,
    pub(crate) hint: Option<String>,
}

impl SyntaxError {
    pub(crate) fn new(kind: ErrorKind, span: Span) -> SyntaxError {
        SyntaxError {
            kind,
            span,
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> SyntaxError {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn into_error(self, text: &str) -> Error {
        Error::new(self.kind, self.span, text.to_owned(), self.hint)
    }
}

/// Cuts a piece of source for an [`ErrorKind`] field: at most a few
/// characters, with `...` appended when it was cut.
pub(crate) fn excerpt(source: &str) -> String {
    const MAX_CHARS: usize = 20;
    match source.char_indices().nth(MAX_CHARS) {
        Some((i, _)) => format!("{}...", &source[..i]),
        None => source.to_owned(),
    }
}

/// Displays a piece of source in single quotes, control characters escaped.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("'")?;
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        f.write_str("'")
    }
}
