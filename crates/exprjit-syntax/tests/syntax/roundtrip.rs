//! Turns random syntax trees into text and back, which must give the same
//! tree (spans and depths aside), with minimal and with full parentheses.

use crate::strip;
use exprjit_syntax::{Arg, BinaryOp, Expr, ExprKind, Span, UnaryOp, parse};
use proptest::prelude::*;

fn expr(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
        depth: 0,
    }
}

fn leaf() -> impl Strategy<Value = Expr> {
    let float = prop::num::f64::POSITIVE
        | prop::num::f64::NORMAL
        | prop::num::f64::SUBNORMAL
        | prop::num::f64::ZERO
        | prop::num::f64::INFINITE;
    prop_oneof![
        (0..=i64::MAX).prop_map(ExprKind::Int),
        (0..10i64).prop_map(ExprKind::Int),
        float.prop_map(ExprKind::Float),
        any::<bool>().prop_map(ExprKind::Bool),
        prop::sample::select(&["a", "b", "x1", "_t", "pi", "e", "inf", "nan", "Truex"][..])
            .prop_map(|n| ExprKind::Name(n.to_owned())),
    ]
    .prop_map(expr)
}

static BINARY_OPS: [BinaryOp; 18] = {
    use BinaryOp::*;
    [
        Add, Sub, Mul, Div, FloorDiv, Mod, Pow, Lt, Le, Eq, Ne, Ge, Gt, BitAnd, BitOr, BitXor, Shl,
        Shr,
    ]
};
static UNARY_OPS: [UnaryOp; 3] = [UnaryOp::Neg, UnaryOp::Plus, UnaryOp::Invert];

fn tree() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(6, 64, 4, |inner| {
        prop_oneof![
            (prop::sample::select(&UNARY_OPS[..]), inner.clone())
                .prop_map(|(op, e)| expr(ExprKind::Unary(op, Box::new(e)))),
            (
                prop::sample::select(&BINARY_OPS[..]),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, l, r)| expr(ExprKind::Binary(
                    op,
                    Box::new(l),
                    Box::new(r)
                ))),
            (
                prop::sample::select(&["f", "where", "sum"][..]),
                prop::collection::vec(inner.clone(), 0..3),
                prop::collection::btree_map(prop::sample::select(&["axis", "k"][..]), inner, 0..2),
            )
                .prop_map(|(name, positional, keywords)| {
                    let mut args: Vec<Arg> = positional
                        .into_iter()
                        .map(|value| Arg { name: None, value })
                        .collect();
                    args.extend(keywords.into_iter().map(|(k, value)| Arg {
                        name: Some((k.to_owned(), Span::default())),
                        value,
                    }));
                    expr(ExprKind::Call {
                        name: name.to_owned(),
                        name_span: Span::default(),
                        args,
                    })
                }),
        ]
    })
}

proptest! {
    #[test]
    fn printed_trees_parse_back(e in tree()) {
        let minimal = e.to_string();
        let parsed = parse(&minimal).map_err(|err| TestCaseError::fail(format!("{minimal}\n{err}")))?;
        prop_assert_eq!(strip(&parsed), strip(&e), "{}", minimal);
        crate::check_invariants(&parsed, &minimal);

        let full = format!("{e:#}");
        let parsed = parse(&full).map_err(|err| TestCaseError::fail(format!("{full}\n{err}")))?;
        prop_assert_eq!(strip(&parsed), strip(&e), "{}", full);
    }
}

#[test]
fn floats_print_exactly() {
    for x in [
        0.0,
        1.0,
        0.1,
        1e-300,
        1e300,
        1e16,
        1e15,
        123.456,
        5e-324,
        f64::MAX,
        f64::INFINITY,
    ] {
        let printed = expr(ExprKind::Float(x)).to_string();
        assert_eq!(
            parse(&printed).unwrap().kind,
            ExprKind::Float(x),
            "{printed}"
        );
    }
    assert_eq!(expr(ExprKind::Float(1.0)).to_string(), "1.0");
    assert_eq!(expr(ExprKind::Float(1e-300)).to_string(), "1e-300");
}
