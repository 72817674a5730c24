//! Turns expressions into their fully parenthesised (`{:#}`) and minimal
//! (`{}`) printed forms, pinning precedence, associativity and spans.

use exprjit_syntax::{BinaryOp, ExprKind, Span, UnaryOp, parse};

fn full(text: &str) -> String {
    match parse(text) {
        Ok(e) => format!("{e:#}"),
        Err(e) => panic!("{text:?} failed:\n{e}"),
    }
}

fn minimal(text: &str) -> String {
    match parse(text) {
        Ok(e) => e.to_string(),
        Err(e) => panic!("{text:?} failed:\n{e}"),
    }
}

#[test]
fn precedence_and_associativity() {
    let cases = [
        ("a + b * c", "(a + (b * c))"),
        ("a * b + c", "((a * b) + c)"),
        ("a - b - c", "((a - b) - c)"),
        ("a / b / c", "((a / b) / c)"),
        ("a // b % c * d", "(((a // b) % c) * d)"),
        ("-a ** 2", "(-(a ** 2))"),
        ("2 ** -1", "(2 ** (-1))"),
        ("a ** b ** c", "(a ** (b ** c))"),
        ("a ** -b ** c", "(a ** (-(b ** c)))"),
        ("(-a) ** 2", "((-a) ** 2)"),
        ("-a * b", "((-a) * b)"),
        ("a * -b", "(a * (-b))"),
        ("--a", "(-(-a))"),
        ("- + ~a", "(-(+(~a)))"),
        ("1 - -1", "(1 - (-1))"),
        ("~a & b", "((~a) & b)"),
        ("a | b ^ c & d", "(a | (b ^ (c & d)))"),
        ("a & b ^ c | d", "(((a & b) ^ c) | d)"),
        ("a << b + c", "(a << (b + c))"),
        ("a + b << c", "((a + b) << c)"),
        ("a >> b >> c", "((a >> b) >> c)"),
        ("a & b << c", "(a & (b << c))"),
        ("a < b | c", "(a < (b | c))"),
        ("a | b < c", "((a | b) < c)"),
        ("a < b & c", "(a < (b & c))"),
        ("(a < b) & (c < d)", "((a < b) & (c < d))"),
        ("(a < b) < c", "((a < b) < c)"),
        ("a < (b < c)", "(a < (b < c))"),
        ("a <= b", "(a <= b)"),
        ("a == b + 1", "(a == (b + 1))"),
        ("a != b", "(a != b)"),
        ("a >= b", "(a >= b)"),
        ("a > b", "(a > b)"),
        ("((a))", "a"),
        ("f(a + b, g(c), axis=-1)", "f((a + b), g(c), axis=(-1))"),
        ("f()", "f()"),
        ("f(a,)", "f(a)"),
        ("f(a, k=1,)", "f(a, k=1)"),
        ("where(a > 0, a, 0) ** 2", "(where((a > 0), a, 0) ** 2)"),
        ("True & ~False", "(True & (~False))"),
        ("a%b", "(a % b)"),
    ];
    for (text, expected) in cases {
        assert_eq!(full(text), expected, "{text}");
    }
}

#[test]
fn minimal_parentheses() {
    let cases = [
        ("(a + b) * c", "(a + b) * c"),
        ("a + (b * c)", "a + b * c"),
        ("a - (b - c)", "a - (b - c)"),
        ("(a - b) - c", "a - b - c"),
        ("(a ** b) ** c", "(a ** b) ** c"),
        ("a ** (b ** c)", "a ** b ** c"),
        ("(-a) ** b", "(-a) ** b"),
        ("-(a ** b)", "-a ** b"),
        ("a ** (-b)", "a ** -b"),
        ("-(-a)", "- -a"),
        ("-(a + b)", "-(a + b)"),
        ("(a < b) < c", "(a < b) < c"),
        ("a < (b | c)", "a < b | c"),
        ("(a & b) | c", "a & b | c"),
        ("a & (b | c)", "a & (b | c)"),
        ("f(x=(a + b))", "f(x=a + b)"),
        ("2.5e-3 * 1e999", "0.0025 * 1e999"),
    ];
    for (text, expected) in cases {
        assert_eq!(minimal(text), expected, "{text}");
    }
}

#[test]
fn spans_and_depths() {
    let e = parse("(a + b) * c").unwrap();
    assert_eq!(e.span, Span::new(0, 11));
    assert_eq!(e.depth, 3);
    let ExprKind::Binary(BinaryOp::Mul, l, r) = &e.kind else {
        panic!("{e:?}")
    };
    // Parentheses build no node: the sum keeps its inner span.
    assert_eq!(l.span, Span::new(1, 6));
    assert_eq!(l.depth, 2);
    assert_eq!(r.span, Span::new(10, 11));

    let e = parse(" -x ").unwrap();
    assert_eq!(e.span, Span::new(1, 3));
    assert!(matches!(e.kind, ExprKind::Unary(UnaryOp::Neg, _)));

    let e = parse("sum(x, axis = 1)").unwrap();
    let ExprKind::Call {
        name,
        name_span,
        args,
    } = &e.kind
    else {
        panic!("{e:?}")
    };
    assert_eq!((name.as_str(), *name_span), ("sum", Span::new(0, 3)));
    assert_eq!(e.span, Span::new(0, 16));
    assert_eq!(e.depth, 2);
    assert_eq!(args[0].name, None);
    assert_eq!(args[1].name, Some(("axis".to_owned(), Span::new(7, 11))));
    assert_eq!(args[1].value.span, Span::new(14, 15));
}

#[test]
fn number_spellings() {
    let floats = [
        ("3.5", 3.5),
        ("1e-9", 1e-9),
        ("1E+3", 1e3),
        ("1e5", 1e5),
        (".5", 0.5),
        ("2.", 2.0),
        ("2.e3", 2e3),
        ("0.0", 0.0),
        ("1e999", f64::INFINITY),
        ("1.7976931348623157e308", f64::MAX),
        ("5e-324", 5e-324),
    ];
    for (text, value) in floats {
        assert_eq!(parse(text).unwrap().kind, ExprKind::Float(value), "{text}");
    }
    let ints = [
        ("3", 3),
        ("0", 0),
        ("00", 0),
        ("9223372036854775807", i64::MAX),
    ];
    for (text, value) in ints {
        assert_eq!(parse(text).unwrap().kind, ExprKind::Int(value), "{text}");
    }
    assert_eq!(parse("True").unwrap().kind, ExprKind::Bool(true));
    assert_eq!(parse("False").unwrap().kind, ExprKind::Bool(false));
    for name in ["pi", "e", "inf", "nan", "_", "x_1", "Truex", "false"] {
        assert_eq!(parse(name).unwrap().kind, ExprKind::Name(name.to_owned()));
    }
    // `e` alone is a name, also next to numbers with spaces.
    assert_eq!(full("2 * e"), "(2 * e)");
    assert_eq!(full("1e3*e"), "(1000.0 * e)");
}
