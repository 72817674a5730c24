//! Splits an input line into what it asks for: nothing, a meta-command, an
//! assignment or an evaluation, and finds constructor calls and their
//! arguments, all by single left-to-right scans (no recursion, whatever
//! the input).

use std::ops::Range;

/// What a line asks for. Texts are slices of the line; `offset`s and
/// spans are byte positions in it, for error carets.
#[derive(Debug, PartialEq)]
pub(crate) enum Input<'a> {
    /// Blank, or a `#` comment.
    Nothing,
    /// `:name arg`.
    Meta {
        name: &'a str,
        name_span: Range<usize>,
        arg: &'a str,
        arg_offset: usize,
    },
    /// `name = rhs`.
    Assign {
        name: &'a str,
        name_span: Range<usize>,
        rhs: &'a str,
        rhs_offset: usize,
    },
    /// An expression or constructor call to evaluate and print.
    Eval { text: &'a str, offset: usize },
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whitespace as the expression lexer skips it.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_space(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    i
}

/// The end of the identifier starting at `i` (`i` itself if none does).
fn ident_end(s: &[u8], i: usize) -> usize {
    if i >= s.len() || !is_ident_start(s[i]) {
        return i;
    }
    let mut j = i + 1;
    while j < s.len() && is_ident_char(s[j]) {
        j += 1;
    }
    j
}

/// `text` without surrounding whitespace, and where it starts.
pub(crate) fn trim(text: &str, offset: usize) -> (&str, usize) {
    let start = text.len() - text.trim_start_matches(is_space_char).len();
    let t = text[start..].trim_end_matches(is_space_char);
    (t, offset + start)
}

fn is_space_char(c: char) -> bool {
    c.is_ascii() && is_space(c as u8)
}

/// Classifies `line`.
pub(crate) fn classify(line: &str) -> Input<'_> {
    let s = line.as_bytes();
    let i = skip_space(s, 0);
    if i == s.len() || s[i] == b'#' {
        return Input::Nothing;
    }
    if s[i] == b':' {
        let mut j = i + 1;
        while j < s.len() && s[j].is_ascii_alphabetic() {
            j += 1;
        }
        let (arg, arg_offset) = trim(&line[j..], j);
        return Input::Meta {
            name: &line[i + 1..j],
            name_span: i..j,
            arg,
            arg_offset,
        };
    }
    let end = ident_end(s, i);
    if end > i {
        let k = skip_space(s, end);
        if k < s.len() && s[k] == b'=' && s.get(k + 1) != Some(&b'=') {
            let (rhs, rhs_offset) = trim(&line[k + 1..], k + 1);
            return Input::Assign {
                name: &line[i..end],
                name_span: i..end,
                rhs,
                rhs_offset,
            };
        }
    }
    let (text, offset) = trim(line, 0);
    Input::Eval { text, offset }
}

/// A call `name(args)` that makes up the whole of a text.
#[derive(Debug, PartialEq)]
pub(crate) struct Call<'a> {
    pub name: &'a str,
    /// The whole call, in line bytes.
    pub span: Range<usize>,
    /// The arguments, split at top-level commas.
    pub args: Vec<Arg<'a>>,
}

/// One argument: `text`, or `keyword=text`.
#[derive(Debug, PartialEq)]
pub(crate) struct Arg<'a> {
    pub keyword: Option<(&'a str, Range<usize>)>,
    pub text: &'a str,
    /// The value text, in line bytes.
    pub span: Range<usize>,
}

/// If `text` (at `offset` in the line, already trimmed) is a single call
/// of one of `names`, that call; `Err` for an argument list that cannot be
/// split (an empty argument).
pub(crate) fn call<'a>(
    text: &'a str,
    offset: usize,
    names: &[&str],
) -> Option<Result<Call<'a>, crate::problem::Problem>> {
    let s = text.as_bytes();
    let end = ident_end(s, 0);
    let name = &text[..end];
    if end == 0 || !names.contains(&name) {
        return None;
    }
    let open = skip_space(s, end);
    if s.get(open) != Some(&b'(') {
        return None;
    }
    let close = matching_paren(s, open)?;
    if close + 1 != s.len() {
        return None;
    }
    Some(split_args(text, open + 1, close, offset).map(|args| Call {
        name,
        span: offset..offset + s.len(),
        args,
    }))
}

/// The index of the `)` that closes the `(` at `open`.
fn matching_paren(s: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, &b) in s.iter().enumerate().skip(open) {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits `text[from..to]` at commas outside parentheses. A trailing comma
/// is allowed, as in Python.
fn split_args<'a>(
    text: &'a str,
    from: usize,
    to: usize,
    offset: usize,
) -> Result<Vec<Arg<'a>>, crate::problem::Problem> {
    let s = text.as_bytes();
    let mut pieces = Vec::new();
    let mut depth = 0usize;
    let mut start = from;
    for (k, &b) in s.iter().enumerate().take(to).skip(from) {
        match b {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                pieces.push(start..k);
                start = k + 1;
            }
            _ => {}
        }
    }
    pieces.push(start..to);
    let mut args = Vec::new();
    let count = pieces.len();
    for (n, r) in pieces.into_iter().enumerate() {
        let (t, at) = trim(&text[r.clone()], r.start);
        if t.is_empty() {
            // `f()` and `f(x,)` are fine; `f(,)` and `f(x,,y)` are not.
            if n + 1 == count {
                continue;
            }
            return Err(crate::problem::Problem::new(
                "empty argument",
                offset + r.start..offset + r.end.max(r.start + 1),
            ));
        }
        args.push(arg(t, at, offset));
    }
    Ok(args)
}

fn arg(t: &str, at: usize, offset: usize) -> Arg<'_> {
    let s = t.as_bytes();
    let end = ident_end(s, 0);
    if end > 0 {
        let k = skip_space(s, end);
        if s.get(k) == Some(&b'=') && s.get(k + 1) != Some(&b'=') {
            let (value, v_at) = trim(&t[k + 1..], at + k + 1);
            return Arg {
                keyword: Some((&t[..end], offset + at..offset + at + end)),
                text: value,
                span: offset + v_at..offset + v_at + value.len(),
            };
        }
    }
    Arg {
        keyword: None,
        text: t,
        span: offset + at..offset + at + t.len(),
    }
}

/// The names in `text` that look like identifiers (outside numbers), for
/// completion and for sizing a result before it is computed.
pub(crate) fn identifiers(text: &str) -> Vec<&str> {
    let s = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b.is_ascii_digit() || b == b'.' {
            // A number, with any letters that run on (`1e5`, `2.5f`).
            i += 1;
            while i < s.len() && (is_ident_char(s[i]) || s[i] == b'.') {
                i += 1;
            }
        } else if is_ident_start(b) {
            let end = ident_end(s, i);
            out.push(&text[i..end]);
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// How many more `(` than `)` there are (negative: too many `)`).
pub(crate) fn open_parens(text: &str) -> i64 {
    text.bytes().fold(0i64, |d, b| match b {
        b'(' => d + 1,
        b')' => d - 1,
        _ => d,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_is_a_leading_name_and_single_equals() {
        assert_eq!(
            classify("x = a*b"),
            Input::Assign {
                name: "x",
                name_span: 0..1,
                rhs: "a*b",
                rhs_offset: 4
            }
        );
        assert_eq!(
            classify("a == b"),
            Input::Eval {
                text: "a == b",
                offset: 0
            }
        );
        assert_eq!(
            classify(" a <= b"),
            Input::Eval {
                text: "a <= b",
                offset: 1
            }
        );
        assert_eq!(classify("  # note"), Input::Nothing);
        assert_eq!(
            classify(":ir  a + 1 "),
            Input::Meta {
                name: "ir",
                name_span: 0..3,
                arg: "a + 1",
                arg_offset: 5
            }
        );
    }

    #[test]
    fn calls_and_arguments() {
        let c = call("rand(3, 4, dtype=float32)", 4, &["rand"])
            .expect("a call")
            .expect("arguments");
        assert_eq!(c.args.len(), 3);
        assert_eq!(c.args[1].text, "4");
        assert_eq!(c.args[1].span, 12..13);
        assert_eq!(c.args[2].keyword.as_ref().map(|k| k.0), Some("dtype"));
        assert_eq!(c.args[2].text, "float32");
        assert!(call("rand(3) * 2", 0, &["rand"]).is_none());
        assert!(call("rand(3,)", 0, &["rand"]).is_some_and(|c| c.is_ok()));
        assert!(call("rand(,)", 0, &["rand"]).is_some_and(|c| c.is_err()));
        assert!(call("rand((", 0, &["rand"]).is_none());
    }

    #[test]
    fn identifiers_skip_numbers() {
        assert_eq!(identifiers("a*1e5 + b2 - 3x"), vec!["a", "b2"]);
    }
}
