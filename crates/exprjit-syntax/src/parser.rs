//! Turns expression text (or bytes) into an [`Expr`] using the LR parser
//! generated from `grammar/expr.lalrpop`, or into an [`Error`].
//!
//! Nothing here recurses on the input: the generated parser is table-driven
//! with an explicit stack, every node-building action refuses to build a
//! node deeper than [`MAX_DEPTH`], and the lexer refuses parentheses nested
//! deeper than that. So dropping a partial tree after an error is bounded too.

use crate::ast::{Arg, BinaryOp, Expr, ExprKind, Span, UnaryOp};
use crate::error::{Error, ErrorKind, SyntaxError, excerpt};
use crate::lexer::{Lexer, Tok};
use crate::{MAX_DEPTH, MAX_LEN};
use lalrpop_util::ParseError;
use std::collections::HashSet;

#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::undocumented_unsafe_blocks,
    unreachable_pub,
    missing_debug_implementations,
    rust_2018_idioms,
    unused
)]
#[rustfmt::skip]
mod grammar {
    include!(concat!(env!("OUT_DIR"), "/expr.rs"));
}

/// Parses an expression such as `2*a + sin(b) < 1`.
///
/// Fails if the text is longer than [`MAX_LEN`] bytes (checked first), is
/// empty or whitespace, is not in the language, or would give a tree deeper
/// than [`MAX_DEPTH`].
pub fn parse(text: &str) -> Result<Expr, Error> {
    if text.len() > MAX_LEN {
        return Err(too_long(text.len(), text.to_owned()));
    }
    // The same whitespace that the lexer skips.
    if text
        .bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        return Err(Error::new(
            ErrorKind::Empty,
            Span::new(0, text.len()),
            text.to_owned(),
            None,
        ));
    }
    grammar::ExprParser::new()
        .parse(text, Lexer::new(text))
        .map_err(|e| convert(e, text).into_error(text))
}

/// Parses an expression given as bytes, which must be UTF-8.
///
/// Like [`parse`], but invalid UTF-8 is an [`ErrorKind::InvalidUtf8`] error
/// whose span covers the first bad byte sequence (the error's text is the
/// lossy decoding, in which that sequence starts at the same offset).
pub fn parse_bytes(bytes: &[u8]) -> Result<Expr, Error> {
    if bytes.len() > MAX_LEN {
        return Err(too_long(
            bytes.len(),
            String::from_utf8_lossy(bytes).into_owned(),
        ));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text),
        Err(e) => {
            let start = e.valid_up_to();
            let end = e.error_len().map_or(bytes.len(), |len| start + len);
            Err(Error::new(
                ErrorKind::InvalidUtf8,
                Span::new(start, end),
                String::from_utf8_lossy(bytes).into_owned(),
                None,
            ))
        }
    }
}

fn too_long(len: usize, text: String) -> Error {
    Error::new(
        ErrorKind::TooLong { len, max: MAX_LEN },
        Span::new(MAX_LEN, len),
        text,
        None,
    )
}

/// What the grammar actions return: a value, or a [`SyntaxError`] wrapped
/// the way lalrpop wants it.
type Fallible<'a, T> = Result<T, ParseError<usize, Tok<'a>, SyntaxError>>;

fn fail<'a, T>(error: SyntaxError) -> Fallible<'a, T> {
    Err(ParseError::User { error })
}

/// One argument of a call, as parsed, before the order checks of [`call`].
pub(crate) enum CallArg {
    Positional(Expr),
    Keyword(String, Span, Expr),
}

/// Builds a node `depth` deep, failing if that exceeds [`MAX_DEPTH`]; the
/// error points at `op_span`, the operator or function name of the node
/// (the whole node could be a megabyte long).
fn node<'a>(kind: ExprKind, span: Span, depth: u32, op_span: Span) -> Fallible<'a, Expr> {
    if depth > MAX_DEPTH {
        return fail(
            SyntaxError::new(ErrorKind::TooDeep { max: MAX_DEPTH }, op_span).with_hint(format!(
                "operations can be nested at most {MAX_DEPTH} deep; split the expression"
            )),
        );
    }
    Ok(Expr { kind, span, depth })
}

fn leaf(kind: ExprKind, span: Span) -> Expr {
    Expr {
        kind,
        span,
        depth: 1,
    }
}

fn unary<'a>(op: UnaryOp, e: Expr, span: Span) -> Fallible<'a, Expr> {
    let depth = e.depth + 1;
    // Unary operators are one byte long.
    let op_span = Span::new(span.start as usize, span.start as usize + 1);
    node(ExprKind::Unary(op, Box::new(e)), span, depth, op_span)
}

fn binary<'a>(op: BinaryOp, l: Expr, r: Expr, span: Span, op_span: Span) -> Fallible<'a, Expr> {
    let depth = l.depth.max(r.depth) + 1;
    node(
        ExprKind::Binary(op, Box::new(l), Box::new(r)),
        span,
        depth,
        op_span,
    )
}

fn call<'a>(name: &str, name_span: Span, parsed: Vec<CallArg>, span: Span) -> Fallible<'a, Expr> {
    let mut args: Vec<Arg> = Vec::with_capacity(parsed.len());
    // A call may have many thousands of arguments: keep the checks linear.
    let mut keywords: HashSet<String> = HashSet::new();
    for arg in parsed {
        match arg {
            CallArg::Positional(value) => {
                if !keywords.is_empty() {
                    return fail(
                        SyntaxError::new(ErrorKind::KeywordBeforePositional, value.span)
                            .with_hint("put positional arguments before keyword arguments"),
                    );
                }
                args.push(Arg { name: None, value });
            }
            CallArg::Keyword(key, key_span, value) => {
                if !keywords.insert(key.clone()) {
                    return fail(SyntaxError::new(
                        ErrorKind::DuplicateKeyword { name: key },
                        key_span,
                    ));
                }
                args.push(Arg {
                    name: Some((key, key_span)),
                    value,
                });
            }
        }
    }
    let depth = args.iter().map(|a| a.value.depth).max().unwrap_or(0) + 1;
    let kind = ExprKind::Call {
        name: name.to_owned(),
        name_span,
        args,
    };
    node(kind, span, depth, name_span)
}

/// A comparison, or a chain of them (`a < b < c`), which is an error.
///
/// `first_outer` and the `usize` pairs in `rest` are the operands' spans
/// including any parentheses around them; `span` covers the whole chain.
fn chain<'a>(
    text: &str,
    first: Expr,
    first_outer: Span,
    rest: Vec<((BinaryOp, Span), usize, Expr, usize)>,
    span: Span,
) -> Fallible<'a, Expr> {
    let rest = match <[_; 1]>::try_from(rest) {
        Ok([((op, op_span), _, right, _)]) => return binary(op, first, right, span, op_span),
        Err(rest) => rest,
    };
    let operands: Vec<(Span, &Expr)> = std::iter::once((first_outer, &first))
        .chain(rest.iter().map(|(_, lo, e, hi)| (Span::new(*lo, *hi), e)))
        .collect();
    let ops: Vec<BinaryOp> = rest.iter().map(|((op, _), ..)| *op).collect();
    let hint = chain_hint(text, &operands, &ops);
    fail(SyntaxError::new(ErrorKind::ChainedComparison, span).with_hint(hint))
}

/// Suggests how to write a chained comparison: `(a < b) & (b < c)`, or, when
/// the chain is really `a < b & c < d` (where `&` binds tighter than `<`),
/// `(a < b) & (c < d)`.
fn chain_hint(text: &str, operands: &[(Span, &Expr)], ops: &[BinaryOp]) -> String {
    /// Longer suggestions are not helpful; they would just repeat the input.
    const MAX_HINT: usize = 200;
    let src = |s: Span| text.get(s.range()).unwrap_or("").trim();

    // Unless the middle operand was parenthesised (then its outer span is
    // wider than its own), `a < b & c < d` probably meant
    // `(a < b) & (c < d)`. Between the two children of the `&` there are
    // only parentheses, whitespace and the operator itself.
    if let ([(a, _), (m, mid), (d, _)], [op1, op2]) = (operands, ops)
        && *m == mid.span
        && let ExprKind::Binary(bop @ (BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor), l, r) =
            &mid.kind
        && let gap_start = l.span.end as usize
        && let Some(i) = text
            .get(gap_start..r.span.start as usize)
            .and_then(|gap| gap.find(bop.symbol()))
    {
        let at = gap_start + i;
        let (a, d) = (src(*a), src(*d));
        let b = src(Span::new(m.start as usize, at));
        let c = src(Span::new(at + 1, m.end as usize));
        let hint = format!(
            "`{bop}` binds tighter than `{op1}`, so this reads as \
             `{a} {op1} ({b} {bop} {c}) {op2} {d}`; write `({a} {op1} {b}) {bop} ({c} {op2} {d})`"
        );
        if hint.len() <= 2 * MAX_HINT {
            return hint;
        }
    }

    if ops.len() <= 4 {
        let pairs: Vec<String> = ops
            .iter()
            .zip(operands.windows(2))
            .map(|(op, w)| format!("({} {op} {})", src(w[0].0), src(w[1].0)))
            .collect();
        let suggestion = pairs.join(" & ");
        if suggestion.len() <= MAX_HINT {
            return format!("write `{suggestion}`");
        }
    }
    "compare two values at a time and combine the results with `&`, as in `(a < b) & (b < c)`"
        .to_owned()
}

/// Turns a lalrpop error into a [`SyntaxError`] with user words for the
/// expected tokens.
fn convert(error: ParseError<usize, Tok<'_>, SyntaxError>, text: &str) -> SyntaxError {
    match error {
        ParseError::User { error } => error,
        ParseError::UnrecognizedEof { location, expected } => {
            let expected = describe_expected(&expected);
            let hint = expected_hint(&expected);
            SyntaxError {
                kind: ErrorKind::UnexpectedEnd { expected },
                span: Span::new(location, location),
                hint,
            }
        }
        ParseError::UnrecognizedToken {
            token: (lo, _, hi),
            expected,
        } => {
            let found = text.get(lo..hi).unwrap_or("");
            let expected = describe_expected(&expected);
            // Parentheses cannot hide in strings or comments: counting the
            // bytes before the `)` is exact.
            let before = text.get(..lo).unwrap_or("");
            let unmatched = found == ")"
                && before.bytes().filter(|&b| b == b'(').count()
                    <= before.bytes().filter(|&b| b == b')').count();
            let hint = if unmatched {
                Some("this ')' has no matching '('".to_owned())
            } else {
                expected_hint(&expected)
            };
            SyntaxError {
                kind: ErrorKind::UnexpectedToken {
                    found: excerpt(found),
                    expected,
                },
                span: Span::new(lo, hi),
                hint,
            }
        }
        ParseError::ExtraToken { token: (lo, _, hi) } => SyntaxError {
            kind: ErrorKind::UnexpectedToken {
                found: excerpt(text.get(lo..hi).unwrap_or("")),
                expected: Vec::new(),
            },
            span: Span::new(lo, hi),
            hint: Some("expected the end of the expression".to_owned()),
        },
        // Only lalrpop's built-in lexer reports this; ours reports
        // `ParseError::User` instead. Kept for completeness.
        ParseError::InvalidToken { location } => {
            let found = text.get(location..).and_then(|s| s.chars().next());
            let end = location + found.map_or(0, char::len_utf8);
            SyntaxError::new(
                ErrorKind::InvalidToken {
                    found: found.map(String::from).unwrap_or_default(),
                },
                Span::new(location, end),
            )
        }
    }
}

/// The tokens that can start an expression, as the grammar names them.
const EXPR_START: [&str; 9] = ["(", "-", "+", "~", "int", "float", "name", "True", "False"];

/// The binary operators, as the grammar names them.
const BINARY_OPS: [&str; 18] = [
    "+", "-", "*", "/", "//", "%", "**", "<", "<=", "==", "!=", ">=", ">", "&", "|", "^", "<<",
    ">>",
];

/// Turns lalrpop's expected-terminal list (`"\"(\""`, `"\"name\""`, ...)
/// into a short list of user words: "an expression" for the set of
/// expression starts, "an operator" for the set of binary operators, and
/// quoted tokens for the rest.
fn describe_expected(expected: &[String]) -> Vec<String> {
    let names: Vec<&str> = expected
        .iter()
        .map(|s| {
            s.strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or(s)
        })
        .collect();
    let mut covered: Vec<&str> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    if EXPR_START.iter().all(|t| names.contains(t)) {
        out.push("an expression".to_owned());
        covered.extend(EXPR_START);
    }
    if BINARY_OPS.iter().all(|t| names.contains(t)) {
        out.push("an operator".to_owned());
        covered.extend(BINARY_OPS);
        // After a name, `(` (a call) and `=` (a keyword argument) are also
        // possible, but a user who forgot an operator is better served
        // without them.
        covered.extend(["(", "="]);
    }
    for name in names {
        if covered.contains(&name) {
            continue;
        }
        let word = match name {
            "int" | "float" => "a number".to_owned(),
            "name" => "a name".to_owned(),
            "True" | "False" => "a boolean".to_owned(),
            other => format!("'{other}'"),
        };
        if !out.contains(&word) {
            out.push(word);
        }
    }
    out
}

/// `expected an expression or ')'`.
fn expected_hint(expected: &[String]) -> Option<String> {
    let (last, init) = expected.split_last()?;
    Some(if init.is_empty() {
        format!("expected {last}")
    } else {
        format!("expected {} or {last}", init.join(", "))
    })
}
