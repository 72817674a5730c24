//! `exprjit`, the REPL: turns lines typed at a terminal, piped in, given
//! with `-e` or read from script files into evaluated arrays, timings and
//! views of the compiler's phases.
//!
//! ```text
//! exprjit                 interactive (line editing, history, completion)
//! exprjit < script.txt    the same commands, no prompts, no colour
//! exprjit -e 'EXPR'       one line
//! exprjit script.txt      a file
//! ```
//!
//! Non-interactive runs exit with status 1 if any line failed, 2 on a bad
//! command line or an unreadable file.

mod bench;
mod construct;
mod editor;
mod format;
mod inspect;
mod line;
mod problem;
mod session;

use session::{Reply, Session};
use std::io::{BufRead, IsTerminal, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Input lines longer than this are refused unread (exprjit itself takes
/// expressions of at most 1 MiB).
const MAX_LINE: usize = 2 << 20;
/// How much of a line `--echo` prints.
const ECHO_CHARS: usize = 200;

const USAGE: &str = "\
usage: exprjit [--echo] [-e LINE]... [FILE]...

Evaluates array expressions with fused, JIT-compiled kernels.

  exprjit                 interactive when standard input is a terminal,
                          otherwise reads lines from it (no prompts, no colour)
  exprjit -e 'LINE'       runs one line (repeatable)
  exprjit FILE...         runs the lines of each file ('-' is standard input)
  --echo                  prints each line (as '>>> LINE') before its output
  -h, --help              this text
  -V, --version           the version

Each line is an assignment (a = rand(1e6)), an expression (a*b + 1) or a
command (:help lists them). In files a line ending in '\\' continues on the
next. Exit status: 0, or 1 if any line failed, 2 for a bad command line.

Environment: EXPRJIT_MAX_BYTES (largest array, default half of memory),
EXPRJIT_HISTORY (history file, default ~/.exprjit_history), NO_COLOR,
EXPRJIT_NUM_THREADS.";

/// Where lines come from.
enum Source {
    Line(String),
    File(String),
    Stdin,
}

fn main() {
    std::process::exit(real_main());
}

fn real_main() -> i32 {
    let mut sources = Vec::new();
    let mut echo = false;
    let mut args = std::env::args_os().skip(1);
    let mut only_files = false;
    while let Some(arg) = args.next() {
        let Some(arg) = arg.to_str().map(str::to_string) else {
            eprintln!("exprjit: arguments must be UTF-8\n\n{USAGE}");
            return 2;
        };
        match arg.as_str() {
            _ if only_files => sources.push(Source::File(arg)),
            "-h" | "--help" => {
                println!("{USAGE}");
                return 0;
            }
            "-V" | "--version" => {
                println!("exprjit {}", env!("CARGO_PKG_VERSION"));
                return 0;
            }
            "--echo" => echo = true,
            "--" => only_files = true,
            "-e" | "--eval" => match args.next().map(|a| a.to_str().map(str::to_string)) {
                Some(Some(line)) => sources.push(Source::Line(line)),
                _ => {
                    eprintln!("exprjit: {arg} needs a UTF-8 line to run\n\n{USAGE}");
                    return 2;
                }
            },
            "-" => sources.push(Source::Stdin),
            _ if arg.starts_with('-') => {
                eprintln!("exprjit: unknown option '{arg}'\n\n{USAGE}");
                return 2;
            }
            _ => sources.push(Source::File(arg)),
        }
    }

    let mut session = Session::new();
    if sources.is_empty() {
        if std::io::stdin().is_terminal() {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            if let Some(status) = editor::run(&mut session, color) {
                return status;
            }
            // No line editor on this terminal: read plain lines.
        }
        sources.push(Source::Stdin);
    }

    let mut failed = false;
    for source in sources {
        let outcome = match &source {
            Source::Line(line) => run_lines(
                &mut session,
                std::io::Cursor::new(line.as_bytes()),
                "-e",
                echo,
            ),
            Source::Stdin => run_lines(&mut session, std::io::stdin().lock(), "<stdin>", echo),
            Source::File(path) => match std::fs::File::open(path) {
                Ok(f) => run_lines(&mut session, std::io::BufReader::new(f), path, echo),
                Err(e) => {
                    eprintln!("exprjit: cannot read {path}: {e}");
                    return 2;
                }
            },
        };
        failed |= outcome.failed;
        if outcome.quit {
            break;
        }
    }
    i32::from(failed)
}

/// How a run of lines went.
struct Outcome {
    failed: bool,
    quit: bool,
}

/// Runs every line of `input`: one command per line, a trailing backslash
/// joining a line to the next.
fn run_lines(session: &mut Session, mut input: impl BufRead, name: &str, echo: bool) -> Outcome {
    let mut outcome = Outcome {
        failed: false,
        quit: false,
    };
    let mut number = 0usize;
    let mut pending = String::new();
    let mut buf = Vec::new();
    loop {
        number += 1;
        let place = format!("{name}:{number}");
        let text = match read_line(&mut input, &mut buf) {
            Ok(Line::End) => break,
            Ok(Line::TooLong(n)) => {
                fail(
                    &place,
                    &format!(
                        "error: line longer than {} ({n} bytes); not run",
                        format::bytes(MAX_LINE as u128)
                    ),
                );
                outcome.failed = true;
                pending.clear();
                continue;
            }
            Ok(Line::Bytes) => match std::str::from_utf8(&buf) {
                Ok(t) => t,
                Err(e) => {
                    let at = e.valid_up_to();
                    fail(
                        &place,
                        &format!(
                            "error: line is not UTF-8 text (byte {at} is 0x{:02x}); not run",
                            buf.get(at).copied().unwrap_or(0)
                        ),
                    );
                    outcome.failed = true;
                    pending.clear();
                    continue;
                }
            },
            Err(e) => {
                fail(&place, &format!("error: reading input: {e}"));
                outcome.failed = true;
                break;
            }
        };
        if let Some(head) = text.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        let full;
        let line = if pending.is_empty() {
            text
        } else {
            pending.push_str(text);
            full = std::mem::take(&mut pending);
            &full
        };
        if echo {
            echo_line(line);
        }
        let reply = execute(session, line);
        print_reply(&reply, false, Some(&place));
        outcome.failed |= reply.error.is_some();
        if reply.quit {
            outcome.quit = true;
            break;
        }
    }
    if !pending.is_empty() {
        if echo {
            echo_line(&pending);
        }
        let reply = execute(session, &pending);
        print_reply(&reply, false, Some(name));
        outcome.failed |= reply.error.is_some();
        outcome.quit |= reply.quit;
    }
    outcome
}

enum Line {
    /// A line is in the buffer (without its newline).
    Bytes,
    /// A line of this many bytes was skipped.
    TooLong(usize),
    End,
}

/// Reads one line into `buf`, at most [`MAX_LINE`] bytes of it kept.
fn read_line(input: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<Line> {
    buf.clear();
    let mut total = 0usize;
    let mut any = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i, true),
            None => (chunk.len(), false),
        };
        if total + take <= MAX_LINE {
            buf.extend_from_slice(&chunk[..take]);
        }
        total += take;
        input.consume(take + usize::from(done));
        if done {
            break;
        }
    }
    if !any {
        return Ok(Line::End);
    }
    if total > MAX_LINE {
        buf.clear();
        return Ok(Line::TooLong(total));
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Line::Bytes)
}

/// Runs a line; a panic (a bug) becomes an error reply instead of ending
/// the session.
pub(crate) fn execute(session: &mut Session, line: &str) -> Reply {
    match catch_unwind(AssertUnwindSafe(|| session.execute(line))) {
        Ok(reply) => reply,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Reply {
                error: Some(format!(
                    "error: internal error (a bug in exprjit): panic: {msg}"
                )),
                ..Reply::default()
            }
        }
    }
}

/// A backslash-newline pair (an explicit continuation) becomes two spaces,
/// keeping every byte position.
pub(crate) fn join_continuations(input: &str) -> String {
    input.replace("\\\n", "  ")
}

/// `line` cut to [`ECHO_CHARS`] characters with control characters shown
/// as `?`.
fn printable(line: &str) -> String {
    let mut s: String = line
        .chars()
        .take(ECHO_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if line.chars().nth(ECHO_CHARS).is_some() {
        s.push_str(&format!("... ({} bytes)", line.len()));
    }
    s
}

/// `>>> LINE` on standard output (a closed pipe is ignored, as for all
/// output).
fn echo_line(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), ">>> {}", printable(line));
}

fn fail(place: &str, message: &str) {
    let _ = std::io::stdout().flush();
    let _ = writeln!(std::io::stderr().lock(), "{place}:\n{message}");
}

/// Prints a reply: output and note on standard output, the error on
/// standard error (after `place:`, in non-interactive runs).
pub(crate) fn print_reply(reply: &Reply, color: bool, place: Option<&str>) {
    let mut out = std::io::stdout().lock();
    // Output that cannot be written (a closed pipe) is dropped: there is
    // nobody left to tell.
    if !reply.out.is_empty() {
        let _ = writeln!(out, "{}", reply.out);
    }
    if let Some(note) = &reply.note {
        if color {
            let _ = writeln!(out, "\x1b[2m{note}\x1b[0m");
        } else {
            let _ = writeln!(out, "{note}");
        }
    }
    let _ = out.flush();
    drop(out);
    if let Some(error) = &reply.error {
        let mut err = std::io::stderr().lock();
        if let Some(place) = place {
            let _ = writeln!(err, "{place}:");
        }
        let text = if color {
            colorize(error)
        } else {
            error.clone()
        };
        let _ = writeln!(err, "{text}");
    }
}

/// Red carets and `error:`, cyan `hint:`.
fn colorize(error: &str) -> String {
    let lines: Vec<String> = error
        .lines()
        .map(|l| {
            if let Some(rest) = l.strip_prefix("error:") {
                format!("\x1b[1;31merror:\x1b[0m\x1b[1m{rest}\x1b[0m")
            } else if let Some(rest) = l.strip_prefix("hint:") {
                format!("\x1b[36mhint:\x1b[0m{rest}")
            } else if !l.is_empty() && l.chars().all(|c| c == '^' || c == ' ') {
                format!("\x1b[31m{l}\x1b[0m")
            } else {
                l.to_string()
            }
        })
        .collect();
    lines.join("\n")
}
