//! Turns an [`Expr`] back into source text that parses to the same tree.
//!
//! `{}` prints with the fewest parentheses the precedence rules need;
//! `{:#}` puts every unary and binary operation in parentheses, which shows
//! how an expression was grouped (`-a**2` prints as `(-(a ** 2))`).
//!
//! Trees from [`crate::parse`] round-trip exactly (spans and depths aside).
//! Hand-built trees with values the parser never produces print as follows:
//! a negative literal `-x` prints as `(-x)`, which re-parses as a negation,
//! and a NaN float prints as the name `nan`. Positive infinity (from literals
//! such as `1e999`) prints as `1e999`, which round-trips.

use crate::ast::{BinaryOp, Expr, ExprKind, UnaryOp};
use std::fmt::{self, Write};

/// Binding strength, loosest first; see `grammar/expr.lalrpop`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Comparison,
    BitOr,
    BitXor,
    BitAnd,
    Shift,
    Arith,
    Term,
    Unary,
    Power,
    Primary,
}

fn binary_prec(op: BinaryOp) -> Prec {
    use BinaryOp::*;
    match op {
        Lt | Le | Eq | Ne | Ge | Gt => Prec::Comparison,
        BitOr => Prec::BitOr,
        BitXor => Prec::BitXor,
        BitAnd => Prec::BitAnd,
        Shl | Shr => Prec::Shift,
        Add | Sub => Prec::Arith,
        Mul | Div | FloorDiv | Mod => Prec::Term,
        Pow => Prec::Power,
    }
}

/// The precedence of `e` as printed without outer parentheses.
fn prec(e: &Expr) -> Prec {
    match &e.kind {
        ExprKind::Unary(..) => Prec::Unary,
        ExprKind::Binary(op, ..) => binary_prec(*op),
        // Negative literals print in their own parentheses.
        _ => Prec::Primary,
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(f, self, f.alternate())
    }
}

/// Writes `e` in parentheses if its precedence is below `min` (and it is
/// not parenthesised anyway because `full` is set).
fn write_operand(f: &mut fmt::Formatter<'_>, e: &Expr, min: Prec, full: bool) -> fmt::Result {
    if prec(e) < min && !full {
        f.write_char('(')?;
        write_expr(f, e, full)?;
        f.write_char(')')
    } else {
        write_expr(f, e, full)
    }
}

/// Writes `e`; with `full`, every unary and binary node is parenthesised.
fn write_expr(f: &mut fmt::Formatter<'_>, e: &Expr, full: bool) -> fmt::Result {
    match &e.kind {
        ExprKind::Int(n) => {
            if *n < 0 {
                // Unreachable from the parser; see the module docs.
                write!(f, "(-{})", n.unsigned_abs())
            } else {
                write!(f, "{n}")
            }
        }
        ExprKind::Float(x) => write_float(f, *x),
        ExprKind::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
        ExprKind::Name(name) => f.write_str(name),
        ExprKind::Unary(op, operand) => {
            if full {
                f.write_char('(')?;
            }
            f.write_str(op.symbol())?;
            // `- -a`, not `--a`, purely for readability: the lexer has no
            // `--` token, so both would parse.
            if !full && matches!(op, UnaryOp::Neg | UnaryOp::Plus) && starts_with_sign(operand) {
                f.write_char(' ')?;
            }
            write_operand(f, operand, Prec::Unary, full)?;
            if full {
                f.write_char(')')?;
            }
            Ok(())
        }
        ExprKind::Binary(op, l, r) => {
            let p = binary_prec(*op);
            // Which operand precedences need no parentheses:
            // - comparisons do not chain, so neither side may be one;
            // - `**` takes a primary on its left and a unary on its right;
            // - the rest are left-associative.
            let (left_min, right_min) = match p {
                Prec::Comparison => (Prec::BitOr, Prec::BitOr),
                Prec::Power => (Prec::Primary, Prec::Unary),
                _ => (p, next(p)),
            };
            if full {
                f.write_char('(')?;
            }
            write_operand(f, l, left_min, full)?;
            write!(f, " {op} ")?;
            write_operand(f, r, right_min, full)?;
            if full {
                f.write_char(')')?;
            }
            Ok(())
        }
        ExprKind::Call { name, args, .. } => {
            write!(f, "{name}(")?;
            for (i, arg) in args.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                if let Some((key, _)) = &arg.name {
                    write!(f, "{key}=")?;
                }
                write_expr(f, &arg.value, full)?;
            }
            f.write_char(')')
        }
    }
}

/// The next tighter level, for the right operand of a left-associative
/// operator.
fn next(p: Prec) -> Prec {
    match p {
        Prec::Comparison => Prec::BitOr,
        Prec::BitOr => Prec::BitXor,
        Prec::BitXor => Prec::BitAnd,
        Prec::BitAnd => Prec::Shift,
        Prec::Shift => Prec::Arith,
        Prec::Arith => Prec::Term,
        Prec::Term => Prec::Unary,
        Prec::Unary => Prec::Power,
        Prec::Power | Prec::Primary => Prec::Primary,
    }
}

fn starts_with_sign(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Unary(UnaryOp::Neg | UnaryOp::Plus, _))
}

/// Writes a float so that it re-lexes as a float with exactly this value.
fn write_float(f: &mut fmt::Formatter<'_>, x: f64) -> fmt::Result {
    if x.is_nan() {
        f.write_str("nan")
    } else if x.is_sign_negative() {
        // Unreachable from the parser; see the module docs.
        f.write_str("(-")?;
        write_float(f, -x)?;
        f.write_char(')')
    } else if x.is_infinite() {
        // Overflows to infinity when lexed, like Python's float('1e999').
        f.write_str("1e999")
    } else {
        // `{:?}` is the shortest text that reads back as `x`, and always has
        // a `.` or an exponent (`1.0`, `0.1`, `1e-300`, `1e16`), so it lexes
        // as a float, never an integer.
        write!(f, "{x:?}")
    }
}
