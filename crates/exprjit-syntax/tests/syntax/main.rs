//! Turns example expressions into pinned trees, printed forms and error
//! messages, and random input into evidence that parsing never panics.

// Test helpers outside `#[test]` functions unwrap too; clippy.toml's
// `allow-unwrap-in-tests` only covers the test functions themselves.
#![allow(clippy::unwrap_used)]

mod errors;
mod malformed;
mod precedence;
mod roundtrip;

use exprjit_syntax::{Arg, Expr, ExprKind, Span};

/// `expr` with every span zeroed and every depth 0, for comparing trees
/// that came from different text.
pub(crate) fn strip(expr: &Expr) -> Expr {
    let kind = match &expr.kind {
        ExprKind::Unary(op, e) => ExprKind::Unary(*op, Box::new(strip(e))),
        ExprKind::Binary(op, l, r) => ExprKind::Binary(*op, Box::new(strip(l)), Box::new(strip(r))),
        ExprKind::Call { name, args, .. } => ExprKind::Call {
            name: name.clone(),
            name_span: Span::default(),
            args: args
                .iter()
                .map(|a| Arg {
                    name: a.name.as_ref().map(|(n, _)| (n.clone(), Span::default())),
                    value: strip(&a.value),
                })
                .collect(),
        },
        leaf => leaf.clone(),
    };
    Expr {
        kind,
        span: Span::default(),
        depth: 0,
    }
}

/// Checks what every parsed tree promises: depths are 1 + the deepest
/// child and at most `MAX_DEPTH`, and spans lie inside the text and cover
/// their children.
pub(crate) fn check_invariants(expr: &Expr, text: &str) {
    let children: Vec<&Expr> = match &expr.kind {
        ExprKind::Unary(_, e) => vec![e],
        ExprKind::Binary(_, l, r) => vec![l, r],
        ExprKind::Call { args, .. } => args.iter().map(|a| &a.value).collect(),
        _ => vec![],
    };
    let child_depth = children.iter().map(|c| c.depth).max().unwrap_or(0);
    assert_eq!(expr.depth, child_depth + 1, "{expr:?}");
    assert!(expr.depth <= exprjit_syntax::MAX_DEPTH);
    assert!(expr.span.start < expr.span.end && expr.span.end as usize <= text.len());
    for c in children {
        assert!(expr.span.start <= c.span.start && c.span.end <= expr.span.end);
        check_invariants(c, text);
    }
}
