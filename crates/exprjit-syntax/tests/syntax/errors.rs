//! Turns malformed expressions into errors whose rendered text (expression,
//! caret line, message, hint) is pinned here.

use exprjit_syntax::{ErrorKind, MAX_DEPTH, Span, parse, parse_bytes};

/// The rendered error for `text`, which must fail to parse.
fn render(text: &str) -> String {
    match parse(text) {
        Ok(e) => panic!("{text:?} parsed as {e:?}"),
        Err(e) => e.to_string(),
    }
}

fn kind(text: &str) -> ErrorKind {
    parse(text).unwrap_err().kind().clone()
}

#[test]
fn unexpected_tokens() {
    assert_eq!(
        render("a + * b"),
        "\
a + * b
    ^
error: unexpected '*'
hint: expected an expression"
    );
    assert_eq!(
        render("a b"),
        "\
a b
  ^
error: unexpected 'b'
hint: expected an operator"
    );
    assert_eq!(
        render("f(a b)"),
        "\
f(a b)
    ^
error: unexpected 'b'
hint: expected an operator, ')' or ','"
    );
    assert_eq!(
        render("f(,)"),
        "\
f(,)
  ^
error: unexpected ','
hint: expected an expression or ')'"
    );
    assert_eq!(
        render("a)"),
        "\
a)
 ^
error: unexpected ')'
hint: this ')' has no matching '('"
    );
    assert_eq!(
        render("a = 1"),
        "\
a = 1
  ^
error: unexpected '='
hint: expected an operator"
    );
    assert_eq!(
        kind("a + * b"),
        ErrorKind::UnexpectedToken {
            found: "*".to_owned(),
            expected: vec!["an expression".to_owned()],
        }
    );
    // A long token is cut in the message.
    let long = format!("a {}", "b".repeat(100));
    assert_eq!(
        kind(&long),
        ErrorKind::UnexpectedToken {
            found: format!("{}...", "b".repeat(20)),
            expected: vec!["an operator".to_owned()],
        }
    );
}

#[test]
fn unexpected_end() {
    assert_eq!(
        render("a +"),
        "\
a +
   ^
error: unexpected end of expression
hint: expected an expression"
    );
    assert_eq!(
        render("(a + b"),
        "\
(a + b
      ^
error: unexpected end of expression
hint: expected ')'"
    );
    assert_eq!(
        kind("f(x,"),
        ErrorKind::UnexpectedEnd {
            expected: vec!["an expression".to_owned(), "')'".to_owned()],
        }
    );
}

#[test]
fn lexical_errors() {
    assert_eq!(
        render("a $ b"),
        "\
a $ b
  ^
error: invalid character '$'"
    );
    assert_eq!(
        render("a\0b"),
        "\
a b
 ^
error: invalid character '\\u{0}'"
    );
    assert_eq!(
        render("2e + 1"),
        "\
2e + 1
^^
error: invalid number '2e'
hint: an exponent needs digits, as in `1e-9`"
    );
    assert_eq!(
        render("x * 1.2.3"),
        "\
x * 1.2.3
    ^^^^^
error: invalid number '1.2.3'
hint: write numbers like `3`, `3.5`, `.5` or `1e-9`"
    );
    assert_eq!(
        render("012"),
        "\
012
^^^
error: invalid number '012'
hint: leading zeros are not allowed in integers"
    );
    assert_eq!(
        render("1 + 9223372036854775808"),
        "\
1 + 9223372036854775808
    ^^^^^^^^^^^^^^^^^^^
error: integer literal too large
hint: integers are at most 9223372036854775807; add `.0` for a float"
    );
    assert_eq!(
        kind("a.b"),
        ErrorKind::InvalidToken {
            found: ".".to_owned()
        }
    );
    assert_eq!(
        kind("1e-"),
        ErrorKind::InvalidNumber {
            found: "1e-".to_owned()
        }
    );
}

#[test]
fn chained_comparisons() {
    assert_eq!(
        render("0 < a < 1"),
        "\
0 < a < 1
^^^^^^^^^
error: chained comparisons are not supported
hint: write `(0 < a) & (a < 1)`"
    );
    assert_eq!(
        render("x <= y < z == w"),
        "\
x <= y < z == w
^^^^^^^^^^^^^^^
error: chained comparisons are not supported
hint: write `(x <= y) & (y < z) & (z == w)`"
    );
    // Python reads this as `a < (b & c) < d`.
    assert_eq!(
        render("a < b & c < d"),
        "\
a < b & c < d
^^^^^^^^^^^^^
error: chained comparisons are not supported
hint: `&` binds tighter than `<`, so this reads as `a < (b & c) < d`; write `(a < b) & (c < d)`"
    );
    assert_eq!(
        render("x > 0 | y >= 1"),
        "\
x > 0 | y >= 1
^^^^^^^^^^^^^^
error: chained comparisons are not supported
hint: `|` binds tighter than `>`, so this reads as `x > (0 | y) >= 1`; write `(x > 0) | (y >= 1)`"
    );
    // Parenthesised operands keep their parentheses in the hint, and the
    // span covers the chain only.
    assert_eq!(
        render("f((a) == b + 1 != (c))"),
        "\
f((a) == b + 1 != (c))
  ^^^^^^^^^^^^^^^^^^^
error: chained comparisons are not supported
hint: write `((a) == b + 1) & (b + 1 != (c))`"
    );
    // A parenthesised `&` in the middle was meant as written.
    assert_eq!(
        parse("a < (b & c) < d").unwrap_err().hint(),
        Some("write `(a < (b & c)) & ((b & c) < d)`")
    );
    let long = parse("a < b < c < d < e < f").unwrap_err();
    assert_eq!(long.kind(), &ErrorKind::ChainedComparison);
    assert_eq!(
        long.hint(),
        Some(
            "compare two values at a time and combine the results with `&`, as in `(a < b) & (b < c)`"
        )
    );
}

#[test]
fn call_arguments() {
    assert_eq!(
        render("f(axis=1, x)"),
        "\
f(axis=1, x)
          ^
error: positional argument after keyword argument
hint: put positional arguments before keyword arguments"
    );
    assert_eq!(
        render("f(x, axis=0, axis=1)"),
        "\
f(x, axis=0, axis=1)
             ^^^^
error: duplicate keyword argument 'axis'"
    );
}

#[test]
fn empty_and_limits() {
    assert_eq!(render(""), "\n^\nerror: empty expression");
    // The tab shows as a space.
    assert_eq!(render(" \t\n"), "  \n^^\nerror: empty expression");
    assert_eq!(kind("\r\n"), ErrorKind::Empty);

    let deep = format!("{}a", "-".repeat(MAX_DEPTH as usize));
    let e = parse(&deep).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::TooDeep { max: MAX_DEPTH });
    // The caret points at the outermost `-`, which would be too deep.
    assert_eq!(e.span(), Span::new(0, 1));
    assert!(e.to_string().ends_with(
        "error: expression nested too deeply\n\
         hint: operations can be nested at most 512 deep; split the expression"
    ));
    // One level less is fine.
    assert_eq!(parse(&deep[1..]).unwrap().depth, MAX_DEPTH);

    let parens = format!("{}a{}", "(".repeat(513), ")".repeat(513));
    let e = parse(&parens).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::TooDeep { max: MAX_DEPTH });
    assert_eq!(e.span(), Span::new(512, 513));
    assert_eq!(e.hint(), Some("parentheses can be nested at most 512 deep"));
    assert!(parse(&parens[1..parens.len() - 1]).is_ok());
}

#[test]
fn invalid_utf8() {
    let e = parse_bytes(b"a + \xff").unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidUtf8);
    assert_eq!(e.span(), Span::new(4, 5));
    assert_eq!(e.text(), "a + \u{fffd}");
    assert_eq!(e.to_string(), "a + \u{fffd}\n    ^\nerror: invalid utf-8");
    // A truncated sequence at the end.
    let e = parse_bytes(b"x\xe2\x82").unwrap_err();
    assert_eq!(e.span(), Span::new(1, 3));
    // Valid bytes parse like text.
    assert_eq!(parse_bytes(b"a+1").unwrap(), parse("a+1").unwrap());
}

#[test]
fn error_is_a_std_error() {
    let e: Box<dyn std::error::Error> = Box::new(parse("(").unwrap_err());
    assert!(
        e.to_string()
            .contains("error: unexpected end of expression")
    );
}

#[test]
fn multi_line_input_shows_the_offending_line() {
    assert_eq!(
        render("a +\n  * b"),
        "  * b\n  ^\nerror: unexpected '*'\nhint: expected an expression"
    );
}
