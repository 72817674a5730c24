//! The compile-cost cache: hits and misses, LRU eviction at capacity, and
//! resident memory staying flat while 20,000 distinct expressions compile
//! (evicted kernels really free their code). One test, because the cache is
//! global to the process.

use exprjit::{Engine, EngineChoice, Options};

fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .expect("rss field")
        .parse()
        .expect("number");
    pages * 4096
}

#[test]
fn cache_counts_evicts_and_frees() {
    let fused = Options {
        engine: EngineChoice::Force(Engine::Fused),
        ..Options::default()
    };
    let a = vec![1.0f64, 2.0, 3.0];
    let vars = exprjit::vars! {a};

    // Hits and misses.
    exprjit::cache::clear();
    exprjit::cache::set_capacity(4);
    let (_, t) = exprjit::evaluate_with("a + 1", &vars, &fused).unwrap();
    assert!(!t.cache_hit);
    let (_, t) = exprjit::evaluate_with("a + 1", &vars, &fused).unwrap();
    assert!(t.cache_hit);
    let s = exprjit::cache::stats();
    assert_eq!((s.hits, s.misses, s.entries, s.evictions), (1, 1, 1, 0));
    assert_eq!(s.kernels[0].expr, "a + 1");
    assert_eq!(s.kernels[0].runs, 2);
    assert!(s.total_compile_time > std::time::Duration::ZERO);
    // Another dtype is another kernel.
    let af = vec![1.0f32];
    exprjit::evaluate_with("a + 1", &Vars::new().with("a", &af), &fused).unwrap();
    assert_eq!(exprjit::cache::stats().entries, 2);

    // Eviction of the least recently used at capacity.
    for k in 0..4 {
        exprjit::evaluate_with(&format!("a * {k}"), &vars, &fused).unwrap();
    }
    let s = exprjit::cache::stats();
    assert_eq!(s.entries, 4);
    assert_eq!(s.evictions, 2);
    assert!(
        !s.kernels.iter().any(|k| k.expr == "a + 1"),
        "LRU entry survived"
    );
    exprjit::evaluate_with("a * 3", &vars, &fused).unwrap();
    assert_eq!(exprjit::cache::stats().kernels[0].expr, "a * 3");

    // Memory stays flat while 20,000 distinct kernels pass through a cache
    // of 256: warm up, measure, compile the rest, measure again.
    exprjit::cache::set_capacity(256);
    for i in 0..2_000 {
        exprjit::evaluate_with(&format!("a + {i}"), &vars, &fused).unwrap();
    }
    let before = resident_bytes();
    for i in 2_000..20_000 {
        exprjit::evaluate_with(&format!("a + {i}"), &vars, &fused).unwrap();
    }
    let after = resident_bytes();
    let s = exprjit::cache::stats();
    assert_eq!(s.entries, 256);
    assert!(s.evictions >= 19_000, "{} evictions", s.evictions);
    // A leaked kernel costs at least a page of code plus its module; 18,000
    // of them would add well over 70 MB.
    let growth = after.saturating_sub(before);
    assert!(
        growth < 16 << 20,
        "resident memory grew by {} KiB",
        growth >> 10
    );
}

use exprjit::Vars;
