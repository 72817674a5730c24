//! Turns huge, deep and garbage inputs into errors (or trees), never into a
//! panic or a stack overflow.

use crate::check_invariants;
use exprjit_syntax::{ErrorKind, MAX_DEPTH, MAX_LEN, parse, parse_bytes};
use proptest::prelude::*;

fn too_deep() -> ErrorKind {
    ErrorKind::TooDeep { max: MAX_DEPTH }
}

#[test]
fn hundred_thousand_open_parens() {
    let text = "(".repeat(100_000);
    let e = parse(&text).unwrap_err();
    assert_eq!(e.kind(), &too_deep());
    // Rendering a huge one-line input is windowed and must not panic.
    assert!(e.to_string().len() < 400);

    let closed = format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(parse(&closed).unwrap_err().kind(), &too_deep());
}

#[test]
fn hundred_thousand_minus_signs() {
    let text = format!("{}a", "-".repeat(100_000));
    let e = parse(&text).unwrap_err();
    assert_eq!(e.kind(), &too_deep());
    assert_eq!(e.span(), exprjit_syntax::Span::new(99_488, 99_489));
    assert!(e.to_string().len() < 400);
}

#[test]
fn megabyte_sum_is_too_deep() {
    let text = "a+".repeat(MAX_LEN / 2 - 1) + "a";
    assert!(text.len() <= MAX_LEN);
    let e = parse(&text).unwrap_err();
    assert_eq!(e.kind(), &too_deep());
    // The 512th `+` would build a node 513 deep.
    assert_eq!(e.span(), exprjit_syntax::Span::new(1023, 1024));

    // Right-leaning powers fail the same way (the stack grows first).
    let text = "a**".repeat(100_000) + "a";
    assert_eq!(parse(&text).unwrap_err().kind(), &too_deep());

    // A long chain of comparisons is one error, with a short hint. (Not a
    // whole megabyte: the chain is collected before it is rejected, which
    // takes over a second in debug builds.)
    let text = "a<".repeat(50_000) + "a";
    let e = parse(&text).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::ChainedComparison);
    assert!(e.hint().unwrap().len() < 200);
}

#[test]
fn wide_but_shallow_is_fine() {
    // 50,000 arguments: wide, depth 2.
    let text = format!("f({})", "a,".repeat(50_000));
    let e = parse(&text).unwrap();
    assert_eq!(e.depth, 2);
    // Many keyword arguments too (the checks on them must be linear).
    let keywords: String = (0..50_000).map(|i| format!("k{i}=1,")).collect();
    assert_eq!(parse(&format!("f(a, {keywords})")).unwrap().depth, 2);
    let e = parse(&format!("f({keywords}a)")).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::KeywordBeforePositional);
    let e = parse(&format!("f({keywords}k0=2)")).unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::DuplicateKeyword {
            name: "k0".to_owned()
        }
    );
    // A balanced sum of 2^9 leaves has depth 10.
    let mut text = "a".to_owned();
    for _ in 0..9 {
        text = format!("({text})+({text})");
    }
    assert_eq!(parse(&text).unwrap().depth, 10);
}

#[test]
fn two_mebibytes_is_too_long() {
    let text = "a+".repeat(MAX_LEN) + "a";
    let e = parse(&text).unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::TooLong {
            len: text.len(),
            max: MAX_LEN
        }
    );
    assert!(
        e.to_string()
            .ends_with("error: expression too long (2097153 bytes, limit 1048576)")
    );
    // Also before the UTF-8 check for bytes.
    let bytes = vec![0xff; MAX_LEN + 1];
    assert!(matches!(
        parse_bytes(&bytes).unwrap_err().kind(),
        ErrorKind::TooLong { .. }
    ));
    // Exactly MAX_LEN bytes is allowed.
    let text = format!("{}1", " ".repeat(MAX_LEN - 1));
    assert!(parse(&text).is_ok());
}

#[test]
fn control_characters_and_odd_bytes() {
    for bytes in [
        &b"\0"[..],
        b"a\0",
        b"\x7f",
        b"\x1b[31m",
        b"a\x0cb",
        b"\xef\xbb\xbfa",
        b"\xc0\x80",
        b"\xed\xa0\x80",
        b"a\r\nb",
        "a\u{a0}+b".as_bytes(),
        "\u{2028}".as_bytes(),
    ] {
        let e = parse_bytes(bytes).unwrap_err();
        // Rendering must not panic either.
        let _ = e.to_string();
    }
    assert!(parse_bytes(b"a\r\n+\tb\n").is_ok());
}

/// Short pieces of the language, so that random strings often get deep
/// into the grammar.
const PIECES: &[&str] = &[
    "a", "b", "f", "sum", "axis", "e", "1", "2.5", ".5", "1e3", "1e", "True", "(", ")", "(", ")",
    ",", "=", "+", "-", "*", "/", "//", "%", "**", "<", "<=", "==", "!=", ">", ">=", "&", "|", "^",
    "~", "<<", ">>", " ", "$", "\0", "é", ".",
];

fn grammarish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..40).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        match parse_bytes(&bytes) {
            Ok(e) => check_invariants(&e, std::str::from_utf8(&bytes).unwrap()),
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(text in "\\PC{0,40}") {
        if let Err(e) = parse(&text) {
            let _ = e.to_string();
        }
    }

    #[test]
    fn grammarish_strings_never_panic(text in grammarish()) {
        match parse(&text) {
            Ok(e) => {
                check_invariants(&e, &text);
                // Whatever parses prints to text that parses to the same tree.
                let printed = e.to_string();
                let again = parse(&printed).unwrap();
                prop_assert_eq!(crate::strip(&again), crate::strip(&e), "{}", printed);
            }
            Err(e) => {
                prop_assert!(e.span().end as usize <= text.len());
                let _ = e.to_string();
            }
        }
    }
}
