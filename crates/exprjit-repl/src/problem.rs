//! Turns what went wrong with an input line (an exprjit error about part of
//! it, or the REPL's own complaint) into the expression, a caret line and
//! `error: ...`, exactly as exprjit prints its own errors.

use exprjit::internals::syntax::{Span, diagnostic};
use std::ops::Range;

/// Why a line failed.
#[derive(Debug)]
pub(crate) enum Problem {
    /// exprjit's error about the text that starts at byte `offset` of the
    /// line.
    Expr {
        error: Box<exprjit::Error>,
        offset: usize,
    },
    /// The REPL's own: a bad constructor call, meta-command or name.
    Repl {
        message: String,
        /// Bytes of the line the message is about.
        span: Option<Range<usize>>,
        hint: Option<String>,
    },
}

impl Problem {
    pub(crate) fn expr(error: exprjit::Error, offset: usize) -> Problem {
        Problem::Expr {
            error: Box::new(error),
            offset,
        }
    }

    pub(crate) fn new(message: impl Into<String>, span: Range<usize>) -> Problem {
        Problem::Repl {
            message: message.into(),
            span: Some(span),
            hint: None,
        }
    }

    pub(crate) fn hint(mut self, text: impl Into<String>) -> Problem {
        match &mut self {
            Problem::Expr { error, .. } => **error = (**error).clone().with_hint(text),
            Problem::Repl { hint, .. } => *hint = Some(text.into()),
        }
        self
    }

    /// The message as printed under `line`, without a final newline.
    pub(crate) fn render(&self, line: &str) -> String {
        let mut out = String::new();
        let result = match self {
            Problem::Expr { error, offset } => {
                let text = error.text();
                let message = shorten(&error.message());
                let fits = line.get(*offset..offset + text.len()) == Some(text);
                if fits {
                    let span = error
                        .span()
                        .map(|s| Span::new(s.start as usize + offset, s.end as usize + offset));
                    diagnostic::render(&mut out, line, span, &message, error.hint())
                } else {
                    diagnostic::render(&mut out, text, error.span(), &message, error.hint())
                }
            }
            Problem::Repl {
                message,
                span,
                hint,
            } => match span {
                Some(s) => diagnostic::render(
                    &mut out,
                    line,
                    Some(Span::new(s.start, s.end)),
                    message,
                    hint.as_deref(),
                ),
                None => diagnostic::render(&mut out, "", None, message, hint.as_deref()),
            },
        };
        match result {
            Ok(()) => out,
            Err(_) => "error: (could not format the error)".to_string(),
        }
    }
}

/// The longest message printed whole (a message quotes names from the
/// input, which may be a megabyte long).
const MAX_MESSAGE: usize = 200;

fn shorten(message: &str) -> String {
    if message.len() <= MAX_MESSAGE {
        return message.to_string();
    }
    let mut cut = MAX_MESSAGE;
    while !message.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}... ({} bytes)", &message[..cut], message.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carets_point_into_the_whole_line() {
        let vars = exprjit::Vars::new();
        let err = exprjit::evaluate("1 + q", &vars).expect_err("unknown q");
        let p = Problem::expr(err, 4);
        let text = p.render("x = 1 + q");
        assert!(text.starts_with("x = 1 + q\n        ^\nerror: unknown variable 'q'"));
    }
}
