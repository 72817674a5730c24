//! The fuzzer's fixed-seed short run, part of the default `cargo test`:
//! a fixed number of cases (not a time bound), so that the verdict does
//! not depend on the machine's speed; the long run is `cargo run
//! --release -p exprjit-fuzz -- --seconds 900`.

use exprjit_fuzz::shrink::Budget;
use exprjit_fuzz::{Config, fuzz};
use std::time::Duration;

/// The seed of the short run; `cargo run --release -p exprjit-fuzz --
/// --seed 0x5eed0015 --cases 4000` replays it from the command line.
const SEED: u64 = 0x5EED_0015;
/// About 35 s in the dev profile on the 2-core development VM.
const CASES: u64 = 4000;

#[test]
fn fixed_seed_short_run_finds_no_failure() {
    let cfg = Config {
        seed: SEED,
        cases: Some(CASES),
        // Short shrinks: a failing run stays a short run.
        shrink_budget: Budget {
            evals: 300,
            time: Duration::from_secs(3),
        },
        ..Config::default()
    };
    let report = fuzz(&cfg);
    let text = report.render();
    println!("{text}");
    assert_eq!(
        report.stats.cases, CASES,
        "ran {} cases",
        report.stats.cases
    );
    assert_eq!(report.failures(), 0, "\n{text}");
}
