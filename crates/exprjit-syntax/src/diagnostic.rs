//! Renders a message about a span of an expression as text: the expression,
//! a caret line under the span, then `error: ...` and an optional hint.
//!
//! Every error type in exprjit (syntax, type, runtime) prints through
//! [`render`], so they all look alike.

use crate::ast::Span;
use std::fmt::{self, Write};

/// How many characters of the expression are shown around a span when the
/// expression is too long to print whole.
const WINDOW: usize = 60;

/// Writes `text` with a caret line under `span`, then `error: {message}`,
/// then `hint: {hint}` if there is one.
///
/// Control characters are shown as spaces (so the carets line up) and long
/// expressions are cut to a window around the span, marked with `...`.
pub fn render(
    f: &mut dyn Write,
    text: &str,
    span: Option<Span>,
    message: &str,
    hint: Option<&str>,
) -> fmt::Result {
    if let Some(span) = span {
        let (line, caret_start, caret_len) = excerpt(text, span);
        writeln!(f, "{line}")?;
        writeln!(
            f,
            "{}{}",
            " ".repeat(caret_start),
            "^".repeat(caret_len.max(1))
        )?;
    } else if !text.is_empty() {
        let (line, _, _) = excerpt(text, Span::new(0, 0));
        writeln!(f, "{line}")?;
    }
    write!(f, "error: {message}")?;
    if let Some(hint) = hint {
        write!(f, "\nhint: {hint}")?;
    }
    Ok(())
}

/// Cuts `text` to the line holding `span.start` and to a window around the
/// span; returns the printable line and the caret column and width, both
/// counted in characters.
fn excerpt(text: &str, span: Span) -> (String, usize, usize) {
    let start = floor_char_boundary(text, (span.start as usize).min(text.len()));
    let end = floor_char_boundary(text, (span.end as usize).clamp(start, text.len()));
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    // A span that runs over several lines is underlined to the end of its
    // first line.
    let end = end.min(line_end);

    let chars_before = text[line_start..start].chars().count();
    let span_chars = text[start..end].chars().count();
    let line_chars = text[line_start..line_end].chars().count();

    // Choose a window of characters [from, to) of the line to show.
    let (from, to) = if line_chars <= 2 * WINDOW + 20 {
        (0, line_chars)
    } else {
        let from = chars_before.saturating_sub(WINDOW);
        let to = (chars_before + span_chars.min(WINDOW) + WINDOW).min(line_chars);
        (from, to)
    };
    let mut out = String::new();
    if from > 0 {
        out.push_str("...");
    }
    for c in text[line_start..line_end]
        .chars()
        .skip(from)
        .take(to - from)
    {
        out.push(if c.is_control() { ' ' } else { c });
    }
    if to < line_chars {
        out.push_str("...");
    }
    let prefix = if from > 0 { 3 } else { 0 };
    let caret_start = prefix + chars_before - from;
    let caret_len = span_chars.min(to.saturating_sub(chars_before));
    (out, caret_start, caret_len)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(text: &str, start: usize, end: usize, msg: &str, hint: Option<&str>) -> String {
        let mut s = String::new();
        render(&mut s, text, Some(Span::new(start, end)), msg, hint).unwrap();
        s
    }

    #[test]
    fn caret_under_span() {
        assert_eq!(
            show(
                "a + d",
                4,
                5,
                "unknown variable 'd'",
                Some("did you mean 'a'?")
            ),
            "a + d\n    ^\nerror: unknown variable 'd'\nhint: did you mean 'a'?"
        );
    }

    #[test]
    fn empty_span_gets_one_caret() {
        assert_eq!(
            show("a +", 3, 3, "unexpected end", None),
            "a +\n   ^\nerror: unexpected end"
        );
    }

    #[test]
    fn control_characters_keep_alignment() {
        assert_eq!(
            show("a\t+ \u{0}b", 5, 6, "x", None),
            "a +  b\n     ^\nerror: x"
        );
    }

    #[test]
    fn long_lines_are_windowed() {
        let text = format!("{}q{}", "a+".repeat(500), "+a".repeat(500));
        let s = show(&text, 1000, 1001, "unknown variable 'q'", None);
        let mut lines = s.lines();
        let line = lines.next().unwrap();
        let carets = lines.next().unwrap();
        assert!(line.starts_with("...") && line.ends_with("..."));
        assert!(line.len() < 200);
        let col = carets.find('^').unwrap();
        assert_eq!(&line[col..col + 1], "q");
    }

    #[test]
    fn multibyte_characters_count_once() {
        assert_eq!(show("é + z", 5, 6, "m", None), "é + z\n    ^\nerror: m");
    }
}
