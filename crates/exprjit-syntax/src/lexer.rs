//! Turns expression text into tokens with byte offsets, in the
//! `(start, token, end)` form that the lalrpop parser consumes.

use crate::MAX_DEPTH;
use crate::ast::Span;
use crate::error::{ErrorKind, SyntaxError, excerpt};
use logos::Logos;

/// What the logos automaton reports when a token cannot be produced; the
/// [`Lexer`] adds the span and turns it into a [`SyntaxError`].
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum LexError {
    /// No token starts with this character.
    #[default]
    InvalidToken,
    InvalidNumber {
        hint: &'static str,
    },
    IntegerTooLarge,
}

/// A token of the expression language. Whitespace (space, tab, newline,
/// carriage return) separates tokens and is skipped.
#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(skip r"[ \t\n\r]+")]
#[logos(error = LexError)]
pub(crate) enum Tok<'a> {
    /// `0`, `42`; leading zeros (`012`) are an error, as in Python.
    #[regex(r"[0-9]+", lex_int, priority = 10)]
    Int(i64),
    /// `3.5`, `.5`, `2.`, `1e-9`, `1E+3`, `2.e3`.
    #[regex(
        r"[0-9]+\.[0-9]*([eE][+-]?[0-9]+)?|\.[0-9]+([eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+",
        lex_float,
        priority = 10
    )]
    Float(f64),
    /// Anything that starts like a number but runs on into letters, digits,
    /// dots or underscores without being one (`2e`, `1.2.3`, `0x1f`, `3abc`).
    /// Logos prefers the longest match, so `1e5` is a `Float` while `1e` and
    /// `1e5x` land here and become [`ErrorKind::InvalidNumber`]. A trailing
    /// `e-`/`e+` is included so that `1e-` is one bad number, not `1e` `-`.
    #[regex(
        r"[0-9][0-9A-Za-z_.]*([eE][+-])?|\.[0-9][0-9A-Za-z_.]*([eE][+-])?",
        bad_number,
        priority = 1
    )]
    BadNumber,
    #[token("True")]
    True,
    #[token("False")]
    False,
    /// A variable, a named constant (`pi`, `e`, `inf`, `nan`) or a function.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice())]
    Name(&'a str),
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("//")]
    SlashSlash,
    #[token("%")]
    Percent,
    #[token("**")]
    StarStar,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token("==")]
    EqEq,
    #[token("!=")]
    Ne,
    #[token(">=")]
    Ge,
    #[token(">")]
    Gt,
    #[token("&")]
    Amp,
    #[token("|")]
    Pipe,
    #[token("^")]
    Caret,
    #[token("~")]
    Tilde,
    #[token("<<")]
    Shl,
    #[token(">>")]
    Shr,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token(",")]
    Comma,
    /// Only used for keyword arguments, `axis=1`.
    #[token("=")]
    Assign,
}

fn lex_int<'a>(lex: &mut logos::Lexer<'a, Tok<'a>>) -> Result<i64, LexError> {
    let digits = lex.slice();
    if digits.len() > 1 && digits.starts_with('0') && digits.bytes().any(|b| b != b'0') {
        return Err(LexError::InvalidNumber {
            hint: "leading zeros are not allowed in integers",
        });
    }
    // The regex admits only ASCII digits, so the only possible failure is
    // overflow.
    digits.parse().map_err(|_| LexError::IntegerTooLarge)
}

fn lex_float<'a>(lex: &mut logos::Lexer<'a, Tok<'a>>) -> Result<f64, LexError> {
    // Rust's float syntax accepts every spelling the regex admits (`2.`,
    // `.5`, `2.e3`); too large a value gives infinity, as in Python.
    lex.slice().parse().map_err(|_| LexError::InvalidNumber {
        hint: "write numbers like `3`, `3.5`, `.5` or `1e-9`",
    })
}

fn bad_number<'a>(lex: &mut logos::Lexer<'a, Tok<'a>>) -> Result<(), LexError> {
    let s = lex.slice();
    let hint = if s.ends_with(['e', 'E', '+', '-']) {
        "an exponent needs digits, as in `1e-9`"
    } else {
        "write numbers like `3`, `3.5`, `.5` or `1e-9`"
    };
    Err(LexError::InvalidNumber { hint })
}

/// The token stream for the parser: logos tokens with byte offsets, and
/// errors carrying spans.
///
/// It also counts open parentheses and fails with [`ErrorKind::TooDeep`] at
/// the first `(` nested deeper than [`MAX_DEPTH`]: parentheses build no tree
/// nodes, so this keeps the parser's stack small for inputs like 100,000
/// `(`s without changing which trees are accepted in practice.
pub(crate) struct Lexer<'a> {
    inner: logos::SpannedIter<'a, Tok<'a>>,
    text: &'a str,
    open_parens: u32,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            inner: Tok::lexer(text).spanned(),
            text,
            open_parens: 0,
        }
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Result<(usize, Tok<'a>, usize), SyntaxError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (tok, range) = self.inner.next()?;
        let span = Span::new(range.start, range.end);
        let found = || excerpt(&self.text[range.clone()]);
        Some(match tok {
            Ok(tok) => {
                match tok {
                    Tok::LParen => {
                        self.open_parens += 1;
                        if self.open_parens > MAX_DEPTH {
                            return Some(Err(too_deep_parens(span)));
                        }
                    }
                    Tok::RParen => self.open_parens = self.open_parens.saturating_sub(1),
                    _ => {}
                }
                Ok((range.start, tok, range.end))
            }
            Err(LexError::InvalidToken) => Err(SyntaxError::new(
                ErrorKind::InvalidToken { found: found() },
                span,
            )),
            Err(LexError::InvalidNumber { hint }) => Err(SyntaxError::new(
                ErrorKind::InvalidNumber { found: found() },
                span,
            )
            .with_hint(hint)),
            Err(LexError::IntegerTooLarge) => {
                Err(
                    SyntaxError::new(ErrorKind::IntegerTooLarge, span).with_hint(format!(
                        "integers are at most {}; add `.0` for a float",
                        i64::MAX
                    )),
                )
            }
        })
    }
}

fn too_deep_parens(span: Span) -> SyntaxError {
    SyntaxError::new(ErrorKind::TooDeep { max: MAX_DEPTH }, span).with_hint(format!(
        "parentheses can be nested at most {MAX_DEPTH} deep"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(text: &str) -> Vec<Result<Tok<'_>, ErrorKind>> {
        Lexer::new(text)
            .map(|r| r.map(|(_, t, _)| t).map_err(|e| e.kind))
            .collect()
    }

    fn one(text: &str) -> Result<Tok<'_>, ErrorKind> {
        let toks = lex(text);
        assert_eq!(toks.len(), 1, "{text:?} lexed to {toks:?}");
        toks.into_iter().next().unwrap()
    }

    #[test]
    fn integers() {
        assert_eq!(one("0"), Ok(Tok::Int(0)));
        assert_eq!(one("000"), Ok(Tok::Int(0)));
        assert_eq!(one("42"), Ok(Tok::Int(42)));
        assert_eq!(one("9223372036854775807"), Ok(Tok::Int(i64::MAX)));
        assert_eq!(one("9223372036854775808"), Err(ErrorKind::IntegerTooLarge));
        assert_eq!(
            one("123456789012345678901234567890"),
            Err(ErrorKind::IntegerTooLarge)
        );
        assert!(matches!(one("012"), Err(ErrorKind::InvalidNumber { .. })));
    }

    #[test]
    fn floats() {
        for (text, value) in [
            ("3.5", 3.5),
            ("1e-9", 1e-9),
            ("1E+3", 1e3),
            ("1e5", 1e5),
            (".5", 0.5),
            ("2.", 2.0),
            ("2.e3", 2e3),
            ("0.0", 0.0),
            ("1e999", f64::INFINITY),
            ("00.5", 0.5),
        ] {
            assert_eq!(one(text), Ok(Tok::Float(value)), "{text}");
        }
    }

    #[test]
    fn bad_numbers() {
        for text in [
            "2e", "1e-", "1E+", "1.2.3", "0x10", "3abc", "1_000", "2..3", ".5.", "1e5x", "1e5e+",
            "0xe+",
        ] {
            assert!(
                matches!(one(text), Err(ErrorKind::InvalidNumber { .. })),
                "{text}: {:?}",
                lex(text)
            );
        }
    }

    #[test]
    fn names_and_keywords() {
        assert_eq!(one("e"), Ok(Tok::Name("e")));
        assert_eq!(one("_x1"), Ok(Tok::Name("_x1")));
        assert_eq!(one("True"), Ok(Tok::True));
        assert_eq!(one("False"), Ok(Tok::False));
        assert_eq!(one("Truex"), Ok(Tok::Name("Truex")));
        assert_eq!(one("inf"), Ok(Tok::Name("inf")));
    }

    #[test]
    fn operators() {
        use Tok::*;
        let toks: Vec<_> = lex("+ - * / // % ** < <= == != >= > & | ^ ~ << >> ( ) , =")
            .into_iter()
            .map(|t| t.unwrap())
            .collect();
        assert_eq!(
            toks,
            [
                Plus, Minus, Star, Slash, SlashSlash, Percent, StarStar, Lt, Le, EqEq, Ne, Ge, Gt,
                Amp, Pipe, Caret, Tilde, Shl, Shr, LParen, RParen, Comma, Assign
            ]
        );
        assert_eq!(
            lex("a**-b"),
            [Ok(Name("a")), Ok(StarStar), Ok(Minus), Ok(Name("b"))]
        );
        assert_eq!(lex("2.*3"), [Ok(Float(2.0)), Ok(Star), Ok(Int(3))]);
    }

    #[test]
    fn offsets_skip_whitespace() {
        let toks: Vec<_> = Lexer::new(" a\t+\r\n 1.5 ")
            .map(|r| r.map(|(s, _, e)| (s, e)).unwrap())
            .collect();
        assert_eq!(toks, [(1, 2), (3, 4), (7, 10)]);
    }

    #[test]
    fn invalid_characters() {
        for text in ["$", "é", "\0", "\u{7}", ".", "!", "a.b", "'"] {
            assert!(
                lex(text)
                    .iter()
                    .any(|t| matches!(t, Err(ErrorKind::InvalidToken { .. }))),
                "{text:?}: {:?}",
                lex(text)
            );
        }
    }

    #[test]
    fn paren_nesting_is_bounded() {
        let text = "(".repeat(MAX_DEPTH as usize + 1);
        let toks = lex(&text);
        assert_eq!(toks.len(), MAX_DEPTH as usize + 1);
        assert_eq!(
            toks.last(),
            Some(&Err(ErrorKind::TooDeep { max: MAX_DEPTH }))
        );
        let ok = "()".repeat(10_000);
        assert!(lex(&ok).iter().all(|t| t.is_ok()));
    }
}
