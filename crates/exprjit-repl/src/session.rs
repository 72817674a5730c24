//! Turns input lines into replies: keeps the session's variables, runs
//! assignments, constructors, expressions and meta-commands, and renders
//! what they print or why they failed. Knows nothing of terminals.

use crate::bench;
use crate::construct::{self, Limit, Rng};
use crate::format;
use crate::inspect;
use crate::line::{self, Input};
use crate::problem::Problem;
use exprjit::internals::ir::shape::broadcast;
use exprjit::{Array, DType, Engine, ErrorKind, Options, Trace, Vars};
use std::time::{Duration, Instant};

/// What a line produced.
#[derive(Debug, Default)]
pub(crate) struct Reply {
    /// Printed on standard output (no final newline; may be empty).
    pub out: String,
    /// Timing and cache information (printed dim on a terminal).
    pub note: Option<String>,
    /// The rendered error, if the line failed (printed on standard error).
    pub error: Option<String>,
    /// `:quit` was asked for.
    pub quit: bool,
}

/// The meta-commands, for `:help` and completion.
pub(crate) const COMMANDS: [(&str, &str); 12] = [
    (":help", "this text"),
    (":vars", "the variables: shape, dtype, bytes"),
    (
        ":ast EXPR",
        "the syntax tree, fully parenthesised, with byte spans",
    ),
    (":ir EXPR", "the typed IR after folding and CSE"),
    (":clif EXPR", "the Cranelift IR of the fused kernel"),
    (":asm EXPR", "the kernel's machine code"),
    (
        ":time EXPR",
        "fused kernel vs. multi-pass: median, min, GB/s",
    ),
    (":threads [N]", "show or set the number of threads"),
    (
        ":tile [N]",
        "show or set the tile size in elements (0: automatic)",
    ),
    (":cache", "kernel cache statistics"),
    (":quit", "leave (also Ctrl-D)"),
    (":q", "the same as :quit"),
];

/// The most threads `:threads` accepts.
const MAX_THREADS: usize = 256;
/// The largest tile `:tile` accepts.
const MAX_TILE: usize = 1 << 30;
/// Expressions longer than this are cut short where they are echoed back
/// (in `:cache`).
const SHOWN_EXPR: usize = 60;

/// A REPL session: its variables and settings.
#[derive(Debug)]
pub(crate) struct Session {
    vars: Vec<(String, Array)>,
    rng: Rng,
    limit: Limit,
    /// How long `:time` times each engine.
    pub time_budget: Duration,
}

impl Session {
    pub(crate) fn new() -> Session {
        Session {
            vars: Vec::new(),
            rng: Rng::from_time(),
            limit: Limit::from_env(),
            time_budget: bench::BUDGET,
        }
    }

    /// The variable names, for completion.
    pub(crate) fn names(&self) -> Vec<String> {
        self.vars.iter().map(|(n, _)| n.clone()).collect()
    }

    fn bindings(&self) -> Vars<'_> {
        let mut vars = Vars::new();
        for (name, array) in &self.vars {
            vars.set(name.as_str(), array);
        }
        vars
    }

    fn bind(&mut self, name: &str, value: Array) {
        match self.vars.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((name.to_string(), value)),
        }
    }

    /// Runs one line (which may hold newlines, from multi-line input).
    pub(crate) fn execute(&mut self, line: &str) -> Reply {
        let mut reply = Reply::default();
        let result = match line::classify(line) {
            Input::Nothing => Ok(()),
            Input::Meta {
                name,
                name_span,
                arg,
                arg_offset,
            } => self.meta(name, name_span, arg, arg_offset, &mut reply),
            Input::Assign {
                name,
                name_span,
                rhs,
                rhs_offset,
            } => self.assign(name, name_span, rhs, rhs_offset, &mut reply),
            Input::Eval { text, offset } => self.show(text, offset, &mut reply),
        };
        if let Err(p) = result {
            reply.error = Some(p.render(line));
        }
        reply
    }

    fn assign(
        &mut self,
        name: &str,
        name_span: std::ops::Range<usize>,
        rhs: &str,
        offset: usize,
        reply: &mut Reply,
    ) -> Result<(), Problem> {
        check_name(name, name_span)?;
        if rhs.is_empty() {
            return Err(Problem::new("nothing to assign", offset..offset + 1));
        }
        let (value, note) = self.value(rhs, offset)?;
        reply.out = describe(name, &value);
        reply.note = Some(note);
        self.bind(name, value);
        Ok(())
    }

    fn show(&mut self, text: &str, offset: usize, reply: &mut Reply) -> Result<(), Problem> {
        let (value, note) = self.value(text, offset)?;
        reply.out = format::array(&value);
        reply.note = Some(note);
        Ok(())
    }

    /// Makes (constructor) or evaluates (expression) `text`.
    fn value(&mut self, text: &str, offset: usize) -> Result<(Array, String), Problem> {
        if let Some(call) = line::call(text, offset, &construct::NAMES) {
            let call = call?;
            let t = Instant::now();
            let vars = self.bindings();
            let mut rng = self.rng.clone();
            let made = construct::make(&call, &vars, &mut rng, &self.limit)?;
            drop(vars);
            self.rng = rng;
            let note = format!("made in {}", format::duration(t.elapsed()));
            return Ok((made, note));
        }
        let (value, trace) = self.evaluate(text, offset)?;
        Ok((value, trace_note(&trace)))
    }

    fn evaluate(&self, text: &str, offset: usize) -> Result<(Array, Trace), Problem> {
        let vars = self.bindings();
        self.guard(text, offset, &vars)?;
        exprjit::evaluate_with(text, &vars, &Options::default())
            .map_err(|e| explain(Problem::expr(e, offset)))
    }

    /// Refuses an expression whose result would not fit, before exprjit
    /// allocates it: the variables it names, broadcast together, at 8
    /// bytes an element (the largest dtype).
    fn guard(&self, text: &str, offset: usize, vars: &Vars<'_>) -> Result<(), Problem> {
        let mut shapes: Vec<&[usize]> = Vec::new();
        for name in line::identifiers(text) {
            if let Some(op) = vars.get(name) {
                shapes.push(op.shape());
            }
        }
        let Ok(shape) = broadcast(shapes) else {
            // exprjit reports the mismatch, with a span.
            return Ok(());
        };
        let n = shape
            .iter()
            .try_fold(1u128, |acc, &d| acc.checked_mul(d as u128))
            .unwrap_or(u128::MAX);
        self.limit.check(
            n.saturating_mul(8),
            &format!(
                "the {n} elements of a result of shape {}",
                format::shape(&shape)
            ),
            offset..offset + text.len(),
        )
    }

    fn meta(
        &mut self,
        name: &str,
        name_span: std::ops::Range<usize>,
        arg: &str,
        offset: usize,
        reply: &mut Reply,
    ) -> Result<(), Problem> {
        let needs_expr = |what: &str| -> Result<(), Problem> {
            if arg.is_empty() {
                Err(Problem::new(
                    format!("usage: :{what} EXPR"),
                    name_span.clone(),
                ))
            } else {
                Ok(())
            }
        };
        let no_arg = || -> Result<(), Problem> {
            if arg.is_empty() {
                Ok(())
            } else {
                Err(Problem::new(
                    format!(":{name} takes no argument"),
                    offset..offset + arg.len(),
                ))
            }
        };
        match name {
            "help" | "h" => {
                no_arg()?;
                reply.out = help();
            }
            "vars" => {
                no_arg()?;
                reply.out = self.list_vars();
            }
            "ast" => {
                needs_expr(name)?;
                reply.out = inspect::ast(arg, offset)?;
            }
            "ir" => {
                needs_expr(name)?;
                let vars = self.bindings();
                reply.out = inspect::program(arg, offset, &vars)?.to_string();
                reply.out.truncate(reply.out.trim_end().len());
            }
            "clif" | "asm" => {
                needs_expr(name)?;
                let vars = self.bindings();
                let kernels = inspect::kernels(arg, offset, &vars)?;
                let mut parts = Vec::new();
                let mut compile = std::time::Duration::ZERO;
                for (kernel, header) in &kernels {
                    let body = if name == "clif" {
                        kernel.clif().to_string()
                    } else {
                        kernel.disassembly()
                    };
                    parts.push(format!("{header}\n{}", body.trim_end()));
                    compile += kernel.compile_time();
                }
                reply.out = parts.join("\n\n");
                reply.note = Some(format!("compiled in {}", format::duration(compile)));
            }
            "time" => {
                needs_expr(name)?;
                let vars = self.bindings();
                self.guard(arg, offset, &vars)?;
                let program = inspect::program(arg, offset, &vars)?;
                reply.out =
                    bench::time(arg, offset, &program, &vars, &self.limit, self.time_budget)?;
            }
            "threads" => {
                if arg.is_empty() {
                    reply.out = format!(
                        "threads: {} ({} cores detected)",
                        exprjit::num_threads(),
                        exprjit::detect_number_of_cores()
                    );
                } else {
                    let n = number(arg, offset, 1, MAX_THREADS)?;
                    let old = exprjit::set_num_threads(n);
                    reply.out = format!("threads: {n} (was {old})");
                }
            }
            "tile" => {
                let show = |n: usize| {
                    if n == 0 {
                        "automatic".to_string()
                    } else {
                        format!("{n} elements")
                    }
                };
                if arg.is_empty() {
                    let n = exprjit::internals::runtime::pool::tile_size_setting();
                    reply.out = format!("tile: {}", show(n));
                } else {
                    let n = number(arg, offset, 0, MAX_TILE)?;
                    let old = exprjit::set_tile_size(n);
                    reply.out = format!("tile: {} (was {})", show(n), show(old));
                }
            }
            "cache" => {
                no_arg()?;
                reply.out = cache_stats();
            }
            "quit" | "q" | "exit" => {
                no_arg()?;
                reply.quit = true;
            }
            _ => {
                let mut p = Problem::new(format!("unknown command ':{name}'"), name_span.clone());
                let names: Vec<&str> = COMMANDS
                    .iter()
                    .map(|(c, _)| c.split(' ').next().unwrap_or(c))
                    .collect();
                p = match names.iter().find(|c| close(&c[1..], name)) {
                    Some(c) => p.hint(format!("did you mean '{c}'?")),
                    None => p.hint(":help lists the commands"),
                };
                return Err(p);
            }
        }
        Ok(())
    }

    fn list_vars(&self) -> String {
        if self.vars.is_empty() {
            return "no variables yet; try: a = rand(1e6)".to_string();
        }
        let rows: Vec<[String; 4]> = self
            .vars
            .iter()
            .map(|(name, a)| {
                let value = if a.shape().is_empty() {
                    format!("= {}", format::scalar_value(a.get(0)))
                } else {
                    String::new()
                };
                [
                    name.clone(),
                    format::shape(a.shape()),
                    a.dtype().to_string(),
                    format!(
                        "{} {value}",
                        format::bytes((a.len() * a.dtype().size()) as u128)
                    ),
                ]
            })
            .collect();
        let header = ["name", "shape", "dtype", "bytes"].map(str::to_string);
        let mut widths = [0usize; 3];
        for r in std::iter::once(&header).chain(&rows) {
            for k in 0..3 {
                widths[k] = widths[k].max(r[k].chars().count());
            }
        }
        let mut out = String::new();
        for r in std::iter::once(&header).chain(&rows) {
            let line = format!(
                "{:<w0$}  {:<w1$}  {:<w2$}  {}",
                r[0],
                r[1],
                r[2],
                r[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            );
            out.push_str(line.trim_end());
            out.push('\n');
        }
        let total: usize = self
            .vars
            .iter()
            .map(|(_, a)| a.len() * a.dtype().size())
            .sum();
        out.push_str(&format!(
            "{} variable{}, {}",
            self.vars.len(),
            if self.vars.len() == 1 { "" } else { "s" },
            format::bytes(total as u128)
        ));
        out
    }
}

/// Refuses names that would be confusing or could not be used.
fn check_name(name: &str, span: std::ops::Range<usize>) -> Result<(), Problem> {
    let why = if name == "True" || name == "False" {
        Some("a keyword")
    } else if construct::NAMES.contains(&name) {
        Some("a constructor")
    } else if DType::from_name(name).is_some() {
        Some("a dtype")
    } else {
        None
    };
    match why {
        Some(what) => Err(Problem::new(
            format!("cannot assign to '{name}': it is {what}"),
            span,
        )),
        None => Ok(()),
    }
}

/// Adds a hint to errors a new user is likely to meet.
fn explain(p: Problem) -> Problem {
    if let Problem::Expr { error, .. } = &p
        && let ErrorKind::UnknownFunction { name } = error.kind()
        && construct::NAMES.contains(&name.as_str())
    {
        let hint = format!(
            "{name}() makes a new array on its own line: `t = {name}(...)`, then use `t` in expressions"
        );
        return p.hint(hint);
    }
    p
}

/// `x: float64 (1000000,), 7.6 MiB`, or `k: float64 scalar 2.5`.
fn describe(name: &str, a: &Array) -> String {
    if a.shape().is_empty() {
        format!(
            "{name}: {} scalar {}",
            a.dtype(),
            format::scalar_value(a.get(0))
        )
    } else {
        format!(
            "{name}: {} {}, {}",
            a.dtype(),
            format::shape(a.shape()),
            format::bytes((a.len() * a.dtype().size()) as u128)
        )
    }
}

/// What ran, whether the kernel came from the cache, and what it cost.
fn trace_note(t: &Trace) -> String {
    let engine = match t.engine {
        Engine::Fused => format!(
            "fused kernel, cache {}",
            if t.cache_hit { "hit" } else { "miss" }
        ),
        Engine::MultiPass(_) => "multi-pass, no kernel compiled (small and new)".to_string(),
        Engine::Interpreter => "reference interpreter".to_string(),
    };
    format!(
        "{engine} · parse+compile {} · run {} · {} thread{}, tile {}",
        format::duration(t.compile_time),
        format::duration(t.run_time),
        t.threads,
        if t.threads == 1 { "" } else { "s" },
        t.tile
    )
}

/// A whole number in `min..=max` for `:threads` and `:tile`.
fn number(arg: &str, offset: usize, min: usize, max: usize) -> Result<usize, Problem> {
    let span = offset..offset + arg.len();
    match arg.parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(Problem::new(
            format!("expected a whole number from {min} to {max}"),
            span,
        )),
    }
}

/// Whether `a` is one edit (or a swap of neighbours, or a prefix) away
/// from `b`.
fn close(a: &str, b: &str) -> bool {
    if b.len() >= 2 && a.starts_with(b) {
        return true;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 || b.len() > 64 {
        return false;
    }
    // Optimal string alignment distance (Levenshtein plus transpositions).
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j - 1] + cost)
                .min(d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()] <= 1
}

fn cache_stats() -> String {
    let s = exprjit::cache::stats();
    let mut out = format!(
        "kernels: {} of {} · hits {} · misses {} · evictions {} · multi-pass runs {}\n",
        s.entries, s.capacity, s.hits, s.misses, s.evictions, s.multipass_runs
    );
    out.push_str(&format!(
        "compile time {} in all · run time of cached kernels {} in all",
        format::duration(s.total_compile_time),
        format::duration(s.total_run_time)
    ));
    for k in &s.kernels {
        let params: Vec<String> = k
            .params
            .iter()
            .zip(&k.layouts)
            .map(|(d, l)| format!("{} {}", d.short_name(), l.to_lowercase()))
            .collect();
        let mut expr: String = k.expr.chars().take(SHOWN_EXPR).collect();
        if expr.len() < k.expr.len() {
            expr.push_str("...");
        }
        out.push_str(&format!(
            "\n{:>6} runs  compiled in {:>9}  {:>5} bytes of code  {}  ({}) -> {}",
            k.runs,
            format::duration(k.compile_time),
            k.code_size,
            expr,
            params.join(", "),
            k.out.short_name()
        ));
    }
    out
}

fn help() -> String {
    let mut s = String::from(
        "Evaluate array expressions with fused, JIT-compiled kernels.\n\
         \n\
         a = rand(1e6)                uniform in [0, 1); rand(1e6, float32), rand(3, seed=1)\n\
         b = linspace(0, 1, 1e6)      evenly spaced, ends included\n\
         c = zeros(1000, 1000)        also ones(...); a dtype may follow: zeros(3, int32)\n\
         i = arange(10)               arange([start,] stop[, step])\n\
         k = 2.5                      a scalar\n\
         x = a*b + c                  any expression's result\n\
         a*b + c                      evaluate and print, with the time it took\n\
         \n\
         Expressions are numexpr's (Python's spelling): + - * / // % ** comparisons\n\
         & | ^ ~ << >>, where, sqrt, exp, log, sin, ..., casts float32(x) etc.\n\
         Tab completes names. At the terminal a line with open parentheses goes on\n\
         on the next; in files a line ending in \\ does.\n\
         \n\
         Commands:\n",
    );
    for (c, what) in COMMANDS {
        s.push_str(&format!("  {c:<14} {what}\n"));
    }
    s.pop();
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &mut Session, line: &str) -> Reply {
        s.execute(line)
    }

    #[test]
    fn assign_then_evaluate() {
        let mut s = Session::new();
        let r = run(&mut s, "a = arange(4)");
        assert_eq!(r.out, "a: int64 (4,), 32 B");
        assert!(r.error.is_none());
        let r = run(&mut s, "a * 2");
        assert_eq!(r.out, "array([0, 2, 4, 6], shape=(4,), dtype=int64)");
        let r = run(&mut s, "k = 2.5");
        assert_eq!(r.out, "k: float64 scalar 2.5");
        let r = run(&mut s, "k * 2");
        assert_eq!(r.out, "float64(5.0)");
    }

    #[test]
    fn errors_keep_the_session() {
        let mut s = Session::new();
        let r = run(&mut s, "x = 1 +");
        assert!(r.error.is_some_and(|e| e.starts_with("x = 1 +\n")));
        let r = run(&mut s, "rand = 3");
        assert!(r.error.is_some_and(|e| e.contains("constructor")));
        let r = run(&mut s, ":vras");
        assert!(r.error.is_some_and(|e| e.contains("did you mean ':vars'?")));
        assert!(close("vars", "vras"));
        assert!(!close("help", "vars"));
    }
}
