//! Turns expression text into an [`ast::Expr`] with byte spans, or into an
//! [`Error`] that points at the offending part of the text.
//!
//! The language is numexpr's (Python spelling): see the crate README section
//! in `ARCHITECTURE.md`. Limits: an expression is at most [`MAX_LEN`] bytes
//! and its syntax tree at most [`MAX_DEPTH`] nodes deep; longer or deeper
//! input is an error, never a stack overflow.

pub mod ast;
pub mod diagnostic;
mod error;
mod lexer;
mod parser;
mod print;

pub use ast::{Arg, BinaryOp, Expr, ExprKind, Span, UnaryOp};
pub use error::{Error, ErrorKind};
pub use parser::{parse, parse_bytes};

/// The longest expression accepted, in bytes (1 MiB).
pub const MAX_LEN: usize = 1 << 20;

/// The deepest syntax tree accepted. Every later phase walks the tree
/// recursively; this bound keeps those walks far from the stack limit.
pub const MAX_DEPTH: u32 = 512;
