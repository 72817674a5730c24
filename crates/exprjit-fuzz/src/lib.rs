//! exprjit's differential fuzzer: random well- and ill-typed expressions
//! over random dtypes, shapes, layouts and special values, run through
//! every engine and entry point a user reaches, judged against the
//! reference interpreter; failures shrunk to Rust reproducers.
//!
//! `cargo run --release -p exprjit-fuzz -- --seconds 900` runs it; the
//! test `tests/short.rs` runs a fixed seed for a fixed number of cases.

pub mod case;
pub mod check;
pub mod expr;
pub mod generate;
pub mod report;
pub mod rng;
pub mod run;
pub mod shrink;

use case::{Case, Form};
use check::{Ctx, Failure};
use exprjit::Accuracy;
use exprjit::internals::ir::DType;
use report::{Report, Reproducer, Stats};
use rng::Rng;
use run::{Bad, EngineSel, Entry, Outcome, RunSpec};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    /// Stop after this long (checked between cases).
    pub seconds: Option<f64>,
    /// Stop after this many cases.
    pub cases: Option<u64>,
    /// Failures whose signature contains one of these are counted apart
    /// and not reported.
    pub skip: Vec<String>,
    /// Runs (engine x entry x options x layout) per case.
    pub runs_per_case: usize,
    /// Cases per expression: the same expression over this many sets of
    /// shapes and values, so that its kernels are compiled once for all.
    pub group: usize,
    /// Shrink the first failures of each signature (this many).
    pub shrinks_per_signature: usize,
    pub shrink_budget: shrink::Budget,
    /// The ULP bound of `Accuracy::Fast` (README, ACCURACY.md: 2).
    pub ulps: u64,
    /// Print each case seed before running it (to find a crash).
    pub verbose: bool,
    /// Run only the case with this seed.
    pub only: Option<u64>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            seed: 1,
            seconds: None,
            cases: None,
            skip: Vec::new(),
            runs_per_case: 6,
            group: 4,
            shrinks_per_signature: 1,
            shrink_budget: shrink::Budget {
                evals: 1500,
                time: Duration::from_secs(20),
            },
            ulps: 2,
            verbose: false,
            only: None,
        }
    }
}

/// The engines a run may ask for, with how often.
const ENGINE_WEIGHTS: [u32; 7] = [5, 3, 3, 1, 2, 2, 1];

/// Options of prepared expressions (threads, exact threads, tile,
/// accuracy): a few per group, so that a prepared expression is compiled
/// once and run on every case of its group, as prepared expressions are
/// used.
/// (The engine matters only for expressions with reductions, which run
/// through `evaluate_with`'s path; a cold `Auto` call is not one here,
/// since the prepared expression's text is not new to the cache.)
pub type PreparedOpts = (
    EngineSel,
    Option<usize>,
    bool,
    Option<usize>,
    Option<Accuracy>,
);

fn prepared_options(rng: &mut Rng) -> Vec<PreparedOpts> {
    (0..2)
        .map(|_| {
            if rng.chance(1, 4) {
                // `exprjit::compile`: default options.
                return (EngineSel::AutoWarm(1), None, false, None, None);
            }
            (
                match EngineSel::ALL[rng.weighted(&ENGINE_WEIGHTS)] {
                    EngineSel::AutoCold => EngineSel::AutoWarm(1),
                    e => e,
                },
                [Some(1), Some(2), None][rng.below(3)],
                rng.chance(1, 2),
                [None, Some(1), Some(7), Some(1024)][rng.below(4)],
                [Some(Accuracy::Strict), Some(Accuracy::Fast), None][rng.weighted(&[9, 9, 2])],
            )
        })
        .collect()
}

fn random_spec(
    rng: &mut Rng,
    case: &Case,
    sets: &[Vec<Form>],
    r0: &Outcome,
    popts: &[PreparedOpts],
) -> RunSpec {
    let forms = rng.pick(sets).clone();
    let engine = EngineSel::ALL[rng.weighted(&ENGINE_WEIGHTS)];
    let (rdtype, rlen, rshape) = match r0 {
        Outcome::Value(a) => (a.dtype(), a.len(), a.shape().to_vec()),
        _ => (DType::F64, 1, vec![1]),
    };
    let any_dtype = |rng: &mut Rng| *rng.pick(&DType::ALL);
    let entry = match rng.weighted(&[40, 20, 16, 12]) {
        0 => Entry::Evaluate,
        1 => Entry::Into {
            dtype: if rng.chance(3, 5) {
                rdtype
            } else {
                any_dtype(rng)
            },
            len_delta: if rng.chance(1, 12) {
                *rng.pick(&[-1, 1])
            } else {
                0
            },
        },
        2 => {
            // A variable of the result's shape, or a name not read.
            let fits: Vec<&case::Var> = case
                .vars
                .iter()
                .filter(|v| v.huge.is_none() && (v.shape == rshape || v.shape.len() == 1))
                .collect();
            let (target, dtype) = if !fits.is_empty() && rng.chance(3, 4) {
                let v = *rng.pick(&fits);
                let d = match rng.below(5) {
                    0..=2 => v.dtype,
                    3 => rdtype,
                    _ => any_dtype(rng),
                };
                (v.name.clone(), d)
            } else {
                let d = if rng.chance(3, 4) {
                    rdtype
                } else {
                    any_dtype(rng)
                };
                ("out".to_string(), d)
            };
            Entry::InPlace { target, dtype }
        }
        _ => {
            let by_name = rng.chance(1, 3);
            Entry::Prepared {
                by_name,
                bad: (!by_name && rng.chance(1, 12))
                    .then(|| *rng.pick(&[Bad::Missing, Bad::Extra, Bad::WrongDType])),
            }
        }
    };
    let threads = [Some(1), Some(2), None][rng.weighted(&[4, 4, 2])];
    let exact_threads = if threads == Some(2) {
        rng.chance(4, 5)
    } else {
        rng.chance(1, 5)
    };
    let tile = match rng.weighted(&[3, 2, 2, 2, 1]) {
        0 => None,
        1 => Some(1),
        2 => Some(7),
        3 => Some(1024),
        _ => Some(rlen + 1 + rng.below(100)),
    };
    let accuracy = [Some(Accuracy::Strict), Some(Accuracy::Fast), None][rng.weighted(&[9, 9, 2])];
    let plain = matches!(engine, EngineSel::AutoCold | EngineSel::AutoWarm(_))
        && !matches!(entry, Entry::Prepared { .. })
        && rng.chance(1, 4);
    if plain {
        return RunSpec {
            forms,
            entry,
            engine,
            threads: None,
            exact_threads: false,
            tile: None,
            accuracy: None,
            plain,
        };
    }
    let (engine, threads, exact_threads, tile, accuracy) = match entry {
        Entry::Prepared { .. } if !popts.is_empty() => *rng.pick(popts),
        _ => (engine, threads, exact_threads, tile, accuracy),
    };
    let plain = plain
        || (matches!(entry, Entry::Prepared { .. })
            && engine == EngineSel::AutoWarm(1)
            && (threads, exact_threads, tile, accuracy) == (None, false, None, None));
    RunSpec {
        forms,
        entry,
        engine,
        threads,
        exact_threads,
        tile,
        accuracy,
        plain,
    }
}

/// Runs one case (`rng` picks its runs): the reference checks and
/// `cfg.runs_per_case` random runs.
pub fn run_case(
    case: &Case,
    rng: &mut Rng,
    popts: &[PreparedOpts],
    cfg: &Config,
    stats: &mut Stats,
) -> Vec<Failure> {
    let case = case.clone();
    let mut rng = Rng::new(rng.fork());
    let mut ctx = Ctx::new(&case, cfg.ulps);
    let t = std::time::Instant::now();
    let mut out = ctx.reference_checks();
    *stats.time.entry("reference checks".into()).or_default() += t.elapsed();
    let contiguous = ctx.contiguous();
    let r0 = ctx.reference(&contiguous);
    stats.cases += 1;
    match &r0 {
        Outcome::Value(_) => stats.value_cases += 1,
        Outcome::Error(e) => *stats.errors.entry(check::kind_name(e.kind())).or_default() += 1,
        Outcome::Panic(_) => return out,
    }
    let sets: Vec<Vec<Form>> = (0..2)
        .map(|_| {
            case.vars
                .iter()
                .map(|v| generate::form(&mut rng, v))
                .collect()
        })
        .collect();
    for _ in 0..cfg.runs_per_case {
        let spec = random_spec(&mut rng, &case, &sets, &r0, popts);
        stats.count(&spec);
        if let Some(f) = ctx.check_run(&spec) {
            out.push(f);
        }
    }
    stats.fast_checks += ctx.fast_checks;
    for (k, t) in &ctx.time {
        *stats.time.entry(k.clone()).or_default() += *t;
    }
    for f in &out {
        if f.spec.is_none() {
            stats.reference_failures += 1;
        }
    }
    out
}

/// The machine, for the report: the CPU model and the cores.
pub fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{model}, {cores} cores")
}

/// Runs the fuzzer.
pub fn fuzz(cfg: &Config) -> Report {
    let _capture = run::PanicCapture::install();
    let start = Instant::now();
    let mut master = Rng::new(cfg.seed);
    let mut stats = Stats::default();
    let mut reproducers: Vec<Reproducer> = Vec::new();
    let limit = match (cfg.seconds, cfg.cases) {
        (None, None) => Some(60.0),
        (s, _) => s,
    };
    'groups: loop {
        let group_seed = match cfg.only {
            Some(s) if stats.cases == 0 => s,
            Some(_) => break,
            None => master.fork(),
        };
        let group = match run::guarded(|| generate::cases(group_seed, cfg.group)) {
            Ok(g) => g,
            Err(p) => {
                eprintln!("fuzzer panic generating group {group_seed:#018x}: {p}");
                stats.fuzzer_panics += 1;
                continue;
            }
        };
        let mut rng = Rng::new(group_seed ^ 0x5DEE_CE66_D1CE_F00D);
        let popts = prepared_options(&mut rng);
        for (member, case) in group.iter().enumerate() {
            if cfg.cases.is_some_and(|n| stats.cases >= n)
                || limit.is_some_and(|s| start.elapsed().as_secs_f64() >= s)
            {
                break 'groups;
            }
            if cfg.verbose {
                eprintln!(
                    "case {}: group {group_seed:#018x} member {member}: {:?}",
                    stats.cases,
                    case.text()
                );
            }
            let failures = match run::guarded(|| run_case(case, &mut rng, &popts, cfg, &mut stats))
            {
                Ok(f) => f,
                Err(p) => {
                    // A panic in the fuzzer itself (outside any exprjit call).
                    eprintln!("fuzzer panic in group {group_seed:#018x} member {member}: {p}");
                    stats.fuzzer_panics += 1;
                    continue;
                }
            };
            for f in failures {
                if cfg.skip.iter().any(|s| f.signature.contains(s.as_str())) {
                    stats.skipped += 1;
                    continue;
                }
                stats.failures += 1;
                let seen = stats
                    .signatures
                    .entry(f.signature.clone())
                    .or_insert((f.class, 0));
                seen.1 += 1;
                if seen.1 as usize > cfg.shrinks_per_signature.max(1) {
                    continue;
                }
                let t = Instant::now();
                let (small, evals) = if cfg.shrinks_per_signature > 0 {
                    shrink::shrink(&f, cfg.ulps, cfg.shrink_budget)
                } else {
                    (f.clone(), 0)
                };
                *stats.time.entry("shrinking".into()).or_default() += t.elapsed();
                if cfg.verbose {
                    eprintln!("failure: {}", f.signature);
                }
                reproducers.push(Reproducer {
                    group_seed,
                    member,
                    case_index: stats.cases - 1,
                    original: f.case,
                    failure: small,
                    shrink_evals: evals,
                });
            }
        }
    }
    Report {
        seed: cfg.seed,
        elapsed: start.elapsed(),
        limit_seconds: limit,
        case_limit: cfg.cases,
        machine: machine(),
        stats,
        reproducers,
        skip: cfg.skip.clone(),
    }
}
