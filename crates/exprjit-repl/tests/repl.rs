//! Golden-text tests of the `exprjit` binary: each `tests/golden/NAME.in`
//! is piped into `exprjit --echo` and its output (standard output and
//! error interleaved, timings masked) compared with `NAME.out`; other cases
//! build their input here (malformed bytes, `-e`, script files). Run with
//! `EXPRJIT_BLESS=1` to rewrite the `.out` files.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Runs the binary with `args` and `stdin`; returns standard output and
/// error as they were interleaved, and the exit status.
fn run(args: &[&str], stdin: &[u8]) -> (String, i32) {
    let (mut reader, writer) = std::io::pipe().expect("a pipe");
    let mut child = {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_exprjit"));
        cmd.args(args)
            .env("EXPRJIT_MAX_BYTES", "1G")
            .env("EXPRJIT_NUM_THREADS", "2")
            .env("EXPRJIT_HISTORY", "")
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(writer.try_clone().expect("a second pipe writer"))
            .stderr(writer);
        cmd.spawn().expect("exprjit starts")
        // `cmd` (holding the pipe's write ends) is dropped here, so that
        // reading ends when the child exits.
    };
    let mut input = child.stdin.take().expect("stdin is piped");
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        // The child may stop reading early (`:quit`); that is fine.
        let _ = input.write_all(&data);
    });
    let mut out = Vec::new();
    reader.read_to_end(&mut out).expect("output");
    let status = child.wait().expect("exprjit exits");
    feeder.join().expect("stdin writer");
    let text = String::from_utf8(out).expect("output is UTF-8");
    (text, status.code().unwrap_or(-1))
}

fn is_number(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_digit()) && s.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Replaces what varies from run to run or machine to machine: durations,
/// tile sizes, run counts, bandwidths, core counts, machine-code sizes.
fn mask(text: &str) -> String {
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let mut words: Vec<String> = body.split(' ').map(str::to_string).collect();
        let mut i = 0;
        while i < words.len() {
            let next = words
                .get(i + 1)
                .map(|w| w.trim_end_matches([',', ';', ')']));
            let trailing = words
                .get(i + 1)
                .map(|w| w[next.map_or(0, str::len)..].to_string())
                .unwrap_or_default();
            if is_number(&words[i]) {
                match next {
                    Some("ns" | "µs" | "ms" | "s") => {
                        words[i] = format!("<time>{trailing}");
                        words.remove(i + 1);
                    }
                    Some("GB/s" | "runs" | "bytes") => words[i] = "<n>".into(),
                    _ => {}
                }
            } else if let Some(n) = words[i].strip_prefix('(')
                && is_number(n)
                && next == Some("cores")
            {
                words[i] = "(<n>".into();
            } else if words[i] == "tile" && next.is_some_and(is_number) {
                words[i + 1] = format!("<n>{trailing}");
            } else if let Some(n) = words[i].strip_suffix('x')
                && is_number(n)
            {
                words[i] = "<n>x".into();
            }
            i += 1;
        }
        let mut masked = words.join(" ");
        // Padding before a masked value depends on the value's width.
        while let Some(k) = masked.find("  <") {
            masked.replace_range(k..k + 1, "");
        }
        out.push_str(&masked);
        out.push_str(nl);
    }
    out
}

/// Compares `actual` with `tests/golden/{name}`, or rewrites it when
/// `EXPRJIT_BLESS` is set.
fn check_golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("EXPRJIT_BLESS").is_some() {
        std::fs::write(&path, actual).expect("golden file written");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing; run with EXPRJIT_BLESS=1", path.display()));
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the output, first at line {}:\n--- expected\n{}\n--- actual\n{}\n\
             (run with EXPRJIT_BLESS=1 to accept the new output)",
            path.display(),
            first + 1,
            expected.lines().nth(first).unwrap_or("<end>"),
            actual.lines().nth(first).unwrap_or("<end>"),
        );
    }
}

/// Pipes `NAME.in` through `exprjit --echo` and checks `NAME.out`.
fn golden_session(name: &str) -> i32 {
    let input = std::fs::read(golden_dir().join(format!("{name}.in"))).expect("input file");
    let (out, status) = run(&["--echo"], &input);
    check_golden(
        &format!("{name}.out"),
        &format!("{}[exit status {status}]\n", mask(&out)),
    );
    status
}

#[test]
fn session_assignments_and_expressions() {
    assert_eq!(golden_session("session"), 0);
}

#[test]
fn meta_commands() {
    assert_eq!(golden_session("meta"), 0);
}

#[test]
fn time_compares_engines() {
    assert_eq!(golden_session("time"), 0);
}

#[test]
fn every_error_kind() {
    assert_eq!(golden_session("errors"), 1);
}

#[test]
fn asm_shows_machine_code() {
    let input = b"a = linspace(0, 1, 100)\nb = arange(100, dtype=float64)\n:asm a*b + 1\n";
    let (out, status) = run(&[], input);
    assert_eq!(status, 0, "{out}");
    let mut lines = out.lines().skip(4);
    // Addresses and registers vary with the Cranelift version and the
    // host's features: only the header is pinned.
    let header = lines.next().unwrap_or_default();
    assert!(
        header.starts_with("; (a: f64 contiguous, b: f64 contiguous) -> f64; "),
        "{out}"
    );
    let code: Vec<&str> = lines
        .take_while(|l| !l.starts_with("compiled in"))
        .collect();
    assert!(code.len() > 10, "{out}");
    if cfg!(target_arch = "x86_64") {
        assert!(code.iter().any(|l| l.trim_end().ends_with("ret")), "{out}");
        // The splatted 1.0 lives after the code: shown as data, not decoded
        // as instructions (zero bytes would read as `add [rax],al`).
        let data = code.iter().position(|l| *l == "; constants");
        assert!(data.is_some(), "{out}");
        assert!(!out.contains("add [rax],al"), "{out}");
        let after: Vec<&&str> = code[data.unwrap_or(0) + 1..].iter().collect();
        let bytes = |l: &str| {
            l.split_once(':').is_some_and(|(_, b)| {
                b.split_whitespace()
                    .all(|t| t.len() == 2 && u8::from_str_radix(t, 16).is_ok())
            })
        };
        assert!(!after.is_empty() && after.iter().all(|l| bytes(l)), "{out}");
    }
}

#[test]
fn malformed_input_does_not_end_the_session() {
    let mut input = Vec::new();
    input.extend_from_slice(b"a = arange(3)\n");
    // A 1 MB line.
    input.extend_from_slice(&b"a+".repeat(500_000));
    input.extend_from_slice(b"a\n");
    // Bytes that are not UTF-8, and control characters that are.
    input.extend_from_slice(b"\xff\xfe\x00binary\x80\n");
    input.extend_from_slice(b"a + \x00\x07\x1b[31m\n");
    // 100,000 open parentheses, alone and in a constructor.
    input.extend_from_slice(&b"(".repeat(100_000));
    input.push(b'\n');
    input.extend_from_slice(b"x = zeros");
    input.extend_from_slice(&b"(".repeat(100_000));
    input.extend_from_slice(&b")".repeat(100_000));
    input.push(b'\n');
    // A name of a megabyte, and a line longer than the reader keeps.
    input.extend_from_slice(&b"q".repeat(1_000_000));
    input.push(b'\n');
    input.extend_from_slice(&b"1".repeat(3 << 20));
    input.push(b'\n');
    // Huge allocations.
    input.extend_from_slice(b"b = rand(1e12)\nb = zeros(1e300)\nb = ones(2**62, 2**62)\n");
    // The session goes on.
    input.extend_from_slice(b"a * 2\n");
    let (out, status) = run(&["--echo"], &input);
    assert_eq!(status, 1);
    assert!(
        out.len() < 100_000,
        "output is bounded: {} bytes",
        out.len()
    );
    check_golden(
        "malformed.out",
        &format!("{}[exit status {status}]\n", mask(&out)),
    );
}

#[test]
fn dash_e_runs_lines() {
    let (out, status) = run(&["-e", "a = arange(3)", "-e", "a * 2"], b"");
    assert_eq!(status, 0, "{out}");
    let (bad, bad_status) = run(&["-e", "a *"], b"");
    assert_eq!(bad_status, 1, "{bad}");
    let (usage, usage_status) = run(&["-e"], b"");
    assert_eq!(usage_status, 2, "{usage}");
    check_golden(
        "dash_e.out",
        &format!(
            "{}[exit status {status}]\n{}[exit status {bad_status}]\n",
            mask(&out),
            mask(&bad)
        ),
    );
}

#[test]
fn script_file_runs_like_stdin() {
    let path = golden_dir().join("session.in");
    let script = path.to_str().expect("UTF-8 path");
    let (from_file, status) = run(&[script], b"");
    assert_eq!(status, 0, "{from_file}");
    let input = std::fs::read(&path).expect("input file");
    let (from_stdin, _) = run(&[], &input);
    assert_eq!(mask(&from_file), mask(&from_stdin));

    let errors = golden_dir().join("errors.in");
    let (out, status) = run(&[errors.to_str().expect("UTF-8 path")], b"");
    assert_eq!(status, 1, "a failed line makes the exit status 1");
    assert!(
        out.contains("errors.in:"),
        "errors name the file and line: {out}"
    );

    let (out, status) = run(
        &[&Path::new(script)
            .with_extension("missing")
            .to_string_lossy()],
        b"",
    );
    assert_eq!(status, 2, "{out}");
}

#[test]
fn quit_stops_reading() {
    let (out, status) = run(&[], b"a = arange(2)\n:quit\nthis is not run (\n");
    assert_eq!(status, 0, "{out}");
    assert!(!out.contains("error"), "{out}");
}

#[test]
fn masking() {
    assert_eq!(
        mask("run 2.11 ms · 2 threads, tile 16384\n     1 runs  compiled in  275.6 µs"),
        "run <time> · 2 threads, tile <n>\n <n> runs  compiled in <time>"
    );
}
