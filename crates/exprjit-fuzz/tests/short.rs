//! The fuzzer's fixed-seed short run, part of the default `cargo test`:
//! a fixed number of cases (not a time bound), so that the verdict is the
//! same on every machine; the long run is `cargo run --release -p
//! exprjit-fuzz -- --seconds 900`.

use exprjit_fuzz::{Config, fuzz};

/// The seed of the short run; `--seed 0x5eed0015 --cases 600` replays it
/// from the command line.
const SEED: u64 = 0x5EED_0015;
const CASES: u64 = 600;

#[test]
fn fixed_seed_short_run_finds_no_failure() {
    let cfg = Config {
        seed: SEED,
        cases: Some(CASES),
        ..Config::default()
    };
    let report = fuzz(&cfg);
    let text = report.render();
    println!("{text}");
    assert!(report.stats.cases == CASES, "ran {} cases", report.stats.cases);
    assert_eq!(report.failures(), 0, "\n{text}");
}
