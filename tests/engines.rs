//! Differential tests: every table case through every execution path
//! (fused JIT, multi-pass with temporaries, multi-pass in place, and the
//! reference interpreter), tile sizes 1, 7, 1024 and larger than the input,
//! 1 and 2 threads, contiguous, strided, reversed and broadcast operands,
//! and results written to a new array, into a buffer, or in place.

mod common;

use common::layouts::{Laid, Layout, lay_out, view};
use common::tables::{self, Case, Expect};
use exprjit::{Array, DType, Data, Engine, EngineChoice, Mode, Options, Scalar, Vars};

const ENGINES: [Engine; 3] = [
    Engine::Fused,
    Engine::MultiPass(Mode::Temporaries),
    Engine::MultiPass(Mode::InPlace),
];
const TILES: [usize; 4] = [1, 7, 1024, 1 << 20];
const THREADS: [usize; 2] = [1, 2];

fn opts(engine: Engine, tile: usize, threads: usize) -> Options {
    Options {
        engine: EngineChoice::Force(engine),
        threads: Some(threads),
        tile: Some(tile),
        fma: false,
        exact_threads: true,
        ..Options::default()
    }
}

fn value_cases() -> Vec<(Case, Array, u64)> {
    tables::load_all()
        .into_iter()
        .filter_map(|c| match &c.expect {
            Expect::Value { want, ulps } => {
                let (w, u) = (want.clone(), *ulps);
                Some((c, w, u))
            }
            Expect::Error { .. } => None,
        })
        .collect()
}

fn run_layout(case: &Case, layout: Layout, o: &Options) -> Result<Array, exprjit::Error> {
    let ndim = case.vars.iter().map(|(_, a)| a.ndim()).max().unwrap_or(0);
    let laid: Vec<(String, Option<Laid>, Option<Scalar>)> = case
        .vars
        .iter()
        .map(|(n, a)| {
            if a.ndim() == 0 && layout == Layout::Contiguous {
                (n.clone(), None, a.to_scalar())
            } else {
                (n.clone(), Some(lay_out(a, layout, ndim)), None)
            }
        })
        .collect();
    let mut vars = Vars::new();
    for (n, l, s) in &laid {
        match (l, s) {
            (Some(l), _) => vars.set(n.as_str(), view(l)),
            (None, Some(s)) => vars.set(n.as_str(), *s),
            (None, None) => unreachable!(),
        }
    }
    exprjit::evaluate_with(&case.expr, &vars, o).map(|(a, _)| a)
}

#[test]
fn every_engine_tile_thread_and_layout_matches_the_tables() {
    let cases = value_cases();
    assert!(cases.len() > 300, "only {} value cases", cases.len());
    let layouts = [
        Layout::Contiguous,
        Layout::Strided(3),
        Layout::Reversed,
        Layout::Broadcast,
    ];
    let mut misses = Vec::new();
    let mut runs = 0usize;
    for (case, want, ulps) in &cases {
        for layout in layouts {
            // With a stride-0 leading axis the result gains that axis too:
            // the reference interpreter, fed the same views, is the oracle.
            let want = if layout == Layout::Broadcast {
                match run_layout(case, layout, &opts(Engine::Interpreter, 1, 1)) {
                    Ok(w) => w,
                    Err(e) => {
                        misses.push(format!("{} [interpreter, {layout:?}]: {e}", case.label()));
                        continue;
                    }
                }
            } else {
                want.clone()
            };
            for engine in ENGINES {
                for tile in TILES {
                    for threads in THREADS {
                        // Keep the run count reasonable: every tile with one
                        // thread, and tiles 1 and 7 with two.
                        if threads == 2 && tile > 7 {
                            continue;
                        }
                        runs += 1;
                        let got = run_layout(case, layout, &opts(engine, tile, threads));
                        let outcome = got
                            .map_err(|e| e.to_string())
                            .and_then(|g| tables::compare(&g, &want, *ulps));
                        if let Err(m) = outcome {
                            misses.push(format!(
                                "{} [{engine:?}, tile {tile}, {threads} threads, {layout:?}]: {m}",
                                case.label()
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(
        misses.is_empty(),
        "{} of {runs} runs failed; first 40:\n{}",
        misses.len(),
        misses
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn error_cases_fail_the_same_way_on_every_engine() {
    let mut misses = Vec::new();
    for case in tables::load_all() {
        if matches!(case.expect, Expect::Value { .. }) {
            continue;
        }
        for engine in [
            Engine::Fused,
            Engine::MultiPass(Mode::InPlace),
            Engine::Interpreter,
        ] {
            let got = run_layout(&case, Layout::Contiguous, &opts(engine, 1024, 1));
            if let Err(m) = tables::check_case(&case, got) {
                misses.push(format!("{} [{engine:?}]: {m}", case.label()));
            }
        }
    }
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}

/// Picks the first input whose dtype and shape equal the result's.
fn in_place_candidate<'c>(case: &'c Case, want: &Array) -> Option<&'c (String, Array)> {
    case.vars.iter().find(|(_, a)| {
        a.dtype() == want.dtype()
            && a.shape() == want.shape()
            && a.ndim() == 1
            && a.dtype() != DType::Bool
    })
}

#[test]
fn evaluate_into_and_in_place_match_out_of_place() {
    let mut misses = Vec::new();
    let mut in_place_runs = 0;
    for (case, want, ulps) in value_cases() {
        // evaluate_into a buffer of the result dtype
        if want.ndim() <= 1 {
            let mut vars = Vars::new();
            for (n, a) in &case.vars {
                vars.set(n.as_str(), a);
            }
            let mut out = Array::zeros(want.dtype(), want.shape().to_vec()).expect("shape");
            let r = match out.data_mut() {
                Data::Bool(v) => exprjit::evaluate_into(&case.expr, &vars, v),
                Data::I32(v) => exprjit::evaluate_into(&case.expr, &vars, v),
                Data::I64(v) => exprjit::evaluate_into(&case.expr, &vars, v),
                Data::F32(v) => exprjit::evaluate_into(&case.expr, &vars, v),
                Data::F64(v) => exprjit::evaluate_into(&case.expr, &vars, v),
            };
            if let Err(e) = r
                .map_err(|e| e.to_string())
                .and_then(|_| tables::compare(&out, &want, ulps))
            {
                misses.push(format!("{} [into]: {e}", case.label()));
            }
        }
        // in place over an input of the result's dtype and shape
        if let Some((name, target)) = in_place_candidate(&case, &want) {
            for engine in ENGINES {
                in_place_runs += 1;
                let mut vars = Vars::new();
                for (n, a) in &case.vars {
                    if n != name {
                        vars.set(n.as_str(), a);
                    }
                }
                let mut buf = target.clone();
                let o = opts(engine, 7, 2);
                let r = match buf.data_mut() {
                    Data::I32(v) => exprjit::evaluate_in_place_with(&case.expr, &vars, name, v, &o),
                    Data::I64(v) => exprjit::evaluate_in_place_with(&case.expr, &vars, name, v, &o),
                    Data::F32(v) => exprjit::evaluate_in_place_with(&case.expr, &vars, name, v, &o),
                    Data::F64(v) => exprjit::evaluate_in_place_with(&case.expr, &vars, name, v, &o),
                    Data::Bool(_) => continue,
                };
                if let Err(e) = r
                    .map_err(|e| e.to_string())
                    .and_then(|_| tables::compare(&buf, &want, ulps))
                {
                    misses.push(format!(
                        "{} [in place over {name}, {engine:?}]: {e}",
                        case.label()
                    ));
                }
            }
        }
    }
    assert!(in_place_runs > 100, "only {in_place_runs} in-place runs");
    assert!(
        misses.is_empty(),
        "{} misses:\n{}",
        misses.len(),
        misses
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn jit_equals_the_interpreter_bit_for_bit() {
    // The tables allow libm functions a tolerance against their oracle; the
    // JIT in strict accuracy and the interpreter must agree exactly.
    let mut misses = Vec::new();
    let strict = Options {
        accuracy: Some(exprjit::Accuracy::Strict),
        ..opts(Engine::Fused, 7, 1)
    };
    for (case, _, _) in value_cases() {
        let reference = run_layout(&case, Layout::Contiguous, &opts(Engine::Interpreter, 1, 1));
        let fused = run_layout(&case, Layout::Strided(2), &strict);
        match (reference, fused) {
            (Ok(r), Ok(f)) => {
                if let Err(m) = tables::compare(&f, &r, 0) {
                    misses.push(format!("{}: {m}", case.label()));
                }
            }
            (r, f) => misses.push(format!("{}: {:?} vs {:?}", case.label(), r.err(), f.err())),
        }
    }
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}
