//! `exprjit::interrupt()` stops evaluations at their next tile with
//! `ErrorKind::Interrupted`, on every engine that has tiles or blocks, and
//! `clear_interrupt()` lets them run again. A binary of its own: the flag
//! is global.

use exprjit::{Engine, EngineChoice, ErrorKind, Mode, Options, Vars};

#[test]
fn interrupted_evaluations_stop_and_then_run_again() {
    let a: Vec<f64> = (0..100_000).map(|i| i as f64).collect();
    let vars = Vars::new().with("a", &a);
    let engines = [
        Engine::Fused,
        Engine::MultiPass(Mode::Temporaries),
        Engine::MultiPass(Mode::InPlace),
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
