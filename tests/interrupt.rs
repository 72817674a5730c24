//! `exprjit::interrupt()` stops evaluations with `ErrorKind::Interrupted`
//! on every engine and entry point, at 1 and 2 threads, within a fraction
//! of a second of the call, and `clear_interrupt()` lets them run again. A
//! binary of its own: the flag is global (the tests here take a lock so
//! that they never overlap).

use exprjit::{
    Accuracy, DType, Engine, EngineChoice, ErrorKind, Mode, Options, Prepared, Trace, Vars,
};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

#[test]
fn interrupted_evaluations_stop_and_then_run_again() {
    let _g = serial();
    let a: Vec<f64> = (0..100_000).map(|i| i as f64).collect();
    let vars = Vars::new().with("a", &a);
    let engines = [
        Engine::Fused,
        Engine::MultiPass(Mode::Temporaries),
        Engine::MultiPass(Mode::InPlace),
        Engine::Interpreter,
    ];
    for threads in [1, 2] {
        for engine in engines {
            let opts = Options {
                engine: EngineChoice::Force(engine),
                threads: Some(threads),
                exact_threads: true,
                tile: Some(1024),
                ..Options::default()
            };
            for expr in ["a * 2 + 1", "sum(a * 2)"] {
                exprjit::interrupt();
                let e = exprjit::evaluate_with(expr, &vars, &opts)
                    .expect_err("an interrupted evaluation fails");
                assert_eq!(*e.kind(), ErrorKind::Interrupted, "{expr} {engine:?}");
                assert!(!e.is_internal());
                exprjit::clear_interrupt();
                let (r, _) = exprjit::evaluate_with(expr, &vars, &opts).expect("runs again");
                assert!(!r.is_empty(), "{expr} {engine:?}");
            }
        }
    }
}

/// A slow elementwise expression (a dozen libm calls per element, Strict:
/// one scalar call per lane) and its reduction.
const SLOW: &str = "sin(a)*cos(a) + tan(a)*exp(a*1e-7) + arctan(a)*sinh(a*1e-7) \
                    + log1p(a)*cosh(a*1e-7) + sqrt(a)*arcsinh(a) + expm1(a*1e-7)*tanh(a)";

/// How a slow call is made.
#[derive(Clone, Copy, Debug)]
enum Entry {
    /// `evaluate_with` into a new array.
    New,
    /// `sum(...)` of the expression.
    Reduce,
    /// `evaluate_into_with` a caller's buffer.
    Into,
    /// `evaluate_in_place_with` over `a`.
    InPlace,
    /// A `Prepared` expression (fused).
    Prepared,
}

/// The longest an interrupted call may take to return; the requirement is
/// ~100 ms, the bound is loose for a shared, noisy machine.
const LATENCY_BOUND: Duration = Duration::from_millis(1000);
/// When the interrupt arrives after the call started.
const DELAY: Duration = Duration::from_millis(150);
/// How long the call would run uninterrupted (from a calibration run).
const TARGET: Duration = Duration::from_millis(2500);
const MAX_ELEMENTS: usize = 12_000_000;

fn call(entry: Entry, text: &str, a: &mut [f64], opts: &Options) -> Result<Trace, exprjit::Error> {
    match entry {
        Entry::New => {
            let vars = Vars::new().with("a", &*a);
            exprjit::evaluate_with(text, &vars, opts).map(|(_, t)| t)
        }
        Entry::Reduce => {
            let vars = Vars::new().with("a", &*a);
            let text = format!("sum({text})");
            exprjit::evaluate_with(&text, &vars, opts).map(|(_, t)| t)
        }
        Entry::Into => {
            let mut out = vec![0.0f64; a.len()];
            let vars = Vars::new().with("a", &*a);
            exprjit::evaluate_into_with(text, &vars, &mut out, opts)
        }
        Entry::InPlace => exprjit::evaluate_in_place_with(text, &Vars::new(), "a", a, opts),
        Entry::Prepared => {
            let p = Prepared::compile_with(text, &[("a", DType::F64)], *opts)?;
            p.run_traced(&[(&*a).into()]).map(|(_, t)| t)
        }
    }
}

fn values(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.5 + (i % 1000) as f64 * 1e-3).collect()
}

/// Runs a slow call long enough to be interrupted `DELAY` after it
/// started, and returns how long after the interrupt it returned.
fn interrupt_latency(entry: Entry, engine: EngineChoice, threads: usize, tag: usize) -> Duration {
    let opts = Options {
        engine,
        threads: Some(threads),
        exact_threads: true,
        accuracy: Some(Accuracy::Strict),
        ..Options::default()
    };
    let cold = engine == EngineChoice::Auto && tag % 2 == 1;
    // A text of its own per case (trailing spaces: the cache keys on the
    // text), so that a cold case is cold.
    let text = format!("{SLOW}{}", " ".repeat(tag));
    // Calibrate on a small input (which also warms the kernel of a warm
    // case; a cold case calibrates on another text).
    let n0 = 20_000;
    let mut small = values(n0);
    let calib_text = if cold {
        format!("{SLOW}{}", " ".repeat(tag + 1000))
    } else {
        text.clone()
    };
    let calib = Options {
        engine: match engine {
            EngineChoice::Auto => EngineChoice::Force(Engine::Fused),
            e => e,
        },
        ..opts
    };
    call(entry, &calib_text, &mut small, &calib).expect("calibration");
    let t = Instant::now();
    call(entry, &calib_text, &mut small, &calib).expect("calibration");
    let per_element = t.elapsed().as_secs_f64() / n0 as f64;
    let n = ((TARGET.as_secs_f64() / per_element) as usize).clamp(n0, MAX_ELEMENTS);
    let mut a = values(n);

    exprjit::clear_interrupt();
    let (tx, rx) = std::sync::mpsc::channel();
    let interrupter = std::thread::spawn(move || {
        std::thread::sleep(DELAY);
        let at = Instant::now();
        exprjit::interrupt();
        let _ = tx.send(at);
    });
    let r = call(entry, &text, &mut a, &opts);
    let returned = Instant::now();
    let _ = interrupter.join();
    let at = rx.recv().expect("the interrupt time");
    exprjit::clear_interrupt();
    let case = format!("{entry:?} {engine:?} threads={threads} n={n}");
    match r {
        Err(e) => assert_eq!(*e.kind(), ErrorKind::Interrupted, "{case}: {e}"),
        Ok(t) => panic!(
            "{case}: finished in {:?} without being interrupted (calibrated {per_element:.2e} s/element)",
            t.run_time
        ),
    }
    // Usable again: a small call of the same text gives a result.
    call(entry, &text, &mut small, &calib).expect("runs again");
    returned.saturating_duration_since(at)
}

#[test]
fn every_engine_and_entry_stops_soon_after_an_interrupt() {
    let _g = serial();
    let engines = [
        EngineChoice::Force(Engine::Fused),
        EngineChoice::Force(Engine::MultiPass(Mode::Temporaries)),
        EngineChoice::Force(Engine::MultiPass(Mode::InPlace)),
        EngineChoice::Force(Engine::Interpreter),
        EngineChoice::Auto,
    ];
    let mut tag = 0;
    let mut worst = Duration::ZERO;
    for threads in [1, 2] {
        let mut cases: Vec<(Entry, EngineChoice)> = Vec::new();
        for engine in engines {
            cases.push((Entry::New, engine));
            cases.push((Entry::Reduce, engine));
        }
        // Auto twice more (tags alternate warm and cold).
        cases.push((Entry::New, EngineChoice::Auto));
        cases.push((Entry::Reduce, EngineChoice::Auto));
        cases.push((Entry::Into, EngineChoice::Auto));
        cases.push((Entry::InPlace, EngineChoice::Auto));
        cases.push((Entry::Into, EngineChoice::Force(Engine::Interpreter)));
        cases.push((
            Entry::InPlace,
            EngineChoice::Force(Engine::MultiPass(Mode::InPlace)),
        ));
        cases.push((Entry::Prepared, EngineChoice::Auto));
        for (entry, engine) in cases {
            tag += 1;
            let latency = interrupt_latency(entry, engine, threads, tag);
            eprintln!(
                "{entry:?} {engine:?} threads={threads}: stopped {latency:?} after the interrupt"
            );
            assert!(
                latency < LATENCY_BOUND,
                "{entry:?} {engine:?} threads={threads}: {latency:?} after the interrupt"
            );
            worst = worst.max(latency);
        }
    }
    eprintln!("worst latency: {worst:?}");
}
