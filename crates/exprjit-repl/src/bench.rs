//! Turns `:time EXPR` into a table: the expression run repeatedly by the
//! fused kernel and by the multi-pass executor (with fresh temporaries and
//! reusing them), each call timed, with the median, the minimum and the
//! memory bandwidth they imply.

use crate::construct::Limit;
use crate::format;
use crate::problem::Problem;
use exprjit::internals::ir::{Func, InstKind, Program};
use exprjit::{Array, Data, Elem, Engine, EngineChoice, Mode, Options, Trace, Vars};
use std::time::{Duration, Instant};

/// How long each engine is timed for, at least (unless a single call is
/// slower, then a few calls).
pub(crate) const BUDGET: Duration = Duration::from_millis(200);
/// The most calls timed per engine.
const MAX_RUNS: usize = 10_000;

const ENGINES: [(&str, Engine); 3] = [
    ("fused", Engine::Fused),
    (
        "multi-pass, temporaries",
        Engine::MultiPass(Mode::Temporaries),
    ),
    ("multi-pass, reused", Engine::MultiPass(Mode::InPlace)),
];

/// Every function of `program`: its reductions' inputs (recursively),
/// then `main`.
fn funcs(program: &Program) -> Vec<&Func> {
    let mut out = Vec::new();
    for r in &program.reductions {
        out.extend(funcs(&r.input));
    }
    out.push(&program.main);
    out
}

/// Times `text` (already type checked into `program`) on every engine.
pub(crate) fn time(
    text: &str,
    offset: usize,
    program: &Program,
    vars: &Vars<'_>,
    limit: &Limit,
    budget: Duration,
) -> Result<String, Problem> {
    let fused = Options {
        engine: EngineChoice::Force(Engine::Fused),
        ..Options::default()
    };
    // The first call compiles (or finds) the kernel and gives the output
    // buffer every timed call writes into.
    let (mut out, first) =
        exprjit::evaluate_with(text, vars, &fused).map_err(|e| Problem::expr(e, offset))?;
    let elements = first.elements;
    let out_bytes = (out.len() * out.dtype().size()) as u128;
    // The variables read (each once, however many functions name it).
    let mut names: Vec<&str> = funcs(program)
        .iter()
        .flat_map(|f| f.params.iter().map(|p| p.name.as_str()))
        .filter(|n| vars.get(n).is_some())
        .collect();
    names.sort_unstable();
    names.dedup();
    let in_bytes: u128 = names
        .iter()
        .filter_map(|n| vars.get(n))
        .map(|o| {
            let len: usize = o.shape().iter().product();
            (len * o.dtype().size()) as u128
        })
        .sum();
    let moved = in_bytes + out_bytes;
    let arrays = names
        .iter()
        .filter(|n| vars.get(n).is_some_and(|o| !o.shape().is_empty()))
        .count();
    let what = if program.reductions.is_empty() {
        format!("{elements} elements of {}", out.dtype())
    } else {
        format!(
            "{elements} elements computed (the reductions' included) for {} {} result{}",
            out.len(),
            out.dtype(),
            if out.len() == 1 { "" } else { "s" }
        )
    };
    let mut s = format!(
        "{what}, {} moved per call ({arrays} input array{} read, the output written)\n",
        format::bytes(moved),
        if arrays == 1 { "" } else { "s" },
    );
    s.push_str(&format!(
        "first call: cache {}, parse+compile {}; then every call timed whole, warm, into one preallocated output\n",
        if first.cache_hit { "hit" } else { "miss" },
        format::duration(first.compile_time),
    ));
    // The multi-pass executor keeps at most one temporary per operation.
    let ops = funcs(program)
        .iter()
        .flat_map(|f| &f.insts)
        .filter(|i| matches!(i.kind, InstKind::Apply(..)))
        .count() as u128;
    let mut medians = Vec::new();
    for (name, engine) in ENGINES {
        if matches!(engine, Engine::MultiPass(_))
            && let Some((why, _)) = limit.refusal(ops * out_bytes, "its temporaries")
        {
            s.push_str(&format!("{name:<24} skipped: {why}\n"));
            continue;
        }
        let opts = Options {
            engine: EngineChoice::Force(engine),
            ..Options::default()
        };
        let (runs, trace) =
            measure(text, vars, &mut out, &opts, budget).map_err(|e| Problem::expr(e, offset))?;
        let mut sorted = runs.clone();
        sorted.sort_unstable();
        let median = sorted[sorted.len() / 2];
        let min = sorted[0];
        let gbs = moved as f64 / median.as_secs_f64().max(1e-12) / 1e9;
        s.push_str(&format!(
            "{name:<24} {:>6} runs   median {:>10}   min {:>10}   {gbs:>7.1} GB/s   {} thread{}\n",
            runs.len(),
            format::duration(median),
            format::duration(min),
            trace.threads,
            if trace.threads == 1 { "" } else { "s" },
        ));
        medians.push((name, median));
    }
    if let [(_, fused), (other, temps), ..] = medians.as_slice() {
        let ratio = temps.as_secs_f64() / fused.as_secs_f64().max(1e-12);
        s.push_str(&format!(
            "fused vs. {other}: {ratio:.2}x the speed (medians)\n"
        ));
    }
    s.pop();
    Ok(s)
}

/// Times calls of one engine into `out` (whose dtype is the result's).
fn measure(
    text: &str,
    vars: &Vars<'_>,
    out: &mut Array,
    opts: &Options,
    budget: Duration,
) -> Result<(Vec<Duration>, Trace), exprjit::Error> {
    match out.data_mut() {
        Data::Bool(v) => runs(text, vars, v, opts, budget),
        Data::I32(v) => runs(text, vars, v, opts, budget),
        Data::I64(v) => runs(text, vars, v, opts, budget),
        Data::F32(v) => runs(text, vars, v, opts, budget),
        Data::F64(v) => runs(text, vars, v, opts, budget),
    }
}

fn runs<T: Elem>(
    text: &str,
    vars: &Vars<'_>,
    out: &mut [T],
    opts: &Options,
    budget: Duration,
) -> Result<(Vec<Duration>, Trace), exprjit::Error> {
    // One untimed call: compiles what this engine needs.
    exprjit::evaluate_into_with(text, vars, out, opts)?;
    let mut times = Vec::new();
    let start = Instant::now();
    loop {
        let t = Instant::now();
        let trace = exprjit::evaluate_into_with(text, vars, out, opts)?;
        times.push(t.elapsed());
        let total = start.elapsed();
        if times.len() >= MAX_RUNS || (total >= budget && times.len() >= 3) || total >= budget * 5 {
            return Ok((times, trace));
        }
    }
}
