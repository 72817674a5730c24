//! Results written through the scratch buffer with non-temporal stores (the
//! path for outputs larger than the caches) equal ordinary ones. The
//! threshold is forced to one byte, so every fused call over a one-dimensional
//! plan streams (plans with rows never do, see `exec.rs`); a binary of
//! its own, since the setting is global.

mod common;

use common::tables::{self, Expect};
use exprjit::{Engine, EngineChoice, Options, Vars};

#[test]
fn streamed_results_match_the_tables_and_large_arrays() {
    exprjit::set_streaming_threshold(1);
    let fused = |tile| Options {
        engine: EngineChoice::Force(Engine::Fused),
        tile: Some(tile),
        threads: Some(2),
        exact_threads: true,
        ..Options::default()
    };
    let mut misses = Vec::new();
    for case in tables::load_all() {
        let Expect::Value { want, ulps } = &case.expect else {
            continue;
        };
        let mut vars = Vars::new();
        for (n, a) in &case.vars {
            vars.set(n.as_str(), a);
        }
        for tile in [1, 7, 4096] {
            let got = exprjit::evaluate_with(&case.expr, &vars, &fused(tile)).map(|(a, _)| a);
            if let Err(m) = tables::check_case(&case, got.clone()).and_then(|_| {
                got.map_err(|e| e.to_string())
                    .and_then(|g| tables::compare(&g, want, *ulps))
            }) {
                misses.push(format!("{} [tile {tile}]: {m}", case.label()));
            }
        }
    }
    // Lengths around the scratch buffer (16 KiB = 2048 f64) and unaligned
    // outputs (a sub-slice starting one element in).
    for n in [2047usize, 2048, 2049, 100_003] {
        let a: Vec<f64> = (0..n).map(|i| i as f64 * 0.5).collect();
        let b: Vec<f64> = (0..n).map(|i| (i % 13) as f64).collect();
        let mut out = vec![0.0f64; n + 1];
        exprjit::evaluate_into_with(
            "a*b + 1",
            &exprjit::vars! {a, b},
            &mut out[1..],
            &fused(1 << 20),
        )
        .expect("evaluates");
        for i in 0..n {
            if out[i + 1] != a[i] * b[i] + 1.0 {
                misses.push(format!("n={n} element {i}: {}", out[i + 1]));
                break;
            }
        }
        let f: Vec<f32> = a.iter().map(|&x| x as f32).collect();
        let r = exprjit::evaluate_with("f * 2", &exprjit::vars! {f}, &fused(1 << 20))
            .expect("evaluates")
            .0;
        if r.to_vec::<f32>().expect("f32") != f.iter().map(|x| x * 2.0).collect::<Vec<f32>>() {
            misses.push(format!("n={n} f32 differs"));
        }
    }
    exprjit::set_streaming_threshold(0);
    assert!(
        misses.is_empty(),
        "{} misses:\n{}",
        misses.len(),
        misses
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
