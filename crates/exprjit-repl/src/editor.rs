//! Turns a terminal into a REPL: line editing and persistent history
//! (rustyline), completion of names, continuation lines while parentheses
//! are open, and coloured output.

use crate::construct;
use crate::line;
use crate::session::{COMMANDS, Session};
use exprjit::DType;
use exprjit::internals::ir::Op;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::{CmdKind, Highlighter, MatchingBracketHighlighter};
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{CompletionType, Config, Context, Editor, Helper};
use std::borrow::Cow;
use std::path::PathBuf;

/// Lines longer than this are run but not kept in the history.
const MAX_HISTORY_LINE: usize = 4096;
/// Where the history goes unless `EXPRJIT_HISTORY` says otherwise.
const HISTORY_FILE: &str = ".exprjit_history";
/// Giving up after this many terminal errors in a row (a closed terminal
/// would otherwise fail forever).
const MAX_READ_ERRORS: usize = 3;

/// Completion, continuation and bracket matching for the editor.
pub(crate) struct ReplHelper {
    /// The session's variables, refreshed after every line.
    pub vars: Vec<String>,
    functions: Vec<&'static str>,
    brackets: MatchingBracketHighlighter,
}

impl ReplHelper {
    fn new() -> ReplHelper {
        ReplHelper {
            vars: Vec::new(),
            functions: Op::function_names(),
            brackets: MatchingBracketHighlighter::new(),
        }
    }

    /// Every candidate for the word `prefix` at the start of `before` (the
    /// line up to the word).
    fn candidates(&self, before: &str, prefix: &str) -> Vec<Pair> {
        let mut out: Vec<Pair> = Vec::new();
        let mut add = |name: &str, call: bool| {
            if name.starts_with(prefix) && !out.iter().any(|p| p.display == name) {
                out.push(Pair {
                    display: name.to_string(),
                    replacement: if call {
                        format!("{name}(")
                    } else {
                        name.to_string()
                    },
                });
            }
        };
        if before.trim_start() == ":" {
            for (c, _) in COMMANDS {
                let c = c.split(' ').next().unwrap_or(c);
                add(&c[1..], false);
            }
            return out;
        }
        for v in &self.vars {
            add(v, false);
        }
        for f in &self.functions {
            add(f, true);
        }
        for c in construct::NAMES {
            add(c, true);
        }
        for d in DType::ALL {
            add(d.numpy_name(), false);
        }
        for k in ["pi", "e", "inf", "nan", "True", "False"] {
            add(k, false);
        }
        out.sort_by(|a, b| a.display.cmp(&b.display));
        out
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        text: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = text.get(..pos).unwrap_or("");
        let start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let word = &before[start..];
        if word.starts_with(|c: char| c.is_ascii_digit()) {
            return Ok((pos, Vec::new()));
        }
        Ok((start, self.candidates(&before[..start], word)))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, text: &'l str, pos: usize) -> Cow<'l, str> {
        self.brackets.highlight(text, pos)
    }

    fn highlight_char(&self, text: &str, pos: usize, kind: CmdKind) -> bool {
        self.brackets.highlight_char(text, pos, kind)
    }
}

impl Validator for ReplHelper {
    /// Enter on a line with open parentheses (or ending in a backslash)
    /// starts a continuation line instead of running it.
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if input.len() < exprjit::internals::syntax::MAX_LEN
            && (line::open_parens(input) > 0 || input.ends_with('\\'))
        {
            Ok(ValidationResult::Incomplete)
        } else {
            Ok(ValidationResult::Valid(None))
        }
    }
}

impl Helper for ReplHelper {}

/// `EXPRJIT_HISTORY`, else `~/.exprjit_history`, else none.
fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("EXPRJIT_HISTORY") {
        return (!p.is_empty()).then(|| PathBuf::from(p));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(HISTORY_FILE))
}

/// Runs the interactive loop until `:quit`, Ctrl-D, or a terminal that
/// keeps failing. `None` if no editor could be set up on this terminal.
pub(crate) fn run(session: &mut Session, color: bool) -> Option<i32> {
    let config = Config::builder()
        .max_history_size(1000)
        .ok()?
        .history_ignore_dups(true)
        .ok()?
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .build();
    let mut editor: Editor<ReplHelper, DefaultHistory> = Editor::with_config(config).ok()?;
    editor.set_helper(Some(ReplHelper::new()));
    let history = history_path();
    if let Some(p) = &history {
        // A missing or unreadable history is not worth a message.
        let _ = editor.load_history(p);
    }
    println!(
        "exprjit {}: type an expression, :help for help, Ctrl-D to leave",
        env!("CARGO_PKG_VERSION")
    );
    // Ctrl-C while an expression runs stops it (at its next tile) instead
    // of the process; at the prompt the line editor reads it as a key. If
    // no handler can be installed, Ctrl-C ends the process as before.
    let _ = ctrlc::set_handler(exprjit::interrupt);
    let mut errors = 0;
    loop {
        match editor.readline(">>> ") {
            Ok(input) => {
                errors = 0;
                if !input.trim().is_empty() && input.len() <= MAX_HISTORY_LINE {
                    let _ = editor.add_history_entry(input.as_str());
                    if let Some(p) = &history {
                        let _ = editor.append_history(p);
                    }
                }
                let input = crate::join_continuations(&input);
                exprjit::clear_interrupt();
                let reply = crate::execute(session, &input);
                crate::print_reply(&reply, color, None);
                if reply.quit {
                    break;
                }
                if let Some(h) = editor.helper_mut() {
                    h.vars = session.names();
                }
            }
            // Ctrl-C clears the line, as in Python.
            Err(ReadlineError::Interrupted) => {}
            Err(ReadlineError::Eof) => break,
            // Bytes that are not UTF-8 (pasted binary): the line is lost,
            // the terminal is fine.
            Err(ReadlineError::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                eprintln!("error: the line was not UTF-8 text; not run");
            }
            Err(e) => {
                eprintln!("error: reading the terminal: {e}");
                errors += 1;
                if errors >= MAX_READ_ERRORS {
                    return Some(1);
                }
            }
        }
    }
    Some(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_variables_functions_and_commands() {
        let mut h = ReplHelper::new();
        h.vars = vec!["alpha".into(), "beta".into()];
        let names = |before: &str, prefix: &str| -> Vec<String> {
            h.candidates(before, prefix)
                .into_iter()
                .map(|p| p.replacement)
                .collect()
        };
        assert_eq!(names("x = ", "al"), vec!["all(", "alpha"]);
        assert!(names("", "sq").contains(&"sqrt(".to_string()));
        assert!(names("", "lin").contains(&"linspace(".to_string()));
        assert_eq!(names(":", "va"), vec!["vars"]);
    }
}
